r"""Forward mode against reverse mode: ``jacobian`` on a square map, and RTRL against BPTT per step.

1. ``mg.jacobian(f, x, strategy=...)`` for a square $f: \mathbb{R}^n \to \mathbb{R}^n$ (a tanh MLP,
   $W_3\tanh(W_2\tanh(W_1 x))$, n = 64, hidden 64): both modes make n passes over the same graph
   (forward: one ``jvp`` walk per input element; reverse: one backward pass per output element),
   so the ratio is the per-pass cost of the two walks. Both Jacobians are checked equal first.
2. RTRL against BPTT:

RTRL (``minigrad.rtrl.OnlineRTRL``) carries the influence matrix $M_t = \partial s_t/\partial\theta$
(S x P per sample) and pays $J_t M_t$, $S^2 P$ multiply-adds per sample per step; BPTT (autograd,
the graph of all T steps then one backward pass) pays about $S \cdot GH$ per step plus minigrad's
per-op Python overhead. The same loss, $\mathcal L = \tfrac12\sum_t \|h_{t+1} - y_t\|^2$, on the same
cell and data; both gradients are checked to agree (float64) before anything is timed.
There is no target: RTRL's cost is $O(S^2 P)$, and this measures what that means here.

One thread, float64, best of N (CPU time, wall time printed too), the two alternating.

Run: ``python benchmarks/bench_forward.py`` (``--quick`` for fewer repeats).
"""

from __future__ import annotations

import sys

import _timing  # noqa: F401, I001  (sets one BLAS thread before NumPy loads)
import numpy as np
from bench_rnn import interleaved

import minigrad as mg
from minigrad import nn, rtrl

T, N, H_IN = 50, 8, 8
REPEATS = 3 if "--quick" in sys.argv else 7
CELLS = {"RNN": nn.RNNCell, "LSTM": nn.LSTMCell}
SIZES = (4, 8, 16, 32)
N_SQUARE = 64


def square_jacobian():
    """(forward-mode closure, reverse-mode closure) of ``jacobian`` on one square map."""
    rng = np.random.default_rng(0)
    W1, W2, W3 = (mg.tensor(rng.normal(size=(N_SQUARE, N_SQUARE)) / np.sqrt(N_SQUARE)) for _ in range(3))
    x = rng.normal(size=N_SQUARE)

    def f(a):
        return mg.tanh(mg.tanh(a @ W1) @ W2) @ W3

    fwd = lambda: mg.jacobian(f, x, strategy="forward-mode")  # noqa: E731
    rev = lambda: mg.jacobian(f, x, strategy="reverse-mode")  # noqa: E731
    assert np.allclose(fwd(), rev(), rtol=1e-12, atol=1e-13)
    return fwd, rev


def setup(cls, H: int):
    """(BPTT closure, RTRL closure), each returning the parameter gradients of the same loss."""
    mg.manual_seed(0)
    cell = cls(H_IN, H).to(np.float64)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((T, N, H_IN))
    y = rng.standard_normal((T, N, H))

    def bptt():
        cell.zero_grad()
        s, loss = cell.initial_state(N), mg.tensor(0.0)
        for t in range(T):
            s = cell.state_step(mg.tensor(x[t]), s)
            loss = loss + 0.5 * ((s[:, :H] - mg.tensor(y[t])) ** 2).sum()
        loss.backward()
        return {name: p.grad for name, p in cell.named_parameters()}

    def forward_in_time():
        online = rtrl.OnlineRTRL(cell)
        for t in range(T):
            s = online.step(x[t])
            g = np.zeros_like(s)
            g[:, :H] = s[:, :H] - y[t]  # dL/ds_{t+1}: the loss term that s_{t+1} meets
            online.accumulate(g)
        return online.param_grads

    a, b = bptt(), forward_in_time()
    for name in a:
        assert np.allclose(a[name], b[name], rtol=1e-10, atol=1e-12), name
    P = sum(p.size for p in cell.parameters())
    return bptt, forward_in_time, cell.state_size, P


def main() -> None:
    tf, tr = interleaved(square_jacobian(), REPEATS, warmup=1)
    print(f"jacobian of a square map R^{N_SQUARE} -> R^{N_SQUARE} ({N_SQUARE} passes each), float64, one thread, "
          f"best of {REPEATS}, CPU time:")
    print(f"  forward-mode {tf.best_cpu * 1e3:8.2f} ms   reverse-mode {tr.best_cpu * 1e3:8.2f} ms   "
          f"ratio forward/reverse {tf.best_cpu / tr.best_cpu:5.2f}x   [wall ratio {tf.best_wall / tr.best_wall:5.2f}x]")
    print(f"T={T}, N={N}, H_in={H_IN}, float64, one thread, best of {REPEATS}, CPU time per step")
    for kind, cls in CELLS.items():
        for H in SIZES:
            bptt, fwd, S, P = setup(cls, H)
            tb, tr = interleaved((bptt, fwd), REPEATS, warmup=1)
            per_b, per_r = tb.best_cpu / T, tr.best_cpu / T
            print(
                f"{kind:<4} H={H:<3} S={S:<3} P={P:<6} BPTT {per_b * 1e6:8.1f} us/step   "
                f"RTRL {per_r * 1e6:9.1f} us/step   ratio {per_r / per_b:6.2f}x   "
                f"N*S^2*P {N * S * S * P:>11,d}   [wall ratio {tr.best_wall / tb.best_wall:6.2f}x]"
            )


if __name__ == "__main__":
    main()
