#!/usr/bin/env bash
# Checks every Promela model in models/ (docs/models.md says what each proves)
# exhaustively with Spin, then every broken variant the model names
# (BROKEN_… macros, compiled with spin -D…): the model must pass, each variant
# must fail. A model may name more configurations that must pass, one per
# line of its header: ` * @also -DNAME …`. Exits non-zero if a model fails, a
# search is cut short (depth or memory limit), or a broken variant passes.
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

# verify MODEL LABEL DIR [SPIN-FLAG …]: runs one exhaustive search; prints one
# line; returns 0 if it found no error, 1 if it found one, 2 if the search was
# incomplete.
verify() {
  local model=$1 label=$2 dir=$3 out cc opt=-O1
  # a broken variant usually fails within a few states: compile it fast instead
  case $label in BROKEN_*) opt=-O0 ;; esac
  # every property is an assertion or an end state: safety searches
  cc="-w $opt -DSAFETY -DMEMLIM=2048"
  shift 3
  mkdir -p "$dir"
  out="$dir/pan.out"
  # -m: a depth bound far above every model's (a search that reaches it is reported incomplete)
  (
    cd "$dir" &&
      spin -a "$@" "$root/models/$model.pml" >spin.out 2>&1 &&
      gcc $cc -o pan pan.c 2>gcc.out &&
      ./pan -m200000 >"$out" 2>&1
  ) || [ -s "$out" ] || { echo "  $model $label: does not build"; cat "$dir"/spin.out "$dir"/gcc.out 2>/dev/null; return 2; }
  local errors states depth secs first
  errors=$(sed -nE 's/.*errors: ([0-9]+).*/\1/p' "$out" | tail -n 1)
  states=$(sed -nE 's/^ *([0-9e.+]+) states, stored.*/\1/p' "$out" | tail -n 1)
  depth=$(sed -nE 's/.*depth reached ([0-9]+).*/\1/p' "$out" | tail -n 1)
  secs=$(sed -nE 's/^pan: elapsed time ([0-9.e+-]+) seconds.*/\1/p' "$out" | tail -n 1)
  first=$(grep -m 1 -E '^pan:1: ' "$out" | sed 's/^pan:1: //')
  printf '  %-14s %-26s %10s states, depth %5s, %6ss: %s\n' "$model" "$label" \
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

# Every search is one job, "model|label|spin flags": the model, its @also
# configurations, then each BROKEN_… name its text holds.
jobs=()
for model in "${models[@]}"; do
  file="$root/models/$model.pml"
  [ -f "$file" ] || { echo "check_models: no models/$model.pml" >&2; exit 2; }
  jobs+=("$model|(model)|")
  while IFS= read -r flags; do
    jobs+=("$model|(also $flags)|$flags")
  done < <(sed -nE 's/^[[:space:]]*\*[[:space:]]*@also[[:space:]]+(.*)$/\1/p' "$file")
  variants=$(grep -oE 'BROKEN_[A-Z0-9_]+' "$file" | sort -u)
  [ -n "$variants" ] || { echo "FAILED: model $model has no broken variant"; status=1; }
  for v in $variants; do jobs+=("$model|$v|-D$v"); done
done

# Run them MODEL_JOBS at a time (default 2), then report in order.
max=${MODEL_JOBS:-2}
for i in "${!jobs[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$max" ]; do wait -n; done
  IFS='|' read -r model label flags <<<"${jobs[$i]}"
  (
    # shellcheck disable=SC2086 # flags are separate spin arguments
    verify "$model" "$label" "$work/$i" $flags >"$work/log.$i" 2>&1
    echo $? >"$work/rc.$i"
  ) &
done
wait
for i in "${!jobs[@]}"; do
  IFS='|' read -r model label flags <<<"${jobs[$i]}"
  cat "$work/log.$i"
  rc=$(cat "$work/rc.$i")
  case $label in
    BROKEN_*)
      case $rc in
        1) ;;
        0) echo "FAILED: broken variant $model $label passes: the model cannot see that defect"; status=1 ;;
        *) echo "FAILED: broken variant $model $label did not run to an error"; status=1 ;;
      esac ;;
    *)
      case $rc in
        0) ;;
        1) echo "FAILED: model $model $label has an error"; status=1 ;;
        *) echo "FAILED: model $model $label was not checked exhaustively"; status=1 ;;
      esac ;;
  esac
done
echo "${#jobs[@]} searches in $((SECONDS - started)) s"
exit $status
