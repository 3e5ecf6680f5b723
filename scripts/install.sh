#!/usr/bin/env bash
# Installs Deckhand from this source tree, with its own Node 24, on a Debian/Ubuntu machine (run as root).
# Needs bash, tar, coreutils, npm (any version: it runs on the Node 24 this script fetches) and curl or npm
# to reach the npm registry.
#
#   /opt/deckhand/                   package.json, dist/ (built), proto/, node_modules/ (production only),
#                                    node/bin/node (Node 24), systemd/ and scripts/ (for `deckhand join`)
#   /usr/local/bin/deckhand          wrapper: the installed Node running /opt/deckhand/dist/cli/main.js
#   /etc/systemd/system/deckhand-agent.service, deckhand-control-plane.service
#   /etc/default/deckhand-agent, /etc/default/deckhand-control-plane   settings (kept when present)
#   /etc/deckhand/agent.yaml         agent configuration (kept when present; `deckhand join` writes it)
#   /var/lib/deckhand/               state (agent root dir; control-plane/ holds the control plane's data)
#
# Usage: scripts/install.sh [--agent] [--control-plane] [--no-start] [--units-only] [--build]
#                           [--root DIR] [--dry-run] [--uninstall [--purge]]
#   --agent / --control-plane  enable that unit and start it (restart it when it was running)
#   --no-start                 enable only; start later with `systemctl start deckhand-agent`
#   --units-only               leave /opt/deckhand as it is: (re)write units, settings and directories only
#   --build                    run `npm run build` first (default: when dist/ is missing or older than src/)
#   --root DIR                 install everything below DIR instead of /, with every path inside the
#                              installed files pointing below DIR (a self-contained staged install that
#                              tests run); systemctl only enables there (`systemctl --root`), never starts
#   --dry-run                  print each step, change nothing
#   --uninstall                stop and disable the units, remove the units, the wrapper and /opt/deckhand;
#                              --purge also removes /etc/deckhand, /etc/default/deckhand-* and /var/lib/deckhand
#
# Interface for `deckhand join` (and other callers): after writing /etc/deckhand/agent.yaml (with
# `kubeconfig:` pointing at the node kubeconfig it wrote under /etc/deckhand), join runs
#   /opt/deckhand/scripts/install.sh --units-only --agent [--no-start] [--dry-run] [--root DIR]
# (or scripts/install.sh --agent … from a source checkout, which installs Deckhand too). Each step is
# printed on stderr as "[deckhand install] …"; exit status 0 on success, 2 for a usage error, 1 otherwise.
# Without a running systemd (a container, CI) the units are enabled but not started, and the script says so.
# Extra agent flags go into DECKHAND_AGENT_ARGS in /etc/default/deckhand-agent.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

NODE_REGISTRY=${NODE_REGISTRY:-https://registry.npmjs.org}
UNITS=(deckhand-agent deckhand-control-plane)

ROOT=/
AGENT=0 CONTROL_PLANE=0 START=1 UNITS_ONLY=0 BUILD=0 DRY_RUN=0 UNINSTALL=0 PURGE=0
usage_error() { printf '[deckhand install] ERROR: %s (see --help)\n' "$*" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --agent) AGENT=1 ;;
    --control-plane) CONTROL_PLANE=1 ;;
    --no-start) START=0 ;;
    --units-only) UNITS_ONLY=1 ;;
    --build) BUILD=1 ;;
    --root|--prefix) [ $# -ge 2 ] || usage_error "$1 needs a directory"; ROOT=$2; shift ;;
    --root=*|--prefix=*) ROOT=${1#*=} ;;
    --dry-run) DRY_RUN=1 ;;
    --uninstall) UNINSTALL=1 ;;
    --purge) PURGE=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) usage_error "unknown argument $1" ;;
  esac
  shift
done
[ "$PURGE" -eq 0 ] || [ "$UNINSTALL" -eq 1 ] || usage_error "--purge goes with --uninstall"
case "$ROOT" in /*) ;; *) usage_error "--root needs an absolute directory, not $ROOT" ;; esac
ROOT=${ROOT%/}

# Final locations (below ROOT when staging).
PREFIX=$ROOT/opt/deckhand
WRAPPER=$ROOT/usr/local/bin/deckhand
UNIT_DIR=$ROOT/etc/systemd/system
DEFAULTS_DIR=$ROOT/etc/default
CONFIG_DIR=$ROOT/etc/deckhand
STATE_DIR=$ROOT/var/lib/deckhand

say() { printf '[deckhand install] %s\n' "$*" >&2; }
# Runs a command, or only prints it with --dry-run.
step() {
  if [ "$DRY_RUN" -eq 1 ]; then say "would run: $*"; return 0; fi
  say "$*"
  "$@"
}
# Writes stdin to a file (mode $2), or prints what it would write with --dry-run.
write_file() {
  local path=$1 mode=$2 content
  content=$(cat)
  if [ "$DRY_RUN" -eq 1 ]; then say "would write $path (mode $mode)"; return 0; fi
  say "write $path"
  mkdir -p "$(dirname "$path")"
  printf '%s\n' "$content" >"$path.tmp.$$"
  chmod "$mode" "$path.tmp.$$"
  mv -f "$path.tmp.$$" "$path"
}
# Points a file's built-in absolute paths below ROOT (no-op for ROOT=/).
relocate() {
  if [ -z "$ROOT" ]; then cat; return; fi
  sed -e "s#/usr/local/bin/deckhand#$WRAPPER#g" -e "s#/opt/deckhand#$PREFIX#g" \
    -e "s#/etc/default/#$DEFAULTS_DIR/#g" -e "s#/etc/deckhand#$CONFIG_DIR#g" -e "s#/var/lib/deckhand#$STATE_DIR#g"
}
systemd_running() { [ -z "$ROOT" ] && [ -d /run/systemd/system ]; }
systemctl_() {
  if [ -z "$ROOT" ]; then step systemctl "$@"; return; fi
  if command -v systemctl >/dev/null; then step systemctl --quiet --root="$ROOT" "$@"
  else say "no systemctl here: skipped systemctl $* for $ROOT"; fi
}

[ "$DRY_RUN" -eq 1 ] || [ -n "$ROOT" ] || require_root

uninstall() {
  if systemd_running; then
    for unit in "${UNITS[@]}"; do
      if systemctl cat "$unit.service" >/dev/null 2>&1; then systemctl_ disable --now "$unit.service"; fi
    done
  fi
  for unit in "${UNITS[@]}"; do
    if [ -e "$UNIT_DIR/$unit.service" ]; then
      [ -z "$ROOT" ] || systemctl_ disable "$unit.service" || true
      step rm -f "$UNIT_DIR/$unit.service"
    fi
  done
  systemd_running && systemctl_ daemon-reload
  step rm -rf "$PREFIX" "$WRAPPER"
  if [ "$PURGE" -eq 1 ]; then
    step rm -rf "$CONFIG_DIR" "$STATE_DIR" "$DEFAULTS_DIR/deckhand-agent" "$DEFAULTS_DIR/deckhand-control-plane"
  else
    say "kept $CONFIG_DIR, $STATE_DIR and $DEFAULTS_DIR/deckhand-* (--purge removes them)"
  fi
  say "uninstalled"
}

# Prints the directory of an official Node $NODE_VERSION_PINNED package (bin/node inside), fetching it when
# needed: the copy scripts/bootstrap-node.sh keeps, else `npm pack`, else curl with the registry's sha512.
node_package_dir() {
  local arch cached=$TOOLCHAIN_DIR/node-v$NODE_VERSION_PINNED
  if [ -x "$cached/bin/node" ]; then echo "$cached"; return; fi
  case "$(uname -m)" in
    x86_64) arch=x64 ;;
    aarch64) arch=arm64 ;;
    *) die "no official Node $NODE_MAJOR_WANTED binary package for $(uname -m)" ;;
  esac
  local name=node-linux-$arch tmp
  tmp=$(mktemp -d)
  if command -v npm >/dev/null 2>&1; then
    (cd "$tmp" && npm pack --silent "$name@$NODE_VERSION_PINNED" >/dev/null 2>&1) \
      || die "npm pack $name@$NODE_VERSION_PINNED failed: is $NODE_REGISTRY reachable?"
  else
    command -v curl >/dev/null || die "curl or npm is needed to fetch Node $NODE_VERSION_PINNED (apt-get install curl)"
    local integrity want got
    integrity=$(curl -fsSL "$NODE_REGISTRY/$name/$NODE_VERSION_PINNED" | grep -o '"integrity":"sha512-[^"]*"' | head -n1 | cut -d'"' -f4) \
      || die "cannot read $name@$NODE_VERSION_PINNED from $NODE_REGISTRY"
    curl -fsSL -o "$tmp/$name.tgz" "$NODE_REGISTRY/$name/-/$name-$NODE_VERSION_PINNED.tgz" \
      || die "cannot download $name@$NODE_VERSION_PINNED from $NODE_REGISTRY"
    want=$(printf '%s' "${integrity#sha512-}" | base64 -d | od -An -v -tx1 | tr -d ' \n')
    got=$(sha512sum "$tmp/$name.tgz" | cut -d' ' -f1)
    [ "$want" = "$got" ] || die "$name-$NODE_VERSION_PINNED.tgz: sha512 $got does not match the registry's $want"
  fi
  tar -xzf "$tmp"/*.tgz -C "$tmp"
  mkdir -p "$cached"
  cp -a "$tmp/package/." "$cached/"
  rm -rf "$tmp"
  "$cached/bin/node" --version >/dev/null || die "the downloaded node binary does not run on this machine"
  echo "$cached"
}

install_deckhand() {
  cd "$DECKHAND_ROOT"
  command -v npm >/dev/null 2>&1 \
    || die "npm is needed to build Deckhand and install its dependencies (apt-get install npm; it runs on the Node 24 installed here)"
  local node_dir stage
  if [ "$DRY_RUN" -eq 1 ]; then node_dir="<Node $NODE_VERSION_PINNED package>"; else node_dir=$(node_package_dir); fi
  # npm, tsc and npm prune run on the Node that gets installed, whatever node the host has.
  PATH="$node_dir/bin:$PATH"
  # Built when asked, missing, or older than a source file (an upgrade after `git pull`).
  if [ "$BUILD" -eq 1 ] || [ ! -f dist/build-info.json ] || [ ! -f dist/cli/main.js ] \
    || [ -n "$(find src package.json package-lock.json -newer dist/build-info.json -print -quit)" ]; then
    [ -d node_modules/typescript ] || step npm install --no-save --no-audit --no-fund --loglevel=error
    step npm run --silent build
  fi
  [ -f dist/cli/main.js ] || { [ "$DRY_RUN" -eq 1 ] && say "(dist/ is built in a real run)"; } \
    || die "dist/cli/main.js is missing after the build"
  stage=$PREFIX.new
  step rm -rf "$stage"
  step mkdir -p "$stage/node/bin" "$stage/systemd" "$stage/scripts"
  step cp -a package.json package-lock.json README.md dist proto "$stage/"
  step cp -a systemd/. "$stage/systemd/"
  step cp -a scripts/install.sh scripts/lib.sh "$stage/scripts/"
  step cp -a "$node_dir/bin/node" "$stage/node/bin/node"
  # Production dependencies: pruned from this tree's node_modules when present (no network), else installed
  # from the lock. Not `npm ci`: see scripts/test.sh.
  if [ -d node_modules ]; then
    # Top-level dot entries other than .bin and the hidden lock are caches (vitest's changes while tests run).
    step mkdir -p "$stage/node_modules"
    step cp -a $(find node_modules -mindepth 1 -maxdepth 1 \( ! -name '.*' -o -name .bin -o -name .package-lock.json \) | sort) "$stage/node_modules/"
    step npm prune --omit=dev --offline --no-audit --no-fund --loglevel=error --prefix "$stage"
  else
    step npm install --omit=dev --no-save --no-audit --no-fund --loglevel=error --prefix "$stage"
  fi
  if [ -d "$PREFIX" ]; then step rm -rf "$PREFIX.old" && step mv "$PREFIX" "$PREFIX.old"; fi
  step mv "$stage" "$PREFIX"
  step rm -rf "$PREFIX.old"
  write_file "$WRAPPER" 0755 <<EOF
#!/bin/sh
# Deckhand, run by the Node it was installed with (scripts/install.sh).
exec $PREFIX/node/bin/node $PREFIX/dist/cli/main.js "\$@"
EOF
}

install_units() {
  for unit in "${UNITS[@]}"; do
    relocate <"$DECKHAND_ROOT/systemd/$unit.service" | write_file "$UNIT_DIR/$unit.service" 0644
  done
  step mkdir -p "$CONFIG_DIR/manifests" "$STATE_DIR"
  step chmod 0700 "$STATE_DIR"
  if [ ! -e "$DEFAULTS_DIR/deckhand-agent" ]; then
    relocate <<'EOF' | write_file "$DEFAULTS_DIR/deckhand-agent" 0644
# Settings for deckhand-agent.service (KEY=value; `systemctl restart deckhand-agent` after a change).
# DECKHAND_AGENT_CONFIG=/etc/deckhand/agent.yaml
# Extra flags for `deckhand agent`, e.g. --runtime docker --log-level debug:
# DECKHAND_AGENT_ARGS=
EOF
  fi
  if [ ! -e "$DEFAULTS_DIR/deckhand-control-plane" ]; then
    relocate <<'EOF' | write_file "$DEFAULTS_DIR/deckhand-control-plane" 0644
# Settings for deckhand-control-plane.service (KEY=value; restart the unit after a change).
# DECKHAND_DATA_DIR=/var/lib/deckhand/control-plane
# DECKHAND_LISTEN=127.0.0.1:6443
# Extra flags for `deckhand control-plane`, e.g. --store etcd://10.0.0.5:2379:
# DECKHAND_CONTROL_PLANE_ARGS=
EOF
  fi
  if [ ! -e "$CONFIG_DIR/agent.yaml" ]; then
    relocate <<'EOF' | write_file "$CONFIG_DIR/agent.yaml" 0600
# Deckhand agent configuration (KubeletConfiguration-style; see `deckhand agent --help`).
# Without `kubeconfig:` the agent is a standalone node running static pods; `deckhand join` rewrites this.
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
rootDir: /var/lib/deckhand
staticPodPath: /etc/deckhand/manifests
EOF
  fi
  if systemd_running; then systemctl_ daemon-reload; fi
}

enable_units() {
  local unit
  for unit in "${UNITS[@]}"; do
    case "$unit" in
      deckhand-agent) [ "$AGENT" -eq 1 ] || continue ;;
      deckhand-control-plane) [ "$CONTROL_PLANE" -eq 1 ] || continue ;;
    esac
    systemctl_ enable "$unit.service"
    if [ "$START" -eq 0 ]; then
      say "$unit enabled, not started (--no-start)"
    elif systemd_running; then
      systemctl_ restart "$unit.service"
      say "$unit started: systemctl status $unit; journalctl -u $unit -f"
    else
      say "$unit enabled but not started: systemd is not running here${ROOT:+ (staged install in $ROOT)}"
    fi
  done
}

if [ "$UNINSTALL" -eq 1 ]; then
  uninstall
  exit 0
fi
if [ "$UNITS_ONLY" -eq 0 ]; then
  timed "install Deckhand into $PREFIX" install_deckhand
fi
install_units
enable_units
if [ "$DRY_RUN" -eq 1 ]; then say "dry run: nothing was changed"; exit 0; fi
say "installed: $("$WRAPPER" version | head -n1)"
