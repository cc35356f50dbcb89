#!/usr/bin/env bash
# Builds the test bed's kube-apiserver and etcd from the Go module proxy (wrapper module test/kube).
#
# Output: .cache/kube/<k8s version>-<hash of test/kube/go.mod+go.sum>/{kube-apiserver,etcd}
# (git-ignored). When both binaries exist the script exits at once, so `npm test` pays the cold
# build (about 6 min on 2 cores, 1.8 GiB peak RSS) only once per machine and pinned version.
# testbed/kube-binaries.ts computes the same directory name; keep the two in step.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mod_dir="$root/test/kube"

say() { echo "build-kube: $*" >&2; }

# The version pinned in go.mod, e.g. v1.36.3; it names the cache directory and goes into -X flags.
kube_version="$(sed -n 's/^[[:space:]]*k8s\.io\/kubernetes \(v[0-9][^ ]*\).*/\1/p' "$mod_dir/go.mod" | head -n1)"
etcd_version="$(sed -n 's/^[[:space:]]*go\.etcd\.io\/etcd\/server\/v3 \(v[0-9][^ ]*\).*/\1/p' "$mod_dir/go.mod" | head -n1)"
if [[ -z "$kube_version" || -z "$etcd_version" ]]; then
  say "cannot read the k8s.io/kubernetes or etcd version from $mod_dir/go.mod"
  exit 1
fi
# go.mod carries the replace lines, go.sum the exact contents: a change to either means a new build.
mod_hash="$(cat "$mod_dir/go.mod" "$mod_dir/go.sum" | sha256sum | cut -c1-12)"
out="$root/.cache/kube/$kube_version-$mod_hash"

if [[ -x "$out/kube-apiserver" && -x "$out/etcd" ]]; then
  say "up to date: $out"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  say "the Go toolchain (go >= 1.26) is needed to build the test bed; none is on PATH"
  exit 1
fi

# Local toolchain only (nothing else may be fetched), static binaries like upstream's releases,
# and two compile jobs so the 2-core machine keeps some room for other work.
export GOTOOLCHAIN=local CGO_ENABLED=0
export GOFLAGS="${GOFLAGS:-} -p=2 -mod=readonly"

minor="${kube_version#v1.}"
minor="${minor%%.*}"
# Without these /version reports v0.0.0-master; clients that read it should see the real release.
kube_ldflags="-s -w \
  -X k8s.io/component-base/version.gitVersion=$kube_version \
  -X k8s.io/component-base/version.gitMajor=1 \
  -X k8s.io/component-base/version.gitMinor=$minor \
  -X k8s.io/component-base/version.gitTreeState=clean \
  -X k8s.io/client-go/pkg/version.gitVersion=$kube_version"
etcd_ldflags="-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=module-$etcd_version"

mkdir -p "$out"
# Build into temporary names and rename at the end, so an interrupted build never looks finished.
build() { # name package ldflags
  local name="$1" pkg="$2" ldflags="$3" started
  started=$(date +%s)
  say "building $name ($pkg) ..."
  go -C "$mod_dir" build -trimpath -ldflags "$ldflags" -o "$out/$name.partial.$$" "$pkg"
  mv -f "$out/$name.partial.$$" "$out/$name"
  say "built $name in $(( $(date +%s) - started ))s"
}

say "kube-apiserver $kube_version, etcd $etcd_version -> $out (cold: about 6 min on 2 cores; with a warm Go build cache: seconds)"
build etcd go.etcd.io/etcd/server/v3 "$etcd_ldflags"
build kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver "$kube_ldflags"
say "done: $out"
