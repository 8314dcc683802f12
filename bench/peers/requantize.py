#!/usr/bin/env python3
"""Requantises the shipped SmolLM2 GGUF (Q4_1 matrices, Q8_0 embedding) to Q4_0 or Q8_0 matrices with llama.cpp's own
quantiser (llama-cpp-python), for the bench's Q4_0 / Q8_0 rows: every block matrix gets the new type, the token
embedding stays Q8_0 (as in the shipped file). Requantising from Q4_1 loses precision (a benchmark file, not a model
to study).
    python bench/peers/requantize.py IN.gguf OUT.gguf q4_0|q8_0
"""
import os
import sys

import llama_cpp

FTYPES = {"q4_0": llama_cpp.LLAMA_FTYPE_MOSTLY_Q4_0, "q8_0": llama_cpp.LLAMA_FTYPE_MOSTLY_Q8_0}
GGML_TYPE_Q8_0 = 8


def main(source, target, kind):
    if kind not in FTYPES:
        sys.exit(f"requantize: type must be one of {', '.join(FTYPES)}, got {kind!r}")
    if not os.path.exists(source):
        sys.exit(f"requantize: {source} is missing (make data-smollm2)")
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = FTYPES[kind]
    params.allow_requantize = True
    params.pure = True
    params.token_embedding_type = GGML_TYPE_Q8_0
    params.nthread = 2
    temporary = target + ".tmp"
    if llama_cpp.llama_model_quantize(source.encode(), temporary.encode(), params) != 0:
        sys.exit(f"requantize: llama_model_quantize failed for {source} -> {kind}")
    os.replace(temporary, target)
    print(f"requantize: {target} ({kind} matrices, Q8_0 embedding)")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
