#!/usr/bin/env python3
"""PyTorch peer of lab-bench: the same workloads, shapes and optimiser settings as Benchmarks/LabBench/main.swift.

Usage: python3 bench/peers/torch_bench.py WORKLOAD   (mlp | cnn | transformer | gemm512 | gemm1024)
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


def mlp():
    n, batch = 10_000, 128
    model = torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.ReLU(), torch.nn.Linear(512, 512),
                                torch.nn.ReLU(), torch.nn.Linear(512, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, y = torch.randn(n, 784), torch.randint(0, 10, (n,))

    def epoch():
        for s in range(0, n, batch):
            loss = torch.nn.functional.cross_entropy(model(x[s:s + batch]), y[s:s + batch])
            opt.zero_grad()
            loss.backward()
            opt.step()
        return loss.item()

    epoch()  # warm-up, as Lab
    t0 = time.perf_counter()
    last = epoch()
    return time.perf_counter() - t0, f"final loss {last:.4f}"


def cnn():
    n, batch = 2_000, 64
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 32, 3), torch.nn.ReLU(), torch.nn.Conv2d(32, 64, 3), torch.nn.ReLU(),
                                torch.nn.MaxPool2d(2), torch.nn.Flatten(), torch.nn.Linear(12544, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, y = torch.randn(n, 3, 32, 32), torch.randint(0, 10, (n,))

    def epoch():
        for s in range(0, n, batch):
            loss = torch.nn.functional.cross_entropy(model(x[s:s + batch]), y[s:s + batch])
            opt.zero_grad()
            loss.backward()
            opt.step()
        return loss.item()

    epoch()
    t0 = time.perf_counter()
    last = epoch()
    return time.perf_counter() - t0, f"final loss {last:.4f}"


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


def transformer():
    block = Block()
    opt = torch.optim.AdamW(block.parameters(), lr=1e-3)
    x = torch.randn(32, 64, 128)

    def step():
        loss = block(x).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()

    for _ in range(3):
        step()
    t0 = time.perf_counter()
    for _ in range(20):
        step()
    return (time.perf_counter() - t0) / 20, "seconds per step"


def gemm(n):
    a, b = torch.randn(n, n), torch.randn(n, n)
    best = min(_timed(lambda: a @ b) for _ in range(5))
    return best, f"{2 * n ** 3 / best / 1e9:.1f} GFLOP/s"


def _timed(f):
    t0 = time.perf_counter()
    f()
    return time.perf_counter() - t0


WORKLOADS = {"mlp": mlp, "cnn": cnn, "transformer": transformer, "gemm512": lambda: gemm(512),
             "gemm1024": lambda: gemm(1024)}

if __name__ == "__main__":
    name = sys.argv[1]
    seconds, detail = WORKLOADS[name]()
    print(json.dumps({"workload": name, "seconds": seconds, "peakMB": peak_mb(), "detail": detail}))
