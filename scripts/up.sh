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
  # Not `npm ci`: npm 11 leaves optional platform packages (e.g. @biomejs/cli-*) out of the lock file and
  # then refuses it as out of sync. `install --no-save` installs exactly the locked versions all the same.
  timed "npm install" npm install --no-save --no-audit --no-fund --loglevel=error
fi
timed "build" npm run --silent build
node dist/cli/main.js version
node dist/cli/main.js --help
