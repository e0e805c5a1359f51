#!/usr/bin/env bash
# Installs what berth needs on a fresh Debian 12 machine, skipping what is already
# there: the engine's programs from Debian, the npm packages, the build, and the
# `berth`/`berthd` commands on PATH. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
# stress: for the tutorial's resource-limit image (scripts/stress-image.sh).
# tini: the init of `run --init` (Docker ships the same as docker-init).
# docker-compose: Debian's compose 1.29 (on docker-py), a client the compatibility tests drive.
# gcc + libc6-dev: the `berth` launcher (src/launcher/berth-launcher.c) that hands calls to a
# warm CLI server instead of starting Node each time; without them `berth` runs cold.
command -v cc >/dev/null 2>&1 || need+=(gcc)
[ -e /usr/include/stdio.h ] || need+=(libc6-dev)
# crun: the default OCI runtime where it works (about half runc's cost per start); runc stays.
for pair in runc:runc crun:crun conmon:conmon iptables:iptables busybox:busybox-static debootstrap:debootstrap ip:iproute2 tmux:tmux stress:stress ps:procps tini-static:tini docker-compose:docker-compose skopeo:skopeo; do
  cmd=${pair%%:*} pkg=${pair#*:}
  command -v "$cmd" >/dev/null 2>&1 || need+=("$pkg")
done
# busybox may be the dynamic one; the image needs the static build.
[ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1 || need+=(busybox-static)
if [ ${#need[@]} -gt 0 ]; then
  echo "berth: installing ${need[*]} from Debian" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if [ ! -d node_modules/koffi ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "berth: installing npm packages" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi

node scripts/build.mjs

ln -sf "$PWD/bin/berthd" /usr/local/bin/berthd
# `berth` is the native launcher when the build made one (docs/decisions.md, "A warm CLI";
# BERTH_CLI_SERVER=0 turns the server off), else the Node entry itself.
if [ -x dist/berth-launcher ]; then
  ln -sf "$PWD/dist/berth-launcher" /usr/local/bin/berth
else
  ln -sf "$PWD/bin/berth" /usr/local/bin/berth
fi
