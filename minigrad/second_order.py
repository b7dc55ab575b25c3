r"""What create-graph mode needs from above the ops: minigrad's functions, and the fused ops' replays.

``backward(create_graph=True)`` records each op's VJP as minigrad ops (``Op.recorded_vjp``,
``minigrad/ops/base.py``), written with an array namespace ``xp``: NumPy in the plain pass,
``minigrad.functional`` (NumPy's names, on tensors) here. The engine and the ops sit below the
tensors in the import layers, so this module, imported with minigrad, hands them the namespace.

The fused ops (the recurrent steps, attention) compute their VJP by hand in NumPy. Writing
each a second time on tensors would double the longest derivations in the package; instead,
when a graph is being created, a fused op is *replayed*: the same function recomputed from
its input tensors with primitive ops (the equations of ``minigrad/nn/reference.py``, with the
input projection $x'_t$ given), and that composition's recorded backward pass is the fused
op's recorded VJP (``Op.recorded_vjp``). The tests check each replay against the fused op.
"""

from __future__ import annotations

import copy

import numpy as np

from minigrad import engine, functional
from minigrad import functional as mf
from minigrad.grad_mode import no_grad
from minigrad.ops import (
    GRUSequenceStep,
    GRUStep,
    HighwayRNNStep,
    LayerNormRNNStep,
    LSTMSequenceStep,
    LSTMStep,
    ResidualRNNStep,
    RNNSequenceStep,
    RNNStep,
    ScaledDotProductAttention,
    StepOutputs,
)  # fmt: skip
from minigrad.ops.base import REPLAYS, Op
from minigrad.tensor import Tensor, apply_op

engine.GRAPH_MATH = functional  # create_graph's xp: exp, where, sum, ... on tensors


def _gates(xp: Tensor, h: Tensor, W: Tensor, b: Tensor | None) -> Tensor:
    r"""$a = x'_t + W_{hh} h_t + b_{hh}$, all gates at once."""
    a = xp + h @ W.T
    return a if b is None else a + b


def rnn_step(op: RNNStep, xp: Tensor, h: Tensor, W: Tensor, b: Tensor | None = None) -> Tensor:
    r"""$h_{t+1} = \phi(x'_t + W_{hh} h_t + b_{hh})$."""
    z = _gates(xp, h, W, b)
    return mf.tanh(z) if op.nonlinearity == "tanh" else mf.relu(z)


def lstm_step(op: LSTMStep, xp: Tensor, s: Tensor, W: Tensor, b: Tensor | None = None) -> Tensor:
    r"""$s_{t+1} = [o \odot \tanh(c_{t+1});\ c_{t+1}]$, $c_{t+1} = f \odot c_t + i \odot g$."""
    H = W.shape[1]
    h, c = s[:, :H], s[:, H:]
    a_i, a_f, a_g, a_o = mf.split(_gates(xp, h, W, b), 4, axis=-1)
    i, f, g, o = mf.sigmoid(a_i), mf.sigmoid(a_f), mf.tanh(a_g), mf.sigmoid(a_o)
    c_next = f * c + i * g
    return mf.concatenate([o * mf.tanh(c_next), c_next], axis=1)


def gru_step(op: GRUStep, xp: Tensor, h: Tensor, W: Tensor, b: Tensor | None = None) -> Tensor:
    r"""$h_{t+1} = (1 - z) \odot n + z \odot h_t$ (``reset_after``: PyTorch's n, else Cho's)."""
    H = W.shape[1]
    x_r, x_z, x_n = mf.split(xp, 3, axis=-1)
    b_r, b_z, b_n = (None, None, None) if b is None else mf.split(b, 3, axis=0)
    W_r, W_z, W_n = W[:H], W[H:2 * H], W[2 * H:]
    r = mf.sigmoid(_gates(x_r, h, W_r, b_r))
    z = mf.sigmoid(_gates(x_z, h, W_z, b_z))
    if op.reset_after:
        hn = h @ W_n.T if b_n is None else h @ W_n.T + b_n
        n = mf.tanh(x_n + r * hn)
    else:
        n = mf.tanh(_gates(x_n, r * h, W_n, b_n))
    return (1 - z) * n + z * h


def residual_step(op: ResidualRNNStep, xp: Tensor, h: Tensor, W: Tensor, b: Tensor | None = None) -> Tensor:
    r"""$h_{t+1} = h_t + \tanh(x'_t + W_{hh} h_t + b_{hh})$."""
    return h + mf.tanh(_gates(xp, h, W, b))


def highway_step(op: HighwayRNNStep, xp: Tensor, h: Tensor, W: Tensor, b: Tensor | None = None) -> Tensor:
    r"""$h_{t+1} = h_t + \tau \odot (\tilde h - h_t)$, $[\tilde h, \tau] = [\tanh, \sigma](a)$."""
    a_h, a_t = mf.split(_gates(xp, h, W, b), 2, axis=-1)
    return h + mf.sigmoid(a_t) * (mf.tanh(a_h) - h)


def layer_norm_step(op: LayerNormRNNStep, xp: Tensor, h: Tensor, W: Tensor, gamma: Tensor, beta: Tensor) -> Tensor:
    r"""$h_{t+1} = \tanh(\gamma \odot (z - \mu)/\sigma + \beta)$, $z = x'_t + W_{hh} h_t$."""
    z = _gates(xp, h, W, None)
    z = z - mf.mean(z, axis=1, keepdims=True)
    sigma = mf.sqrt(mf.mean(z * z, axis=1, keepdims=True) + op.eps)
    return mf.tanh(z / sigma * gamma + beta)


class Restored(Op):
    """The identity on a tensor whose memory was reused, giving back the values it had (``values``).

    A sequence layer lets its steps overwrite the projection $x'$ (gates, states: see
    ``nn/rnn.py``), so its replay reads the recomputed values; the gradient still flows to $x'$.
    """

    __slots__ = ("values",)

    def __init__(self, values: np.ndarray):
        self.values = values

    def forward(self, x):
        return self.values

    def vjp(self, grad_out):
        return (grad_out,)

    def jvp(self, t):
        return t

    def recorded_vjp(self, grad_out, xp):
        return (grad_out,)


def recomputed(t: Tensor) -> np.ndarray:
    """The values ``t`` had when its op made it, recomputed from the ops behind it.

    Each op is run again (a copy, under ``no_grad``) on its inputs, themselves recomputed while
    their memory is ``t``'s (a reshape of the projection is a view of it).
    """
    op = t._op
    if op is None:  # a leaf: nothing reuses its memory
        return t.data
    with no_grad():
        inputs = [Tensor(recomputed(x)) if x._op is not None and np.may_share_memory(x.data, t.data) else x
                  for x in op.inputs]  # fmt: skip
        return apply_op(copy.copy(op), *inputs).data


def sequence_step(step):
    """A layer's step (input 0: the whole projection, since overwritten) replayed as ``step`` on row ``op.t``.

    Create-graph mode pays for it: every step recomputes the whole projection once.
    """

    def replay(op, xp_all: Tensor, *rest: Tensor) -> Tensor:
        restored = apply_op(Restored(recomputed(xp_all)), xp_all)
        return step(op, restored[op.t], *rest)

    return replay


def step_outputs(op: StepOutputs, *states: Tensor) -> Tensor:
    """The step outputs stacked on a new first axis (columns ``op.cols``)."""
    return mf.stack(states)[:, :, op.cols]


def attention(op: ScaledDotProductAttention, q: Tensor, k: Tensor, v: Tensor) -> Tensor:
    r"""$O = (\mathrm{softmax}(c\,qk^\top + M) \odot D)\, v$."""
    axes = (*range(k.ndim - 2), k.ndim - 1, k.ndim - 2)
    z = op.scale * (q @ mf.transpose(k, axes))
    if op.mask is None:
        p = mf.softmax(z, axis=-1)
    else:  # as masked_softmax: a row whose every key is masked (-inf) gets weights 0, not NaN
        mask = np.broadcast_to(np.asarray(op.mask, dtype=z.dtype), z.shape)
        dead = np.all(np.isneginf(mask), axis=-1, keepdims=True)
        p = mf.softmax(z + Tensor(np.where(dead, 0.0, mask)), axis=-1) * Tensor(~dead)
    if op.keep is not None:
        p = p * op.keep
    return p @ v


REPLAYS.update({
    RNNStep: rnn_step, LSTMStep: lstm_step, GRUStep: gru_step,
    RNNSequenceStep: sequence_step(rnn_step), LSTMSequenceStep: sequence_step(lstm_step),
    GRUSequenceStep: sequence_step(gru_step), StepOutputs: step_outputs,
    ResidualRNNStep: residual_step, HighwayRNNStep: highway_step, LayerNormRNNStep: layer_norm_step,
    ScaledDotProductAttention: attention,
})  # fmt: skip
