#!/usr/bin/env bash
# Builds the packaging tools that the tests drive into .cache/tools/, so a clean checkout needs
# nothing installed by hand:
#   kustomize, helm  — from Go modules (pinned; versions that build with this machine's Go 1.26)
#   promtool, prometheus — extracted from Debian's `prometheus` package (no daemon is installed or
#                          started: the test only needs the binaries)
#   controller-gen   — from Go modules; generates the Prometheus Operator's CRDs (ServiceMonitor,
#                      PrometheusRule, ...) from its Go API types (module pinned in
#                      test/tools/monitoring-crds/go.mod) into .cache/tools/monitoring-crds/, so the
#                      manifests test validates hcsync's ServiceMonitor and PrometheusRule offline
#   gateway-api-crds — the Gateway API's standard-channel CRDs (Gateway, HTTPRoute, GRPCRoute,
#                      ReferenceGrant, ...), copied from the Go module sigs.k8s.io/gateway-api
#                      (config/crd/standard/) into .cache/tools/gateway-api-crds/ for the test bed
#   dockerfile-lint  — Docker's own Dockerfile build checks (`docker build --check`, BuildKit's
#                      linter), from test/tools/dockerfile-lint (pins github.com/moby/buildkit);
#                      hadolint is packaged for none of the registries this project can use
# Each tool is rebuilt only when its pinned version changes. Go builds run with -p 1 by default
# (GO_BUILD_P to change) because the machine has two cores and other builds share them.
set -euo pipefail
cd "$(dirname "$0")/.."

TOOLS="$PWD/.cache/tools"
KUSTOMIZE_PKG=sigs.k8s.io/kustomize/kustomize/v5
KUSTOMIZE_VERSION=v5.8.1 # v5.8.2+ need kustomize/api v0.21.3, which needs Go 1.27
HELM_PKG=helm.sh/helm/v3/cmd/helm
HELM_VERSION=v3.22.0
CONTROLLER_TOOLS_PKG=sigs.k8s.io/controller-tools/cmd/controller-gen
CONTROLLER_TOOLS_VERSION=v0.23.0
PROMETHEUS_DEB=prometheus # Debian package; pinned by the distribution release
mkdir -p "$TOOLS"

# go_tool NAME PKG VERSION [LDFLAGS]
go_tool() {
  local name=$1 pkg=$2 version=$3 ldflags=${4:-}
  local stamp="$TOOLS/$name.version"
  if [[ -x "$TOOLS/$name" && "$(cat "$stamp" 2>/dev/null)" == "$pkg@$version" ]]; then
    return 0
  fi
  echo "build-tools: building $name ($pkg@$version)" >&2
  local start=$SECONDS
  GOBIN="$TOOLS" GOTOOLCHAIN=local GOFLAGS=-buildvcs=false CGO_ENABLED=0 \
    go install -p "${GO_BUILD_P:-1}" -trimpath -ldflags "-s -w $ldflags" "$pkg@$version"
  echo "$pkg@$version" >"$stamp"
  echo "build-tools: $name built in $((SECONDS - start))s" >&2
}

go_tool kustomize "$KUSTOMIZE_PKG" "$KUSTOMIZE_VERSION" \
  "-X sigs.k8s.io/kustomize/api/provenance.version=$KUSTOMIZE_VERSION"
go_tool helm "$HELM_PKG" "$HELM_VERSION" \
  "-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION -X helm.sh/helm/v3/internal/version.gitTreeState=clean"

go_tool controller-gen "$CONTROLLER_TOOLS_PKG" "$CONTROLLER_TOOLS_VERSION"

# Prometheus Operator CRDs, regenerated when the wrapper module's pins change.
crd_module="$PWD/test/tools/monitoring-crds"
crd_stamp="$(cat "$crd_module/go.mod" "$crd_module/go.sum" | sha256sum | cut -c1-16)-$CONTROLLER_TOOLS_VERSION"
if [[ "$(cat "$TOOLS/monitoring-crds.version" 2>/dev/null)" != "$crd_stamp" ]]; then
  echo "build-tools: generating Prometheus Operator CRDs" >&2
  rm -rf "$TOOLS/monitoring-crds"
  (cd "$crd_module" && GOTOOLCHAIN=local GOFLAGS=-mod=mod "$TOOLS/controller-gen" \
    crd:crdVersions=v1,maxDescLen=0 \
    paths=github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1 \
    output:crd:dir="$TOOLS/monitoring-crds")
  echo "$crd_stamp" >"$TOOLS/monitoring-crds.version"
fi

# Gateway API CRDs (also fetched on their own by `npm run demo`).
bash scripts/fetch-gateway-api-crds.sh

# dockerfile-lint: our wrapper module's main package, rebuilt when its sources or pins change.
lint_module="$PWD/test/tools/dockerfile-lint"
lint_stamp="$(cat "$lint_module/go.mod" "$lint_module/go.sum" "$lint_module/main.go" | sha256sum | cut -c1-16)"
if [[ ! -x "$TOOLS/dockerfile-lint" || "$(cat "$TOOLS/dockerfile-lint.version" 2>/dev/null)" != "$lint_stamp" ]]; then
  echo "build-tools: building dockerfile-lint (BuildKit's Dockerfile checks)" >&2
  start=$SECONDS
  (cd "$lint_module" && GOTOOLCHAIN=local GOFLAGS=-buildvcs=false CGO_ENABLED=0 \
    go build -p "${GO_BUILD_P:-1}" -trimpath -ldflags "-s -w" -o "$TOOLS/dockerfile-lint" .)
  echo "$lint_stamp" >"$TOOLS/dockerfile-lint.version"
  echo "build-tools: dockerfile-lint built in $((SECONDS - start))s" >&2
fi

# promtool: take it from Debian's package without installing the package (which would also
# register a Prometheus service). Needs apt's package lists; refresh them once if the download
# cannot find the package (CI runs as root on a machine with apt).
if [[ ! -x "$TOOLS/promtool" || ! -x "$TOOLS/prometheus" ]]; then
  echo "build-tools: fetching promtool from Debian package $PROMETHEUS_DEB" >&2
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  if ! (cd "$work" && apt-get download "$PROMETHEUS_DEB" >/dev/null 2>&1); then
    apt-get update -qq >/dev/null
    (cd "$work" && apt-get download "$PROMETHEUS_DEB" >/dev/null)
  fi
  dpkg-deb -x "$work"/"$PROMETHEUS_DEB"_*.deb "$work/root"
  install -m 0755 "$work/root/usr/bin/promtool" "$TOOLS/promtool"
  install -m 0755 "$work/root/usr/bin/prometheus" "$TOOLS/prometheus"
  "$TOOLS/promtool" --version 2>&1 | head -1 >"$TOOLS/promtool.version"
fi
