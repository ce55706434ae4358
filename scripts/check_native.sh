#!/usr/bin/env bash
# Rebuilds the native helper from ffi/ into a temporary folder and fails
# (exit 1) when any generated module differs from the committed
# ffi/prebuilt/, so the shipped binaries always match their sources. CI runs it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
committed="$root/ffi/prebuilt"
fresh=$(mktemp -d)
trap 'rm -rf "$fresh"' EXIT

"$root/scripts/build_native.sh" "$fresh"

status=0
for file in "$fresh"/*.ts; do
  name=$(basename "$file")
  if [ ! -f "$committed/$name" ]; then
    echo "check_native: ffi/prebuilt/$name is missing; run scripts/build_native.sh" >&2
    status=1
  elif ! cmp -s "$file" "$committed/$name"; then
    echo "check_native: ffi/prebuilt/$name differs from a fresh build of ffi/;" \
      "run scripts/build_native.sh and commit the result" >&2
    status=1
  fi
done
for file in "$committed"/*; do
  [ -e "$file" ] || continue
  name=$(basename "$file")
  if [ ! -f "$fresh/$name" ]; then
    echo "check_native: ffi/prebuilt/$name is not produced by the build; remove it" >&2
    status=1
  fi
done
if [ "$status" -eq 0 ]; then
  echo "check_native: ffi/prebuilt matches a fresh build of ffi/"
fi
exit "$status"
