r"""``F.scaled_dot_product_attention``: PyTorch's function over minigrad's fused attention op.

The op (``minigrad/ops/attention.py``) has the math and the closed-form derivatives; this file
checks the arguments, broadcasts the batch axes, and turns ``attn_mask`` / ``is_causal`` /
``dropout_p`` into the op's additive mask and dropout multiplier.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from minigrad import functional as mf
from minigrad.arguments import describe, finite, flag
from minigrad.ops.attention import ScaledDotProductAttention
from minigrad.random import get_generator
from minigrad.tensor import Tensor, apply_op
from minigrad.tensor_arguments import tensor_like


def scaled_dot_product_attention(
    query, key, value, attn_mask=None, dropout_p: float = 0.0, is_causal: bool = False, scale: float | None = None
) -> Tensor:
    r"""$\mathrm{softmax}(q k^\top \cdot c + M)\, v$ with $c = 1/\sqrt{E}$ unless ``scale`` is given.

    ``query`` (..., L, E), ``key`` (..., S, E), ``value`` (..., S, E_v); the batch axes broadcast.
    ``attn_mask`` (broadcastable to (..., L, S)) is boolean, True where a query may attend to a key,
    or a float mask added to the scores. ``is_causal`` masks the keys after each query (row l sees
    keys 0..l). ``dropout_p`` zeroes attention weights with that probability (whatever the module
    mode, as in PyTorch) from minigrad's generator. A query that may attend to no key gets an output
    of 0 (and no gradient), as PyTorch's function does.
    """
    q, k, v = (_float_tensor(t, name) for t, name in ((query, "query"), (key, "key"), (value, "value")))
    if not q.dtype == k.dtype == v.dtype:
        raise TypeError(
            f"scaled_dot_product_attention: query, key and value must share one dtype, "
            f"got {q.dtype}, {k.dtype} and {v.dtype}"
        )
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2 or q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise ValueError(
            "scaled_dot_product_attention: expected query (..., L, E), key (..., S, E) and value (..., S, Ev), "
            f"got query {q.shape}, key {k.shape} and value {v.shape}"
        )
    batch = _broadcast_shape((q.shape[:-2], k.shape[:-2], v.shape[:-2]), "the batch axes of query, key and value")
    q, k, v = (t if t.shape[:-2] == batch else mf.broadcast_to(t, batch + t.shape[-2:]) for t in (q, k, v))
    L, S, E = q.shape[-2], k.shape[-2], q.shape[-1]
    mask = additive_mask(attn_mask, is_causal, L, S, q.dtype, "scaled_dot_product_attention")
    if mask is not None:
        _broadcast_shape((mask.shape, batch + (L, S)), f"attn_mask {mask.shape} and the scores {batch + (L, S)}")
    if scale is None:
        c = 1.0 / math.sqrt(E) if E > 0 else 1.0  # E = 0: every score is 0 whatever c is
    else:
        c = finite(scale, "scale", "scaled_dot_product_attention")
    keep = dropout_keep(dropout_p, batch + (L, S), q.dtype, "scaled_dot_product_attention")
    return apply_op(ScaledDotProductAttention(c, mask, keep), q, k, v)


def additive_mask(attn_mask, is_causal: bool, L: int, S: int, dtype, owner: str) -> np.ndarray | None:
    """The mask as an array to add to the scores: 0 (take part) or -inf (masked) for a boolean
    mask, the values themselves for a float one; the causal mask when ``is_causal``."""
    if flag(is_causal, "is_causal", owner):
        if attn_mask is not None:
            raise ValueError(f"{owner}: give attn_mask or is_causal=True, not both (PyTorch refuses both too)")
        attn_mask = np.tril(np.ones((L, S), dtype=bool))
    if attn_mask is None:
        return None
    m = np.asarray(attn_mask.data if isinstance(attn_mask, Tensor) else attn_mask)
    if m.dtype == bool:
        return np.where(m, 0.0, -np.inf).astype(dtype)
    if m.dtype.kind != "f":
        raise TypeError(f"{owner}: attn_mask must be boolean or float, got {describe(attn_mask)}")
    return m.astype(dtype)


def dropout_keep(p, shape: tuple, dtype, owner: str) -> np.ndarray | None:
    """The dropout multiplier: 0 with probability p, else 1/(1 − p); None when p = 0."""
    if isinstance(p, (bool, np.bool_)) or not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
        raise ValueError(f"{owner}: dropout_p must be a probability in [0, 1], got {p!r}")
    if p == 0.0:
        return None
    if p == 1.0:
        return np.zeros(shape, dtype=dtype)
    return ((get_generator().random(shape) >= p) / (1.0 - p)).astype(dtype)


def _float_tensor(x, name: str) -> Tensor:
    t = tensor_like(x, name, "scaled_dot_product_attention")
    if t.dtype.kind != "f":
        raise TypeError(f"scaled_dot_product_attention: {name} must be a float tensor, got dtype {t.dtype}")
    return t


def _broadcast_shape(shapes: tuple, what: str) -> tuple:
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        raise ValueError(f"scaled_dot_product_attention: {what} do not broadcast: {shapes}") from None
