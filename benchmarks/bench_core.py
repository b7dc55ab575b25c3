"""Core engine speed against hand-written NumPy, in one run, one thread, float32.

1. MLP training step: batch 256, 784-512-512-10, ReLU, softmax cross-entropy (target <= 1.15x).
2. A chain of 2,000 small ops on an 8-element vector, forward and backward (target <= 5x):
   1,000 rounds of ``tanh(x * 1.01 + 0.1)`` then ``x * 0.99 + 0.01``.

Run: ``python benchmarks/bench_core.py``. Both implementations are checked to give the
same gradients before they are timed.
"""

from __future__ import annotations

import _timing  # noqa: I001  (sets one BLAS thread before NumPy loads)
import numpy as np

import minigrad as mg

# ----- 1. MLP --------------------------------------------------------------------------
rng = np.random.default_rng(0)
f32 = np.float32
X = rng.standard_normal((256, 784)).astype(f32)
Y = rng.integers(0, 10, size=256)
SIZES = [(784, 512), (512, 512), (512, 10)]
WEIGHTS = [(rng.standard_normal(s).astype(f32) * f32(np.sqrt(2 / s[0])), np.zeros(s[1], f32)) for s in SIZES]


# A training step reuses its parameters: they are made once, like the NumPy side's arrays.
PARAMS = [(mg.tensor(W, requires_grad=True), mg.tensor(b, requires_grad=True)) for W, b in WEIGHTS]
X_TENSOR = mg.tensor(X)


def mlp_minigrad():
    params = PARAMS
    for pair in params:
        for p in pair:
            p.zero_grad()
    h = X_TENSOR
    for k, (W, b) in enumerate(params):
        h = h @ W + b
        if k < len(params) - 1:
            h = h.relu()
    logp = mg.log_softmax(h, axis=1)
    loss = -logp[np.arange(len(Y)), Y].mean()
    loss.backward()
    return [p.grad for pair in params for p in pair]


def mlp_numpy():
    hs, zs = [X], []
    h = X
    for k, (W, b) in enumerate(WEIGHTS):
        z = h @ W + b
        zs.append(z)
        h = np.maximum(z, 0) if k < len(WEIGHTS) - 1 else z
        hs.append(h)
    shifted = h - h.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    softmax = e / e.sum(axis=1, keepdims=True)
    g = softmax
    g[np.arange(len(Y)), Y] -= 1
    g /= len(Y)
    grads = []
    for k in reversed(range(len(WEIGHTS))):
        W, _ = WEIGHTS[k]
        if k < len(WEIGHTS) - 1:
            g = g * (zs[k] > 0)
        grads[:0] = [hs[k].T @ g, g.sum(axis=0)]
        if k > 0:  # the input X needs no gradient (minigrad skips it too)
            g = g @ W.T
    return grads


# ----- 2. chain of small ops ----------------------------------------------------------
X0 = np.linspace(-1, 1, 8).astype(f32)
ROUNDS = 1000  # 2 ops per round in the counting: (x*1.01+0.1 -> tanh) and (x*0.99+0.01)


def chain_minigrad():
    x = mg.tensor(X0, requires_grad=True)
    h = x
    for _ in range(ROUNDS):
        h = (h * 1.01 + 0.1).tanh()
        h = h * 0.99 + 0.01
    h.sum().backward()
    return x.grad


def chain_numpy():
    h, saved = X0, []
    for _ in range(ROUNDS):
        y = np.tanh(h * f32(1.01) + f32(0.1))
        saved.append(y)
        h = y * f32(0.99) + f32(0.01)
    g = np.ones_like(h)
    for y in reversed(saved):
        g = g * f32(0.99)
        g = g * (1 - y * y) * f32(1.01)
    return g


def main() -> dict:
    for a, b in zip(mlp_minigrad(), mlp_numpy()):
        np.testing.assert_allclose(a, b, rtol=2e-3, atol=1e-5)
    np.testing.assert_allclose(chain_minigrad(), chain_numpy(), rtol=1e-4)
    print(f"minigrad {mg.__version__}, numpy {np.__version__}, float32, one thread")
    mlp = _timing.report(
        "MLP step (256, 784-512-512-10)", *_timing.best_times_alternating([mlp_minigrad, mlp_numpy]), 1.15
    )
    chain = _timing.report(
        "chain of 2,000 small ops (8 elements)", *_timing.best_times_alternating([chain_minigrad, chain_numpy]), 5.0
    )
    return {"mlp_ratio": mlp, "chain_ratio": chain}


if __name__ == "__main__":
    main()
