#!/usr/bin/env python3
"""PyTorch reference values for Lab's layers, losses and optimisers (run once; the output is committed).

Writes Tests/LabTests/Fixtures/torch/*.json, which Tests/LabTests/TorchReferenceTests.swift compares Lab with:
forward outputs and the gradients of sum(y · g) (g a fixed random upstream gradient, stored in the case) with
respect to every input and parameter, for

    conv.json            conv2d (strides, paddings, non-square kernels), convTranspose2d (output padding)
    normalization.json   BatchNorm2d train (batch statistics, running-statistics update) and eval,
                         BatchNorm1d train, LayerNorm, RMSNorm y = x / sqrt(mean(x²) + ε) · w
    attention.json       scaled-dot-product attention: causal, key padding, both, fewer queries than keys
    cross-entropy.json   cross-entropy with label smoothing and an ignored target
    training.json        10 AdamW steps of a small MLP with BatchNorm, 10 Adam steps of a small CNN:
                         the loss before each step and every parameter after each step

Every input is drawn in float32 (seeded) and written exactly, so Lab (float32) sees the same numbers; the
reference is then computed in float64, so the only difference the tests see is Lab's own float32 rounding.
The training cases check that no ReLU input and no max-pool window is within a margin of a tie, so that float32
rounding cannot switch a branch. Needs torch (CPU is enough); not part of `make test`:

    python3 -m venv bench/.venv && bench/.venv/bin/pip install torch numpy
    bench/.venv/bin/python bench/peers/fixtures.py Tests/LabTests/Fixtures/torch
"""
import json
import os
import sys

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
GENERATOR = torch.Generator()


def uniform(*shape, low=-1.0, high=1.0):
    """A float32 draw, returned as float64 (exactly the float32 values)."""
    u = torch.rand(*shape, generator=GENERATOR, dtype=torch.float32)
    return (low + (high - low) * u).to(torch.float32).to(torch.float64)


def leaf(t):
    return t.clone().requires_grad_(True)


def entry(t):
    """{shape, data} of a float64 reference, with 10 significant digits (float32 has 7)."""
    t = t.detach().to(torch.float64).contiguous()
    return {"shape": list(t.shape), "data": [float(f"{v:.10g}") for v in t.flatten().tolist()]}


def exact(t):
    """{shape, data} of a float32-exact input, each value with 9 significant digits, checked to read back
    (through a double, as JSON readers do) as the same float32."""
    t = t.detach().to(torch.float64).contiguous()
    values = t.flatten().tolist()
    assert torch.equal(t, t.to(torch.float32).to(torch.float64)), "an input is not float32-exact"
    written = [float(f"{v:.9g}") for v in values]
    assert torch.equal(torch.tensor(written).to(torch.float32), torch.tensor(values).to(torch.float32))
    return {"shape": list(t.shape), "data": written}


def case(op, name, config, inputs, results):
    """op: what Lab runs; config: numbers; inputs: float32-exact tensors Lab reads; results: float64 references."""
    tensors = {k: exact(v) for k, v in inputs.items()}
    tensors.update({k: entry(v) for k, v in results.items()})
    return {"op": op, "name": name, "config": config, "tensors": tensors}


def forward_and_gradients(f, inputs, upstream):
    """y = f(**leaves), then the gradients of sum(y · upstream) w.r.t. each leaf, named d<name>."""
    leaves = {k: leaf(v) for k, v in inputs.items()}
    y = f(**leaves)
    (y * upstream).sum().backward()
    grads = {"d" + k: v.grad for k, v in leaves.items()}
    return y, grads


# ---------------------------------------------------------------- convolutions
def conv_cases():
    cases = []
    # (B, C, H, W, F, kH, kW, stride, padding, bias)
    for b, c, h, w, f, kh, kw, stride, padding, bias in [
        (2, 3, 5, 6, 4, 3, 3, (1, 1), (1, 1), True),
        (2, 2, 7, 5, 3, 3, 2, (2, 1), (1, 0), True),
        (1, 2, 6, 7, 2, 2, 3, (2, 3), (2, 1), False),
    ]:
        inputs = {"x": uniform(b, c, h, w), "weight": uniform(f, c, kh, kw)}
        if bias:
            inputs["bias"] = uniform(f)
        y0 = F.conv2d(inputs["x"], inputs["weight"], inputs.get("bias"), stride=stride, padding=padding)
        g = uniform(*y0.shape)
        y, grads = forward_and_gradients(
            lambda x, weight, bias=None: F.conv2d(x, weight, bias, stride=stride, padding=padding), inputs, g)
        cases.append(case("conv2d", f"conv2d-k{kh}x{kw}-s{stride[0]}x{stride[1]}-p{padding[0]}x{padding[1]}",
                          {"strideH": stride[0], "strideW": stride[1],
                           "paddingH": padding[0], "paddingW": padding[1]},
                          dict(inputs, g=g), dict(grads, y=y)))
    # (B, C, H, W, F, kH, kW, stride, padding, output padding, bias); weight [C, F, kH, kW]
    for b, c, h, w, f, kh, kw, stride, padding, out_pad, bias in [
        (2, 3, 4, 5, 2, 3, 3, (2, 2), (1, 1), (1, 1), True),
        (1, 2, 3, 4, 3, 2, 3, (3, 2), (1, 0), (2, 1), False),
    ]:
        inputs = {"x": uniform(b, c, h, w), "weight": uniform(c, f, kh, kw)}
        if bias:
            inputs["bias"] = uniform(f)

        def op(x, weight, bias=None):
            return F.conv_transpose2d(x, weight, bias, stride=stride, padding=padding, output_padding=out_pad)

        g = uniform(*op(**inputs).shape)
        y, grads = forward_and_gradients(op, inputs, g)
        cases.append(case("convTranspose2d",
                          f"convTranspose2d-k{kh}x{kw}-s{stride[0]}x{stride[1]}-p{padding[0]}x{padding[1]}"
                          f"-op{out_pad[0]}x{out_pad[1]}",
                          {"strideH": stride[0], "strideW": stride[1],
                           "paddingH": padding[0], "paddingW": padding[1],
                           "outputPaddingH": out_pad[0], "outputPaddingW": out_pad[1]},
                          dict(inputs, g=g), dict(grads, y=y)))
    return cases


# ---------------------------------------------------------------- normalisation
def batch_norm_case(name, shape, training, momentum, eps):
    c = shape[1]
    inputs = {"x": uniform(*shape, low=-2, high=3), "weight": uniform(c, low=0.5, high=1.5), "bias": uniform(c)}
    running_mean, running_var = uniform(c), uniform(c, low=0.5, high=2)
    g = uniform(*shape)
    rm, rv = running_mean.clone(), running_var.clone()
    y, grads = forward_and_gradients(
        lambda x, weight, bias: F.batch_norm(x, rm, rv, weight, bias, training=training, momentum=momentum, eps=eps),
        inputs, g)
    return case("batchNorm", name, {"training": int(training), "momentum": momentum, "epsilon": eps},
                dict(inputs, g=g, runningMean=running_mean, runningVar=running_var),
                dict(grads, y=y, runningMeanAfter=rm, runningVarAfter=rv))


def small_rows(x):
    """Scales the first row by 1e-3, so that mean(x²) ~ ε there and the epsilon's placement matters."""
    x = x.clone()
    x.view(-1, x.shape[-1])[0] *= 1e-3
    return x.to(torch.float32).to(torch.float64)


def normalization_cases():
    cases = [
        batch_norm_case("batchNorm2d-train", (4, 3, 3, 3), True, 0.1, 1e-5),
        batch_norm_case("batchNorm2d-train-momentum0.3-eps1e-3", (3, 2, 2, 4), True, 0.3, 1e-3),
        batch_norm_case("batchNorm1d-train", (8, 5), True, 0.1, 1e-5),
        batch_norm_case("batchNorm2d-eval", (2, 3, 4, 4), False, 0.1, 1e-5),
    ]
    for name, bias, eps in [("layerNorm", True, 1e-5), ("layerNorm-noBias-eps1e-3", False, 1e-3)]:
        n = 8
        inputs = {"x": small_rows(uniform(2, 3, n, low=-2, high=2)), "weight": uniform(n, low=0.5, high=1.5)}
        if bias:
            inputs["bias"] = uniform(n)
        g = uniform(2, 3, n)
        y, grads = forward_and_gradients(lambda x, weight, bias=None: F.layer_norm(x, (n,), weight, bias, eps),
                                         inputs, g)
        cases.append(case("layerNorm", name, {"epsilon": eps}, dict(inputs, g=g), dict(grads, y=y)))
    for name, eps in [("rmsNorm", 1e-5), ("rmsNorm-eps1e-6", 1e-6)]:
        n = 8
        inputs = {"x": small_rows(uniform(3, 4, n, low=-2, high=2)), "weight": uniform(n, low=0.5, high=1.5)}
        g = uniform(3, 4, n)
        y, grads = forward_and_gradients(
            lambda x, weight: x / torch.sqrt(x.square().mean(dim=-1, keepdim=True) + eps) * weight, inputs, g)
        cases.append(case("rmsNorm", name, {"epsilon": eps}, dict(inputs, g=g), dict(grads, y=y)))
    return cases


# ---------------------------------------------------------------- attention
def attention_cases():
    """Lab's convention: `causal` lets query i (of Tq) see keys 0 ... i + (Tk − Tq) (queries are the last Tq of
    the Tk positions); keyPadding [B, Tk] is 1 at padded keys. The mask below is PyTorch's boolean attn_mask
    (True = takes part); no query row is fully masked (PyTorch gives NaN there, Lab 0)."""
    cases = []
    b, h, d = 2, 2, 4
    for name, tq, tk, causal, padding in [
        ("causal", 5, 5, True, None),
        ("keyPadding", 5, 5, False, [[0, 0, 0, 1, 1], [0, 1, 0, 0, 0]]),
        ("causal-keyPadding", 5, 5, True, [[0, 0, 0, 0, 1], [0, 0, 1, 1, 1]]),
        ("causal-fewerQueries", 3, 6, True, None),
        ("full-fewerQueries", 3, 6, False, None),
    ]:
        inputs = {"query": uniform(b, h, tq, d, low=-2, high=2), "key": uniform(b, h, tk, d, low=-2, high=2),
                  "value": uniform(b, h, tk, d)}
        allowed = torch.ones(b, 1, tq, tk, dtype=torch.bool)
        if causal:
            allowed &= torch.ones(tq, tk, dtype=torch.bool).tril(diagonal=tk - tq)
        if padding is not None:
            allowed &= ~torch.tensor(padding, dtype=torch.bool).view(b, 1, 1, tk)
        assert allowed.any(dim=-1).all(), f"{name}: a query sees no key"
        g = uniform(b, h, tq, d)
        y, grads = forward_and_gradients(
            lambda query, key, value: F.scaled_dot_product_attention(query, key, value, attn_mask=allowed),
            inputs, g)
        extra = {} if padding is None else {"keyPadding": torch.tensor(padding, dtype=torch.float64)}
        cases.append(case("attention", name, {"causal": int(causal)}, dict(inputs, g=g, **extra), dict(grads, y=y)))
    return cases


# ---------------------------------------------------------------- cross-entropy
def cross_entropy_cases():
    """loss = mean over counted rows of (1 − ε)·(−log p_y) + ε/C · Σ_c (−log p_c) (PyTorch's label
    smoothing); the gradient is of the loss itself (upstream 1)."""
    cases = []
    for name, smoothing, targets in [
        ("plain", 0.0, [0, 4, 2, 2, 1, 3]),
        ("labelSmoothing0.1", 0.1, [0, 4, 2, 2, 1, 3]),
        ("labelSmoothing0.2-ignoreIndex", 0.2, [3, -100, 1, 0, -100, 4]),
    ]:
        logits = uniform(6, 5, low=-3, high=3)
        t = torch.tensor(targets)
        x = leaf(logits)
        loss = F.cross_entropy(x, t, label_smoothing=smoothing, ignore_index=-100)
        loss.backward()
        cases.append(case("crossEntropy", name, {"labelSmoothing": smoothing, "ignoreIndex": -100},
                          {"logits": logits, "targets": t.to(torch.float64)},
                          {"loss": loss, "dlogits": x.grad}))
    return cases


# ---------------------------------------------------------------- training
def check_margins(name, relu_inputs, pool_inputs=None, margin=1e-5):
    """Stops unless every ReLU input is at least `margin` from 0 and every 2×2 max-pool window's largest value
    leads the next by `margin` (among windows whose largest value is positive; ties at ReLU's 0 carry no
    gradient), so float32 rounding cannot flip a branch."""
    closest = relu_inputs.abs().min().item()
    assert closest > margin, f"{name}: a ReLU input is {closest} from 0"
    if pool_inputs is not None:
        b, c, h, w = pool_inputs.shape
        windows = pool_inputs.view(b, c, h // 2, 2, w // 2, 2).permute(0, 1, 2, 4, 3, 5).reshape(-1, 4)
        top = windows.topk(2, dim=-1).values
        live = top[:, 0] > 0
        gap = (top[live, 0] - top[live, 1]).min().item()
        assert gap > margin, f"{name}: a max-pool window's top two values are {gap} apart"


def train(name, model, parameter_names, optimizer, x, targets, norm, pooled, steps=10):
    """`steps` steps of cross-entropy on (x, targets): the loss before each step, every parameter after each.
    The BatchNorm layer `norm` feeds the ReLU (and, when `pooled`, the ReLU a 2×2 max-pool): its output is
    checked for near-ties at every step."""
    seen = []
    hook = norm.register_forward_hook(lambda module, inputs, output: seen.append(output.detach()))
    losses, after = [], {}
    for step in range(steps):
        optimizer.zero_grad()
        logits = model(x)
        z = seen.pop()
        check_margins(f"{name} step {step}", z, z.relu() if pooled else None)
        loss = F.cross_entropy(logits, targets)
        losses.append(loss.detach())
        loss.backward()
        optimizer.step()
        for pname, p in zip(parameter_names, model.parameters()):
            after[f"step{step + 1}.{pname}"] = p.detach().clone()
    hook.remove()
    return torch.stack(losses), after


def training_cases():
    """AdamW (decoupled: p ← p − η·λ·p, then the Adam step) on an MLP, Adam on a CNN; both with BatchNorm in
    train mode. The layers before BatchNorm have no bias: its gradient is 0 in exact arithmetic (BatchNorm
    removes the mean), so Adam would turn rounding noise into full-size steps and no two programs agree."""
    cases = []

    # MLP: Linear(6 → 16, no bias) → BatchNorm(16) → ReLU → Linear(16 → 3), AdamW lr 0.02, λ 0.1, 32 samples.
    x = uniform(32, 6, low=-2, high=2)
    targets = torch.where(x[:, 0] + x[:, 1] > 0, torch.where(x[:, 2] > 0, 2, 1), 0)
    init = {"fc1.weight": uniform(16, 6, low=-0.4, high=0.4), "norm.weight": uniform(16, low=0.5, high=1.5),
            "norm.bias": uniform(16, low=-0.5, high=0.5), "fc2.weight": uniform(3, 16, low=-0.25, high=0.25),
            "fc2.bias": uniform(3, low=-0.25, high=0.25)}
    fc1, norm, fc2 = torch.nn.Linear(6, 16, bias=False), torch.nn.BatchNorm1d(16), torch.nn.Linear(16, 3)
    model = torch.nn.Sequential(fc1, norm, torch.nn.ReLU(), fc2)
    names = ["fc1.weight", "norm.weight", "norm.bias", "fc2.weight", "fc2.bias"]
    with torch.no_grad():
        for pname, p in zip(names, model.parameters()):
            p.copy_(init[pname])
    lr, wd = 0.02, 0.1
    opt = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=wd)
    losses, after = train("mlp", model, names, opt, x, targets, norm, pooled=False)
    cases.append(case("adamw-mlp", "adamw-mlp", {"learningRate": lr, "weightDecay": wd, "beta1": 0.9, "beta2": 0.999,
                                    "epsilon": 1e-8, "steps": 10},
                      dict(init, x=x, targets=targets.to(torch.float64)),
                      dict(after, losses=losses, **{"norm.runningMean": norm.running_mean,
                                                    "norm.runningVar": norm.running_var})))

    # CNN: Conv(1 → 4, 3×3, padding 1, no bias) → BatchNorm(4) → ReLU → MaxPool 2 → global average
    # → Linear(4 → 2), Adam lr 0.05, 16 images 8×8.
    x = uniform(16, 1, 8, 8, low=-2, high=2)
    targets = (x[:, 0, 3, 3] > 0).long()
    init = {"conv.weight": uniform(4, 1, 3, 3, low=-1 / 3, high=1 / 3), "norm.weight": uniform(4, low=0.5, high=1.5),
            "norm.bias": uniform(4, low=-0.5, high=0.5), "fc.weight": uniform(2, 4, low=-0.5, high=0.5),
            "fc.bias": uniform(2, low=-0.5, high=0.5)}
    conv, norm, fc = torch.nn.Conv2d(1, 4, 3, padding=1, bias=False), torch.nn.BatchNorm2d(4), torch.nn.Linear(4, 2)
    model = torch.nn.Sequential(conv, norm, torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                                torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), fc)
    names = ["conv.weight", "norm.weight", "norm.bias", "fc.weight", "fc.bias"]
    with torch.no_grad():
        for pname, p in zip(names, model.parameters()):
            p.copy_(init[pname])
    lr = 0.05
    opt = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.999), eps=1e-8)

    losses, after = train("cnn", model, names, opt, x, targets, norm, pooled=True)
    cases.append(case("adam-cnn", "adam-cnn",
                      {"learningRate": lr, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8, "steps": 10},
                      dict(init, x=x, targets=targets.to(torch.float64)),
                      dict(after, losses=losses, **{"norm.runningMean": norm.running_mean,
                                                    "norm.runningVar": norm.running_var})))
    return cases


def main(folder):
    os.makedirs(folder, exist_ok=True)
    # One seed per file, so that a file can be redrawn alone (training's seed is one whose runs keep clear of
    # ReLU and max-pool ties, see check_margins).
    for file, make, seed in [("conv.json", conv_cases, 1), ("normalization.json", normalization_cases, 2),
                             ("attention.json", attention_cases, 3), ("cross-entropy.json", cross_entropy_cases, 4),
                             ("training.json", training_cases, 6)]:
        GENERATOR.manual_seed(seed)
        document = {"source": "bench/peers/fixtures.py", "torch": torch.__version__, "dtype": "float64",
                    "cases": make()}
        with open(os.path.join(folder, file), "w") as f:
            json.dump(document, f, separators=(",", ":"))
            f.write("\n")
        print(f"{file}: {len(document['cases'])} cases, {os.path.getsize(os.path.join(folder, file))} bytes")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "Tests/LabTests/Fixtures/torch")
