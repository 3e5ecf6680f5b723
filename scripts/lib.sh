# Shared helpers for Deckhand's scripts. Source it; do not execute it.
# shellcheck shell=bash

DECKHAND_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NODE_MAJOR_WANTED=24
NODE_VERSION_PINNED=24.21.0
TOOLCHAIN_DIR="$DECKHAND_ROOT/.toolchain"

log() { printf '[deckhand %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf '[deckhand] ERROR: %s\n' "$*" >&2; exit 1; }

# Milliseconds since the epoch, for step timings.
now_ms() { date +%s%3N; }

# Runs "$@" and logs how long it took under the given label.
timed() {
  local label=$1; shift
  local start; start=$(now_ms)
  "$@"
  log "$label: $(( $(now_ms) - start )) ms"
}

require_root() {
  [ "$(id -u)" -eq 0 ] || die "this step needs root (it installs packages and starts daemons): run it with sudo"
}
