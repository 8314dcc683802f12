#!/usr/bin/env python3
"""`make llm-bench`: LabLLM against llama.cpp on the same GGUF files, timed the same way (bench/README.md).

For each model file, N repetitions; each repetition runs `lab-llm --bench --json` once per Lab variant (default:
Float32 activations, `--activations int8x2` (two int8 planes), `--activations int8` (llama.cpp's own Q8_0 activation
scheme) and float32 with native kernels) and then the llama.cpp peer
(bench/peers/llamacpp_bench.py), each a fresh process, so the sides alternate and a slow phase of the machine hits
all of them. Inside one run both sides time every workload the same way (best of 3, one warm-up prefill first). Reported
per side: the median of the N runs and their range; the ratio is Lab's median / the peer's median (throughputs:
above 1 Lab is faster; load time and peak RSS: below 1 Lab is lower), with the range of the per-repetition ratios.
Without llama-cpp-python (PEER_PYTHON cannot import llama_cpp), Lab's numbers are reported alone.

    python3 bench/llm_compare.py --lab .build/release/lab-llm --peer-python PY --repetitions 5 \
        --out bench/llm-results.json MODEL.gguf [MODEL.gguf ...]
"""
import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile

METRICS = [  # (key, label, higher is better)
    ("prefill_512_tok_per_s", "prefill 512 (tok/s)", True),
    ("prefill_32x64_tok_per_s", "packed 32x64 (tok/s)", True),
    ("generate_tok_per_s", "generation (tok/s)", True),
    ("load_s", "load (s)", False),
    ("peak_rss_mb", "peak RSS (MB)", False),
]


def run_json(command, path, env=None):
    """Runs `command` (which writes JSON to `path`); the parsed JSON, or exits naming the failing command."""
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    if result.returncode != 0 or not os.path.exists(path):
        sys.exit(f"llm_compare: {' '.join(command)} failed (exit {result.returncode}):\n{result.stderr[-2000:]}")
    with open(path) as f:
        values = json.load(f)
    os.remove(path)
    return values


def variant_environment(name):
    """A variant named `*-native` runs with LAB_KERNELS=native and without an inherited OPENBLAS_CORETYPE, so OpenBLAS
    and LabLLM run this CPU's fastest kernels (AVX-512 ones where it has them; not bit-identical across CPU families,
    an opt-in for users); every other variant in this process's environment (default: portable kernels)."""
    if not name.endswith("-native"):
        return None
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}
    env["LAB_KERNELS"] = "native"
    return env


def summary(values):
    return {"runs": values, "median": statistics.median(values), "min": min(values), "max": max(values)}


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lab", required=True, help="the lab-llm executable")
    parser.add_argument("--peer-python", default="python3", help="a Python that can import llama_cpp")
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument("--variant", action="append", metavar="NAME=ARGS",
                        help="a Lab variant: a name and extra lab-llm arguments (default: float32=, int8x2=--activations "
                             "int8x2, int8=--activations int8 and float32-native=; a name ending in -native runs with LAB_KERNELS=native)")
    parser.add_argument("--out", required=True)
    parser.add_argument("models", nargs="+")
    args = parser.parse_args()
    if args.repetitions < 1:
        sys.exit("llm_compare: --repetitions must be >= 1")
    for model in args.models:
        if not os.path.exists(model):
            sys.exit(f"llm_compare: {model} is missing (make data-smollm2; the Q4_0 / Q8_0 files: make llm-bench-files)")
    try:
        probe = subprocess.run([args.peer_python, "-c", "import llama_cpp; print(llama_cpp.__version__)"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        peer_version = probe.stdout.strip() if probe.returncode == 0 else None
    except OSError:  # no such Python
        peer_version = None
    if peer_version is None:
        print(f"llm_compare: llama_cpp is not importable with {args.peer_python}: Lab's numbers alone (make bench-peers)")
    variants = [v.split("=", 1) for v in (args.variant or ["float32=", "int8x2=--activations int8x2", "int8=--activations int8",
                                                              "float32-native="])]
    if any(len(v) != 2 or not v[0] for v in variants):
        sys.exit("llm_compare: --variant needs NAME=ARGS")
    here = os.path.dirname(os.path.abspath(__file__))
    scratch = tempfile.mkdtemp(prefix="llm-bench-")
    results = []
    for model in args.models:
        lab_runs, peer_runs = {name: [] for name, _ in variants}, []
        for rep in range(args.repetitions):
            print(f"  {os.path.basename(model)}: repetition {rep + 1} of {args.repetitions}", flush=True)
            lab_json = os.path.join(scratch, "lab.json")
            for name, extra in variants:
                lab_runs[name].append(run_json([args.lab, "--model", model, "--bench", "--json", lab_json] + extra.split(), lab_json,
                                               variant_environment(name)))
            if peer_version:
                peer_json = os.path.join(scratch, "peer.json")
                peer_runs.append(run_json([args.peer_python, os.path.join(here, "peers", "llamacpp_bench.py"), model, peer_json], peer_json))
        rows = []
        for key, label, higher in METRICS:
            for name, extra in variants:
                runs = lab_runs[name]
                lab = summary([r[key] for r in runs])
                row = {"metric": key, "label": label, "variant": name, "lab_args": extra, "higher_is_better": higher, "lab": lab,
                       "lab_kernels": runs[0].get("kernels"), "lab_openblas_core": runs[0].get("openblas_core")}
                if peer_runs:
                    peer = summary([r[key] for r in peer_runs])
                    ratios = [l[key] / p[key] for l, p in zip(runs, peer_runs)]
                    row.update(peer=peer, ratio=lab["median"] / peer["median"], ratio_min=min(ratios), ratio_max=max(ratios))
                rows.append(row)
        results.append({"model": model, "rows": rows})
    os.rmdir(scratch)
    report = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "cpu": cpu_model(), "cores": os.cpu_count(), "threads": 2,
        "kernels": os.environ.get("LAB_KERNELS", "portable"),
        "variants": {name: extra for name, extra in variants}, "llama_cpp_python": peer_version or "unavailable",
        "repetitions": args.repetitions,
        "method": "each repetition: lab-llm --bench per variant then the llama.cpp peer, fresh processes; inside a run each workload "
                  "is the best of 3 after a warm-up prefill; median and range over the repetitions; "
                  "ratio = Lab median / peer median (bench/README.md)",
        "results": results,
    }
    temporary = args.out + ".tmp"
    with open(temporary, "w") as f:
        json.dump(report, f, indent=1)
    os.replace(temporary, args.out)
    print(f"{args.repetitions} runs per side; median [min-max]; ratio = Lab / llama.cpp")
    kernels = {row["variant"]: (row["lab_kernels"], row["lab_openblas_core"]) for result in results for row in result["rows"]}
    print("Lab variants' kernels: " + ", ".join(f"{name} {k} (OpenBLAS {core})" for name, (k, core) in kernels.items()))
    for result in results:
        print(f"== {result['model']}")
        for row in result["rows"]:
            lab = row["lab"]
            line = f"  {row['label']:22s} {row['variant']:14s} Lab {lab['median']:9.2f} [{lab['min']:.2f}-{lab['max']:.2f}]"
            if "peer" in row:
                peer = row["peer"]
                line += (f"   llama.cpp {peer['median']:9.2f} [{peer['min']:.2f}-{peer['max']:.2f}]"
                         f"   ratio {row['ratio']:.2f} [{row['ratio_min']:.2f}-{row['ratio_max']:.2f}]")
            print(line)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
