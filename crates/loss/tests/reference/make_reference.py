#!/usr/bin/env python3
"""Reference values for crates/loss/tests/reference.rs, independent of the Rust code.

Each loss is written straight from its PyTorch documentation (torch.nn.MSELoss, L1Loss,
HuberLoss, BCELoss, BCEWithLogitsLoss, CrossEntropyLoss with class-probability targets), with
reduction='mean', using only the standard library. Gradients are PyTorch's backward formulas (for BCELoss its
binary_cross_entropy_backward, whose floor EPSILON is 1e-12 as a single-precision constant, and
its forward's log1p(-a)).
Where the Rust code uses a rewritten form (the stable logit formulas, the log-sum-exp), this
script uses the plain textbook one on moderate inputs, so the two agree only if both are right.

Run `python3 make_reference.py`, paste its output over the CASES constant in reference.rs, then
`rustfmt --edition 2024 reference.rs` (which only rewraps the long rows).
"""

import math
import struct


def mean(values):
    values = list(values)
    return math.fsum(values) / len(values)


def elements(a, t):
    return [(x, y) for row_a, row_t in zip(a, t) for x, y in zip(row_a, row_t)]


def shape_like(a, flat):
    k = len(a[0])
    return [flat[i : i + k] for i in range(0, len(flat), k)]


def mse(a, t):
    n = len(a) * len(a[0])
    cost = mean((x - y) ** 2 for x, y in elements(a, t))
    grad = [2.0 * (x - y) / n for x, y in elements(a, t)]
    return cost, shape_like(a, grad)


def sign(x):
    return (x > 0) - (x < 0)


def mae(a, t):
    n = len(a) * len(a[0])
    cost = mean(abs(x - y) for x, y in elements(a, t))
    grad = [sign(x - y) / n for x, y in elements(a, t)]
    return cost, shape_like(a, grad)


def huber(a, t, delta=1.0):
    n = len(a) * len(a[0])

    def ell(x):
        return 0.5 * x * x if abs(x) < delta else delta * (abs(x) - 0.5 * delta)

    cost = mean(ell(x - y) for x, y in elements(a, t))
    grad = [min(max(x - y, -delta), delta) / n for x, y in elements(a, t)]
    return cost, shape_like(a, grad)


def clamped_log(p):
    return max(math.log(p), -100.0) if p > 0 else -100.0


def clamped_log1p(x):
    return max(math.log1p(x), -100.0) if x > -1 else -100.0


# PyTorch's EPSILON in binary_cross_entropy_backward: 1e-12 rounded to single precision.
BCE_EPSILON = struct.unpack("f", struct.pack("f", 1e-12))[0]


def bce(a, t):
    n = len(a) * len(a[0])
    cost = mean(-(y * clamped_log(x) + (1 - y) * clamped_log1p(-x)) for x, y in elements(a, t))
    grad = [(x - y) / max((1 - x) * x, BCE_EPSILON) / n for x, y in elements(a, t)]
    return cost, shape_like(a, grad)


def sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x))


def bce_with_logits(a, t):
    n = len(a) * len(a[0])
    # The documented form, -[y log σ(x) + (1 - y) log(1 - σ(x))], fine for moderate logits.
    cost = mean(-(y * math.log(sigmoid(x)) + (1 - y) * math.log(1 - sigmoid(x))) for x, y in elements(a, t))
    grad = [(sigmoid(x) - y) / n for x, y in elements(a, t)]
    return cost, shape_like(a, grad)


def cross_entropy(a, t, label_smoothing=0.0):
    n, k = len(a), len(a[0])
    losses, grad = [], []
    for xs, ys in zip(a, t):
        ys = [(1 - label_smoothing) * y + label_smoothing / k for y in ys]
        z = math.fsum(math.exp(x) for x in xs)
        softmax = [math.exp(x) / z for x in xs]
        losses.append(-math.fsum(y * math.log(p) for y, p in zip(ys, softmax)))
        grad.append([(p - y) / n for p, y in zip(softmax, ys)])
    # Probability targets: 'mean' divides by the batch size N, not N·K.
    return math.fsum(losses) / n, grad


CASES = [
    ("Mse(Mse {})", mse, {}, [[0.3, -1.2, 2.5], [0.0, 0.7, -0.4]], [[0.1, 0.4, 2.0], [-0.5, 0.7, 1.1]]),
    ("Mse(Mse {})", mse, {}, [[1.5], [-2.0], [0.25]], [[0.0], [1.0], [0.75]]),
    ("Mae(Mae {})", mae, {}, [[0.3, -1.2, 2.5], [0.0, 0.7, -0.4]], [[0.1, 0.4, 2.0], [-0.5, 0.7, 1.1]]),
    ("Mae(Mae {})", mae, {}, [[1.5, -2.0, 0.25, 3.0]], [[0.0, 1.0, 0.75, 3.0]]),
    ("Huber(Huber { delta: 1.0 })", huber, {}, [[0.3, -1.2, 2.5], [0.0, 1.75, -0.4]], [[0.1, 0.4, 0.5], [-0.5, 0.75, 1.1]]),
    ("Huber(Huber { delta: 0.5 })", huber, {"delta": 0.5}, [[0.3, -1.2, 2.5], [0.0, 1.75, -0.4]], [[0.1, 0.4, 0.5], [-0.5, 0.75, 1.1]]),
    ("Huber(Huber { delta: 2.5 })", huber, {"delta": 2.5}, [[0.3, -1.2, 4.0], [0.0, 1.75, -0.4]], [[0.1, 0.4, 0.5], [-0.5, 0.75, 1.1]]),
    ("Bce(Bce {})", bce, {}, [[0.2, 0.9, 0.5], [0.01, 0.999, 0.6]], [[1.0, 0.0, 0.5], [0.0, 1.0, 0.3]]),
    ("Bce(Bce {})", bce, {}, [[0.0, 1.0], [1.0, 0.3], [0.0, 1e-50]], [[0.3, 1.0], [0.2, 0.0], [1.0, 0.5]]),
    # Between the clamps: (1 - a)·a below the gradient's floor, no log clamped.
    ("Bce(Bce {})", bce, {}, [[1e-13, 0.9999999999999], [9.357622968840175e-14, 0.5]], [[0.0, 1.0], [1.0, 0.25]]),
    ("BceWithLogits(BceWithLogits {})", bce_with_logits, {}, [[-2.0, 0.0, 0.5], [3.0, -0.25, 4.5]], [[0.0, 1.0, 0.3], [1.0, 0.5, 0.0]]),
    ("BceWithLogits(BceWithLogits {})", bce_with_logits, {}, [[-5.0], [5.0], [1.0]], [[1.0], [1.0], [0.8]]),
    ("CrossEntropy(CrossEntropy { label_smoothing: 0.0 })", cross_entropy, {},
     [[1.0, 2.0, 0.5, -1.0], [0.0, 0.0, 3.0, 1.0], [-2.0, 0.5, 0.5, 4.0]],
     [[0.0, 1.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]]),
    ("CrossEntropy(CrossEntropy { label_smoothing: 0.0 })", cross_entropy, {},
     [[0.3, -0.7, 1.9], [2.0, 2.0, -3.0]], [[0.2, 0.5, 0.3], [0.0, 0.25, 0.75]]),
    ("CrossEntropy(CrossEntropy { label_smoothing: 0.1 })", cross_entropy, {"label_smoothing": 0.1},
     [[1.0, 2.0, 0.5, -1.0], [0.0, 0.0, 3.0, 1.0], [-2.0, 0.5, 0.5, 4.0]],
     [[0.0, 1.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]]),
    ("CrossEntropy(CrossEntropy { label_smoothing: 0.3 })", cross_entropy, {"label_smoothing": 0.3},
     [[0.3, -0.7, 1.9], [2.0, 2.0, -3.0]], [[0.0, 0.0, 1.0], [0.0, 0.25, 0.75]]),
]


def rust_matrix(m):
    return "&[" + ", ".join("&[" + ", ".join(repr(float(v)) for v in row) + "]" for row in m) + "]"


def main():
    print("// Generated by crates/loss/tests/reference/make_reference.py (then rustfmt); do not edit by hand.")
    print("const CASES: &[Case] = &[")
    for spec, loss, params, a, t in CASES:
        cost, grad = loss(a, t, **params)
        print("    Case {")
        print(f"        loss: LossSpec::{spec},")
        print(f"        output: {rust_matrix(a)},")
        print(f"        target: {rust_matrix(t)},")
        print(f"        cost: {cost!r},")
        print(f"        grad: {rust_matrix(grad)},")
        print("    },")
    print("];")


if __name__ == "__main__":
    main()
