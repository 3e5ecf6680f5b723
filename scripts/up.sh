#!/usr/bin/env bash
# Brings up Deckhand on this machine: Node 24, dependencies, build, then the `deckhand` command.
# The all-in-one cluster (`deckhand up`) arrives with the control plane and the agent; until then this
# builds Deckhand and shows what it can do.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$DECKHAND_ROOT"

PATH="$(scripts/bootstrap-node.sh):$PATH"
export PATH

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  timed "npm ci" npm ci --no-audit --no-fund --loglevel=error
fi
timed "build" npm run --silent build
node dist/cli/main.js version
node dist/cli/main.js --help
