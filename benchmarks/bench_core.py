"""Core engine speed against hand-written NumPy, in one run, one thread, float32.

1. MLP training step: batch 256, 784-512-512-10, ReLU, softmax cross-entropy (target <= 1.1x, issue 28; was 1.15x).
2. A chain of 2,000 small ops on an 8-element vector, forward and backward (target <= 3x,
   issue 28; was 5x):
   1,000 rounds of ``tanh(x * 1.01 + 0.1)`` then ``x * 0.99 - 0.099`` (5,000 recorded ops).

Method. The NumPy side is what a careful NumPy programmer writes: constants made once, outside
the loop; buffers reused where natural (the chain's running value and its gradient; the MLP's
softmax gradient in place). Both sides are first checked to agree: the MLP's gradients, and
the chain's gradient with respect to its input, which is asserted to be a normal (not subnormal,
not zero) float32 on both sides. Then ``_timing.best_times_alternating`` runs the two sides in
turn (minigrad, NumPy, minigrad, ...) after warm-ups and keeps each side's best **CPU time**
(``time.process_time``: a shared machine's waiting for a core is not counted); the ratio is
minigrad / NumPy within this one process. Record the machine's load average beside the figures.

Run: ``python benchmarks/bench_core.py`` (``--rounds K`` for best of K, default 7).
"""

from __future__ import annotations

import os
import sys
import time

import _timing  # noqa: I001  (sets one BLAS thread before NumPy loads)
import numpy as np

import minigrad as mg

REPEATS = int(sys.argv[sys.argv.index("--rounds") + 1]) if "--rounds" in sys.argv else 7

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
ROWS = np.arange(len(Y))  # made once, for both sides


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
    loss = -logp[ROWS, Y].mean()
    loss.backward()
    return [p.grad for pair in params for p in pair]


def mlp_numpy():
    hs, zs = [X], []
    h = X
    for k, (W, b) in enumerate(WEIGHTS):
        z = h @ W
        z += b
        zs.append(z)
        h = np.maximum(z, 0) if k < len(WEIGHTS) - 1 else z
        hs.append(h)
    g = h - h.max(axis=1, keepdims=True)  # softmax, in one buffer that becomes the gradient
    np.exp(g, out=g)
    g /= g.sum(axis=1, keepdims=True)
    g[ROWS, Y] -= 1
    g /= len(Y)
    grads = []
    for k in reversed(range(len(WEIGHTS))):
        W, _ = WEIGHTS[k]
        if k < len(WEIGHTS) - 1:
            g *= zs[k] > 0
        grads[:0] = [hs[k].T @ g, g.sum(axis=0)]
        if k > 0:  # the input X needs no gradient (minigrad skips it too)
            g = g @ W.T
    return grads


# ----- 2. chain of small ops ----------------------------------------------------------
X0 = np.linspace(-1, 1, 8).astype(f32)
ROUNDS = 1000  # 2 ops per round in the counting: (x*1.01+0.1 -> tanh) and (x*0.99-0.099)
# The second map's offset -0.099 (about -0.1/1.01) puts the round's fixed point where tanh's
# argument is 0, so each round's derivative stays near 1.01*0.99: the gradient reaching x is
# 3e-5 to 0.34 after all 1,000 rounds, and every value stays a normal float32. (With +0.01 the
# gradient shrank ~2x per round and was a subnormal 1e-45, or 0, after ~150 rounds: the check
# compared zeros, and subnormal arithmetic is slow on some CPUs.)
A, B, C, D = f32(1.01), f32(0.1), f32(0.99), f32(-0.099)
AC = A * C  # the backward pass's constant factor, folded once


def chain_minigrad():
    x = mg.tensor(X0, requires_grad=True)
    h = x
    for _ in range(ROUNDS):
        h = (h * 1.01 + 0.1).tanh()
        h = h * 0.99 - 0.099
    h.sum().backward()
    return x.grad


def chain_numpy():
    """What a careful NumPy programmer writes: constants hoisted, one ufunc call per op, in place.

    Forward: 5 ufunc calls per round, writing into a fresh ``y`` (kept for backward) and one
    reused ``h``. Backward: ``g *= A*C * (1 - y*y)`` as 4 in-place calls on two reused buffers.
    """
    h = X0.copy()
    saved = []
    for _ in range(ROUNDS):
        y = np.multiply(h, A)
        y += B
        np.tanh(y, out=y)
        saved.append(y)
        np.multiply(y, C, out=h)
        h += D
    g = np.ones_like(h)
    tmp = np.empty_like(h)
    for y in reversed(saved):
        np.multiply(y, y, out=tmp)
        np.subtract(1, tmp, out=tmp)  # tanh' = 1 - y^2
        tmp *= AC
        g *= tmp
    return g


def check_chain() -> None:
    """Both sides agree, on numbers that are neither zero nor subnormal (so the check means something)."""
    g_mg, g_np = np.asarray(chain_minigrad()), chain_numpy()
    tiny = np.finfo(f32).tiny  # the smallest normal float32
    assert np.all(np.abs(g_np) > 1e3 * tiny) and np.all(np.abs(g_mg) > 1e3 * tiny), (g_np, g_mg)
    assert np.abs(g_np).min() > 1e-6, g_np  # measured 3e-5 to 0.34
    np.testing.assert_allclose(g_mg, g_np, rtol=1e-3)


def main() -> dict:
    for a, b in zip(mlp_minigrad(), mlp_numpy()):
        np.testing.assert_allclose(a, b, rtol=2e-3, atol=1e-5)
    check_chain()
    print(f"minigrad {mg.__version__}, numpy {np.__version__}, float32, one thread")
    print(f"load average {' '.join(f'{v:.1f}' for v in os.getloadavg())}, best of {REPEATS}, CPU time")
    cpu = time.process_time
    mlp = _timing.report(
        "MLP step (256, 784-512-512-10)",
        *_timing.best_times_alternating([mlp_minigrad, mlp_numpy], repeats=REPEATS, clock=cpu),
        1.1,
    )
    chain = _timing.report(
        "chain of 2,000 small ops (8 elements)",
        *_timing.best_times_alternating([chain_minigrad, chain_numpy], repeats=REPEATS, clock=cpu),
        3.0,
    )
    return {"mlp_ratio": mlp, "chain_ratio": chain}


if __name__ == "__main__":
    main()
