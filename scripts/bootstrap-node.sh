#!/usr/bin/env bash
# Makes Node 24 available to the project's scripts.
# Uses the host's node when it is already >= 24; otherwise installs the official binary that the npm
# registry ships (package node-linux-<arch>) into .toolchain/ and prints the bin dir to prepend to PATH.
# Usage: export PATH="$(scripts/bootstrap-node.sh):$PATH"
set -euo pipefail
. "$(dirname "$0")/lib.sh"

host_major() { command -v node >/dev/null 2>&1 && node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

bin_dir="$TOOLCHAIN_DIR/node-v$NODE_VERSION_PINNED/bin"
if [ -x "$bin_dir/node" ]; then
  echo "$bin_dir"; exit 0
fi
if [ "$(host_major)" -ge "$NODE_MAJOR_WANTED" ]; then
  dirname "$(command -v node)"; exit 0
fi

case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64) arch=arm64 ;;
  *) die "no official Node $NODE_MAJOR_WANTED binary package for $(uname -m)" ;;
esac
command -v npm >/dev/null 2>&1 || die "npm is needed to fetch Node $NODE_VERSION_PINNED (apt-get install npm)"

log "host node is $(node --version 2>/dev/null || echo missing); installing Node $NODE_VERSION_PINNED from the npm registry"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
( cd "$tmp" && npm pack --silent "node-linux-$arch@$NODE_VERSION_PINNED" >/dev/null 2>&1 ) \
  || die "npm pack node-linux-$arch@$NODE_VERSION_PINNED failed: is the npm registry reachable?"
mkdir -p "$tmp/x" && tar -xzf "$tmp"/node-linux-*.tgz -C "$tmp/x"
mkdir -p "$TOOLCHAIN_DIR/node-v$NODE_VERSION_PINNED"
cp -a "$tmp/x/package/." "$TOOLCHAIN_DIR/node-v$NODE_VERSION_PINNED/"
"$bin_dir/node" --version >/dev/null || die "the downloaded node binary does not run on this machine"
log "Node $("$bin_dir/node" --version) installed in $bin_dir"
echo "$bin_dir"
