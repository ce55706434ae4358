#!/usr/bin/env bash
# Checks every Promela model in models/ (docs/models.md says what each proves)
# exhaustively with Spin, then every broken variant the model names
# (BROKEN_… macros, compiled with spin -D…): the model must pass, each variant
# must fail. Exits non-zero if a model fails, a search is cut short (depth or
# memory limit), or a broken variant passes.
#
# Usage: scripts/check_models.sh [model …]   (names without .pml; default all)
# MODEL_JOBS=N runs N searches at once (default 2).
# Needs spin and a C compiler (Debian: apt-get install -y spin gcc).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
for tool in spin gcc; do
  command -v "$tool" >/dev/null || { echo "check_models: $tool not found (apt-get install -y spin gcc)" >&2; exit 2; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
started=$SECONDS

# verify MODEL [MACRO]: runs one exhaustive search; prints one line; returns
# 0 if it found no error, 1 if it found one, 2 if the search was incomplete.
verify() {
  local model=$1 macro=${2:-} dir out cc="-w -O1 -DSAFETY -DMEMLIM=2048" panflags
  dir="$work/$model${macro:+-$macro}"
  mkdir -p "$dir"
  # a model that checks LTL or acceptance cycles says so: `@pan -a` in its text
  panflags=$(sed -nE 's/^[[:space:]]*\*[[:space:]]*@pan[[:space:]]+(.*)$/\1/p' "$root/models/$model.pml" | head -n 1)
  case " $panflags " in *" -a "* | *" -l "*) cc="-w -O1 -DMEMLIM=2048" ;; esac
  out="$dir/pan.out"
  (
    cd "$dir" &&
      spin -a ${macro:+-D$macro} "$root/models/$model.pml" >spin.out 2>&1 &&
      gcc $cc -o pan pan.c 2>gcc.out &&
      ./pan -m10000000 $panflags >"$out" 2>&1
  ) || [ -s "$out" ] || { echo "  $model ${macro:-(model)}: does not build"; cat "$dir"/spin.out "$dir"/gcc.out 2>/dev/null; return 2; }
  local errors states depth secs first
  errors=$(sed -nE 's/.*errors: ([0-9]+).*/\1/p' "$out" | tail -n 1)
  states=$(sed -nE 's/^ *([0-9e.+]+) states, stored.*/\1/p' "$out" | tail -n 1)
  depth=$(sed -nE 's/.*depth reached ([0-9]+).*/\1/p' "$out" | tail -n 1)
  secs=$(sed -nE 's/^pan: elapsed time ([0-9.e+-]+) seconds.*/\1/p' "$out" | tail -n 1)
  first=$(grep -m 1 -E '^pan:1: ' "$out" | sed 's/^pan:1: //')
  printf '  %-14s %-26s %10s states, depth %5s, %6ss: %s\n' "$model" "${macro:-(model)}" \
    "${states:-?}" "${depth:-?}" "${secs:-?}" "${first:-no error}"
  if [ -z "$errors" ] || ! grep -q 'Full statespace search' "$out"; then
    cat "$out"
    return 2
  fi
  if [ "$errors" = 0 ]; then
    # exhaustive means nothing was cut off
    if grep -qE 'max search depth too small|pan: reached -DMEMLIM bound|out of memory' "$out"; then
      echo "    incomplete search"
      return 2
    fi
    return 0
  fi
  return 1
}

models=("$@")
if [ ${#models[@]} -eq 0 ]; then
  for f in "$root"/models/*.pml; do
    name=$(basename "$f" .pml)
    case $name in _*) continue ;; esac # included pieces, not models
    models+=("$name")
  done
fi

# Every search is one job: the model, then each BROKEN_… name its text holds.
jobs=()
for model in "${models[@]}"; do
  [ -f "$root/models/$model.pml" ] || { echo "check_models: no models/$model.pml" >&2; exit 2; }
  variants=$(grep -oE 'BROKEN_[A-Z0-9_]+' "$root/models/$model.pml" | sort -u)
  [ -n "$variants" ] || { echo "FAILED: model $model has no broken variant"; status=1; }
  jobs+=("$model:")
  for v in $variants; do jobs+=("$model:$v"); done
done

# Run them MODEL_JOBS at a time (default 2), then report in order.
max=${MODEL_JOBS:-2}
for i in "${!jobs[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$max" ]; do wait -n; done
  (
    verify "${jobs[$i]%%:*}" "${jobs[$i]#*:}" >"$work/log.$i" 2>&1
    echo $? >"$work/rc.$i"
  ) &
done
wait
for i in "${!jobs[@]}"; do
  model=${jobs[$i]%%:*} macro=${jobs[$i]#*:}
  cat "$work/log.$i"
  rc=$(cat "$work/rc.$i")
  if [ -z "$macro" ]; then
    case $rc in
      0) ;;
      1) echo "FAILED: model $model has an error"; status=1 ;;
      *) echo "FAILED: model $model was not checked exhaustively"; status=1 ;;
    esac
  else
    case $rc in
      1) ;;
      0) echo "FAILED: broken variant $model $macro passes: the model cannot see that defect"; status=1 ;;
      *) echo "FAILED: broken variant $model $macro did not run to an error"; status=1 ;;
    esac
  fi
done
echo "${#jobs[@]} searches in $((SECONDS - started)) s"
exit $status
