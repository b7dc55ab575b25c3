r"""``nn.MultiheadAttention``: PyTorch's layer, names, parameter layout and mask rules.

For each head $h$ (of ``num_heads``, each of width $d = E / H$):

$$\mathrm{head}_h = \mathrm{softmax}\!\Big(\frac{(x_q W_q^h)(x_k W_k^h)^\top}{\sqrt d} + M\Big)\,(x_v W_v^h),
\qquad y = [\mathrm{head}_1, \dots, \mathrm{head}_H]\, W_o^\top + b_o$$

Parameters, as PyTorch: ``in_proj_weight`` (3E, E) holds $W_q; W_k; W_v$ stacked (or
``q_proj_weight``, ``k_proj_weight``, ``v_proj_weight`` when ``kdim``/``vdim`` differ from E),
``in_proj_bias`` (3E,), ``out_proj.weight`` (E, E), ``out_proj.bias`` (E,), and ``bias_k``,
``bias_v`` (1, 1, E) with ``add_bias_kv``. A state dict moves to and from PyTorch unchanged.

Masks follow PyTorch's *module* convention, which is the opposite of the function's: a boolean
``attn_mask`` or ``key_padding_mask`` is True where attention is *not* allowed; a float mask is
added to the scores. With ``need_weights=True`` the weights come from plain ops (scores, softmax,
matmul: a query with every key masked gives NaN, as PyTorch's does); with ``need_weights=False``
the fused op ``F.scaled_dot_product_attention`` runs instead (such a query then gives 0, as there).
"""

from __future__ import annotations

import math

import numpy as np

from minigrad import functional as mf
from minigrad.nn import functional as F
from minigrad.nn import init
from minigrad.nn.arguments import flag, float_dtype, positive_int, real_number
from minigrad.nn.layers import Linear
from minigrad.nn.module import Module, Parameter
from minigrad.tensor import Tensor, as_tensor


class MultiheadAttention(Module):
    """Multi-head attention, PyTorch's ``nn.MultiheadAttention`` (see the module docstring).

    Inputs are (L, N, E) (or (N, L, E) with ``batch_first``) or unbatched (L, E). Returns
    ``(output, weights)``: weights (N, L, S) averaged over heads, (N, H, L, S) with
    ``average_attn_weights=False``, or None with ``need_weights=False``.
    """

    def __init__(
        self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
        add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: int | None = None,
        vdim: int | None = None, batch_first: bool = False, dtype=None,
    ) -> None:  # fmt: skip
        super().__init__()
        name = "MultiheadAttention"
        self.embed_dim = E = positive_int(embed_dim, "embed_dim", name)
        self.num_heads = positive_int(num_heads, "num_heads", name)
        if E % self.num_heads:
            raise ValueError(f"{name}: embed_dim ({E}) must be divisible by num_heads ({num_heads})")
        self.head_dim = E // self.num_heads
        self.kdim = E if kdim is None else positive_int(kdim, "kdim", name)
        self.vdim = E if vdim is None else positive_int(vdim, "vdim", name)
        self._qkv_same_embed_dim = self.kdim == E and self.vdim == E
        if not 0.0 <= real_number(dropout, "dropout", name) <= 1.0:
            raise ValueError(f"{name}: dropout must be a probability in [0, 1], got {dropout!r}")
        self.dropout = float(dropout)
        self.batch_first = flag(batch_first, "batch_first", name)
        self.add_zero_attn = flag(add_zero_attn, "add_zero_attn", name)
        bias, add_bias_kv = flag(bias, "bias", name), flag(add_bias_kv, "add_bias_kv", name)
        dtype = float_dtype(dtype, name)
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(np.empty((3 * E, E), dtype=dtype))
            self.q_proj_weight = self.k_proj_weight = self.v_proj_weight = None
        else:
            self.in_proj_weight = None
            self.q_proj_weight = Parameter(np.empty((E, E), dtype=dtype))
            self.k_proj_weight = Parameter(np.empty((E, self.kdim), dtype=dtype))
            self.v_proj_weight = Parameter(np.empty((E, self.vdim), dtype=dtype))
        self.in_proj_bias = Parameter(np.empty(3 * E, dtype=dtype)) if bias else None
        self.out_proj = Linear(E, E, bias=bias, dtype=dtype)
        if add_bias_kv:
            self.bias_k = Parameter(np.empty((1, 1, E), dtype=dtype))
            self.bias_v = Parameter(np.empty((1, 1, E), dtype=dtype))
        else:
            self.bias_k = self.bias_v = None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's scheme: Xavier-uniform projections, zero biases, Xavier-normal ``bias_k/v``."""
        for w in (self.in_proj_weight, self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
            if w is not None:
                init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)
        for b in (self.bias_k, self.bias_v):
            if b is not None:
                init.xavier_normal_(b)

    def _projections(self):
        """$(W_q, b_q), (W_k, b_k), (W_v, b_v)$: slices of the stacked parameters (no copies)."""
        E, b = self.embed_dim, self.in_proj_bias
        if self._qkv_same_embed_dim:
            ws = (self.in_proj_weight[:E], self.in_proj_weight[E:2 * E], self.in_proj_weight[2 * E:])
        else:
            ws = (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)
        bs = (None,) * 3 if b is None else (b[:E], b[E:2 * E], b[2 * E:])
        return list(zip(ws, bs))

    def forward(
        self, query, key, value, key_padding_mask=None, need_weights: bool = True, attn_mask=None,
        average_attn_weights: bool = True, is_causal: bool = False,
    ) -> tuple[Tensor, Tensor | None]:  # fmt: skip
        q_in, k_in, v_in = as_tensor(query), as_tensor(key), as_tensor(value)
        batched = self._check_inputs(q_in, k_in, v_in)
        if not batched:  # (L, E) -> (L, 1, E)
            q_in, k_in, v_in = (t.reshape((t.shape[0], 1, t.shape[1])) for t in (q_in, k_in, v_in))
            if key_padding_mask is not None:
                key_padding_mask = np.asarray(getattr(key_padding_mask, "data", key_padding_mask))[None]
        elif self.batch_first:  # (N, L, E) -> (L, N, E)
            q_in, k_in, v_in = (t.transpose((1, 0, 2)) for t in (q_in, k_in, v_in))
        L, N, E = q_in.shape
        S, H, d = k_in.shape[0], self.num_heads, self.head_dim
        if is_causal and attn_mask is None:
            raise ValueError("MultiheadAttention: is_causal is a hint that attn_mask is causal; give attn_mask too")
        if is_causal and key_padding_mask is None and not need_weights:
            attn_mask = np.tril(np.ones((L, S), dtype=bool)) == 0  # PyTorch then uses the causal mask itself
        (wq, bq), (wk, bk), (wv, bv) = self._projections()
        q, k, v = F.linear(q_in, wq, bq), F.linear(k_in, wk, bk), F.linear(v_in, wv, bv)
        attn = self._attn_mask(attn_mask, L, S, N, q.dtype)
        pad = _padding_mask(key_padding_mask, N, S, q.dtype)
        if self.bias_k is not None:  # one more key and value, the same for every sequence
            k = mf.concatenate([k, mf.broadcast_to(self.bias_k, (1, N, E))], axis=0)
            v = mf.concatenate([v, mf.broadcast_to(self.bias_v, (1, N, E))], axis=0)
            attn, pad, S = _one_more_key(attn), _one_more_key(pad), S + 1
        # (L, N, E) -> (N, H, L, d): head h of sequence n is PyTorch's batch row n·H + h
        q, k, v = (t.reshape((t.shape[0], N, H, d)).transpose((1, 2, 0, 3)) for t in (q, k, v))
        if self.add_zero_attn:  # one more key and value, both zero
            zeros = Tensor(np.zeros((N, H, 1, d), dtype=q.dtype), dtype=q.dtype)
            k, v = mf.concatenate([k, zeros], axis=2), mf.concatenate([v, zeros], axis=2)
            attn, pad, S = _one_more_key(attn), _one_more_key(pad), S + 1
        mask = attn if pad is None else pad if attn is None else attn + pad
        p = self.dropout if self.training else 0.0
        if need_weights:
            scores = (q * (1.0 / math.sqrt(d))) @ k.transpose((0, 1, 3, 2))
            weights = F.softmax(scores if mask is None else scores + Tensor(mask, dtype=q.dtype), dim=-1)
            if p > 0:  # PyTorch returns the weights after dropout, the ones the values were mixed with
                weights = F.dropout(weights, p)
            out = weights @ v
        else:
            out, weights = F.scaled_dot_product_attention(q, k, v, mask, dropout_p=p), None
        out = self.out_proj(out.transpose((2, 0, 1, 3)).reshape((L, N, E)))  # heads side by side
        if weights is not None and average_attn_weights:
            weights = weights.mean(axis=1)
        if not batched:
            return out.reshape((L, E)), None if weights is None else weights.reshape(weights.shape[1:])
        return (out.transpose((1, 0, 2)) if self.batch_first else out), weights

    def _check_inputs(self, q: Tensor, k: Tensor, v: Tensor) -> bool:
        """Shapes and dtypes as PyTorch requires them; True for batched (3-d) input."""
        if q.ndim not in (2, 3) or k.ndim != q.ndim or v.ndim != q.ndim:
            raise ValueError(
                "MultiheadAttention: query, key and value must all be 3-d (batched) or all 2-d (unbatched), "
                f"got shapes {q.shape}, {k.shape} and {v.shape}"
            )
        for t, n, name in ((q, self.embed_dim, "query"), (k, self.kdim, "key"), (v, self.vdim, "value")):
            if t.shape[-1] != n:
                raise ValueError(f"MultiheadAttention: {name} must have {n} features, got shape {t.shape}")
            if t.dtype != self.out_proj.weight.dtype:
                raise TypeError(
                    f"MultiheadAttention: {name} has dtype {t.dtype} but the layer has dtype "
                    f"{self.out_proj.weight.dtype}"
                )
        batch_axis = 0 if (self.batch_first and q.ndim == 3) else 1
        if k.shape[:-1] != v.shape[:-1] or (q.ndim == 3 and q.shape[batch_axis] != k.shape[batch_axis]):
            raise ValueError(
                f"MultiheadAttention: key and value must share their sequence and batch sizes with each other "
                f"and the batch size with query, got query {q.shape}, key {k.shape} and value {v.shape}"
            )
        return q.ndim == 3

    def _attn_mask(self, attn_mask, L: int, S: int, N: int, dtype) -> np.ndarray | None:
        """``attn_mask`` (L, S) or (N·H, L, S) as an additive (1 or N, H, L, S) array."""
        if attn_mask is None:
            return None
        m = _additive(attn_mask, "attn_mask", dtype)
        H = self.num_heads
        if m.shape == (L, S):
            return m[None, None]
        if m.shape == (N * H, L, S):
            return m.reshape(N, H, L, S)
        raise ValueError(f"MultiheadAttention: attn_mask must have shape {(L, S)} or {(N * H, L, S)}, got {m.shape}")

    def extra_repr(self) -> str:
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, batch_first={self.batch_first}"


def _additive(mask, name: str, dtype) -> np.ndarray:
    """PyTorch's module rule: a boolean mask is True where attention is *not* allowed (-inf)."""
    m = np.asarray(mask.data if isinstance(mask, Tensor) else mask)
    if m.dtype == bool:
        return np.where(m, -np.inf, 0.0).astype(dtype)
    if m.dtype.kind != "f":
        raise TypeError(f"MultiheadAttention: {name} must be boolean or float, got dtype {m.dtype}")
    return m.astype(dtype)


def _padding_mask(key_padding_mask, N: int, S: int, dtype) -> np.ndarray | None:
    """``key_padding_mask`` (N, S) as an additive (N, 1, 1, S) array: one row per sequence."""
    if key_padding_mask is None:
        return None
    m = _additive(key_padding_mask, "key_padding_mask", dtype)
    if m.shape != (N, S):
        raise ValueError(f"MultiheadAttention: key_padding_mask must have shape {(N, S)}, got {m.shape}")
    return m[:, None, None, :]


def _one_more_key(mask: np.ndarray | None) -> np.ndarray | None:
    """A mask with one more key column, which every query may attend to (PyTorch pads with 0)."""
    return None if mask is None else np.concatenate([mask, np.zeros(mask.shape[:-1] + (1,), mask.dtype)], axis=-1)
