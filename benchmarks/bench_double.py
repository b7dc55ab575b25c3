r"""What create-graph mode costs: ``backward()`` against ``grad(..., create_graph=True)``, and an HVP.

For three workloads (an MLP's loss, a 2,000-op elementwise chain, an LSTM layer over T = 32 steps),
the same loss is differentiated three ways, each timed from a fresh forward pass:

* ``plain``: ``forward + backward()`` (NumPy VJPs; the pass training uses);
* ``create_graph``: ``forward + grad(loss, params, create_graph=True)`` (every VJP recorded as
  minigrad ops, so the gradient is a Tensor on a graph);
* ``hvp``: ``create_graph`` and one more backward pass through the recorded gradient, seeded with
  $v$: one Hessian-vector product ($v^\top H$, double backward).

There is no target: create-graph mode is allowed to be slower, and this measures by how much.
One thread, float64, best of N CPU times, the three alternating.

Run: ``python benchmarks/bench_double.py`` (``--quick`` for fewer repeats).
"""

from __future__ import annotations

import sys
import time

import _timing  # noqa: F401, I001  (sets one BLAS thread before NumPy loads)
import numpy as np

import minigrad as mg
from minigrad import nn

REPEATS = 3 if "--quick" in sys.argv else 7


def mlp():
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(64, 128), nn.Tanh(), nn.Linear(128, 128), nn.Tanh(), nn.Linear(128, 10))
    x, y = mg.tensor(rng.normal(size=(64, 64))), rng.integers(0, 10, 64)
    return lambda: nn.functional.cross_entropy(model(x), y), list(model.parameters())


def chain():
    w = mg.tensor(np.linspace(-1, 1, 64), requires_grad=True)

    def loss():
        h = w
        for _ in range(1000):  # two ops per iteration
            h = mg.tanh(h * 0.99)
        return h.sum()

    return loss, [w]


def lstm():
    rng = np.random.default_rng(0)
    layer = nn.LSTM(16, 32)
    x = mg.tensor(rng.normal(size=(32, 8, 16)))
    return lambda: (layer(x)[0] ** 2).mean(), list(layer.parameters())


WORKLOADS = {"MLP 64-128-128-10, batch 64": mlp, "chain of 2,000 ops": chain, "LSTM layer T=32, N=8, H=32": lstm}


def ways(loss, params):
    vs = [np.ones(p.shape) for p in params]

    def plain():
        for p in params:
            p.grad = None
        loss().backward()

    def create_graph():
        mg.grad(loss(), params, create_graph=True, materialize_grads=True)

    def hvp():
        gs = mg.grad(loss(), params, create_graph=True, materialize_grads=True)
        used = [(g, v) for g, v in zip(gs, vs) if g.requires_grad]
        mg.grad([g for g, _ in used], params, [v for _, v in used], materialize_grads=True)

    return plain, create_graph, hvp


def main() -> None:
    print(f"{'workload':<30} {'plain':>10} {'create_graph':>14} {'x plain':>8} {'hvp':>10} {'x plain':>8}")
    for name, make in WORKLOADS.items():
        t_plain, t_graph, t_hvp = _timing.best_times_alternating(list(ways(*make())), repeats=REPEATS,
                                                                  clock=time.process_time)  # fmt: skip
        print(f"{name:<30} {t_plain * 1e3:8.2f} ms {t_graph * 1e3:11.2f} ms {t_graph / t_plain:7.1f}x "
              f"{t_hvp * 1e3:8.2f} ms {t_hvp / t_plain:7.1f}x")  # fmt: skip


if __name__ == "__main__":
    main()
