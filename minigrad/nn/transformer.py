r"""``nn.TransformerEncoderLayer`` (PyTorch's) and a sinusoidal positional encoding.

One encoder layer is self-attention and a two-layer feed-forward network, each inside a residual
connection with a LayerNorm after it (post-norm, PyTorch's default) or before it (``norm_first``):

$$\text{post-norm: } x \leftarrow \mathrm{LN}_1(x + \mathrm{SA}(x)),\; x \leftarrow \mathrm{LN}_2(x + \mathrm{FF}(x))$$
$$\text{pre-norm: } x \leftarrow x + \mathrm{SA}(\mathrm{LN}_1 x),\; x \leftarrow x + \mathrm{FF}(\mathrm{LN}_2 x)$$

with $\mathrm{FF}(x) = W_2\,\mathrm{act}(W_1 x + b_1) + b_2$. The pre-norm form keeps an identity
path from output to input: the gradient reaches $x$ through "$+$" whatever the sublayers do.
Parameter names are PyTorch's (``self_attn.in_proj_weight``, ``linear1.weight``, ``norm1.bias``, ...).
"""

from __future__ import annotations

import math

import numpy as np

from minigrad.arguments import number_in
from minigrad.nn import functional as F
from minigrad.nn.arguments import flag, float_dtype, positive_int, real_number
from minigrad.nn.attention import MultiheadAttention
from minigrad.nn.layers import Dropout, LayerNorm, Linear
from minigrad.nn.module import Module
from minigrad.tensor import Tensor, as_tensor

_ACTIVATIONS = {"relu": F.relu, "gelu": F.gelu}


class TransformerEncoderLayer(Module):
    """PyTorch's ``nn.TransformerEncoderLayer``: self-attention, then feed-forward (module docstring).

    ``activation`` is ``"relu"``, ``"gelu"`` or a callable; ``dropout`` applies after the attention,
    inside the feed-forward network and after it, in training mode only.
    """

    def __init__(
        self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
        activation="relu", layer_norm_eps: float = 1e-5, batch_first: bool = False,
        norm_first: bool = False, bias: bool = True, dtype=None,
    ) -> None:  # fmt: skip
        super().__init__()
        name = "TransformerEncoderLayer"
        d_model = positive_int(d_model, "d_model", name)
        dim_feedforward = positive_int(dim_feedforward, "dim_feedforward", name)
        nhead = positive_int(nhead, "nhead", name)  # checked here, so the message says nhead, not num_heads
        layer_norm_eps = number_in(layer_norm_eps, "layer_norm_eps", name, 0, low_open=True, high_open=True)
        if not 0.0 <= real_number(dropout, "dropout", name) <= 1.0:
            raise ValueError(f"{name}: dropout must be a probability in [0, 1], got {dropout!r}")
        if isinstance(activation, str):
            if activation not in _ACTIVATIONS:
                raise ValueError(f"{name}: activation must be 'relu', 'gelu' or a callable, got {activation!r}")
            activation = _ACTIVATIONS[activation]
        elif not callable(activation):
            raise TypeError(f"{name}: activation must be 'relu', 'gelu' or a callable, got {activation!r}")
        dtype = float_dtype(dtype, name)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, dtype=dtype)  # fmt: skip
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)
        self.norm_first = flag(norm_first, "norm_first", name)
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, dtype=dtype)
        if not bias:  # PyTorch's bias=False drops the LayerNorms' biases too
            self.norm1.bias = self.norm2.bias = None
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.activation = activation

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal: bool = False) -> Tensor:
        x = as_tensor(src)
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            return x + self._ff_block(self.norm2(x))
        x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
        return self.norm2(x + self._ff_block(x))

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal) -> Tensor:
        out, _ = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                                need_weights=False, is_causal=is_causal)  # fmt: skip
        return self.dropout1(out)

    def _ff_block(self, x) -> Tensor:
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))


def sinusoidal_positional_encoding(length: int, d_model: int, dtype=None) -> np.ndarray:
    r"""The (length, d_model) table $PE_{t,2i} = \sin(t / 10000^{2i/d})$, $PE_{t,2i+1} = \cos(t / 10000^{2i/d})$.

    Each pair of columns is a rotation at its own frequency, so $PE_{t+\Delta}$ is a fixed linear
    function of $PE_t$ for every $t$: relative position is one matrix away.
    """
    length = positive_int(length, "length", "sinusoidal_positional_encoding")
    d_model = positive_int(d_model, "d_model", "sinusoidal_positional_encoding")
    t = np.arange(length)[:, None]
    freq = np.exp(-math.log(10000.0) * np.arange(0, d_model, 2) / d_model)  # 1 / 10000^(2i/d)
    pe = np.zeros((length, d_model))
    pe[:, 0::2] = np.sin(t * freq)
    pe[:, 1::2] = np.cos(t * freq[: d_model // 2])
    return pe.astype(float_dtype(dtype, "sinusoidal_positional_encoding"))


class SinusoidalPositionalEncoding(Module):
    """Adds ``sinusoidal_positional_encoding`` to (L, N, E) input ((N, L, E) with ``batch_first``,
    or (L, E)), then dropout; no parameters (the table is a constant, not in the state dict)."""

    def __init__(self, d_model: int, max_len: int = 5000, dropout: float = 0.0, batch_first: bool = False,
                 dtype=None) -> None:  # fmt: skip
        super().__init__()
        self.d_model = positive_int(d_model, "d_model", "SinusoidalPositionalEncoding")
        self.max_len = positive_int(max_len, "max_len", "SinusoidalPositionalEncoding")
        self.batch_first = flag(batch_first, "batch_first", "SinusoidalPositionalEncoding")
        p = number_in(dropout, "dropout", "SinusoidalPositionalEncoding", 0, 1)
        self.dropout = Dropout(p)
        self.pe = sinusoidal_positional_encoding(self.max_len, self.d_model, dtype)

    def forward(self, x) -> Tensor:
        x = as_tensor(x)
        if x.ndim not in (2, 3) or x.shape[-1] != self.d_model:
            raise ValueError(
                f"SinusoidalPositionalEncoding: expected input (L, N, {self.d_model}), (N, L, {self.d_model}) "
                f"with batch_first, or (L, {self.d_model}); got shape {x.shape}"
            )
        L = x.shape[1] if (self.batch_first and x.ndim == 3) else x.shape[0]
        if L > self.max_len:
            raise ValueError(f"SinusoidalPositionalEncoding: sequence length {L} exceeds max_len={self.max_len}")
        pe = self.pe[:L] if x.ndim == 2 or self.batch_first else self.pe[:L, None, :]
        return self.dropout(x + Tensor(pe.astype(x.dtype), dtype=x.dtype))

    def extra_repr(self) -> str:
        return f"d_model={self.d_model}, max_len={self.max_len}, batch_first={self.batch_first}"
