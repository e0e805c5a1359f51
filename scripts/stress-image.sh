#!/usr/bin/env bash
# Builds the `stress` image of the tutorial's resource-limit experiments offline: Debian's
# stress binary and the libraries it links, on a static busybox, imported as `stress`
# with progrium/stress's entrypoint (`stress --verbose`), so
#   berth run --rm -it --cpus 1.5 stress --cpu 3
# behaves as the tutorial's `docker run --rm -it --cpus 1.5 progrium/stress --cpu 3`.
#
#   scripts/stress-image.sh                          import with `berth` (on PATH)
#   scripts/stress-image.sh docker -H unix:///x.sock import with any docker-compatible CLI
#
# Needs /usr/bin/stress (Debian package stress) and /bin/busybox (busybox-static), both
# installed by scripts/install-deps.sh. Nothing is downloaded.
set -euo pipefail

[[ -x /usr/bin/stress ]] || { echo "stress-image: /usr/bin/stress missing (apt-get install stress)" >&2; exit 1; }
[[ -x /bin/busybox ]] || { echo "stress-image: /bin/busybox missing (apt-get install busybox-static)" >&2; exit 1; }
if [[ $# -eq 0 ]]; then set -- berth; fi

root=$(mktemp -d /tmp/stress-image.XXXXXX)
trap 'rm -rf "$root"' EXIT

mkdir -p "$root/bin" "$root/usr/bin" "$root/tmp" "$root/etc"
chmod 1777 "$root/tmp"
cp /bin/busybox "$root/bin/busybox"
for applet in $(/bin/busybox --list); do
  [[ -e $root/bin/$applet ]] || ln -s busybox "$root/bin/$applet"
done
cp /usr/bin/stress "$root/usr/bin/stress"
# The dynamic loader and every library ldd names, at the paths the binary asks for.
for lib in $(ldd /usr/bin/stress | grep -o '/[^ ]*'); do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
echo 'root:x:0:0:root:/root:/bin/sh' > "$root/etc/passwd"
echo 'root:x:0:' > "$root/etc/group"

tar -C "$root" --numeric-owner --owner=0 --group=0 -c . |
  "$@" import --change 'ENTRYPOINT ["/usr/bin/stress", "--verbose"]' - stress:latest
