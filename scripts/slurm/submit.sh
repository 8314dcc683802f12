#!/usr/bin/env bash
# Submits (paper, seed) runs to Slurm: one `sbatch --array` job (one task per run) and one job that depends on it
# (`afterany`) and aggregates the claims over seeds and regenerates the README (aggregate.sh).
#
#   scripts/slurm/submit.sh PAPER...                  (what `make <paper> LAUNCHER=slurm` and
#                                                      `make reproduce-all LAUNCHER=slurm` call)
#   scripts/slurm/submit.sh --resubmit RUN_DIR TASKS  (`make slurm-resubmit SLURM_RUN=RUN_DIR TASKS=3,5`: only
#                                                      those array indices again, then a new aggregate job)
#
# Settings of a submission come from the environment (the Makefile passes them): BIN, SEEDS, SCALE, FIGURES, README_FILE,
# RUN_RECORDS (where each paper's recorded run.json is read for memory and time), SLURM_STATE (run folders and
# logs), SLURM_CPUS (--cpus-per-task), SLURM_OPTIONS (more sbatch options: --partition=..., --account=...).
# Each submission gets a run folder under SLURM_STATE with tasks.tsv (index, paper, seed, output folder),
# settings.sh (these settings, which a resubmission reuses), the job ids and one log per task.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(pwd)

# Memory for a paper (MiB): its recorded peak (figures/<paper>/run.json "peakMemoryBytes") * 1.5 + 256 MiB,
# or 4096 MiB when it has no recorded run.
memory_mib() {
    local record="$RUN_RECORDS/$1/run.json" peak
    peak=$(sed -n 's/.*"peakMemoryBytes" *: *\([0-9][0-9]*\).*/\1/p' "$record" 2>/dev/null | head -n 1)
    if [[ -z "$peak" ]]; then echo 4096; else echo $(( peak * 3 / 2 / 1048576 + 256 )); fi
}

# Time limit for a paper (minutes): three times its recorded wall time plus 10, or three times the 8-minute
# budget plus 10 when it has no recorded run.
time_minutes() {
    local record="$RUN_RECORDS/$1/run.json" wall
    wall=$(sed -n 's/.*"wallSeconds" *: *\([0-9][0-9]*\).*/\1/p' "$record" 2>/dev/null | head -n 1)
    echo $(( ${wall:-480} * 3 / 60 + 10 ))
}

# The aggregate job: after every task of `array` has ended (whatever its state).
submit_aggregate() {
    local run="$1" array="$2" aggregate
    aggregate=$(sbatch --parsable --job-name=labbook-aggregate --chdir="$root" \
        --dependency="afterany:$array" --kill-on-invalid-dep=no --cpus-per-task=1 --mem=1024M --time=30 \
        --output="$run/logs/aggregate-%j.out" $SBATCH_OPTIONS "$here/aggregate.sh" "$run")
    echo "$aggregate" >> "$run/aggregate.jobid"
    echo "slurm: aggregate job $aggregate (afterany:$array) -> $run/logs/aggregate-$aggregate.out"
}

# The array job over `indices` of RUN_DIR/tasks.tsv, with the resources recorded in RUN_DIR/settings.sh.
submit_array() {
    local run="$1" indices="$2" array
    # shellcheck source=/dev/null
    source "$run/settings.sh"
    array=$(sbatch --parsable --job-name=labbook --chdir="$root" --array="$indices" \
        --cpus-per-task="$CPUS_PER_TASK" --mem="${MEMORY_MIB}M" --time="$TIME_MINUTES" \
        --output="$run/logs/task-%A_%a.out" $SBATCH_OPTIONS "$here/task.sh" "$run")
    echo "$array" >> "$run/array.jobid"
    echo "slurm: array job $array, tasks $indices ($CPUS_PER_TASK CPUs, $MEMORY_MIB MiB, $TIME_MINUTES min each) -> $run/logs/"
    submit_aggregate "$run" "$array"
}

if [[ "${1:-}" == --resubmit ]]; then
    run="${2:?usage: submit.sh --resubmit RUN_DIR TASKS (e.g. 3 or 1,4)}"
    tasks="${3:?usage: submit.sh --resubmit RUN_DIR TASKS (e.g. 3 or 1,4)}"
    [[ -f "$run/settings.sh" ]] || { echo "slurm: $run/settings.sh not found: SLURM_RUN must be a run folder" >&2; exit 1; }
    submit_array "$run" "$tasks"
    exit 0
fi

(( $# > 0 )) || { echo "usage: submit.sh PAPER... | --resubmit RUN_DIR TASKS" >&2; exit 2; }
command -v sbatch > /dev/null || { echo "slurm: sbatch not found: install slurm-wlm (Debian) or run on a submit host" >&2; exit 1; }
for paper in "$@"; do
    [[ -x "$BIN/$paper" ]] || { echo "slurm: $BIN/$paper is not built (make build)" >&2; exit 1; }
done

mkdir -p "$SLURM_STATE"
run=$(mktemp -d "$SLURM_STATE/$(date +%Y%m%d-%H%M%S)-XXXX")
run=$(cd "$run" && pwd)
mkdir -p "$run/logs"
memory=0 minutes=0 index=0
: > "$run/tasks.tsv"
for paper in "$@"; do
    m=$(memory_mib "$paper"); (( m > memory )) && memory=$m
    t=$(time_minutes "$paper"); (( t > minutes )) && minutes=$t
    for seed in $SEEDS; do
        if [[ "$seed" == 0 ]]; then out="$FIGURES/$paper"; else out="$FIGURES/$paper/seeds/$seed"; fi
        printf '%s\t%s\t%s\t%s\n' "$index" "$paper" "$seed" "$out" >> "$run/tasks.tsv"
        index=$((index + 1))
    done
done
{
    printf 'BIN=%q\nSCALE=%q\nFIGURES=%q\nREADME_FILE=%q\nSEEDS=%q\nPAPERS=%q\n' \
        "$BIN" "$SCALE" "$FIGURES" "$README_FILE" "$SEEDS" "$*"
    printf 'MEMORY_MIB=%q\nTIME_MINUTES=%q\nCPUS_PER_TASK=%q\nSBATCH_OPTIONS=%q\n' \
        "$memory" "$minutes" "$SLURM_CPUS" "$SLURM_OPTIONS"
} > "$run/settings.sh"
echo "slurm: $index runs ($* x seeds $SEEDS, scale $SCALE) in $run/tasks.tsv"
submit_array "$run" "0-$((index - 1))"
echo "$run" > "$SLURM_STATE/latest"
echo "slurm: watch with 'squeue' and 'sacct'; resubmit a failed task with: make slurm-resubmit SLURM_RUN=$run TASKS=<index>"
