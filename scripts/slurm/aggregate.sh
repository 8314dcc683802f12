#!/usr/bin/env bash
# The dependent job: aggregates every paper of RUN_DIR over its seeds (lab-seeds: claims-seeds.json,
# table-seeds.md, the README seeds section), regenerates the README results table (lab-results), and names the
# command that resubmits the tasks whose claims.json is missing. Exits 1 when a seed is missing.
set -uo pipefail
run="${1:?usage: aggregate.sh RUN_DIR}"
# shellcheck source=/dev/null
source "$run/settings.sh"
papers=()
for paper in $PAPERS; do papers+=(--paper "$paper"); done
# shellcheck disable=SC2086
"$BIN/lab-seeds" "${papers[@]}" --seeds $SEEDS --figures "$FIGURES" --readme "$README_FILE" --fail-on-missing
status=$?
"$BIN/lab-results" --figures "$FIGURES" --readme "$README_FILE" || status=1
failed=$(while IFS=$'\t' read -r index paper seed out; do
    [[ -f "$out/claims.json" ]] || echo "$index"
done < "$run/tasks.tsv" | paste -sd, -)
if [[ -n "$failed" ]]; then
    echo "aggregate: tasks $failed left no claims.json; resubmit them alone with:"
    echo "  make slurm-resubmit SLURM_RUN=$run TASKS=$failed"
fi
exit "$status"
