#!/usr/bin/env python3
"""PyTorch peer of lab-bench: the same workloads, shapes and optimiser settings as Benchmarks/LabBench/main.swift.

Usage: python3 bench/peers/torch_bench.py WORKLOAD   (mlp | cnn | transformer | charlm | gemm512 | gemm1024)
Prints one JSON line {"workload", "seconds", "peakMB", "detail"}. Optional peer: torch is not a dependency
of LabBook (install it in a venv: python3 -m venv .venv && .venv/bin/pip install torch).
"""
import json
import resource
import sys
import time

import torch

torch.set_num_threads(2)
torch.manual_seed(0)


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed_epoch(model, x, y, batch):
    """Trains two epochs (cross-entropy, Adam 1e-3, in order) and times the second, as lab-bench does."""
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def epoch():
        for s in range(0, x.shape[0], batch):
            loss = torch.nn.functional.cross_entropy(model(x[s:s + batch]), y[s:s + batch])
            opt.zero_grad()
            loss.backward()
            opt.step()
        return loss.item()

    epoch()
    t0 = time.perf_counter()
    last = epoch()
    return time.perf_counter() - t0, f"final loss {last:.4f}"


def mlp():
    n = 10_000
    model = torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.ReLU(), torch.nn.Linear(512, 512),
                                torch.nn.ReLU(), torch.nn.Linear(512, 10))
    return timed_epoch(model, torch.randn(n, 784), torch.randint(0, 10, (n,)), batch=128)


def cnn():
    n = 2_000
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 32, 3), torch.nn.ReLU(), torch.nn.Conv2d(32, 64, 3), torch.nn.ReLU(),
                                torch.nn.MaxPool2d(2), torch.nn.Flatten(), torch.nn.Linear(12544, 10))
    return timed_epoch(model, torch.randn(n, 3, 32, 32), torch.randint(0, 10, (n,)), batch=64)


class Block(torch.nn.Module):
    def __init__(self, d=128, heads=4):
        super().__init__()
        self.ln1, self.ln2 = torch.nn.LayerNorm(d), torch.nn.LayerNorm(d)
        self.attn = torch.nn.MultiheadAttention(d, heads, batch_first=True)
        self.up, self.down = torch.nn.Linear(d, 4 * d), torch.nn.Linear(4 * d, d)

    def forward(self, x):
        t = x.shape[1]
        mask = torch.triu(torch.ones(t, t, dtype=torch.bool), diagonal=1)
        h = self.ln1(x)
        h = x + self.attn(h, h, h, attn_mask=mask, need_weights=False)[0]
        return h + self.down(torch.nn.functional.gelu(self.up(self.ln2(h))))


def per_step(step):
    """Seconds per training step: 3 warm-up steps, then the mean of 20 (as lab-bench's perStep)."""
    for _ in range(3):
        step()
    t0 = time.perf_counter()
    for _ in range(20):
        step()
    return (time.perf_counter() - t0) / 20, "seconds per step"


def transformer():
    block = Block()
    opt = torch.optim.AdamW(block.parameters(), lr=1e-3)
    x = torch.randn(32, 64, 128)

    def step():
        loss = block(x).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()

    return per_step(step)


class RMSNorm(torch.nn.Module):
    def __init__(self, d):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(d))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * self.weight


def rope(x):
    """Rotary embedding, adjacent pairs (2i, 2i+1), base 10,000, over [.., T, hd]."""
    t, hd = x.shape[-2], x.shape[-1]
    angle = torch.arange(t).float()[:, None] * 10000 ** (-torch.arange(0, hd, 2).float() / hd)[None]
    c, s = angle.cos(), angle.sin()
    a, b = x[..., 0::2], x[..., 1::2]
    return torch.stack((a * c - b * s, a * s + b * c), -1).flatten(-2)


class LlamaBlock(torch.nn.Module):
    def __init__(self, d, heads, m):
        super().__init__()
        self.heads = heads
        self.norm1, self.norm2 = RMSNorm(d), RMSNorm(d)
        self.q, self.k, self.v, self.o = (torch.nn.Linear(d, d, bias=False) for _ in range(4))
        self.gate, self.up = torch.nn.Linear(d, m, bias=False), torch.nn.Linear(d, m, bias=False)
        self.down = torch.nn.Linear(m, d, bias=False)

    def forward(self, x):
        b, t, d = x.shape
        h = self.norm1(x)
        q, k, v = (p(h).view(b, t, self.heads, d // self.heads).transpose(1, 2) for p in (self.q, self.k, self.v))
        a = torch.nn.functional.scaled_dot_product_attention(rope(q), rope(k), v, is_causal=True)
        x = x + self.o(a.transpose(1, 2).reshape(b, t, d))
        h = self.norm2(x)
        return x + self.down(torch.nn.functional.silu(self.gate(h)) * self.up(h))


def charlm():
    """The activation-sparsity ladder's L4 char LM: one step on 24 x 128 characters (as lab-bench)."""
    d, layers, heads, m, vocab, b, t = 128, 4, 8, 344, 76, 24, 128
    embedding = torch.nn.Embedding(vocab, d)
    blocks = torch.nn.ModuleList(LlamaBlock(d, heads, m) for _ in range(layers))
    final = RMSNorm(d)
    params = list(embedding.parameters()) + list(blocks.parameters()) + list(final.parameters())
    opt = torch.optim.AdamW(params, lr=3e-3, betas=(0.9, 0.95), weight_decay=0.1)

    def step():
        ids = torch.randint(0, vocab - 1, (b, t + 1))
        x = embedding(ids[:, :-1])
        for block in blocks:
            x = block(x)
        logits = final(x) @ embedding.weight.T
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, vocab), ids[:, 1:].reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()

    return per_step(step)


def gemm(n):
    """A quarter second of products to warm up, then the median of 30 (as lab-bench's gemm)."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    start = time.perf_counter()
    while time.perf_counter() - start < 0.25:
        a @ b
    times = sorted(_timed(lambda: a @ b) for _ in range(30))
    median = (times[14] + times[15]) / 2
    return median, f"{2 * n ** 3 / median / 1e9:.1f} GFLOP/s"


def _timed(f):
    t0 = time.perf_counter()
    f()
    return time.perf_counter() - t0


WORKLOADS = {"mlp": mlp, "cnn": cnn, "transformer": transformer, "charlm": charlm, "gemm512": lambda: gemm(512),
             "gemm1024": lambda: gemm(1024)}

if __name__ == "__main__":
    name = sys.argv[1]
    seconds, detail = WORKLOADS[name]()
    print(json.dumps({"workload": name, "seconds": seconds, "peakMB": peak_mb(), "detail": detail}))
