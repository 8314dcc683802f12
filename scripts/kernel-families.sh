#!/usr/bin/env bash
# Does a paper's seed-0 result depend on the CPU it runs on? Emulates the kernel choices of three CPU types on this
# machine (OpenBLAS's Haswell = any AVX2 CPU, SkylakeX = Intel AVX-512, Cooperlake = AMD Zen 4 / Intel AVX-512 BF16)
# and runs the paper at the given scale with Lab's default `portable` kernels and with `native` ones, then compares
# every measured value of claims.json with the first run's.
#
#   scripts/kernel-families.sh <paper> [smoke|full]      (needs `make build` and the paper's data)
#
# With LAB_KERNELS=portable Lab re-executes itself with OpenBLAS's Haswell kernels on every AVX2 CPU, so the three
# emulated CPUs must give identical claims.json; with LAB_KERNELS=native each CPU type keeps its own kernels and
# results may differ in the last bits (and, near a threshold, in a verdict). Each row also gives the run's wall time
# and its ratio to the portable run's: what pinning the kernels costs (time it on an idle machine). The emulation sets OPENBLAS_CORETYPE
# for the native runs only: a user-set OPENBLAS_CORETYPE is always respected, which is what the native rows need.
set -euo pipefail
paper=${1:?usage: scripts/kernel-families.sh <paper> [smoke|full]}
scale=${2:-smoke}
bin=${BIN:-.build/release}
[ -x "$bin/$paper" ] || { echo "kernel-families: $bin/$paper not built (run make build)" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/kernel-families.XXXXXX")
trap 'rm -rf "$work"' EXIT

run() { # name, env...
    local name=$1; shift
    env "$@" "$bin/$paper" --scale "$scale" --seed 0 --quiet --out "$work/$name" > "$work/$name.log" 2>&1 \
        || { echo "kernel-families: run $name failed, see below" >&2; cat "$work/$name.log" >&2; exit 1; }
}
# Portable: whatever CPU is emulated, Lab pins Haswell (the emulation would only be visible if portable failed to).
run portable LAB_KERNELS=portable
for core in Haswell SkylakeX Cooperlake; do run "native-$core" LAB_KERNELS=native OPENBLAS_CORETYPE=$core; done

python3 - "$work" "$paper" "$scale" <<'PY'
import json, sys, os
work, paper, scale = sys.argv[1:]
def load(name):
    with open(os.path.join(work, name, "claims.json")) as f:
        claims = json.load(f)["claims"]
    with open(os.path.join(work, name, "run.json")) as f:
        run = json.load(f)
    return {c["id"]: c for c in claims}, run
def values(claim):
    """Every measured number of a claim: its own, its `and` parts and its `given` preconditions."""
    parts = [claim] + claim.get("and", []) + claim.get("given", [])
    return [p.get("measured") for p in parts]
runs = ["portable", "native-Haswell", "native-SkylakeX", "native-Cooperlake"]
data = {r: load(r) for r in runs}
base, _ = data["portable"]
print(f"{paper}, scale {scale}, seed 0: every claim's measured values against the portable run")
print()
print("| run | OpenBLAS kernels (run.json) | claims with other values | verdicts changed | largest relative difference | wall time (s) | wall time / portable |")
print("|---|---|---:|---:|---:|---:|---:|")
portable_wall = data["portable"][1]["wallSeconds"]
for r in runs:
    claims, run = data[r]
    differ = changed = 0; largest = 0.0
    for cid, c in base.items():
        other = claims[cid]
        a, b = values(c), values(other)
        if a != b:
            differ += 1
            for x, y in zip(a, b):
                if x != y: largest = max(largest, abs(x - y) / max(abs(x), abs(y), 1e-300))
        if c.get("verdict") != other.get("verdict"): changed += 1
    print(f"| {r} | {run['openblas'].split()[-2] if 'MAX_THREADS' in run['openblas'] else run['openblas']} ({run['kernels']}) | {differ} of {len(base)} | {changed} | {largest:.3g} | {run['wallSeconds']:.1f} | {run['wallSeconds'] / portable_wall:.3f} |")
PY
