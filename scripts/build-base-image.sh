#!/usr/bin/env bash
# Builds a local equivalent of the official node:24-bookworm-slim image, for machines that reach Debian's
# archive and the npm registry but no container registry (CI). Once per machine: an existing image with the
# tag is kept (--force rebuilds it). Prints the image tag on stdout.
#
#   rootfs: Debian bookworm "minbase" from the apt archive (mmdebstrap), plus ca-certificates and what the
#           agent needs at run time (iptables, conntrack, iproute2), without docs, man pages and locales;
#   node:   the official Node binary as the npm registry ships it (node-linux-<arch>), in /usr/local/bin;
#   npm:    the npm package from the registry, in /usr/local/lib/node_modules/npm (as the official images).
#
# Usage: scripts/build-base-image.sh [--tag TAG] [--force]
# Then:  docker build --build-arg BASE_IMAGE="$(scripts/build-base-image.sh)" -t deckhand:dev .
set -euo pipefail
. "$(dirname "$0")/lib.sh"

NPM_VERSION_PINNED=11.19.1
DEBIAN_SUITE=bookworm
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
DOCKER=${DOCKER:-/usr/bin/docker} # Debian's client; see ../shared/notes/host.md
TAG="deckhand.local/node:$NODE_VERSION_PINNED-$DEBIAN_SUITE-slim"
FORCE=0

while [ $# -gt 0 ]; do
  case "$1" in
    --tag) TAG=${2:?--tag needs a value}; shift 2 ;;
    --force) FORCE=1; shift ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done

if [ "$FORCE" -eq 0 ] && "$DOCKER" image inspect "$TAG" >/dev/null 2>&1; then
  echo "$TAG"; exit 0
fi

require_root
command -v mmdebstrap >/dev/null || die "mmdebstrap is missing: apt-get install mmdebstrap (scripts/setup-host.sh installs it)"
command -v npm >/dev/null || die "npm is needed to fetch Node and npm from the npm registry"
case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64) arch=arm64 ;;
  *) die "no official Node binary package for $(uname -m)" ;;
esac

work=$(mktemp -d /var/tmp/deckhand-base.XXXXXX)
trap 'rm -rf "$work"' EXIT
rootfs=$work/rootfs

log "base image $TAG: Debian $DEBIAN_SUITE minbase from $DEBIAN_MIRROR"
timed "mmdebstrap" mmdebstrap --quiet --variant=minbase \
  --include=ca-certificates,iptables,conntrack,iproute2 \
  --aptopt='Acquire::Languages "none"' \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
  --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin' \
  "$DEBIAN_SUITE" "$rootfs" "$DEBIAN_MIRROR" >"$work/mmdebstrap.log" 2>&1 \
  || die "mmdebstrap failed: $(tail -n 20 "$work/mmdebstrap.log")"

fetch_package() { # name@version -> extracted into $work/<name>
  local spec=$1 dir=$work/${1%@*}
  mkdir -p "$dir"
  ( cd "$dir" && npm pack --silent "$spec" >/dev/null 2>&1 ) || die "npm pack $spec failed: is the npm registry reachable?"
  tar -xzf "$dir"/*.tgz -C "$dir"
}
timed "node from the npm registry" fetch_package "node-linux-$arch@$NODE_VERSION_PINNED"
timed "npm from the npm registry" fetch_package "npm@$NPM_VERSION_PINNED"

install -m 0755 "$work/node-linux-$arch/package/bin/node" "$rootfs/usr/local/bin/node"
mkdir -p "$rootfs/usr/local/lib/node_modules"
cp -a "$work/npm/package" "$rootfs/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
chroot "$rootfs" /usr/local/bin/node --version >/dev/null || die "node does not run inside the new rootfs"

import_rootfs() {
  tar --numeric-owner -C "$rootfs" -c . | "$DOCKER" import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "ENV NODE_VERSION=$NODE_VERSION_PINNED" \
    --change 'CMD ["node"]' - "$TAG" >/dev/null
}
timed "docker import" import_rootfs
log "base image $TAG: $("$DOCKER" image inspect -f '{{.Size}}' "$TAG" | awk '{printf "%.0f MB", $1/1e6}')"
echo "$TAG"
