#!/usr/bin/env bash
# A reference Docker (Debian's docker.io 20.10) for benchmarks and compatibility tests.
#
#   scripts/reference-dockerd.sh start    install if missing, start, load busybox:latest
#   scripts/reference-dockerd.sh stop     remove containers, stop, unmount, delete all state
#   scripts/reference-dockerd.sh status   exit 0 if it answers, print pids
#   scripts/reference-dockerd.sh env      print `export DOCKER_HOST=...` for eval
#
# It runs on its own socket, data root, exec root, pidfile, config file and cgroup parent,
# with a containerd it supervises itself, so it never touches /var/run/docker.sock,
# /var/lib/docker or /etc/docker. By default no bridge, no iptables: containers get
# loopback only, and nothing can reach outside the machine.
#
# Environment: REFDOCKER_DIR (default /tmp/berth-bench) holds everything it makes;
# DOCKER_CLI (default /usr/local/bin/docker, else docker on PATH).
# REFDOCKER_BRIDGE=<name> with REFDOCKER_BIP=<a.b.c.1/24> (at start) gives the default
# network a bridge of that name and iptables rules (DNAT for -p, docker-proxy for
# loopback), as a stock dockerd has, but no MASQUERADE, so containers still cannot reach
# outside the machine; stop removes the bridge, its rules, and the DOCKER chains once no
# other bridge's rules are left in them.
set -euo pipefail

DIR=${REFDOCKER_DIR:-/tmp/berth-bench}
SOCK=$DIR/docker.sock
ROOT=$DIR/docker-root
EXEC=$DIR/docker-exec
PIDFILE=$DIR/docker.pid
CONF=$DIR/docker-daemon.json
KEY=$DIR/docker-key.json
LOG=$DIR/dockerd.log
# Absolute, so runc does not resolve it against its own cgroup; unique per state dir.
CGROUP_PARENT=/refdocker-$(basename "$DIR")
CONTAINERD_PIDFILE=$EXEC/containerd/containerd.pid
# "<bridge> <bip>" while a networked instance's bridge exists, for cleanup.
NETFILE=$DIR/docker-network

if [[ -n ${DOCKER_CLI:-} ]]; then :
elif [[ -x /usr/local/bin/docker ]]; then DOCKER_CLI=/usr/local/bin/docker
else DOCKER_CLI=docker
fi

log() { echo "reference-dockerd: $*" >&2; }
die() { log "error: $*"; exit 1; }
dk() { DOCKER_CLI_HINTS=false "$DOCKER_CLI" -H "unix://$SOCK" "$@"; }

[[ $(id -u) == 0 ]] || die "must run as root"

# --- processes -------------------------------------------------------------------------

# pid_matches PID COMM MARKER: the pid is alive, its comm starts with COMM and its command
# line mentions MARKER (one of our own paths), so a reused pid is never mistaken for ours.
pid_matches() {
  local pid=$1 comm=$2 marker=$3 c
  [[ -n $pid && -r /proc/$pid/comm ]] || return 1
  c=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
  [[ $c == "$comm"* ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$marker"
}

dockerd_pid() {
  local pid
  pid=$(cat "$PIDFILE" 2>/dev/null) || return 1
  pid_matches "$pid" dockerd "$SOCK" && echo "$pid"
}

containerd_pid() {
  local pid
  pid=$(cat "$CONTAINERD_PIDFILE" 2>/dev/null) || return 1
  pid_matches "$pid" containerd "$EXEC/" && echo "$pid"
}

# Shims re-parent to init, so they are found by name plus our containerd's address.
shim_pids() {
  local p
  for p in /proc/[0-9]*; do
    pid_matches "${p#/proc/}" containerd-shim "-address $EXEC/" && echo "${p#/proc/}"
  done
  return 0
}

# containerd 1.6 names a shim's socket after sha256("<address>/<namespace>/<id>").
shim_socket() {
  local args ns= id= hash i
  mapfile -d '' -t args <"/proc/$1/cmdline" 2>/dev/null || return 0
  for ((i = 0; i < ${#args[@]} - 1; i++)); do
    case ${args[i]} in
      -namespace) ns=${args[i + 1]} ;;
      -id) id=${args[i + 1]} ;;
    esac
  done
  [[ -n $ns && -n $id ]] || return 0
  hash=$(printf '%s' "$EXEC/containerd/containerd.sock/$ns/$id" | sha256sum | cut -d' ' -f1)
  echo "/run/containerd/s/$hash"
}

wait_gone() { # wait_gone SECONDS PID...
  local deadline=$((SECONDS + $1)) p alive; shift
  while :; do
    alive=0
    for p in "$@"; do [[ -d /proc/$p ]] && alive=1; done
    ((alive)) || return 0
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

stop_pid() { # stop_pid NAME PID: TERM, then KILL after 20 s
  local name=$1 pid=$2
  kill -TERM "$pid" 2>/dev/null || return 0
  if ! wait_gone 20 "$pid"; then
    log "$name ($pid) ignored SIGTERM; killing it"
    kill -KILL "$pid" 2>/dev/null || true
    wait_gone 5 "$pid" || die "$name ($pid) does not die"
  fi
}

answers() { dk version --format '{{.Server.Version}}' >/dev/null 2>&1; }

# --- install ---------------------------------------------------------------------------

ensure_installed() {
  command -v dockerd >/dev/null && command -v containerd >/dev/null && return 0
  log "installing Debian's docker.io"
  # No systemd here, so the package's init script would start a system dockerd on
  # /var/run/docker.sock; a policy-rc.d that says 101 forbids that.
  local made_policy=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    made_policy=1
  fi
  local rc=0
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends docker.io || rc=$?
  if ((rc != 0)); then
    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends docker.io || rc=$?
  fi
  ((made_policy)) && rm -f /usr/sbin/policy-rc.d
  ((rc == 0)) || die "apt-get install docker.io failed"
  # Belt and braces: if the package did start a system daemon anyway, stop it.
  local sys
  sys=$(cat /var/run/docker.pid 2>/dev/null || true)
  if [[ -n $sys && $(cat "/proc/$sys/comm" 2>/dev/null) == dockerd ]]; then
    log "the package started a system dockerd ($sys); stopping it"
    stop_pid "system dockerd" "$sys"
  fi
}

# --- busybox image ---------------------------------------------------------------------

# There is no registry here: busybox:latest is Debian's static busybox plus its applet
# links, imported as a single-layer image.
load_busybox() {
  dk image inspect busybox:latest >/dev/null 2>&1 && return 0
  local bb=/bin/busybox
  if [[ ! -x $bb ]] || ! "$bb" --list >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y busybox-static >/dev/null || die "cannot install busybox-static"
  fi
  local rootfs a
  rootfs=$(mktemp -d "$DIR/busybox-rootfs.XXXXXX")
  mkdir -p "$rootfs/bin" "$rootfs/etc" "$rootfs/tmp" "$rootfs/root" "$rootfs/home"
  chmod 1777 "$rootfs/tmp"
  chmod 700 "$rootfs/root"
  cp "$bb" "$rootfs/bin/busybox"
  for a in $("$bb" --list); do
    [[ $a == busybox ]] || ln -s busybox "$rootfs/bin/$a"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n' >"$rootfs/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
  tar -C "$rootfs" --numeric-owner --owner=0 --group=0 -c . \
    | dk import -c 'CMD ["sh"]' - busybox:latest >/dev/null || { rm -rf "$rootfs"; die "docker import failed"; }
  rm -rf "$rootfs"
  log "loaded busybox:latest"
}

# --- bridge networking (REFDOCKER_BRIDGE) -----------------------------------------------

# dockerd only creates a bridge named docker0 itself; a bridge of another name must exist,
# and its address becomes the default network's subnet (--bip would conflict with --bridge).
make_bridge() {
  local br=$1 bip=$2
  [[ $br =~ ^[A-Za-z0-9_.-]{1,15}$ ]] || die "REFDOCKER_BRIDGE: not a bridge name: $br"
  [[ $bip =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}/24$ ]] || die "REFDOCKER_BIP must be an address/24, got $bip"
  [[ ! -e /sys/class/net/$br ]] || die "a link named $br exists already"
  # Recorded first, so that a failure from here on is still cleaned up.
  printf '%s %s\n' "$br" "$bip" >"$NETFILE"
  ip link add "$br" type bridge
  ip addr add "$bip" dev "$br"
  ip link set "$br" up
}

# Rules of one table naming the bridge or an address of its /24, without the leading "-A ".
rules_of_bridge() { # rules_of_bridge TABLE BRIDGE NETPREFIX
  iptables-save -t "$1" | awk -v br="$2" -v net="$3" '
    /^-A / {
      hit = 0
      for (i = 2; i <= NF; i++) {
        if (($i == "-i" || $i == "-o") && $(i + 1) == br) hit = 1
        if (index($i, net) == 1) hit = 1 # -d 198.18.7.2/32, --to-destination 198.18.7.2:80
      }
      if (hit) print substr($0, 4)
    }'
}

remove_bridge_network() {
  [[ -r $NETFILE ]] || return 0
  local br bip net table line words c
  read -r br bip <"$NETFILE"
  net=${bip%.*}. # "198.18.7." matches that /24's addresses and nothing else
  # docker-proxy gets a parent-death signal from dockerd, but one that outlived it would hold
  # its port; ours forward to our subnet.
  local p proxies=()
  for p in /proc/[0-9]*; do
    pid_matches "${p#/proc/}" docker-proxy "-container-ip $net" && proxies+=("${p#/proc/}")
  done
  if ((${#proxies[@]})); then
    log "killing leftover docker-proxy: ${proxies[*]}"
    kill -KILL "${proxies[@]}" 2>/dev/null || true
    wait_gone 5 "${proxies[@]}" || true
  fi
  for table in nat filter; do
    while read -r line; do
      [[ -n $line ]] || continue
      read -r -a words <<<"$line"
      iptables -w -t "$table" -D "${words[@]}" 2>/dev/null || log "warning: cannot delete $table rule: $line"
    done < <(rules_of_bridge "$table" "$br" "$net")
    # A DOCKER* chain holding nothing but RETURN served only us: remove it and the jumps to it.
    local empty=()
    local rules
    for c in $(iptables-save -t "$table" | sed -n 's/^:\(DOCKER[A-Z0-9-]*\) .*/\1/p'); do
      # Captured first: a grep -q ending a pipeline early would SIGPIPE it into "empty".
      rules=$(iptables-save -t "$table" | grep "^-A $c " || true)
      [[ -n $(grep -vx -- "-A $c -j RETURN" <<<"$rules") ]] || empty+=("$c")
    done
    for c in "${empty[@]}"; do
      while read -r line; do
        [[ -n $line ]] || continue
        read -r -a words <<<"${line:3}"
        iptables -w -t "$table" -D "${words[@]}" 2>/dev/null || true
      done < <(iptables-save -t "$table" | grep -E -- "^-A .* -j $c\$")
    done
    for c in "${empty[@]}"; do iptables -w -t "$table" -F "$c" 2>/dev/null || true; done
    for c in "${empty[@]}"; do iptables -w -t "$table" -X "$c" 2>/dev/null || log "warning: chain $table $c remains"; done
  done
  if [[ -e /sys/class/net/$br ]]; then ip link del "$br" || log "warning: cannot delete bridge $br"; fi
  rm -f "$NETFILE"
}

# --- start / stop ----------------------------------------------------------------------

start() {
  ensure_installed
  if dockerd_pid >/dev/null && answers; then
    local want=${REFDOCKER_BRIDGE:+$REFDOCKER_BRIDGE $REFDOCKER_BIP} have
    have=$(cat "$NETFILE" 2>/dev/null || true)
    [[ $want == "$have" ]] || die "already running with network '${have:-none}', not '${want:-none}'; stop it first"
    load_busybox
    log "already running on unix://$SOCK"
    return 0
  fi
  # A half-dead earlier instance leaves mounts and cgroups; clear them first.
  cleanup
  # dockerd uses a system containerd if /run/containerd/containerd.sock exists; ours must
  # supervise its own so that memory figures and cleanup cover exactly its processes.
  [[ ! -S /run/containerd/containerd.sock ]] \
    || die "a system containerd serves /run/containerd/containerd.sock; stop it first"
  mkdir -p "$DIR"
  # deprecated-key-path keeps dockerd from writing /etc/docker/key.json.
  printf '{\n  "deprecated-key-path": "%s"\n}\n' "$KEY" >"$CONF"
  local net=(--bridge=none --iptables=false)
  if [[ -n ${REFDOCKER_BRIDGE:-} ]]; then
    make_bridge "$REFDOCKER_BRIDGE" "${REFDOCKER_BIP:-}"
    net=(--bridge="$REFDOCKER_BRIDGE" --iptables=true --userland-proxy=true)
  fi
  : >"$LOG"
  setsid dockerd \
    -H "unix://$SOCK" \
    --data-root "$ROOT" \
    --exec-root "$EXEC" \
    --pidfile "$PIDFILE" \
    --config-file "$CONF" \
    --cgroup-parent "$CGROUP_PARENT" \
    --storage-driver overlay2 \
    "${net[@]}" --ip6tables=false --ip-masq=false \
    --oom-score-adjust=0 \
    --log-level=warn \
    </dev/null >>"$LOG" 2>&1 &
  local pid=$! deadline=$((SECONDS + 60))
  until answers; do
    if [[ ! -d /proc/$pid ]]; then
      tail -n 30 "$LOG" >&2
      cleanup
      die "dockerd exited during start-up (log above)"
    fi
    if ((SECONDS >= deadline)); then
      tail -n 30 "$LOG" >&2
      cleanup
      die "dockerd did not answer within 60 s"
    fi
    sleep 0.1
  done
  load_busybox
  log "running: pid $pid, DOCKER_HOST=unix://$SOCK"
}

# Everything under our roots, deepest first (mountinfo lists parents before children).
our_mounts() {
  awk -v a="$ROOT" -v b="$EXEC" '
    { mp = $5; if (mp == a || index(mp, a "/") == 1 || mp == b || index(mp, b "/") == 1) print mp }
  ' /proc/self/mountinfo | tac
}

cleanup() {
  local pid
  if pid=$(dockerd_pid); then
    if answers; then
      local ids
      ids=$(dk ps -aq 2>/dev/null || true)
      [[ -z $ids ]] || dk rm -f $ids >/dev/null 2>&1 || log "warning: could not remove every container"
    fi
    stop_pid dockerd "$pid"
  fi
  if pid=$(containerd_pid); then stop_pid containerd "$pid"; fi
  local shims
  shims=$(shim_pids)
  if [[ -n $shims ]]; then
    log "killing leftover shims: $(echo $shims)"
    local sockets
    sockets=$(for pid in $shims; do shim_socket "$pid"; done)
    kill -KILL $shims 2>/dev/null || true
    wait_gone 5 $shims || true
    # A killed shim cannot remove its socket.
    rm -f $sockets
  fi
  # Container processes left without their shim.
  local procs=() f
  for f in /sys/fs/cgroup/pids"$CGROUP_PARENT"/*/cgroup.procs; do
    [[ -r $f ]] && procs+=($(cat "$f"))
  done
  if ((${#procs[@]})); then
    log "killing leftover container processes: ${procs[*]}"
    kill -KILL "${procs[@]}" 2>/dev/null || true
    wait_gone 5 "${procs[@]}" || true
  fi
  local mp
  while read -r mp; do
    [[ -n $mp ]] || continue
    umount "$mp" 2>/dev/null || umount -l "$mp" || log "warning: cannot unmount $mp"
  done < <(our_mounts)
  [[ -z $(our_mounts) ]] || die "mounts remain under $ROOT or $EXEC; not deleting them"
  remove_bridge_network
  local h
  for h in /sys/fs/cgroup/*"$CGROUP_PARENT"; do
    [[ -d $h ]] && { find "$h" -depth -type d -exec rmdir {} + 2>/dev/null || true; }
  done
  for h in /sys/fs/cgroup/*"$CGROUP_PARENT"; do
    [[ -d $h ]] && log "warning: cgroup $h remains"
  done
  rm -rf "$ROOT" "$EXEC" "$SOCK" "$PIDFILE" "$CONF" "$KEY" "$LOG" "$DIR"/busybox-rootfs.*
  rmdir "$DIR" 2>/dev/null || true
  # dockerd and the shims create these; remove them only if nothing else put files there.
  rmdir /run/docker/plugins /run/docker /run/containerd/s /run/containerd 2>/dev/null || true
}

stop() {
  cleanup
  log "stopped; state under $DIR removed"
}

status() {
  local pid
  if pid=$(dockerd_pid) && answers; then
    echo "dockerd $pid containerd $(containerd_pid || echo '?') shims $(shim_pids | wc -l) socket unix://$SOCK"
  else
    echo "not running"
    return 1
  fi
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  status) status ;;
  env) echo "export DOCKER_HOST=unix://$SOCK" ;;
  *) echo "usage: $0 start|stop|status|env" >&2; exit 2 ;;
esac
