#!/usr/bin/env python3
"""Independent reference for LabLLM (run once; its output is committed as a test fixture).

Reads the SmolLM2 GGUF with llama.cpp's own Python reader (PyPI `gguf`: parsing and dequantisation), tokenises
with Hugging Face `tokenizers` (PyPI `tokenizers`, Rust BPE) built from the GGUF vocabulary and merges with
SmolLM2's pre-tokeniser (individual digits, then GPT-2 byte-level split), and runs the Llama forward in
numpy Float64. Writes the top-5 next-token ids and logits of three prompts and the token ids of tricky strings.

    python3 -m venv /tmp/llmref && /tmp/llmref/bin/pip install numpy gguf tokenizers
    /tmp/llmref/bin/python bench/peers/llm_reference.py data/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf \
        Tests/LabTests/Fixtures/llm/reference.json
"""
import json
import os
import sys

import numpy as np
from gguf import GGUFReader
from gguf.quants import dequantize
from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers

PROMPTS = [
    "The capital of France is",
    "def fibonacci(n):\n    if n < 2:\n        return",
    "<|im_start|>user\nWhat is 12 + 30?<|im_end|>\n<|im_start|>assistant\n",
]
TRICKY = [
    "Hello world",
    "  leading and trailing spaces  ",
    "tabs\tand\nnewlines\n\n\nend",
    "1234567890 and 3.14159, 1,000,000",
    "emoji 😀👍🏽 and 🇫🇷 flags",
    "accents: café, naïve, Ångström, São Paulo, Dvořák",
    "中文和日本語のテキスト",
    "def f(x):\n    return x**2  # square\n",
    "if (a != b && c <= 10) { printf(\"%d\\n\", a); }",
    "don't we'll they're I'M can't",
    "   ",
    "<|im_start|>user\nhi<|im_end|>\n",
    "ZWJ \u200d and NBSP \u00a0 and combining e\u0301",
]


def field_value(reader, key):
    f = reader.fields[key]
    if len(f.types) > 0 and f.types[0].name == "ARRAY":
        return [bytes(f.parts[i]).decode("utf-8") if f.types[1].name == "STRING" else f.parts[i][0] for i in f.data]
    part = f.parts[f.data[0]]
    return bytes(part).decode("utf-8") if f.types[0].name == "STRING" else part[0]


def main(path, out):
    reader = GGUFReader(path)
    meta = lambda k: field_value(reader, k)
    tokens = meta("tokenizer.ggml.tokens")
    merges = [tuple(m.split(" ", 1)) for m in meta("tokenizer.ggml.merges")]
    token_types = meta("tokenizer.ggml.token_type")
    assert meta("tokenizer.ggml.pre") == "smollm"

    vocab = {t: i for i, t in enumerate(tokens)}
    tokenizer = Tokenizer(models.BPE(vocab=vocab, merges=merges))
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
    ])
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.add_special_tokens([AddedToken(tokens[i], special=True, normalized=False)
                                  for i, t in enumerate(token_types) if t == 3])

    def encode(text):
        return tokenizer.encode(text, add_special_tokens=False).ids

    weights = {}
    for t in reader.tensors:
        w = dequantize(t.data, t.tensor_type).astype(np.float64)
        weights[t.name] = w.reshape([int(d) for d in reversed(t.shape)]) if w.ndim == 1 and len(t.shape) > 1 else w
    d = int(meta("llama.embedding_length"))
    n_layers = int(meta("llama.block_count"))
    n_heads = int(meta("llama.attention.head_count"))
    n_kv = int(meta("llama.attention.head_count_kv"))
    eps = float(meta("llama.attention.layer_norm_rms_epsilon"))
    base = float(meta("llama.rope.freq_base"))
    hd = d // n_heads
    emb = weights["token_embd.weight"]  # [vocab, d]

    def rms(x, g):
        return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * g

    def rope(x, pos):  # x: [T, heads, hd], rotate adjacent pairs (2i, 2i+1)
        inv = base ** (-np.arange(0, hd, 2) / hd)
        ang = pos[:, None] * inv[None, :]
        c, s = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]
        a, b = x[..., 0::2], x[..., 1::2]
        y = np.empty_like(x)
        y[..., 0::2] = a * c - b * s
        y[..., 1::2] = a * s + b * c
        return y

    def forward(ids):
        T = len(ids)
        x = emb[ids]
        pos = np.arange(T, dtype=np.float64)
        mask = np.triu(np.full((T, T), -np.inf), 1)
        for l in range(n_layers):
            p = f"blk.{l}."
            n = rms(x, weights[p + "attn_norm.weight"])
            q = rope((n @ weights[p + "attn_q.weight"].T).reshape(T, n_heads, hd), pos)
            k = rope((n @ weights[p + "attn_k.weight"].T).reshape(T, n_kv, hd), pos)
            v = (n @ weights[p + "attn_v.weight"].T).reshape(T, n_kv, hd)
            rep = n_heads // n_kv
            k, v = np.repeat(k, rep, axis=1), np.repeat(v, rep, axis=1)
            att = np.einsum("thd,shd->hts", q, k) / np.sqrt(hd) + mask
            att = np.exp(att - att.max(-1, keepdims=True))
            att /= att.sum(-1, keepdims=True)
            o = np.einsum("hts,shd->thd", att, v).reshape(T, d)
            x = x + o @ weights[p + "attn_output.weight"].T
            n = rms(x, weights[p + "ffn_norm.weight"])
            g = n @ weights[p + "ffn_gate.weight"].T
            u = n @ weights[p + "ffn_up.weight"].T
            x = x + (g / (1 + np.exp(-g)) * u) @ weights[p + "ffn_down.weight"].T
        return rms(x[-1], weights["output_norm.weight"]) @ emb.T

    result = {"model": os.path.basename(path), "prompts": [], "tokenization": []}
    for text in PROMPTS:
        ids = encode(text)
        logits = forward(ids)
        top = np.argsort(-logits)[:5]
        result["prompts"].append({"text": text, "ids": ids,
                                  "top5": [{"id": int(i), "logit": float(logits[i])} for i in top]})
        print(repr(text), [(tokenizer.decode([int(i)]), round(float(logits[i]), 3)) for i in top])
    for text in TRICKY:
        ids = encode(text)
        assert tokenizer.decode(ids, skip_special_tokens=False) == text, text
        result["tokenization"].append({"text": text, "ids": ids})
    tmp = out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(result, f, ensure_ascii=False, indent=1)
    os.replace(tmp, out)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
