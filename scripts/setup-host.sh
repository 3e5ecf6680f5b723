#!/usr/bin/env bash
# Prepares this machine (Debian 12, root) for Deckhand's integration tests. Idempotent.
#
#   - installs the Debian packages the tests need (only the missing ones);
#   - starts a Docker engine, if none answers on /var/run/docker.sock;
#   - starts a separate containerd with CRI + CNI for tests on /run/deckhand-test/containerd.sock;
#   - builds the test images deckhand.local/busybox:1.35 and deckhand.local/pause:3.9 and loads them into
#     both runtimes;
#   - starts a registry on 127.0.0.1:5000 (busybox pushed as 127.0.0.1:5000/deckhand/busybox:1.35) and the
#     same content behind basic auth on 127.0.0.1:5001 (user deckhand, password deckhand-test).
#
# Everything it starts is recorded under /run/deckhand-test/*.pid; scripts/teardown-host.sh stops exactly
# those processes and nothing else. Logs go to /var/log/deckhand-test/.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

require_root

RUN_DIR=/run/deckhand-test
DATA_DIR=/var/lib/deckhand-test
LOG_DIR=/var/log/deckhand-test
CONF_DIR=/etc/deckhand-test
DOCKER_SOCK=/var/run/docker.sock
CRI_SOCK=$RUN_DIR/containerd.sock
REGISTRY_ADDR=127.0.0.1:5000
AUTH_REGISTRY_ADDR=127.0.0.1:5001
AUTH_REGISTRY_USER=deckhand
AUTH_REGISTRY_PASSWORD=deckhand-test
BUSYBOX_IMAGE=deckhand.local/busybox:1.35
PAUSE_IMAGE=deckhand.local/pause:3.9
TEST_POD_SUBNET=10.89.0.0/16
TEST_BRIDGE=dhtest0
DOCKER=/usr/bin/docker # Debian's client; /usr/local/bin/docker on these machines downgrades the API version

PACKAGES=(docker.io containerd runc iptables conntrack iproute2 busybox-static catatonit
  containernetworking-plugins docker-registry etcd-server etcd-client apache2-utils curl ca-certificates
  systemd mmdebstrap) # systemd: systemd-analyze for the unit files; mmdebstrap: scripts/build-base-image.sh

mkdir -p "$RUN_DIR" "$DATA_DIR" "$LOG_DIR" "$CONF_DIR"

install_packages() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    log "packages: all present"
    return
  fi
  log "packages: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || die "apt-get update failed: is Debian's archive reachable?"
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$LOG_DIR/apt.log" 2>&1 \
    || die "apt-get install ${missing[*]} failed; see $LOG_DIR/apt.log"
}

# Starts "$@" in the background with output to $LOG_DIR/<name>.log and records its PID.
start_daemon() {
  local name=$1; shift
  nohup "$@" >"$LOG_DIR/$name.log" 2>&1 &
  echo $! >"$RUN_DIR/$name.pid"
}

# Waits until "$@" succeeds, or dies naming what did not come up and where its log is.
wait_for() {
  local what=$1 log_file=$2; shift 2
  for _ in $(seq 1 300); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  die "$what did not come up within 30 s; last lines of $log_file:
$(tail -n 20 "$log_file" 2>/dev/null)"
}

docker_answers() { curl -fs --max-time 2 --unix-socket "$DOCKER_SOCK" http://docker/_ping; }
cri_answers() { [ -S "$CRI_SOCK" ] && ctr --address "$CRI_SOCK" --connect-timeout 1s version >/dev/null 2>&1; }
registry_answers() { curl -fs --max-time 2 -o /dev/null "http://$1/v2/" || [ "$(curl -s --max-time 2 -o /dev/null -w '%{http_code}' "http://$1/v2/")" = 401 ]; }

start_docker() {
  if docker_answers; then
    log "docker: already answering on $DOCKER_SOCK, left alone"
    return
  fi
  start_daemon dockerd /usr/sbin/dockerd --host "unix://$DOCKER_SOCK" --iptables=true \
    --data-root /var/lib/docker --exec-root /var/run/docker
  wait_for "dockerd" "$LOG_DIR/dockerd.log" docker_answers
  log "docker: started (pid $(cat "$RUN_DIR/dockerd.pid"))"
}

write_cni_config() {
  mkdir -p "$CONF_DIR/cni"
  # bridge -> portmap -> firewall (without it Docker's FORWARD DROP policy drops pod-to-pod traffic) -> loopback
  cat >"$CONF_DIR/cni/10-deckhand-test.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "deckhand-test",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$TEST_BRIDGE",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{ "subnet": "$TEST_POD_SUBNET" }]],
        "routes": [{ "dst": "0.0.0.0/0" }],
        "dataDir": "$DATA_DIR/cni-ipam"
      }
    },
    { "type": "portmap", "capabilities": { "portMappings": true } },
    { "type": "firewall", "backend": "iptables" },
    { "type": "loopback" }
  ]
}
EOF
}

write_containerd_config() {
  sed -e "s|@ROOT@|$DATA_DIR/containerd|g" -e "s|@STATE@|$RUN_DIR/containerd|g" -e "s|@SOCKET@|$CRI_SOCK|g" \
    -e "s|@DEBUG_SOCKET@|$RUN_DIR/containerd-debug.sock|g" -e "s|@PAUSE_IMAGE@|$PAUSE_IMAGE|g" \
    -e "s|@CNI_CONF_DIR@|$CONF_DIR/cni|g" "$(dirname "$0")/containerd-test.toml" >"$CONF_DIR/containerd.toml"
}

start_containerd() {
  if cri_answers; then
    log "containerd (CRI): already answering on $CRI_SOCK, left alone"
    return
  fi
  write_cni_config
  write_containerd_config
  rm -f "$CRI_SOCK"
  start_daemon containerd /usr/bin/containerd --config "$CONF_DIR/containerd.toml"
  wait_for "containerd" "$LOG_DIR/containerd.log" cri_answers
  log "containerd (CRI): started on $CRI_SOCK (pid $(cat "$RUN_DIR/containerd.pid"))"
}

build_busybox_rootfs() {
  local root=$1
  mkdir -p "$root"/{bin,etc,tmp,root,www,proc,sys,dev,home,var/www}
  cp /bin/busybox "$root/bin/busybox"
  local applet
  for applet in $(/bin/busybox --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
  done
  chmod 1777 "$root/tmp"
  cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
EOF
  cat >"$root/etc/group" <<'EOF'
root:x:0:
daemon:x:1:
nogroup:x:65534:
EOF
  echo '<html><body>deckhand test page</body></html>' >"$root/www/index.html"
}

build_pause_rootfs() {
  local root=$1
  mkdir -p "$root"/{proc,sys,dev,etc}
  cp /usr/bin/catatonit "$root/catatonit"
  echo 'nobody:x:65535:65535:nobody:/:/catatonit' >"$root/etc/passwd"
  echo 'nobody:x:65535:' >"$root/etc/group"
}

image_present_in_docker() { "$DOCKER" image inspect "$1" >/dev/null 2>&1; }

build_images() {
  local work; work=$(mktemp -d)
  if image_present_in_docker "$BUSYBOX_IMAGE"; then
    log "images: $BUSYBOX_IMAGE already in docker"
  else
    build_busybox_rootfs "$work/busybox"
    tar --numeric-owner --owner=0 --group=0 -C "$work/busybox" -cf "$work/busybox.tar" .
    "$DOCKER" import \
      --change 'CMD ["sh"]' \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      "$work/busybox.tar" "$BUSYBOX_IMAGE" >/dev/null
    log "images: built $BUSYBOX_IMAGE"
  fi
  if image_present_in_docker "$PAUSE_IMAGE"; then
    log "images: $PAUSE_IMAGE already in docker"
  else
    build_pause_rootfs "$work/pause"
    tar --numeric-owner --owner=0 --group=0 -C "$work/pause" -cf "$work/pause.tar" .
    "$DOCKER" import \
      --change 'ENTRYPOINT ["/catatonit","-P"]' \
      --change 'USER 65535:65535' \
      "$work/pause.tar" "$PAUSE_IMAGE" >/dev/null
    log "images: built $PAUSE_IMAGE"
  fi
  rm -rf "$work"
}

load_images_into_containerd() {
  local missing=() img present
  present=$(ctr --address "$CRI_SOCK" -n k8s.io images ls -q)
  for img in "$BUSYBOX_IMAGE" "$PAUSE_IMAGE"; do
    grep -qxF "$img" <<<"$present" || missing+=("$img")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    log "images: already in containerd (k8s.io namespace)"
    return
  fi
  "$DOCKER" save "${missing[@]}" | ctr --address "$CRI_SOCK" -n k8s.io images import - >/dev/null
  log "images: loaded ${missing[*]} into containerd"
}

write_registry_config() {
  local name=$1 addr=$2 auth=$3
  local conf="$CONF_DIR/$name.yml"
  {
    echo "version: 0.1"
    echo "log: { level: warn }"
    echo "storage:"
    echo "  filesystem: { rootdirectory: $DATA_DIR/registry }"
    echo "  delete: { enabled: true }"
    echo "http:"
    echo "  addr: $addr"
    if [ "$auth" = yes ]; then
      echo "auth:"
      echo "  htpasswd: { realm: deckhand-test, path: $CONF_DIR/registry.htpasswd }"
    fi
  } >"$conf"
  echo "$conf"
}

start_registries() {
  mkdir -p "$DATA_DIR/registry"
  if registry_answers "$REGISTRY_ADDR"; then
    log "registry: already answering on $REGISTRY_ADDR, left alone"
  else
    start_daemon registry /usr/bin/docker-registry serve "$(write_registry_config registry "$REGISTRY_ADDR" no)"
    wait_for "registry on $REGISTRY_ADDR" "$LOG_DIR/registry.log" registry_answers "$REGISTRY_ADDR"
    log "registry: started on $REGISTRY_ADDR"
  fi
  if registry_answers "$AUTH_REGISTRY_ADDR"; then
    log "registry (basic auth): already answering on $AUTH_REGISTRY_ADDR, left alone"
  else
    # Same storage as the open registry: whatever is pushed to :5000 can be pulled from :5001 with auth.
    htpasswd -Bbn "$AUTH_REGISTRY_USER" "$AUTH_REGISTRY_PASSWORD" >"$CONF_DIR/registry.htpasswd" 2>/dev/null
    start_daemon registry-auth /usr/bin/docker-registry serve \
      "$(write_registry_config registry-auth "$AUTH_REGISTRY_ADDR" yes)"
    wait_for "registry on $AUTH_REGISTRY_ADDR" "$LOG_DIR/registry-auth.log" registry_answers "$AUTH_REGISTRY_ADDR"
    log "registry (basic auth): started on $AUTH_REGISTRY_ADDR"
  fi
}

push_busybox() {
  local remote="$REGISTRY_ADDR/deckhand/busybox:1.35"
  if curl -fs --max-time 2 -o /dev/null "http://$REGISTRY_ADDR/v2/deckhand/busybox/manifests/1.35" \
    -H 'Accept: application/vnd.docker.distribution.manifest.v2+json'; then
    log "registry: $remote already pushed"
    return
  fi
  "$DOCKER" tag "$BUSYBOX_IMAGE" "$remote"
  "$DOCKER" push "$remote" >"$LOG_DIR/push.log" 2>&1 || die "docker push $remote failed; see $LOG_DIR/push.log"
  "$DOCKER" rmi "$remote" >/dev/null
  log "registry: pushed $remote"
}

main() {
  local start; start=$(now_ms)
  timed "packages" install_packages
  timed "docker" start_docker
  timed "images" build_images
  timed "containerd" start_containerd
  timed "containerd images" load_images_into_containerd
  timed "registries" start_registries
  timed "registry push" push_busybox
  log "host ready in $(( $(now_ms) - start )) ms: docker $DOCKER_SOCK, CRI $CRI_SOCK, registries $REGISTRY_ADDR and $AUTH_REGISTRY_ADDR (auth)"
}

main "$@"
