#!/usr/bin/env bash
# Stops exactly the daemons scripts/setup-host.sh started (PIDs recorded in /run/deckhand-test/*.pid).
# Anything that was already running before setup is left alone. Data under /var/lib/deckhand-test stays
# unless --purge is given.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

require_root
RUN_DIR=/run/deckhand-test

stop_recorded() {
  local pidfile=$1 name pid
  name=$(basename "$pidfile" .pid)
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      log "$name (pid $pid) ignored SIGTERM for 10 s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    log "$name (pid $pid) stopped"
  else
    log "$name (pid $pid) was not running"
  fi
  rm -f "$pidfile"
}

shopt -s nullglob
# Registries first, the engines last: the engines own containers that may still be shutting down.
for name in registry-auth registry containerd dockerd; do
  [ -f "$RUN_DIR/$name.pid" ] && stop_recorded "$RUN_DIR/$name.pid"
done
for pidfile in "$RUN_DIR"/*.pid; do stop_recorded "$pidfile"; done

if [ "${1:-}" = --purge ]; then
  rm -rf /var/lib/deckhand-test /etc/deckhand-test /var/log/deckhand-test
  log "purged /var/lib/deckhand-test, /etc/deckhand-test and /var/log/deckhand-test"
fi
