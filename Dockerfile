# syntax=docker/dockerfile:1
#
# hcsync container image.
#
# Base images: Debian 12 (bookworm) for both sides, so anything compiled during `npm ci` links
# against the same glibc the runtime has.
#  - build and deps stages: node:24-bookworm-slim (Node 24 LTS with npm).
#  - runtime: gcr.io/distroless/nodejs24-debian12:nonroot — Node 24 LTS and its libraries only:
#    no shell, no package manager and no npm, so far fewer packages to patch than node:24-slim or
#    node:24-alpine, and a built-in non-root user (65532). Alpine was not chosen because musl
#    differs from the glibc that the build stage and most prebuilt native modules target.
#
# The image keeps no state and writes nothing outside /tmp (mounted as an emptyDir by the
# manifests), so it runs with readOnlyRootFilesystem: true.

ARG NODE_IMAGE=node:24-bookworm-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs24-debian12:nonroot

# 1. Build: all dependencies (TypeScript, esbuild and the rest of devDependencies), compile to dist/
#    and bundle dist/kube/client-node.js (scripts/bundle-client-node.ts).
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY scripts/bundle-client-node.ts ./scripts/
RUN npm run build

# 2. Production dependencies only: no devDependencies (so not the `node` npm package, TypeScript,
#    mocha, tsx or nock), and no install scripts.
FROM ${NODE_IMAGE} AS deps
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force

# 3. Runtime.
FROM ${RUNTIME_IMAGE}
WORKDIR /app
ENV NODE_ENV=production \
    PATH=/nodejs/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# package.json is needed at run time: its "type": "module" makes dist/*.js ES modules.
COPY --from=deps /src/package.json ./package.json
COPY --from=deps /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
# Numeric, so the kubelet can verify runAsNonRoot without reading /etc/passwd.
USER 65532:65532
# metrics, health
EXPOSE 8080 8081
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["run"]
