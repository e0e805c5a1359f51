#!/usr/bin/env bash
# The main job on a fresh machine: install what is missing, start berthd in the
# background if it is not running, create the offline busybox image if missing, run
# a container.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh

if ! berth version >/dev/null 2>&1; then
  mkdir -p /var/log
  echo "berth: starting berthd (log: /var/log/berthd.log)" >&2
  setsid berthd >>/var/log/berthd.log 2>&1 < /dev/null &
  for _ in $(seq 1 100); do
    berth version >/dev/null 2>&1 && break
    sleep 0.1
  done
  berth version >/dev/null || { echo "berth: berthd did not start; see /var/log/berthd.log" >&2; exit 1; }
fi

if ! berth image inspect busybox:latest >/dev/null 2>&1; then
  berth image bootstrap busybox
fi

berth run --rm busybox echo hello from berth
