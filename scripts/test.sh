#!/usr/bin/env bash
# The whole test suite on a fresh Debian 12 machine, as root: Node 24, dependencies, the real test
# environment (Docker, containerd CRI, iptables, registries), typecheck, lint, build, then every unit and
# integration test. Extra arguments go to vitest (e.g. a file filter).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
require_root
cd "$DECKHAND_ROOT"

PATH="$(scripts/bootstrap-node.sh):$PATH"
export PATH
log "node $(node --version), npm $(npm --version 2>/dev/null)"

# Not `npm ci`: npm 11 leaves optional platform packages (e.g. @biomejs/cli-*) out of the lock file and
# then refuses it as out of sync. `install --no-save` installs exactly the locked versions all the same.
timed "npm install" npm install --no-save --no-audit --no-fund --loglevel=error
timed "setup-host" scripts/setup-host.sh
timed "typecheck" npm run --silent typecheck
timed "lint" npm run --silent lint
timed "build" npm run --silent build
npx vitest run "$@"
