#!/usr/bin/env bash
# Cleans a long-lived development machine after killed test or benchmark runs: removes every sandbox and
# container of a Deckhand node from dockerd and the test containerd, then the network namespaces no process
# uses any more (cni-* from sandboxes, dh* from benchmarks). CI's machines start clean and never need it.
# Refuses to run while tests or benchmarks are running (--force to run anyway).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

require_root
if [ "${1:-}" != --force ] && pgrep -f 'vitest|bench/[a-z-]*\.(bench\.)?ts|bench/run\.ts|soak\.ts' >/dev/null; then
  die "tests or benchmarks are running (their runtime objects would be removed under them); use --force"
fi
PATH="$("$DECKHAND_ROOT/scripts/bootstrap-node.sh"):$PATH"
node "$DECKHAND_ROOT/scripts/clean-host.ts"

# A namespace is in use while some process has it as its network namespace.
in_use=$(for p in /proc/[0-9]*/ns/net; do readlink "$p" 2>/dev/null; done | sort -u)
removed=0
shopt -s nullglob
for ns in /run/netns/cni-* /run/netns/dh*; do
  inode=$(stat -L -c %i "$ns" 2>/dev/null) || continue
  if ! grep -qx "net:\[$inode\]" <<<"$in_use"; then
    ip netns delete "$(basename "$ns")" && removed=$((removed + 1))
  fi
done
log "removed $removed unused network namespaces"
