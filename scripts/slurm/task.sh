#!/usr/bin/env bash
# One array task = one (paper, seed) run: line SLURM_ARRAY_TASK_ID of RUN_DIR/tasks.tsv (written by submit.sh).
set -euo pipefail
run="${1:?usage: task.sh RUN_DIR}"
# shellcheck source=/dev/null
source "$run/settings.sh"
line=$(awk -F'\t' -v i="$SLURM_ARRAY_TASK_ID" '$1 == i' "$run/tasks.tsv")
[[ -n "$line" ]] || { echo "task $SLURM_ARRAY_TASK_ID: not in $run/tasks.tsv" >&2; exit 2; }
IFS=$'\t' read -r _ paper seed out <<< "$line"
echo "task $SLURM_ARRAY_TASK_ID on $(hostname): $paper seed $seed -> $out"
mkdir -p "$out"
rm -f "$out/claims.json"  # a failed run must not leave an earlier run's claims behind
exec "$BIN/$paper" --scale "$SCALE" --seed "$seed" --out "$out" --threads "${SLURM_CPUS_PER_TASK:-1}" --quiet
