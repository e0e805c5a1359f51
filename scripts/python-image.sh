#!/usr/bin/env bash
# Builds, offline, a Python base image with Flask for the tutorial's web-app example
# ("通过Dockerfile创建镜像"): Debian bookworm through debootstrap with python3,
# python3-flask, python3-pip and python-is-python3 (so `python` and `pip` exist, as in
# the official python images), CMD ["python3"] and LANG=C.UTF-8 like them.
#
#   scripts/python-image.sh                          tag python-flask:bookworm in `berth`
#   scripts/python-image.sh -t python:2.7-slim       the tag the tutorial's FROM line names
#   scripts/python-image.sh -t T node dist/berth.mjs -H unix:///x.sock   any berth CLI
#   scripts/python-image.sh --cached-only ...        load from the cache or exit 3
#
# Idempotent: an image already under the tag is left alone. debootstrap takes minutes,
# so the result is also kept once per machine as a `save` archive under
# $BERTH_IMAGE_CACHE (default /var/cache/berth/images), named by a hash of the recipe
# below; later runs (any data root, any tag) only `load` it.
# Needs debootstrap and this machine's Debian mirror (scripts/install-deps.sh); nothing
# else is downloaded. The CLI must be berth's: `image bootstrap` is berth's own command.
set -euo pipefail

tag=python-flask:bookworm
cached_only=0
while [[ $# -gt 0 ]]; do
  case $1 in
    -t | --tag) tag=${2:?python-image: -t needs a value}; shift 2 ;;
    --cached-only) cached_only=1; shift ;;
    -h | --help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
    *) break ;;
  esac
done
if [[ $# -eq 0 ]]; then set -- berth; fi
cli=("$@")

suite=bookworm
packages=python3,python3-flask,python3-pip,python-is-python3
# Debian 12 marks its Python as externally managed (PEP 668): `pip install` refuses to
# touch the system site-packages, even when every requirement is already there. The
# tutorial's `RUN pip install -r requirements.txt` must pass as it does on python:2.7-slim,
# and with Flask installed from Debian pip only answers "Requirement already satisfied"
# without asking any index, so the marker goes.
tune='rm -f /usr/lib/python3*/EXTERNALLY-MANAGED'
changes=('ENV LANG=C.UTF-8' 'CMD ["python3"]')
recipe="suite=$suite packages=$packages tune=$tune changes=${changes[*]}"
key=$(printf '%s' "$recipe" | sha256sum | cut -c1-16)
cache_dir=${BERTH_IMAGE_CACHE:-/var/cache/berth/images}
archive=$cache_dir/python-flask-$suite-$key.tar

if "${cli[@]}" image inspect --format '{{.Id}}' "$tag" >/dev/null 2>&1; then
  echo "python-image: $tag is already there" >&2
  exit 0
fi

# The archive holds the image by ID only, so loading it adds no tag but ours.
load_cached() {
  local out id
  out=$("${cli[@]}" load -i "$archive")
  id=$(sed -n 's/^Loaded image ID: //p' <<<"$out" | tail -n1)
  [[ -n $id ]] || { echo "python-image: $archive held no image: $out" >&2; exit 1; }
  "${cli[@]}" tag "$id" "$tag"
  echo "python-image: $tag loaded from $archive ($id)" >&2
}

no_archive() {
  echo "python-image: no cached archive $archive (run scripts/python-image.sh once to make it)" >&2
  exit 3
}

if [[ $cached_only -eq 1 && ! -e $archive && ! -e $archive.lock ]]; then
  no_archive
fi
mkdir -p "$cache_dir"
# One debootstrap per machine even when several runs start at once: the first holds the
# lock while it builds, the others then find its archive.
exec 9>"$archive.lock"
flock 9
if [[ -s $archive ]]; then
  load_cached
  exit 0
fi
if [[ $cached_only -eq 1 ]]; then
  no_archive
fi

stage=python-image-stage:$key
ctr=python-image-$$-$key
cleanup() {
  "${cli[@]}" rm -f "$ctr" >/dev/null 2>&1 || true
  "${cli[@]}" rmi "$stage" >/dev/null 2>&1 || true
  rm -f "$archive.tmp.$$"
}
trap cleanup EXIT

"${cli[@]}" image bootstrap debian --suite "$suite" --include "$packages" -t "$stage"
"${cli[@]}" run --name "$ctr" --network none "$stage" sh -c "$tune"
change_args=()
for c in "${changes[@]}"; do change_args+=(--change "$c"); done
id=$("${cli[@]}" commit "${change_args[@]}" "$ctr" "$tag")
"${cli[@]}" save -o "$archive.tmp.$$" "$id"
chmod 644 "$archive.tmp.$$"
mv "$archive.tmp.$$" "$archive"
echo "python-image: $tag is $id; cached as $archive" >&2
