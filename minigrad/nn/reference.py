r"""Recurrent cells composed from primitive ops: the readable definitions the fused ops must match.

Each function is one time step written exactly as the equations read, with matmuls, splits and
elementwise ops; autograd differentiates it (and so does BPTT through it) with no hand-derived
gradient at all. The fused ops in ``minigrad/ops/recurrent.py`` compute the same numbers in one
node per step, and the tests check that both agree, and agree with central differences.

Shapes: ``x`` (N, H_in), ``h``/``c`` (N, H), ``W_ih`` (G*H, H_in), ``W_hh`` (G*H, H),
``b_ih``/``b_hh`` (G*H,) or None. PyTorch's layout: gates stacked along the rows of the weights.
"""

from __future__ import annotations

from minigrad import functional as mf
from minigrad.tensor import Tensor


def _affine(x: Tensor, W: Tensor, b: Tensor | None) -> Tensor:
    r"""$W x + b$ for a batch of row vectors: ``x @ W.T + b``."""
    y = x @ W.T
    return y if b is None else y + b


def rnn_step(
    x: Tensor, h: Tensor, W_ih: Tensor, W_hh: Tensor,
    b_ih: Tensor | None = None, b_hh: Tensor | None = None, nonlinearity: str = "tanh",
) -> Tensor:
    r"""$h_{t+1} = \phi(W_{ih} x_t + b_{ih} + W_{hh} h_t + b_{hh})$, $\phi$ = tanh or relu."""
    z = _affine(x, W_ih, b_ih) + _affine(h, W_hh, b_hh)
    if nonlinearity == "tanh":
        return mf.tanh(z)
    if nonlinearity == "relu":
        return mf.relu(z)
    raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")


def lstm_step(
    x: Tensor, h: Tensor, c: Tensor, W_ih: Tensor, W_hh: Tensor,
    b_ih: Tensor | None = None, b_hh: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    r"""$c_{t+1} = f \odot c_t + i \odot g$, $h_{t+1} = o \odot \tanh(c_{t+1})$; gates i, f, g, o.

    $[a_i, a_f, a_g, a_o] = W_{ih} x_t + b_{ih} + W_{hh} h_t + b_{hh}$;
    $i, f, o = \sigma(a_{i,f,o})$, $g = \tanh(a_g)$.
    """
    a = _affine(x, W_ih, b_ih) + _affine(h, W_hh, b_hh)
    a_i, a_f, a_g, a_o = mf.split(a, 4, axis=-1)
    i, f, g, o = mf.sigmoid(a_i), mf.sigmoid(a_f), mf.tanh(a_g), mf.sigmoid(a_o)
    c_next = f * c + i * g
    return o * mf.tanh(c_next), c_next


def gru_step(
    x: Tensor, h: Tensor, W_ih: Tensor, W_hh: Tensor,
    b_ih: Tensor | None = None, b_hh: Tensor | None = None, reset_after: bool = True,
) -> Tensor:
    r"""$h_{t+1} = (1 - z) \odot n + z \odot h_t$; gates r, z, n.

    $r = \sigma(W_{ir} x + b_{ir} + W_{hr} h + b_{hr})$,
    $z = \sigma(W_{iz} x + b_{iz} + W_{hz} h + b_{hz})$;
    ``reset_after=True`` (PyTorch): $n = \tanh(W_{in} x + b_{in} + r \odot (W_{hn} h + b_{hn}))$;
    ``reset_after=False`` (Cho): $n = \tanh(W_{in} x + b_{in} + W_{hn} (r \odot h) + b_{hn})$.
    """
    x_r, x_z, x_n = mf.split(_affine(x, W_ih, b_ih), 3, axis=-1)
    H = h.shape[-1]
    W_hr, W_hz, W_hn = W_hh[:H], W_hh[H:2 * H], W_hh[2 * H:]
    b_hr = b_hz = b_hn = None
    if b_hh is not None:
        b_hr, b_hz, b_hn = b_hh[:H], b_hh[H:2 * H], b_hh[2 * H:]
    r = mf.sigmoid(x_r + _affine(h, W_hr, b_hr))
    z = mf.sigmoid(x_z + _affine(h, W_hz, b_hz))
    if reset_after:
        n = mf.tanh(x_n + r * _affine(h, W_hn, b_hn))
    else:
        n = mf.tanh(x_n + _affine(r * h, W_hn, b_hn))
    return (1 - z) * n + z * h
