#!/usr/bin/env python3
"""llama.cpp peer for `lab-llm --bench`: the same GGUF file, the same workloads, 2 threads.

Optional (not part of `make test`): llama-cpp-python builds llama.cpp from source (slow).
    python3 -m venv /tmp/llamacpp && /tmp/llamacpp/bin/pip install llama-cpp-python==0.3.36
    /tmp/llamacpp/bin/python bench/peers/llamacpp_bench.py data/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf [out.json]
Workloads (as lab-llm, each the best of 3 in this process): load time; prefill of one 512-token prompt; prefill of
32 prompts x 64 tokens as ONE multi-sequence batch (llama_decode of 2048 tokens with 32 sequence ids, logits of the
last token of each, through llama.cpp's C API on a second context with n_seq_max = 32); greedy generation of 128
tokens; peak RSS.
"""
import json
import os
import resource
import sys
import time

import llama_cpp
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

    # One multi-sequence batch: a context sized for 32 sequences of 64 tokens, one llama_decode per repeat.
    params = llama_cpp.llama_context_default_params()
    params.n_ctx, params.n_batch, params.n_ubatch, params.n_seq_max = 2048, 2048, 512, len(batch)
    params.n_threads = params.n_threads_batch = 2
    params.kv_unified = True  # one 2048-cell cache shared by the 32 sequences (not 32 caches padded to 256 cells)
    context = llama_cpp.llama_init_from_model(llm._model.model, params)
    if not context:
        sys.exit("llamacpp_bench: llama_init_from_model failed for the 32-sequence context")
    packed = llama_cpp.llama_batch_init(2048, 0, len(batch))
    row = 0
    for s, prompt in enumerate(batch):
        for i, token in enumerate(prompt):
            packed.token[row], packed.pos[row], packed.n_seq_id[row] = token, i, 1
            packed.seq_id[row][0] = s
            packed.logits[row] = i == len(prompt) - 1
            row += 1
    packed.n_tokens = row

    def prefill_batch():
        llama_cpp.llama_memory_clear(llama_cpp.llama_get_memory(context), True)
        if llama_cpp.llama_decode(context, packed) != 0:
            sys.exit("llamacpp_bench: llama_decode of the 32 x 64 batch failed")

    t_batch = best(3, prefill_batch)
    llama_cpp.llama_batch_free(packed)
    llama_cpp.llama_free(context)

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
