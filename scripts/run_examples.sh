#!/usr/bin/env bash
# Runs every example with exactly the command its header gives (the line
# " * Run: deno run … examples/NAME.ts"), under a timeout, from the repository
# root. An example asserts its own results (node:assert/strict), so a lost,
# duplicated or reordered item makes it exit non-zero; it must also print its
# "NAME: …" summary line and end by itself. Files ending in _worker.ts are the
# examples' Worker modules, not examples.
set -uo pipefail
cd "$(dirname "$0")/.."
deno=$(pwd)/scripts/deno
limit=${EXAMPLE_TIMEOUT:-120}
status=0
for file in examples/*.ts; do
  name=$(basename "$file" .ts)
  [[ $name == *_worker ]] && continue
  command=$(sed -nE 's/^ \* Run: (deno run .*)$/\1/p' "$file")
  if [ "$(echo "$command" | grep -c .)" -ne 1 ] || [[ $command != *" $file" ]]; then
    echo "FAIL $name: its header needs exactly one ' * Run: deno run … $file' line"
    status=1
    continue
  fi
  read -ra words <<<"$command"
  out=$(timeout "$limit" "$deno" "${words[@]:1}" 2>&1)
  rc=$?
  if [ $rc -eq 0 ] && echo "$out" | grep -q "^$name: "; then
    echo "ok   $name  ($command)"
  else
    [ $rc -eq 124 ] && why="timed out after ${limit}s" || why="exit $rc"
    echo "FAIL $name ($why): $command"
    echo "$out" | tail -n 5 | sed 's/^/     /'
    status=1
  fi
done
exit $status
