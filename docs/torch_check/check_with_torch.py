#!/usr/bin/env python3
"""Checks backprop's reference values and documented formulas against real PyTorch, in float64.

    cargo build --release -p backprop-cli
    $PY docs/torch_check/check_with_torch.py      (from the repository root)

with `$PY` a Python that imports torch and numpy (torch brings mpmath): a venv outside the
repository made by ../shared/bench/setup-venv.sh. Never run by CI.

The repo's reference values were made by hand-transcribed pure-Python reimplementations of
PyTorch (torch could not be imported then). This script runs the real thing:

1. optimisers, lr schedules and gradient clipping: every case of
   crates/optim/tests/reference/reference.json against torch.optim / torch.optim.lr_scheduler /
   torch.nn.utils.clip_grad_*, mapping each TOML config as make_reference.py documents
   (options not named in the config are left to torch's own defaults);
2. losses: every case of the CASES constant in crates/loss/tests/reference.rs (parsed from the
   Rust source) against torch.nn.functional with reduction='mean' and autograd, plus half_mse
   (0.5 * sum / N, N = rows) on the example of crates/loss/src/lib.rs's doctest;
3. activations: values and backward of each activation, as the release binary computes them
   (`backprop explain --format json` on a one-layer model whose pre-activations are a grid of
   z values), against torch.nn.functional with the same parameters;
4. weight initialisation: the documented bounds/stds of crates/tensor/src/init against the
   bounds/stds torch.nn.init itself passes to its uniform/normal fill (captured by wrapping
   torch.nn.init._no_grad_uniform_/_no_grad_normal_), and a loose sanity check of the binary's
   actual draws.

It only reads repository files; the binary runs in a temporary directory outside the repo.
Set BACKPROP_BIN to use another binary (default target/release/backprop).

A case PASSes when every number agrees to 1e-15 relative (last-bit level); the summary counts
IDENTICAL (bit for bit) among them. Beyond that, where an exact value is known (mpmath, 60
digits, from the same float inputs and PyTorch's documented definition), a difference is
TORCH-LESS-ACCURATE when ours is at least as close to the exact value at every differing
element, ROUNDING when the difference is within 4 ulps of the case's largest number (a
cancellation magnifying one rounding, as in softmax's backward), FAIL otherwise; the line then names the worst elements with ours, torch and exact.
Cases where backprop deliberately and documentedly departs from torch are reported as DEVIATION
(documented), not hidden. Exit status 1 when anything FAILs.
"""

import ast
import json
import math
import struct
import os
import re
import subprocess
import sys
import tempfile
import tomllib
import warnings

import mpmath
import torch
import torch.nn.functional as F

mpmath.mp.dps = 60

warnings.filterwarnings("ignore")
torch.set_default_dtype(torch.float64)

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
BIN = os.path.abspath(os.environ.get("BACKPROP_BIN", "target/release/backprop"))
TOL = 1e-15
ROUNDING_ULPS = 4

RESULTS = []  # (section, name, status)


def flat(x):
    if isinstance(x, (list, tuple)):
        return [y for e in x for y in flat(e)]
    return [float(x)]


def diff(got, want):
    """(max abs diff, max rel diff, bit identical) between two nested lists of numbers."""
    g, w = flat(got), flat(want)
    assert len(g) == len(w), (len(g), len(w))
    max_abs = max_rel = 0.0
    identical = True
    for a, b in zip(g, w):
        if math.isnan(a) and math.isnan(b):
            continue
        if a == b:
            if math.copysign(1, a) != math.copysign(1, b):
                identical = False  # +0 vs -0: equal in value
            continue
        identical = False
        d = abs(a - b)
        scale = max(abs(a), abs(b))
        max_abs = max(max_abs, d)
        max_rel = max(max_rel, d / scale if scale > 0 else math.inf)
    return max_abs, max_rel, identical


def rel_err(x, exact):
    """|x - exact| / |exact| (absolute when exact is 0), as a float."""
    x = mpmath.mpf(x)
    return float(abs(x - exact) / abs(exact)) if exact != 0 else float(abs(x))


def report(section, name, ours, torchs, note="", deviation=False, exact=None, labels=None):
    """One PASS/FAIL line. `exact`: the same numbers to 60 digits (mpmath, from the same float
    inputs), used to say which side is closer where the two differ beyond TOL. `labels` names
    each element (e.g. its z) in the worst-element line."""
    max_abs, max_rel, identical = diff(ours, torchs)
    if identical:
        status = "IDENTICAL"
    elif max_rel <= TOL:
        status = "PASS"
    elif deviation:
        status = "DEVIATION"
    else:
        status = "FAIL"
    verdict = ""
    if status == "FAIL" and exact is not None:
        o, t, e = flat(ours), flat(torchs), list(exact)
        bad = [i for i in range(len(o)) if o[i] != t[i] and abs(o[i] - t[i]) > TOL * max(abs(o[i]), abs(t[i]))]
        eo = max(rel_err(o[i], e[i]) for i in bad)
        et = max(rel_err(t[i], e[i]) for i in bad)
        ours_better = all(rel_err(o[i], e[i]) <= rel_err(t[i], e[i]) + 2.0**-53 for i in bad)
        if ours_better:
            status = "TORCH-LESS-ACCURATE"
        verdict = (f"; vs exact (mpmath) at the {len(bad)} differing elements: max rel err ours {eo:.3g}, torch {et:.3g}"
                   f" -> {'ours' if ours_better else 'torch' if et < eo else 'neither'} closer{' everywhere' if ours_better else ''}")
    # Cancellation (p − t in a gradient, g − g·a in softmax's backward) magnifies one rounding of
    # an operand: a difference within a few ulps of the case's largest number is rounding.
    largest = max([abs(v) for v in flat(ours) + flat(torchs) if not math.isnan(v)] or [0.0])
    if status == "FAIL" and max_abs <= ROUNDING_ULPS * 2.0**-52 * largest:
        status = "ROUNDING"
        verdict += f"; within {ROUNDING_ULPS} ulps of the case's largest value ({largest:.3g}): cancellation"
    shown = "PASS" if status in ("IDENTICAL", "PASS") else status
    tag = " (bit-identical)" if identical else (" (+0/-0 only)" if max_abs == 0 else "")
    print(f"{shown:9} [{section}] {name}: max abs {max_abs:.3g}, max rel {max_rel:.3g}{tag}{(' - ' + note) if note else ''}{verdict}")
    if status not in ("IDENTICAL", "PASS", "DEVIATION"):
        o, t = flat(ours), flat(torchs)
        order = sorted(range(len(o)), key=lambda i: -(abs(o[i] - t[i]) / max(abs(o[i]), abs(t[i])) if o[i] != t[i] else 0))
        for i in order[:3]:
            if o[i] == t[i] or abs(o[i] - t[i]) <= TOL * max(abs(o[i]), abs(t[i])):
                break
            where = labels[i] if labels else f"element {i}"
            ex = f", exact {mpmath.nstr(exact[i], 17)}" if exact is not None else ""
            print(f"            at {where}: ours {o[i]!r}, torch {t[i]!r}{ex}")
    RESULTS.append((section, name, status))
    return status


def skip(section, name, why):
    print(f"SKIP      [{section}] {name}: {why}")
    RESULTS.append((section, name, "SKIP"))


# =============================================================================================
# 1. Optimisers, schedules, clipping


OPTIMIZERS = {
    "sgd": torch.optim.SGD,
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "rmsprop": torch.optim.RMSprop,
    "adagrad": torch.optim.Adagrad,
    "nadam": torch.optim.NAdam,
    "radam": torch.optim.RAdam,
    "adamax": torch.optim.Adamax,
    "adadelta": torch.optim.Adadelta,
}


class WarmupThenPlateau:
    """No torch class (SequentialLR refuses ReduceLROnPlateau): backprop's documented composition,
    built from torch's own LinearLR and ReduceLROnPlateau: LinearLR for epochs 0..W-1, the base lr
    at epoch W, then ReduceLROnPlateau shown the costs of epochs W+1, W+2, ..."""

    def __init__(self, opt, warmup_epochs, linear_kwargs, plateau_kwargs):
        self.opt, self.w = opt, warmup_epochs
        self.base = opt.param_groups[0]["lr"]
        self.linear = torch.optim.lr_scheduler.LinearLR(opt, total_iters=warmup_epochs, **linear_kwargs)
        self.plateau_kwargs = plateau_kwargs
        self.plateau = None
        self.epoch = 0

    def step(self, cost):
        self.epoch += 1
        if self.epoch < self.w:
            self.linear.step()
        elif self.epoch == self.w:
            self.opt.param_groups[0]["lr"] = self.base
            self.plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(self.opt, **self.plateau_kwargs)
        else:
            self.plateau.step(cost)


def torch_scheduler(opt, schedule):
    """The torch scheduler for one of our `[schedule]` tables, and whether it is a torch class."""
    S = torch.optim.lr_scheduler
    schedule = dict(schedule)
    kind = schedule.pop("kind")
    warmup = schedule.pop("warmup_epochs", 0)
    linear_kwargs = {}
    if "warmup_start_factor" in schedule:
        linear_kwargs["start_factor"] = schedule.pop("warmup_start_factor")
    if kind == "reduce_on_plateau":
        if warmup:
            return WarmupThenPlateau(opt, warmup, linear_kwargs, schedule), False
        return S.ReduceLROnPlateau(opt, **schedule), True

    def build():
        if kind == "constant":
            return S.LambdaLR(opt, lambda epoch: 1.0)
        if kind == "step":
            return S.StepLR(opt, **schedule)
        if kind == "multistep":
            return S.MultiStepLR(opt, **schedule)
        if kind == "exponential":
            return S.ExponentialLR(opt, **schedule)
        if kind == "cosine":
            kw = {"T_max": schedule.pop("t_max")}
            kw.update(schedule)
            return S.CosineAnnealingLR(opt, **kw)
        raise ValueError(f"unknown schedule kind {kind}")

    if not warmup:
        return build(), True
    linear = S.LinearLR(opt, total_iters=warmup, **linear_kwargs)
    return S.SequentialLR(opt, [linear, build()], milestones=[warmup]), True


def step_scheduler(scheduler, cost):
    if isinstance(scheduler, (torch.optim.lr_scheduler.ReduceLROnPlateau, WarmupThenPlateau)):
        scheduler.step(cost)
    else:
        scheduler.step()


def torch_optimizer(params, config):
    config = dict(config)
    kind = config.pop("kind")
    schedule = config.pop("schedule", None)
    if "betas" in config:
        config["betas"] = tuple(config["betas"])
    return OPTIMIZERS[kind]([params], **config), schedule


def check_optim():
    path = os.path.join(ROOT, "crates/optim/tests/reference/reference.json")
    ref = json.load(open(path))
    print(f"== 1. Optimisers, schedules, clipping ({os.path.relpath(path, ROOT)})")
    for case in ref["optimizers"]:
        config = tomllib.loads(case["config"])
        p = torch.tensor(ref["params0"], dtype=torch.float64, requires_grad=True)
        opt, schedule = torch_optimizer(p, config)
        scheduler, native = torch_scheduler(opt, schedule) if schedule else (None, True)
        got = []
        for grads in ref["grads"]:
            p.grad = torch.tensor(grads, dtype=torch.float64)
            opt.step()
            if scheduler is not None:
                step_scheduler(scheduler, 0.0)
            got.append(p.detach().tolist())
        desc = type(opt).__name__ + (f" + {type(scheduler).__name__}" if scheduler else "")
        report("optim", case["name"], case["expected"], got, desc if native else desc + " (composite, no torch class)")

    for case in ref["schedules"]:
        config = tomllib.loads(case["config"])
        p = torch.zeros(1, requires_grad=True)
        opt, schedule = torch_optimizer(p, config)
        scheduler, native = torch_scheduler(opt, schedule)
        lrs = [opt.param_groups[0]["lr"]]
        for cost in case["costs"]:
            opt.step()  # no grad: a no-op, keeps torch's "step order" warning away
            step_scheduler(scheduler, cost)
            lrs.append(opt.param_groups[0]["lr"])
        name = type(scheduler).__name__
        if isinstance(scheduler, torch.optim.lr_scheduler.SequentialLR):
            name += "[" + ", ".join(type(s).__name__ for s in scheduler._schedulers) + "]"
        report("schedule", case["name"], case["lrs"], lrs, name if native else name + " (composite of LinearLR + ReduceLROnPlateau, no torch class)")

    for i, case in enumerate(ref["clip_grad_norm"]):
        p = torch.zeros(len(case["grads"]), requires_grad=True)
        p.grad = torch.tensor(case["grads"], dtype=torch.float64)
        norm_type = float(case.get("norm_type", 2.0))  # "inf" in the JSON for infinity
        total = torch.nn.utils.clip_grad_norm_([p], case["max_norm"], norm_type=norm_type)
        report("clip", f"clip_grad_norm_ #{i} (max_norm {case['max_norm']}, norm_type {norm_type})", [case["total_norm"]] + case["clipped"], [total.item()] + p.grad.tolist(), "total norm + clipped grads")
    for i, case in enumerate(ref["clip_grad_value"]):
        p = torch.zeros(len(case["grads"]), requires_grad=True)
        p.grad = torch.tensor(case["grads"], dtype=torch.float64)
        torch.nn.utils.clip_grad_value_([p], case["clip_value"])
        report("clip", f"clip_grad_value_ #{i} (clip_value {case['clip_value']})", case["clipped"], p.grad.tolist())


# =============================================================================================
# 2. Losses


def parse_loss_cases():
    """The CASES constant of crates/loss/tests/reference.rs as dicts."""
    src = open(os.path.join(ROOT, "crates/loss/tests/reference.rs")).read()
    body = src[src.index("const CASES: &[Case] = &[") :]
    cases = []
    for block in re.findall(r"Case \{(.*?)\n    \},", body, re.S):
        m = re.search(r"loss:\s*LossSpec::(\w+)\(\w+\s*\{([^}]*)\}\)", block)
        kind, params = m.group(1), m.group(2).strip()
        params = dict((k.strip(), float(v)) for k, v in (kv.split(":") for kv in params.split(",") if kv.strip()))
        case = {"kind": kind, "params": params}
        for field in ("output", "target", "cost", "grad"):
            fm = re.search(field + r":\s*(.*?),\n\s*(?:\w+:|$)", block + "\n end:", re.S)
            text = re.sub(r"\s+", " ", fm.group(1)).replace("&[", "[")
            case[field] = ast.literal_eval(text)
        cases.append(case)
    return cases


def torch_loss(kind, params, a, t):
    if kind == "Mse":
        return F.mse_loss(a, t)
    if kind == "Mae":
        return F.l1_loss(a, t)
    if kind == "Huber":
        return F.huber_loss(a, t, delta=params.get("delta", 1.0))
    if kind == "Bce":
        return F.binary_cross_entropy(a, t)
    if kind == "BceWithLogits":
        return F.binary_cross_entropy_with_logits(a, t)
    if kind == "CrossEntropy":
        return F.cross_entropy(a, t, label_smoothing=params.get("label_smoothing", 0.0))
    if kind == "HalfMse":
        return 0.5 * ((a - t) ** 2).sum() / a.shape[0]
    raise ValueError(kind)


def exact_loss(kind, params, a, t):
    """(cost, flat grad) to 60 digits from the same float inputs, from PyTorch's documented
    formulas (reduction='mean'); half_mse is 1/(2N) sum (a-t)^2."""
    M = mpmath.mpf
    n, k = len(a), len(a[0])
    A = [[M(x) for x in r] for r in a]
    T = [[M(x) for x in r] for r in t]
    pairs = [(x, y) for ra, rt in zip(A, T) for x, y in zip(ra, rt)]
    nk = M(n * k)
    if kind == "Mse":
        return sum((x - y) ** 2 for x, y in pairs) / nk, [2 * (x - y) / nk for x, y in pairs]
    if kind == "HalfMse":
        return sum((x - y) ** 2 for x, y in pairs) / (2 * n), [(x - y) / n for x, y in pairs]
    if kind == "Mae":
        return sum(abs(x - y) for x, y in pairs) / nk, [mpmath.sign(x - y) / nk for x, y in pairs]
    if kind == "Huber":
        d = M(params.get("delta", 1.0))
        ell = lambda x: x * x / 2 if abs(x) < d else d * (abs(x) - d / 2)
        return sum(ell(x - y) for x, y in pairs) / nk, [min(max(x - y, -d), d) / nk for x, y in pairs]
    if kind == "Bce":
        # BCELoss's forward, and its backward's floor: 1e-12 as a single-precision constant.
        L = lambda p: max(mpmath.log(p), -100) if p > 0 else M(-100)
        eps = M(struct.unpack("f", struct.pack("f", 1e-12))[0])
        cost = -sum(y * L(x) + (1 - y) * L(1 - x) for x, y in pairs) / nk
        return cost, [(x - y) / max(x * (1 - x), eps) / nk for x, y in pairs]
    if kind == "BceWithLogits":
        sig = lambda x: 1 / (1 + mpmath.exp(-x))
        return (-sum(y * mpmath.log(sig(x)) + (1 - y) * mpmath.log(1 - sig(x)) for x, y in pairs) / nk,
                [(sig(x) - y) / nk for x, y in pairs])
    if kind == "CrossEntropy":
        eps = M(params.get("label_smoothing", 0.0))
        cost, grad = M(0), []
        for xs, ys in zip(A, T):
            ys = [(1 - eps) * y + eps / k for y in ys]
            z = sum(mpmath.exp(x) for x in xs)
            sm = [mpmath.exp(x) / z for x in xs]
            cost -= sum(y * mpmath.log(q) for y, q in zip(ys, sm))
            grad += [(q * sum(ys) - y) / n for q, y in zip(sm, ys)]
        return cost / n, grad
    raise ValueError(kind)


def check_losses():
    print("\n== 2. Losses (crates/loss/tests/reference.rs CASES, reduction='mean', autograd)")
    cases = parse_loss_cases()
    # half_mse has no CASES entry (reference.rs leaves it to the doctest): the doctest's example.
    cases.append(dict(kind="HalfMse", params={}, output=[[0.5, 1.0], [0.0, 0.0]], target=[[0.0, 1.0], [0.0, 1.0]], cost=0.3125, grad=[[0.25, 0.0], [0.0, -0.5]]))
    counts = {}
    for case in cases:
        counts[case["kind"]] = counts.get(case["kind"], 0) + 1
        name = f"{case['kind']}{case['params'] or ''} #{counts[case['kind']]}"
        a = torch.tensor(case["output"], dtype=torch.float64, requires_grad=True)
        t = torch.tensor(case["target"], dtype=torch.float64)
        cost = torch_loss(case["kind"], case["params"], a, t)
        cost.backward()
        tg = a.grad.tolist()
        ecost, egrad = exact_loss(case["kind"], case["params"], case["output"], case["target"])
        report("loss cost", name, [case["cost"]], [cost.item()], exact=[ecost])
        report("loss grad", name, case["grad"], tg, exact=egrad)


# =============================================================================================
# 3. Activations (through the release binary)

Z = [-800.0, -30.0, -20.5, -10.0, -5.0, -2.5, -1.0, -0.5, -1e-8, -1e-300, 0.0, 1e-300, 1e-8, 0.5, 1.0,
     2.5, 2.5000001, 5.0, 10.0, 10.25, 19.99, 20.0, 20.01, 30.0, 40.5, 800.0]

_sig = lambda z: 1 / (1 + mpmath.exp(-z))


def _softplus(beta, thr):
    return (lambda z: z if beta * z > thr else mpmath.log1p(mpmath.exp(beta * z)) / beta,
            lambda z: 1 if beta * z > thr else _sig(beta * z))


# (name, our config's activation, torch function, exact value, exact derivative): the exact
# ones are PyTorch's documented definitions, in mpmath, with the same float parameters.
def _gelu_tanh():
    beta, kappa = mpmath.sqrt(2 / mpmath.pi), mpmath.mpf(0.044715)
    u = lambda z: beta * (z + kappa * z ** 3)
    value = lambda z: z / 2 * (1 + mpmath.tanh(u(z)))
    derivative = lambda z: (1 + mpmath.tanh(u(z))) / 2 + z / 2 * mpmath.sech(u(z)) ** 2 * beta * (1 + 3 * kappa * z ** 2)
    return value, derivative


ACTIVATIONS = [
    ("sigmoid", "sigmoid", torch.sigmoid, _sig, lambda z: _sig(z) * (1 - _sig(z))),
    ("tanh", "tanh", torch.tanh, mpmath.tanh, lambda z: mpmath.sech(z) ** 2),
    ("relu", "relu", F.relu, lambda z: max(z, 0), lambda z: 1 if z > 0 else 0),
    ("identity", "identity", lambda z: z * 1.0, lambda z: z, lambda z: 1),
    ("leaky_relu default", {"kind": "leaky_relu"}, lambda z: F.leaky_relu(z),
     lambda z: z if z > 0 else mpmath.mpf(0.01) * z, lambda z: 1 if z > 0 else mpmath.mpf(0.01)),
    ("leaky_relu alpha=0.2", {"kind": "leaky_relu", "alpha": 0.2}, lambda z: F.leaky_relu(z, negative_slope=0.2),
     lambda z: z if z > 0 else mpmath.mpf(0.2) * z, lambda z: 1 if z > 0 else mpmath.mpf(0.2)),
    ("leaky_relu negative_slope=0.3", {"kind": "leaky_relu", "negative_slope": 0.3}, lambda z: F.leaky_relu(z, negative_slope=0.3),
     lambda z: z if z > 0 else mpmath.mpf(0.3) * z, lambda z: 1 if z > 0 else mpmath.mpf(0.3)),
    ("elu default", {"kind": "elu"}, lambda z: F.elu(z),
     lambda z: z if z > 0 else mpmath.expm1(z), lambda z: 1 if z > 0 else mpmath.exp(z)),
    ("elu alpha=0.5", {"kind": "elu", "alpha": 0.5}, lambda z: F.elu(z, alpha=0.5),
     lambda z: z if z > 0 else mpmath.mpf(0.5) * mpmath.expm1(z), lambda z: 1 if z > 0 else mpmath.mpf(0.5) * mpmath.exp(z)),
    ("gelu", "gelu", lambda z: F.gelu(z), lambda z: z * mpmath.ncdf(z), lambda z: mpmath.ncdf(z) + z * mpmath.npdf(z)),
    ("gelu approximate=tanh", {"kind": "gelu", "approximate": "tanh"}, lambda z: F.gelu(z, approximate="tanh"),
     *_gelu_tanh()),
    ("softplus default", {"kind": "softplus"}, lambda z: F.softplus(z), *_softplus(1, 20)),
    ("softplus beta=2 threshold=5", {"kind": "softplus", "beta": 2.0, "threshold": 5.0},
     lambda z: F.softplus(z, beta=2.0, threshold=5.0), *_softplus(2, 5)),
    ("softplus beta=0.5", {"kind": "softplus", "beta": 0.5}, lambda z: F.softplus(z, beta=0.5), *_softplus(0.5, 20)),
    ("silu", "silu", F.silu, lambda z: z * _sig(z), lambda z: _sig(z) * (1 + z * (1 - _sig(z)))),
    ("swish", "swish", F.silu, lambda z: z * _sig(z), lambda z: _sig(z) * (1 + z * (1 - _sig(z)))),
]

SOFTMAX_ROWS = [[0.0, 0.0, 0.0], [1.0, 2.0, 3.0], [-800.0, 0.0, 800.0], [30.0, -30.0, 0.5], [1000.0, 1000.0, -1000.0], [-2.5, 1e-8, -1e-8]]
TARGET = -3.0  # so dC/da = a + 3 != 0: the backward pass carries the derivative


def toml_inline(act):
    if isinstance(act, str):
        return json.dumps(act)
    return "{ " + ", ".join(f"{k} = {json.dumps(v)}" for k, v in act.items()) + " }"


def explain(tmp, act, rows):
    """backprop's forward/backward on a one-layer net with identity weights: inputs = rows of z.
    Returns one explain JSON per row."""
    k = len(rows[0])
    with open(os.path.join(tmp, "d.csv"), "w") as f:
        f.write(",".join([f"x{i}" for i in range(k)] + [f"t{i}" for i in range(k)]) + "\n")
        for row in rows:
            f.write(",".join([repr(v) for v in row] + [repr(TARGET)] * k) + "\n")
    with open(os.path.join(tmp, "c.toml"), "w") as f:
        f.write(f"""[experiment]
name = "act"
dtype = "f64"
[data]
source = "csv"
path = "d.csv"
targets = [{", ".join(json.dumps(f"t{i}") for i in range(k))}]
[model]
hidden = []
activation = {toml_inline(act)}
output_activation = {toml_inline(act)}
[loss]
kind = "half_mse"
[optim]
kind = "sgd"
lr = 0.1
[train]
epochs = 1
""")
    eye = [[1.0 if i == j else 0.0 for j in range(k)] for i in range(k)]
    model = dict(format="backprop.model", version=1, dtype="f64", inputs=k,
                 layers=[dict(units=k, activation=act, weights=eye, biases=[0.0] * k)])
    with open(os.path.join(tmp, "m.json"), "w") as f:
        json.dump(model, f)
    out = []
    for i in range(len(rows)):
        r = subprocess.run([BIN, "explain", "c.toml", "--model", "m.json", "--sample", str(i), "--format", "json"],
                           cwd=tmp, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"backprop explain failed: {r.stderr.strip()}")
        out.append(json.loads(r.stdout))
    return out


def check_activations():
    print("\n== 3. Activations (backprop explain --format json vs torch.nn.functional; z grid "
          f"{len(Z)} values from -800 to 800)")
    if not os.access(BIN, os.X_OK):
        skip("activation", "all", f"no binary at {BIN}")
        return
    with tempfile.TemporaryDirectory() as tmp:
        labels = [f"z={z!r}" for z in Z]
        for name, act, fn, val, der in ACTIVATIONS:
            try:
                [ex] = explain(tmp, act, [Z])
            except RuntimeError as e:
                skip("activation", name, str(e))
                continue
            layer = ex["layers"][0]
            assert layer["z"] == Z, (name, layer["z"])
            z = torch.tensor(Z, requires_grad=True)
            a = fn(z)
            g = torch.tensor(ex["dC_da"])
            a.backward(g)
            ez = [mpmath.mpf(v) for v in Z]
            report("act value", name, layer["a"], a.tolist(), exact=[val(v) for v in ez], labels=labels)
            report("act backward", name, layer["delta"], z.grad.tolist(), "delta = dC/da * sigma'(z) vs torch z.grad for the same dC/da",
                   exact=[mpmath.mpf(g) * der(v) for g, v in zip(ex["dC_da"], ez)], labels=labels)
        exs = explain(tmp, "softmax", SOFTMAX_ROWS)
        ours_a, ours_d, torch_a, torch_d, exact_a, exact_d, labels = [], [], [], [], [], [], []
        for row, ex in zip(SOFTMAX_ROWS, exs):
            layer = ex["layers"][0]
            assert layer["z"] == row
            z = torch.tensor([row], requires_grad=True)
            a = F.softmax(z, dim=1)
            a.backward(torch.tensor([ex["dC_da"]]))
            ours_a.append(layer["a"]), ours_d.append(layer["delta"])
            torch_a.append(a[0].tolist()), torch_d.append(z.grad[0].tolist())
            e = [mpmath.exp(mpmath.mpf(v)) for v in row]
            sm = [v / sum(e) for v in e]
            g = [mpmath.mpf(v) for v in ex["dC_da"]]
            dot = sum(x * y for x, y in zip(sm, g))
            exact_a += sm
            exact_d += [x * (y - dot) for x, y in zip(sm, g)]
            labels += [f"row {row} element {j}" for j in range(len(row))]
        report("act value", f"softmax ({len(SOFTMAX_ROWS)} rows)", ours_a, torch_a, exact=exact_a, labels=labels)
        report("act backward", f"softmax ({len(SOFTMAX_ROWS)} rows)", ours_d, torch_d, "Jacobian-vector product with dC/da",
               exact=exact_d, labels=labels)


# =============================================================================================
# 4. Initialisation


class FakeTensor:
    """Just enough of a tensor for torch.nn.init: records what it is asked to fill with."""

    def __init__(self, shape):
        self.shape = torch.Size(shape)
        self.seen = None

    def dim(self):
        return len(self.shape)

    def size(self, i=None):
        return self.shape if i is None else self.shape[i]

    def uniform_(self, a, b, generator=None):
        self.seen = ("uniform", a, b)
        return self

    def normal_(self, mean, std, generator=None):
        self.seen = ("normal", mean, std)
        return self


def torch_fill_args(fn, shape, **kwargs):
    """The (kind, numbers) torch.nn.init itself passes to its uniform/normal fill for a weight
    of `shape` (torch layout (fan_out, fan_in)): torch's own computation of the bound or std."""
    if fn == "linear":
        # nn.Linear.reset_parameters: run it on a Linear whose weight is a FakeTensor.
        lin = torch.nn.Linear.__new__(torch.nn.Linear)
        torch.nn.Module.__init__(lin)
        fake = FakeTensor(shape)
        object.__setattr__(lin, "weight", fake)
        object.__setattr__(lin, "bias", None)
        torch.nn.Linear.reset_parameters(lin)
        return fake.seen
    fake = FakeTensor(shape)
    getattr(torch.nn.init, fn)(fake, **kwargs)
    return fake.seen


def our_gain(nonlinearity, a):
    """crates/tensor/src/init/mod.rs, Nonlinearity::gain."""
    return {"linear": 1.0, "sigmoid": 1.0, "tanh": 5.0 / 3.0, "relu": math.sqrt(2.0),
            "leaky_relu": math.sqrt(2.0 / (1.0 + a * a)), "selu": 0.75}[nonlinearity]


def check_init():
    print("\n== 4. Initialisation (crates/tensor/src/init formulas vs torch.nn.init's own bound/std)")
    fans = [(1, 1), (3, 7), (30, 20), (784, 128), (1000, 10)]
    for fan_in, fan_out in fans:
        shape = (fan_out, fan_in)  # torch's Linear weight layout: fan_in = size(1)
        for nl in ["linear", "sigmoid", "tanh", "relu", "leaky_relu", "selu"]:
            for a in ([0.0, 0.01, 0.2, math.sqrt(5)] if nl == "leaky_relu" else [0.0, 0.3]):
                g = torch.nn.init.calculate_gain(nl, a)
                for mode in ["fan_in", "fan_out"]:
                    fan = fan_in if mode == "fan_in" else fan_out
                    ours_b = our_gain(nl, a) * math.sqrt(3.0 / max(fan, 1))  # kaiming_uniform.rs
                    ours_s = our_gain(nl, a) / math.sqrt(max(fan, 1))  # kaiming_normal.rs
                    _, lo, hi = torch_fill_args("kaiming_uniform_", shape, a=a, mode=mode, nonlinearity=nl)
                    _, _, std = torch_fill_args("kaiming_normal_", shape, a=a, mode=mode, nonlinearity=nl)
                    INIT_ROWS.append((f"kaiming {nl} a={a:.6g} {mode} fan=({fan_in},{fan_out})",
                                      [our_gain(nl, a), ours_b, -ours_b, ours_s], [g, hi, lo, std]))
        for gain in [1.0, 5.0 / 3.0, math.sqrt(2.0)]:
            _, lo, hi = torch_fill_args("xavier_uniform_", shape, gain=gain)
            _, _, std = torch_fill_args("xavier_normal_", shape, gain=gain)
            ours_b = gain * math.sqrt(6.0 / max(fan_in + fan_out, 1))  # xavier_uniform.rs
            ours_s = gain * math.sqrt(2.0 / max(fan_in + fan_out, 1))  # xavier_normal.rs
            INIT_ROWS.append((f"xavier gain={gain:.6g} fan=({fan_in},{fan_out})", [ours_b, -ours_b, ours_s], [hi, lo, std]))
        # lecun_* are documented as kaiming_*(mode="fan_in", nonlinearity="linear").
        _, lo, hi = torch_fill_args("kaiming_uniform_", shape, mode="fan_in", nonlinearity="linear")
        _, _, std = torch_fill_args("kaiming_normal_", shape, mode="fan_in", nonlinearity="linear")
        INIT_ROWS.append((f"lecun fan=({fan_in},{fan_out})", [math.sqrt(3.0 / fan_in), 1.0 / math.sqrt(fan_in)], [hi, std]))
        # The claim: kaiming_uniform with a = sqrt(5) (fan_in) is nn.Linear's default weight init.
        _, lo, hi = torch_fill_args("linear", shape)
        ours_b = our_gain("leaky_relu", math.sqrt(5)) * math.sqrt(3.0 / fan_in)
        INIT_ROWS.append((f"kaiming_uniform a=sqrt(5) vs nn.Linear default, fan_in={fan_in}", [ours_b, -ours_b], [hi, lo]))
        INIT_ROWS.append((f"kaiming_uniform a=sqrt(5) vs 1/sqrt(fan_in) (nn.Linear bias bound), fan_in={fan_in}", [ours_b], [1.0 / math.sqrt(fan_in)]))

    groups = {}
    for name, ours, theirs in INIT_ROWS:
        key = name.split(" ")[0] if not name.startswith("kaiming_uniform a=sqrt(5)") else name.split(",")[0]
        groups.setdefault(key, []).append((name, ours, theirs))
    for key, rows in groups.items():
        ours = [v for _, o, _ in rows for v in o]
        theirs = [v for _, _, t in rows for v in t]
        worst = max(rows, key=lambda r: diff(r[1], r[2])[1])
        n_ident = sum(diff(r[1], r[2])[2] for r in rows)
        report("init", f"{key} ({len(rows)} configs, {n_ident} bit-identical)", ours, theirs,
               f"worst: {worst[0]}: ours {worst[1]}, torch {worst[2]}" if not diff(worst[1], worst[2])[2] else "")
    check_init_draws()


INIT_ROWS = []


def check_init_draws():
    """Loose sanity check that the binary's draws follow the documented bound/std (random draws
    cannot match torch's; this only catches a wrong formula in the code behind the docs)."""
    if not os.access(BIN, os.X_OK):
        skip("init draws", "all", f"no binary at {BIN}")
        return
    n = 20000
    specs = [
        ("kaiming_uniform a=sqrt(5)", "{ kind = \"kaiming_uniform\", a = 2.23606797749979 }", "u", lambda fi, fo: 1 / math.sqrt(fi)),
        ("kaiming_uniform fan_out tanh", "{ kind = \"kaiming_uniform\", mode = \"fan_out\", nonlinearity = \"tanh\" }", "u", lambda fi, fo: 5 / 3 * math.sqrt(3 / fo)),
        ("kaiming_normal leaky_relu a=0.2", "{ kind = \"kaiming_normal\", a = 0.2 }", "n", lambda fi, fo: math.sqrt(2 / 1.04) / math.sqrt(fi)),
        ("xavier_uniform gain=2", "{ kind = \"xavier_uniform\", gain = 2.0 }", "u", lambda fi, fo: 2 * math.sqrt(6 / (fi + fo))),
        ("xavier_normal", "{ kind = \"xavier_normal\" }", "n", lambda fi, fo: math.sqrt(2 / (fi + fo))),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "d.csv"), "w") as f:
            f.write("x0,x1,x2,t\n" + "".join(f"{i},{i % 3},{i % 5},0\n" for i in range(8)))
        for name, init, kind, expect in specs:
            with open(os.path.join(tmp, "c.toml"), "w") as f:
                f.write(f"""[experiment]
name = "init"
dtype = "f64"
seed = 3
[data]
source = "csv"
path = "d.csv"
targets = ["t"]
[model]
hidden = [{n}]
activation = "identity"
init = {init}
[loss]
kind = "mse"
[optim]
kind = "sgd"
lr = 1e-300
[train]
epochs = 1
""")
            r = subprocess.run([BIN, "train", "c.toml"], cwd=tmp, capture_output=True, text=True)
            runs = os.path.join(tmp, "runs", "init")
            if r.returncode != 0 or not os.path.isdir(runs):
                skip("init draws", name, f"backprop train failed: {r.stderr.strip()[:200]}")
                continue
            run = sorted(os.listdir(runs))[-1]
            m = json.load(open(os.path.join(runs, run, "model.json")))
            ok, notes = True, []
            for L, (fi, fo) in zip(m["layers"], [(3, n), (n, 1)]):
                w = [x for row in L["weights"] for x in row]
                want = expect(fi, fo)
                if kind == "u":
                    mx = max(abs(x) for x in w)
                    ok &= mx <= want and mx >= want * (1 - 20 / len(w))
                    notes.append(f"fan=({fi},{fo}) max|w| {mx:.6g} vs bound {want:.6g}")
                else:
                    sd = math.sqrt(sum(x * x for x in w) / len(w))
                    ok &= abs(sd / want - 1) < 5 / math.sqrt(2 * len(w))
                    notes.append(f"fan=({fi},{fo}) rms {sd:.6g} vs std {want:.6g}")
            status = "PASS" if ok else "FAIL"
            print(f"{status:9} [init draws] {name}: " + "; ".join(notes))
            RESULTS.append(("init draws", name, status))


# =============================================================================================


def main():
    print(f"torch {torch.__version__}, float64, repo {ROOT}, binary {BIN}\n")
    check_optim()
    check_losses()
    check_activations()
    check_init()
    print("\n== Summary")
    by = {}
    for section, name, status in RESULTS:
        by.setdefault(section.split(" ")[0], []).append(status)
    for section, sts in by.items():
        counts = {s: sts.count(s) for s in sorted(set(sts))}
        print(f"{section:11} {len(sts):4} checks: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    fails = [(s, n) for s, n, st in RESULTS if st == "FAIL"]
    worse = [(s, n) for s, n, st in RESULTS if st == "TORCH-LESS-ACCURATE"]
    devs = [(s, n) for s, n, st in RESULTS if st == "DEVIATION"]
    skips = [(s, n) for s, n, st in RESULTS if st == "SKIP"]
    rounding = [(s, n) for s, n, st in RESULTS if st == "ROUNDING"]
    passed = len(RESULTS) - len(fails) - len(worse) - len(devs) - len(skips) - len(rounding)
    print(f"TOTAL {len(RESULTS)} checks: {passed} pass "
          f"({sum(st == 'IDENTICAL' for *_, st in RESULTS)} bit-identical), {len(fails)} FAIL, "
          f"{len(rounding)} ROUNDING (cancellation, within {ROUNDING_ULPS} ulps of the case's largest value), "
          f"{len(worse)} differ beyond {TOL:g} with ours closer to exact (TORCH-LESS-ACCURATE), "
          f"{len(devs)} documented DEVIATION, {len(skips)} SKIP")
    for s, n in fails:
        print(f"  FAIL [{s}] {n}")
    for s, n in rounding:
        print(f"  ROUNDING [{s}] {n}")
    for s, n in worse:
        print(f"  TORCH-LESS-ACCURATE [{s}] {n}")
    for s, n in devs:
        print(f"  DEVIATION [{s}] {n}")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
