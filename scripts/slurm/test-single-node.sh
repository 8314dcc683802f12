#!/usr/bin/env bash
# `make test-slurm`: a real single-node Slurm on this machine. Generates a munge key and a slurm.conf in a temporary
# folder, starts munged, MariaDB + slurmdbd (accounting, for sacct), slurmctld and slurmd (as root, in the foreground
# of this script, nothing written outside that folder), submits two papers x two seeds at smoke scale through `make reproduce-all LAUNCHER=slurm` (the
# same path as a real cluster, with outputs under the temporary folder, never figures/), waits for the array and
# the aggregate job, checks the outputs, checks that a missing seed is reported and that its task can be
# resubmitted alone, prints `sacct`, and stops every daemon it started (trap on exit).
#
#   scripts/slurm/test-single-node.sh            run the test (installs the Debian packages first when root)
#   scripts/slurm/test-single-node.sh --prepare  exit 0 when the test can run (installing the packages as root)
#   KEEP=1 scripts/slurm/test-single-node.sh     keep the temporary folder (logs, outputs)
set -euo pipefail

PAPERS_UNDER_TEST="stability-gap exact-orthogonal-init"
SEEDS_UNDER_TEST="0 1"

PACKAGES="slurm-wlm slurmdbd munge mariadb-server"
have_slurm() {
    for command in munged slurmctld slurmd slurmdbd sbatch sacct sacctmgr mariadbd mariadb-install-db mariadb-admin; do
        command -v "$command" > /dev/null || return 1
    done
}

prepare() {
    have_slurm && return 0
    [[ "$(id -u)" == 0 ]] && command -v apt-get > /dev/null || return 1
    echo "test-slurm: installing $PACKAGES (Debian)"
    # shellcheck disable=SC2086
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $PACKAGES > /dev/null
    have_slurm
}

if [[ "${1:-}" == --prepare ]]; then prepare; exit; fi
prepare || { echo "test-slurm: needs $PACKAGES (apt-get install -y $PACKAGES, as root)" >&2; exit 1; }
[[ "$(id -u)" == 0 ]] || { echo "test-slurm: runs slurmd as root (it starts jobs); run as root" >&2; exit 1; }

work=$(mktemp -d /tmp/labbook-slurm-XXXXXX)
daemons=()
stop_daemons() {
    local status=$?
    [[ -n "${SLURM_CONF:-}" ]] && scancel --quiet --user=root 2> /dev/null || true
    local index pid
    for (( index = ${#daemons[@]} - 1; index >= 0; index-- )); do  # in the reverse order of their start
        pid=${daemons[index]}
        kill -TERM "$pid" 2> /dev/null || true
        for _ in $(seq 100); do kill -0 "$pid" 2> /dev/null || break; sleep 0.2; done
        kill -KILL "$pid" 2> /dev/null || true
    done
    wait 2> /dev/null || true
    echo "test-slurm: stopped slurmd, slurmctld, slurmdbd, mariadbd, munged (pids ${daemons[*]:-none})"
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

port=$((20000 + RANDOM % 20000))  # slurmctld, slurmd, slurmdbd, MariaDB: port .. port + 3

# ---- accounting: MariaDB with its data in $work (TCP on 127.0.0.1 only), slurmdbd on it
mariadb-install-db --no-defaults --user=root --datadir="$work/mysql" --skip-test-db > "$work/log/mariadb-install.log" 2>&1 \
    || fail "mariadb-install-db: $(tail -n 5 "$work/log/mariadb-install.log")"
mariadbd --no-defaults --user=root --datadir="$work/mysql" --socket="$work/mysql/mysqld.sock" \
    --pid-file="$work/mysql/mysqld.pid" --bind-address=127.0.0.1 --port=$((port + 3)) --skip-grant-tables \
    --log-error="$work/log/mariadb.log" 2>> "$work/log/mariadb.stderr" &
daemons+=($!)
for _ in $(seq 60); do mariadb-admin --no-defaults --socket="$work/mysql/mysqld.sock" ping > /dev/null 2>&1 && break; sleep 1; done
mariadb-admin --no-defaults --socket="$work/mysql/mysqld.sock" ping > /dev/null 2>&1 || fail "mariadbd did not start: $(tail -n 5 "$work/log/mariadb.log")"
cat > "$work/slurmdbd.conf" <<CONF
AuthType=auth/munge
AuthInfo=socket=$work/munge/munge.socket
DbdHost=localhost
DbdAddr=127.0.0.1
DbdPort=$((port + 2))
SlurmUser=root
PidFile=$work/slurmdbd.pid
LogFile=$work/log/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$((port + 3))
StorageUser=root
StorageLoc=slurm_acct_db
CONF
chmod 600 "$work/slurmdbd.conf"
export SLURM_CONF="$work/slurm.conf"  # slurmdbd reads slurmdbd.conf from the folder of SLURM_CONF

# ---- slurm.conf: this machine as the one node (what slurmd -C detects)
host=$(hostname -s)
node=$(slurmd -C | head -n 1)
memory=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<< "$node")
node=$(sed -e 's/ UpTime=.*//' -e "s/RealMemory=[0-9]*/RealMemory=$((memory * 3 / 4))/" <<< "$node")
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
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePort=$((port + 2))
AccountingStoragePass=$work/munge/munge.socket
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=5
ReturnToService=2
MinJobAge=600
$node NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
: > "$work/plugstack.conf"

slurmdbd -D 2>> "$work/log/slurmdbd.stderr" &
daemons+=($!)
for _ in $(seq 60); do sacctmgr -n show cluster > /dev/null 2>&1 && break; sleep 1; done
sacctmgr -i add cluster labbook-test > /dev/null || fail "slurmdbd does not answer: $(tail -n 5 "$work/log/slurmdbd.log")"

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

# slurmctld hands finished jobs to slurmdbd asynchronously: wait until sacct has every job (2 arrays, 2 aggregates)
for _ in $(seq 30); do
    [[ $(sacct -X -n -o JobID --starttime=now-1day | wc -l) -ge 7 ]] && break; sleep 1
done
echo "test-slurm: sacct:"
sacct --starttime=now-1day --format=JobID%12,JobName%18,Partition,NodeList,AllocCPUS,ReqMem,MaxRSS,State,ExitCode,Elapsed
states=$(sacct -X -n -o State --starttime=now-1day | sort | uniq -c)
echo "$states"
[[ $(sacct -X -n -o JobID --starttime=now-1day | wc -l) -ge 7 ]] || fail "sacct does not show the 7 jobs: $states"
if grep -qv COMPLETED <<< "$states"; then fail "a job did not complete: $states"; fi
echo "test-slurm: passed ($PAPERS_UNDER_TEST x seeds $SEEDS_UNDER_TEST at smoke scale, one task resubmitted)"
