#!/usr/bin/env python3
"""llama.cpp peer for `lab-llm --bench`: the same GGUF file, the same workloads, 2 threads.

Optional (not part of `make test`): llama-cpp-python builds llama.cpp from source (slow).
    python3 -m venv /tmp/llamacpp && /tmp/llamacpp/bin/pip install llama-cpp-python==0.3.36
    /tmp/llamacpp/bin/python bench/peers/llamacpp_bench.py data/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf [out.json]
Workloads (as lab-llm): load time; prefill of one 512-token prompt; prefill of 32 prompts x 64 tokens (one at a
time: llama-cpp-python has no packed multi-sequence API); greedy generation of 128 tokens (best of 3); peak RSS.
"""
import json
import os
import resource
import sys
import time

from llama_cpp import Llama

SAMPLE = ("In the beginning God created the heaven and the earth. And the earth was without form, and void; and "
          "darkness was upon the face of the deep. And the Spirit of God moved upon the face of the waters. And God "
          "said, Let there be light: and there was light. And God saw the light, that it was good: and God divided "
          "the light from the darkness. And God called the light Day, and the darkness he called Night. And the "
          "evening and the morning were the first day. 1234567890 fn main() { println!(\"{}\", 42); } café naïve 😀.")


def best(repeats, body):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        body()
        times.append(time.perf_counter() - start)
    return min(times)


def main(path, out=None):
    start = time.perf_counter()
    llm = Llama(model_path=path, n_ctx=2048, n_batch=512, n_threads=2, logits_all=False, verbose=False)
    load = time.perf_counter() - start
    corpus = llm.tokenize(SAMPLE.encode(), add_bos=False)
    while len(corpus) < 4096:
        corpus += corpus
    long = corpus[:512]
    batch = [corpus[i * 97:i * 97 + 64] for i in range(32)]

    def prefill(tokens):
        llm.reset()
        llm.eval(tokens)

    prefill(long[:64])  # warm-up
    t_long = best(3, lambda: prefill(long))
    t_batch = best(3, lambda: [prefill(p) for p in batch])

    def generate():
        """128 greedy decode steps after a 16-token prompt; only the steps are timed (as lab-llm)."""
        llm.reset()
        llm.eval(corpus[:16])
        start = time.perf_counter()
        for _ in range(128):
            token = llm.sample(temp=0.0)
            llm.eval([token])
        return time.perf_counter() - start

    t_generate = min(generate() for _ in range(3))
    results = {
        "load_s": load,
        "prefill_512_tok_per_s": 512 / t_long,
        "prefill_32x64_tok_per_s": 2048 / t_batch,
        "generate_tok_per_s": 128 / t_generate,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "threads": 2,
    }
    for k, v in results.items():
        print(f"  {k:26s} {v:10.2f}")
    if out:
        tmp = out + ".tmp"
        with open(tmp, "w") as f:
            json.dump(results, f, indent=1)
        os.replace(tmp, out)


if __name__ == "__main__":
    main(*sys.argv[1:])
