#!/usr/bin/env bash
# Smoke-runs every example and checks the line it prints: a lost, duplicated
# or reordered item makes an example throw or print a line that does not match.
set -uo pipefail
cd "$(dirname "$0")/.."
deno=(./scripts/deno)
perms=(--allow-ffi --allow-read --allow-write --allow-run --allow-env)
declare -A expect=(
  [basic]='read 5 items, sum 15, ring empty: true'
  [backpressure]='received 10000 of 10000 in order; saw the ring full yes'
  [mpsc_pipeline]='200000 items from 4 producers, each in order'
  [event_loop]='processed 1000 messages, sum 500500 \(expected 500500\)'
  [graceful_shutdown]='lost 0, fully drained true'
  [logging_pipeline]='4000 lines \([0-9]+ bytes\), each worker.s lines in order'
  [zero_copy]='1000 payloads passed as 4-byte handles; free slabs 64 of 64'
  [shared_memory]='100000 items across processes via /dev/shm; consumer exit 0'
  [cross_process]='client summed ([0-9]+), expected \1: match'
  [event_notifier]='30 items announced through eventfd'
)
status=0
for name in "${!expect[@]}"; do
  out=$(timeout 120 "${deno[@]}" run "${perms[@]}" "examples/$name.ts" 2>&1)
  rc=$?
  if [ $rc -eq 0 ] && echo "$out" | grep -Eq "^$name: .*${expect[$name]}"; then
    echo "ok   $name"
  else
    echo "FAIL $name (exit $rc)"
    echo "$out" | tail -n 5 | sed 's/^/     /'
    status=1
  fi
done
exit $status
