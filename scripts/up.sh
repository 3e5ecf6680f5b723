#!/usr/bin/env bash
# The all-in-one quick start on a fresh Debian 12 machine, as root: Node 24, dependencies, build, a
# container engine (Docker, via scripts/setup-host.sh, which also builds the local pause image since no
# container registry is reachable here), then `deckhand up`: control plane on embedded SQLite and the node
# agent in one process, in the foreground. Stop it with Ctrl-C; pods keep running and are adopted next time.
# Extra arguments go to `deckhand up` (e.g. --runtime cri --runtime-endpoint unix:///run/deckhand-test/containerd.sock).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
require_root
cd "$DECKHAND_ROOT"

PATH="$(scripts/bootstrap-node.sh):$PATH"
export PATH

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # Not `npm ci`: npm 11 leaves optional platform packages (e.g. @biomejs/cli-*) out of the lock file and
  # then refuses it as out of sync. `install --no-save` installs exactly the locked versions all the same.
  timed "npm install" npm install --no-save --no-audit --no-fund --loglevel=error
fi
timed "build" npm run --silent build
timed "container engine" scripts/setup-host.sh
exec node dist/cli/main.js up --runtime docker --pod-infra-container-image deckhand.local/pause:3.9 "$@"
