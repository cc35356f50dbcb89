#!/usr/bin/env bash
# Runs a command inside an image's root filesystem the way a Pod with the shipped securityContext
# would, without a container runtime (this sandbox refuses one: `buildah run --isolation oci`
# fails in crun with "cgroups in hybrid mode not supported, drop all controllers from cgroupv2",
# and buildah 1.28's `run` has no --read-only):
#
#   scripts/run-image.sh -u UID:GID -w WORKDIR [-e K=V ...] ROOTFS TMPDIR -- COMMAND [ARGS...]
#
#   ROOTFS  the image's files (`buildah mount` of a container from the image); must contain the
#           mount points proc/, dev/ and tmp/
#   TMPDIR  a host directory mounted writable at /tmp (the manifests' emptyDir)
#
# In a private mount namespace: ROOTFS is bind-mounted read-only (readOnlyRootFilesystem), TMPDIR
# on /tmp, a tmpfs /dev with null, zero, random, urandom and full, and /proc; then the command
# runs chrooted there (`unshare --root`) in WORKDIR as UID:GID with only the -e variables in its
# environment. COMMAND is looked up on the PATH given with -e, inside the image. The network is
# the host's (loopback included), as with hostNetwork. Nothing forks: the process that starts this
# script becomes COMMAND, so its pid is the command's pid. Must run as root.
set -euo pipefail
user="" wd="/" env=()
while getopts "u:w:e:" opt; do
  case $opt in
    u) user=$OPTARG ;;
    w) wd=$OPTARG ;;
    e) env+=("$OPTARG") ;;
    *) exit 2 ;;
  esac
done
shift $((OPTIND - 1))
rootfs=$1 tmp=$2
shift 2
[[ "${1:-}" == "--" ]] && shift
[[ -n "$user" && $# -gt 0 ]] || { echo "usage: $0 -u UID:GID -w DIR [-e K=V] ROOTFS TMPDIR -- CMD..." >&2; exit 2; }

if [[ "${HCSYNC_RUN_IMAGE_IN_NS:-}" != 1 ]]; then
  exec env HCSYNC_RUN_IMAGE_IN_NS=1 unshare --mount --propagation private -- "$0" -u "$user" -w "$wd" "${env[@]/#/-e}" "$rootfs" "$tmp" -- "$@"
fi

root=$rootfs # the read-only bind is on top of ROOTFS itself, seen only in this namespace
mount --bind "$rootfs" "$root"
mount -o remount,bind,ro "$root"
mount --bind "$tmp" "$root/tmp"
mount -t tmpfs -o size=1m,mode=0755,nosuid,noexec tmpfs "$root/dev"
for d in null zero random urandom full; do
  touch "$root/dev/$d"
  mount --bind "/dev/$d" "$root/dev/$d"
done
mount -t proc -o nosuid,nodev,noexec proc "$root/proc"
exec env -i "${env[@]}" unshare --root="$root" --wd="$wd" --setgid "${user#*:}" --setuid "${user%%:*}" -- "$@"
