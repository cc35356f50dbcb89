#!/usr/bin/env bash
# Fetches the Gateway API's standard-channel CRDs (Gateway, GatewayClass, HTTPRoute, GRPCRoute,
# ReferenceGrant, ...) from the Go module sigs.k8s.io/gateway-api (config/crd/standard/) through the
# module proxy, into .cache/tools/gateway-api-crds/, for the test bed (TestBed.installGatewayApiCrds)
# and the demo. Nothing is built; fetched again only when the pinned version changes.
set -euo pipefail
cd "$(dirname "$0")/.."

TOOLS="$PWD/.cache/tools"
GATEWAY_API_MODULE=sigs.k8s.io/gateway-api
GATEWAY_API_VERSION=v1.6.3
mkdir -p "$TOOLS"

if [[ "$(cat "$TOOLS/gateway-api-crds.version" 2>/dev/null)" != "$GATEWAY_API_MODULE@$GATEWAY_API_VERSION" ]]; then
  echo "build-tools: fetching Gateway API CRDs ($GATEWAY_API_MODULE@$GATEWAY_API_VERSION)" >&2
  gw_dir=$(GOTOOLCHAIN=local GOFLAGS=-mod=mod go mod download -json "$GATEWAY_API_MODULE@$GATEWAY_API_VERSION" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [[ -d "$gw_dir/config/crd/standard" ]] || { echo "build-tools: no config/crd/standard in $gw_dir" >&2; exit 1; }
  rm -rf "$TOOLS/gateway-api-crds"
  mkdir -p "$TOOLS/gateway-api-crds"
  install -m 0644 "$gw_dir"/config/crd/standard/*.yaml "$TOOLS/gateway-api-crds/"
  echo "$GATEWAY_API_MODULE@$GATEWAY_API_VERSION" >"$TOOLS/gateway-api-crds.version"
fi

