#!/usr/bin/env bash
# `make test-slurm`: a real single-node Slurm on this machine. Generates a munge key and a slurm.conf in a temporary
# folder, starts munged, slurmctld and slurmd (as root, in the foreground of this script, nothing written outside
# that folder), submits two papers x two seeds at smoke scale through `make reproduce-all LAUNCHER=slurm` (the
# same path as a real cluster, with outputs under the temporary folder, never figures/), waits for the array and
# the aggregate job, checks the outputs, checks that a missing seed is reported and that its task can be
# resubmitted alone, prints `sacct`, and stops every daemon it started (trap on exit).
#
#   scripts/slurm/test-single-node.sh            run the test (installs slurm-wlm and munge first when root)
#   scripts/slurm/test-single-node.sh --prepare  exit 0 when the test can run (installing the packages as root)
#   KEEP=1 scripts/slurm/test-single-node.sh     keep the temporary folder (logs, outputs)
set -euo pipefail

PAPERS_UNDER_TEST="stability-gap exact-orthogonal-init"
SEEDS_UNDER_TEST="0 1"

have_slurm() { command -v munged && command -v slurmctld && command -v slurmd && command -v sbatch && command -v sacct; } > /dev/null

prepare() {
    have_slurm && return 0
    [[ "$(id -u)" == 0 ]] && command -v apt-get > /dev/null || return 1
    echo "test-slurm: installing slurm-wlm and munge (Debian)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge > /dev/null
    have_slurm
}

if [[ "${1:-}" == --prepare ]]; then prepare; exit; fi
prepare || { echo "test-slurm: needs slurm-wlm and munge (apt-get install -y slurm-wlm munge, as root)" >&2; exit 1; }
[[ "$(id -u)" == 0 ]] || { echo "test-slurm: runs slurmd as root (it starts jobs); run as root" >&2; exit 1; }

work=$(mktemp -d /tmp/labbook-slurm-XXXXXX)
daemons=()
stop_daemons() {
    local status=$?
    [[ -n "${SLURM_CONF:-}" ]] && scancel --quiet --user=root 2> /dev/null || true
    for pid in "${daemons[@]}"; do kill -TERM "$pid" 2> /dev/null || true; done
    for pid in "${daemons[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2> /dev/null || break; sleep 0.2; done
        kill -KILL "$pid" 2> /dev/null || true
    done
    wait 2> /dev/null || true
    echo "test-slurm: stopped munged, slurmctld, slurmd (pids ${daemons[*]:-none})"
    if [[ -n "${KEEP:-}" ]]; then echo "test-slurm: kept $work"; else rm -rf "$work"; fi
    exit "$status"
}
trap stop_daemons EXIT
trap 'exit 130' INT TERM

fail() { echo "test-slurm: FAILED: $*" >&2; exit 1; }

# ---- munge: a generated key and socket in $work
mkdir -p "$work/munge" "$work/state" "$work/spool" "$work/log"
chmod 700 "$work/munge"
dd if=/dev/urandom of="$work/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$work/munge/munge.key"
munged --foreground --force --key-file="$work/munge/munge.key" --socket="$work/munge/munge.socket" \
    --pid-file="$work/munge/munged.pid" --seed-file="$work/munge/munged.seed" --log-file="$work/log/munged.log" 2>> "$work/log/munged.stderr" &
daemons+=($!)
for _ in $(seq 50); do [[ -S "$work/munge/munge.socket" ]] && break; sleep 0.2; done
[[ -S "$work/munge/munge.socket" ]] || fail "munged did not start: $(cat "$work/log/munged.log")"

# ---- slurm.conf: this machine as the one node (what slurmd -C detects), ports chosen at random
host=$(hostname -s)
node=$(slurmd -C | head -n 1)
memory=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<< "$node")
node=$(sed -e 's/ UpTime=.*//' -e "s/RealMemory=[0-9]*/RealMemory=$((memory * 3 / 4))/" <<< "$node")
port=$((20000 + RANDOM % 20000))
cat > "$work/slurm.conf" <<CONF
ClusterName=labbook-test
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$work/munge/munge.socket
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
PlugStackConfig=$work/plugstack.conf
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=$work/log/jobcomp.txt
ReturnToService=2
MinJobAge=600
$node NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
: > "$work/plugstack.conf"
export SLURM_CONF="$work/slurm.conf"

slurmctld -D -i -f "$SLURM_CONF" 2>> "$work/log/slurmctld.stderr" &
daemons+=($!)
slurmd -D -f "$SLURM_CONF" -N "$host" 2>> "$work/log/slurmd.stderr" &
daemons+=($!)
for _ in $(seq 60); do [[ "$(sinfo -h -o %T 2> /dev/null)" == idle ]] && break; sleep 1; done
[[ "$(sinfo -h -o %T 2> /dev/null)" == idle ]] || fail "the node is not idle: $(sinfo 2>&1); see $work/log"
echo "test-slurm: single-node Slurm up ($node, port $port)"; sinfo

# Waits until no job of this test is queued or running (at most 20 minutes).
wait_for_jobs() {
    for i in $(seq 240); do
        [[ -z "$(squeue -h)" ]] && return 0
        (( i % 6 == 1 )) && squeue
        sleep 5
    done
    fail "jobs still queued after 20 minutes: $(squeue)"
}

# ---- the test: the same make path as a real cluster, outputs under $work
cp README.md "$work/README.md"
make --no-print-directory reproduce-all LAUNCHER=slurm PAPERS="$PAPERS_UNDER_TEST" SEEDS="$SEEDS_UNDER_TEST" \
    SCALE=smoke FIGURES="$work/figures" README_FILE="$work/README.md" SLURM_STATE="$work/runs" SLURM_CPUS=1
run=$(cat "$work/runs/latest")
squeue
wait_for_jobs

echo "test-slurm: aggregate job log:"; cat "$run"/logs/aggregate-*.out
for paper in $PAPERS_UNDER_TEST; do
    for seed in $SEEDS_UNDER_TEST; do
        folder="$work/figures/$paper"; [[ "$seed" == 0 ]] || folder="$folder/seeds/$seed"
        for file in claims.json REPORT.md run.json; do
            [[ -s "$folder/$file" ]] || fail "$folder/$file missing (task log: $(cat "$run"/logs/task-*))"
        done
    done
    for file in claims-seeds.json table-seeds.md; do [[ -s "$work/figures/$paper/$file" ]] || fail "$paper/$file missing"; done
    grep -q "claims hold on all seeds (0, 1)" "$work/figures/$paper/table-seeds.md" || fail "$paper/table-seeds.md has no status line"
    ! grep -q "missing:" "$work/figures/$paper/table-seeds.md" || fail "$paper/table-seeds.md reports a missing seed"
    grep -q "<!-- seeds:begin -->" "$work/figures/$paper/REPORT.md" || fail "$paper/REPORT.md has no seeds table"
    grep -q "(\`$paper\`)" "$work/README.md" || fail "the README seeds section does not name $paper"
done
grep -q "seeds:end" "$work/README.md" || fail "README lost its seeds markers"

# ---- a failed task: its claims.json gone, the aggregate reports it, the task is resubmitted alone
broken=$(awk -F'\t' '$3 != 0 { print $1; exit }' "$run/tasks.tsv")
broken_folder=$(awk -F'\t' -v i="$broken" '$1 == i { print $4 }' "$run/tasks.tsv")
rm "$broken_folder/claims.json"
if bash scripts/slurm/aggregate.sh "$run" > "$work/log/aggregate-broken.out" 2>&1; then fail "the aggregate did not fail on a missing seed"; fi
grep -q "TASKS=$broken" "$work/log/aggregate-broken.out" || fail "the aggregate does not name task $broken: $(cat "$work/log/aggregate-broken.out")"
echo "test-slurm: with task $broken's claims.json removed, the aggregate says:"; grep -E "missing|resubmit|TASKS" "$work/log/aggregate-broken.out"
make --no-print-directory slurm-resubmit SLURM_RUN="$run" TASKS="$broken"
wait_for_jobs
[[ -s "$broken_folder/claims.json" ]] || fail "the resubmitted task $broken wrote no claims.json"
echo "test-slurm: resubmitted aggregate job log:"; tail -n 4 "$(ls -t "$run"/logs/aggregate-*.out | head -n 1)"

echo "test-slurm: sacct (job completion records):"
sacct --completion --format=JobID,JobName,Partition,NodeList,AllocCPUS,State,ExitCode,Start,End,Elapsed
states=$(sacct --completion --noheader --format=State | sort | uniq -c)
grep -qvE "COMPLETED" <<< "$states" && fail "a job did not complete: $states"
echo "test-slurm: passed ($PAPERS_UNDER_TEST x seeds $SEEDS_UNDER_TEST at smoke scale, one task resubmitted)"
