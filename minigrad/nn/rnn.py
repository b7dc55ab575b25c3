r"""Recurrent sequence layers with PyTorch's names, shapes and parameters: RNN, LSTM, GRU.

A layer runs, for each layer $k$ and direction, the recurrence $s_{t+1} = f(x'_t, s_t)$ of the
cells (``minigrad/nn/rnn_cells.py``), where $x'_t = W_{ih} x_t + b$ is computed for *all* time
steps in one matmul and each step is one fused op reading its row of that projection
(``minigrad/ops/recurrent_sequence.py``). The steps write their states into one buffer, which
one ``StepOutputs`` op returns as the output (no copy).

Parameters (names and layout exactly PyTorch's, so state dicts move both ways):
``weight_ih_l{k}`` (G*H, H_in or D*H), ``weight_hh_l{k}`` (G*H, H), ``bias_ih_l{k}``,
``bias_hh_l{k}`` (G*H,), and ``..._reverse`` for the backward direction; G = 1 (RNN),
4 (LSTM: gates i, f, g, o), 3 (GRU: r, z, n). Init: $U(-1/\sqrt H, 1/\sqrt H)$.
The cells (``RNNCell``, ``LSTMCell``, ``GRUCell``) are importable from here too.
"""

from __future__ import annotations

import numpy as np

from minigrad import functional as mf
from minigrad.arguments import describe
from minigrad.dtypes import get_default_dtype
from minigrad.nn import functional as F
from minigrad.nn.arguments import check_dtype, flag, positive_int, real_number
from minigrad.nn.module import Module, Parameter
from minigrad.nn.rnn_cells import GRUCell, LSTMCell, RNNCell, _Steps, uniform_recurrent_init_
from minigrad.ops.recurrent_sequence import (
    StepOutputs,
)
from minigrad.tensor import Tensor, apply_op, as_tensor

__all__ = ["RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell", "LayerCell"]


# ----- sequence layers ---------------------------------------------------------------------
class LayerCell(_Steps):
    """Layer ``k``, one direction, of an RNN/LSTM/GRU seen as a cell: it *uses* the layer's
    own parameters (no copies), so gradients through ``state_step`` reach the layer."""

    def __init__(self, layer: _RNNBase, layer_index: int, reverse: bool = False) -> None:
        self.layer_index, self.reverse = layer_index, reverse
        self.suffix = f"_l{layer_index}" + ("_reverse" if reverse else "")
        self.mode, self.reset_after = layer.mode, layer.reset_after
        self.hidden_size = layer.hidden_size
        D = 2 if layer.bidirectional else 1
        self.input_size = layer.input_size if layer_index == 0 else D * layer.hidden_size
        self.weight_ih = getattr(layer, "weight_ih" + self.suffix)
        self.weight_hh = getattr(layer, "weight_hh" + self.suffix)
        self.bias_ih = getattr(layer, "bias_ih" + self.suffix) if layer.bias else None
        self.bias_hh = getattr(layer, "bias_hh" + self.suffix) if layer.bias else None

    def named_parameters(self):
        """``(name in the layer, parameter)``, e.g. ``('weight_hh_l1_reverse', ...)``."""
        for base in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            p = getattr(self, base)
            if p is not None:
                yield base + self.suffix, p

    def run(self, x: Tensor, s0: Tensor) -> tuple[Tensor, Tensor]:
        """``(output (T, N, H) in time order, last state computed)`` for ``x`` (T, N, H_in).

        The same steps as ``step``, with no per-step copies or indexing ops: step t reads row t
        of the projection itself and writes $s_t$ into row t of one (T, N, S) buffer, which
        ``StepOutputs`` then returns as the output (the $h$ columns, for the LSTM).

        Memory: row t of the projection is read by step t alone, so LSTM and GRU steps compute
        their gates there (as cuDNN's "reserve space" does), and the RNN's output buffer *is*
        the projection ($h_{t+1}$ overwrites $x'_t$). After the loop the projection tensor
        (internal to this method) holds gates or states, not $x'$.

        RNN and LSTM: $b_{ih}$ and $b_{hh}$ only ever appear as their sum, so it is added once,
        in the projection, $x'_t = W_{ih} x_t + (b_{ih} + b_{hh})$, not once per step (the
        gradient of the sum reaches both). The GRU keeps $b_{hh}$ in the step: $b_{hn}$ is
        multiplied by $r$ there.
        """
        b = self.bias_hh
        fold = b is not None and self.bias_ih is not None and self.mode != "GRU"
        xp = self.project(x, b if fold else None)  # (T, N, G*H): one matmul for all steps
        if fold:
            b = None
        T, N = x.shape[0], x.shape[1]
        if self.mode in ("RNN_TANH", "RNN_RELU"):
            buffer = xp.data  # step t writes h_{t+1} over x'_t, which it alone reads (states_without_copy)
        else:
            buffer = np.empty((T, N, self.state_size), dtype=xp.dtype)  # step t writes s_{t+1} into row t
        # Row views made now, while the arrays are writable: once a step has saved a row, its
        # owner is locked (safety.lock), and only views made before that can still be written.
        rows = list(buffer)
        # LSTM, GRU: step t computes its gates in row t of the projection, which it alone reads
        gate_rows = list(xp.data) if self.mode in ("LSTM", "GRU") else [None] * T
        W = self.weight_hh
        s, states = s0, []
        for t in range(T - 1, -1, -1) if self.reverse else range(T):
            op = self.new_op(t, rows[t], gate_rows[t])
            s = apply_op(op, xp, s, W) if b is None else apply_op(op, xp, s, W, b)
            states.append(s)
        last = s
        if self.reverse:
            states.reverse()
        H = self.hidden_size
        cols = slice(0, H) if self.mode == "LSTM" else slice(None)
        return apply_op(StepOutputs(buffer, rows, cols), *states), last


class _RNNBase(Module):
    num_gates = 1

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, reset_after: bool = True) -> None:  # fmt: skip
        super().__init__()
        owner = type(self).__name__
        self.mode = mode
        self.input_size = positive_int(input_size, "input_size", owner)
        self.hidden_size = positive_int(hidden_size, "hidden_size", owner)
        self.num_layers = positive_int(num_layers, "num_layers", owner)
        if not 0 <= real_number(dropout, "dropout", owner) <= 1:  # a NumPy scalar is fine
            raise ValueError(f"{owner}: dropout must be a probability in [0, 1], got {dropout!r}")
        self.bias, self.batch_first = flag(bias, "bias", owner), flag(batch_first, "batch_first", owner)
        self.dropout, self.bidirectional = float(dropout), flag(bidirectional, "bidirectional", owner)
        self.reset_after = flag(reset_after, "reset_after", owner)
        G, H, D, dtype = self.num_gates, self.hidden_size, self.num_directions, get_default_dtype()
        for k in range(self.num_layers):
            fan_in = self.input_size if k == 0 else D * H
            for suffix in [f"_l{k}", f"_l{k}_reverse"][:D]:  # PyTorch's parameter order
                setattr(self, "weight_ih" + suffix, Parameter(np.zeros((G * H, fan_in), dtype)))
                setattr(self, "weight_hh" + suffix, Parameter(np.zeros((G * H, H), dtype)))
                if self.bias:
                    setattr(self, "bias_ih" + suffix, Parameter(np.zeros(G * H, dtype)))
                    setattr(self, "bias_hh" + suffix, Parameter(np.zeros(G * H, dtype)))
        self.reset_parameters()

    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    def reset_parameters(self) -> None:
        r"""Every weight and bias from $U(-1/\sqrt H, 1/\sqrt H)$, like PyTorch."""
        uniform_recurrent_init_(self)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.mode == "RNN_RELU":
            s += ", nonlinearity='relu'"
        for name, default in (("bias", True), ("batch_first", False), ("dropout", 0.0),
                              ("bidirectional", False), ("reset_after", True)):  # fmt: skip
            if getattr(self, name) != default:
                s += f", {name}={getattr(self, name)}"
        return s

    def cell_for(self, layer_index: int, reverse: bool = False) -> LayerCell:
        """Layer ``layer_index`` in one direction as a cell (``state_step``, ...): no copies."""
        if not isinstance(layer_index, (int, np.integer)) or not 0 <= layer_index < self.num_layers:
            raise ValueError(
                f"cell_for: layer_index must be in [0, {self.num_layers}), got {layer_index!r}"
            )
        if reverse and not self.bidirectional:
            raise ValueError("cell_for: reverse=True needs a bidirectional layer")
        return LayerCell(self, int(layer_index), bool(reverse))

    def _check_input(self, input) -> tuple[Tensor, bool]:
        """The input as (T, N, H_in), and whether it was unbatched."""
        owner = type(self).__name__
        x = as_tensor(input)
        if x.ndim not in (2, 3) or x.shape[-1] != self.input_size:
            layout = "(N, L, H_in)" if self.batch_first else "(L, N, H_in)"
            raise ValueError(
                f"{owner}: input must have shape {layout} or (L, H_in) with "
                f"H_in = input_size = {self.input_size}, got {x.shape}"
            )
        check_dtype(x, "input", self.weight_hh_l0.dtype, owner)
        if x.ndim == 2:
            return x.reshape(x.shape[0], 1, x.shape[1]), True
        return (x.transpose(1, 0, 2) if self.batch_first else x), False

    def _check_state(self, h, name: str, N: int, unbatched: bool) -> Tensor:
        LD, H = self.num_layers * self.num_directions, self.hidden_size
        h = as_tensor(h)
        expected = (LD, H) if unbatched else (LD, N, H)
        if h.shape != expected:
            raise ValueError(
                f"{type(self).__name__}: {name} must have shape {expected} "
                f"(num_layers * num_directions, {'' if unbatched else 'N, '}hidden_size), "
                f"got {h.shape}"
            )
        check_dtype(h, name, self.weight_hh_l0.dtype, type(self).__name__)
        return h.reshape(LD, 1, H) if unbatched else h

    def _run(self, input, h0, c0=None):
        """(output, [final state of every layer/direction]) with the layer's PyTorch layout."""
        x, unbatched = self._check_input(input)
        N = x.shape[1]
        if h0 is not None:
            h0 = self._check_state(h0, "h0", N, unbatched)
        if c0 is not None:
            c0 = self._check_state(c0, "c0", N, unbatched)
        finals = []
        for k in range(self.num_layers):
            outputs = []
            for d in range(self.num_directions):
                cell = self.cell_for(k, reverse=d == 1)
                i = k * self.num_directions + d
                if h0 is None:
                    s0 = cell.initial_state(N)
                elif self.mode == "LSTM":
                    s0 = mf.concatenate([h0[i], c0[i]], axis=1)
                else:
                    s0 = h0[i]
                out, last = cell.run(x, s0)  # (T, N, H): one op gathers all steps
                outputs.append(out)
                finals.append(last)
            x = outputs[0] if len(outputs) == 1 else mf.concatenate(outputs, axis=2)
            if self.dropout > 0 and self.training and k < self.num_layers - 1:
                x = F.dropout(x, self.dropout, training=True)
        if unbatched:
            x = x.reshape(x.shape[0], x.shape[2])
        elif self.batch_first:
            x = x.transpose(1, 0, 2)
        return x, finals, unbatched

    def forward(self, input, hx=None) -> tuple[Tensor, Tensor]:
        """``(output, h_n)``; ``hx`` is h_0 of shape (D·num_layers, N, H), zeros if None (LSTM: its own)."""
        out, finals, unbatched = self._run(input, hx)
        return out, self._stack_finals(finals, unbatched)

    def _stack_finals(self, finals: list[Tensor], unbatched: bool) -> Tensor:
        h_n = mf.stack(finals, axis=0)  # (num_layers * D, N, H)
        return h_n.reshape(h_n.shape[0], h_n.shape[2]) if unbatched else h_n


class RNN(_RNNBase):
    """Elman RNN over a sequence. For each time step t = 0 .. L−1 of each layer:

        h_{t+1} = φ(W_ih x_t + b_ih + W_hh h_t + b_hh),    φ = tanh (default) or relu,

    from h_0 = ``hx`` (zeros if None). Layer k > 0 reads the output of layer k − 1 as its x_t.

    Arguments:
        input_size: H_in, the features of each x_t.
        hidden_size: H, the features of each h_t.
        num_layers: layers stacked on each other (default 1).
        nonlinearity: 'tanh' or 'relu'.
        bias: if False, no b_ih and no b_hh.
        batch_first: input and output are (N, L, ·) instead of (L, N, ·); hx and h_n are not affected.
        dropout: p of a dropout on each layer's output except the last, in training (default 0).
        bidirectional: each layer also runs from t = L−1 back to 0; D = 2 directions, else D = 1.

    Parameters of layer k (a name ending ``_reverse`` for the backward direction), from U(−1/√H, 1/√H):
        weight_ih_l{k}: (H, H_in) for k = 0, (H, D·H) for k > 0
        weight_hh_l{k}: (H, H)
        bias_ih_l{k}, bias_hh_l{k}: (H,)

    Shapes (L: sequence length, N: batch size):
        input: (L, N, H_in); (N, L, H_in) with batch_first; (L, H_in) for one unbatched sequence.
        hx: (D·num_layers, N, H), or (D·num_layers, H) unbatched; None: zeros.

    Returns ``(output, h_n)``:
        output: (L, N, D·H), the last layer's h_{t+1} for every t (directions concatenated).
        output in the other layouts: (N, L, D·H) with batch_first; (L, D·H) unbatched.
        h_n: (D·num_layers, N, H), the last state of every layer and direction; (D·num_layers, H) unbatched.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False) -> None:  # fmt: skip
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(mode, input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional)  # fmt: skip


class GRU(_RNNBase):
    """Gated recurrent unit over a sequence. For each time step t = 0 .. L−1 of each layer:

        r = σ(W_ir x_t + b_ir + W_hr h_t + b_hr)                 reset gate
        z = σ(W_iz x_t + b_iz + W_hz h_t + b_hz)                 update gate
        n = tanh(W_in x_t + b_in + r ⊙ (W_hn h_t + b_hn))        candidate (reset_after=True)
        n = tanh(W_in x_t + b_in + W_hn (r ⊙ h_t) + b_hn)        candidate (reset_after=False)
        h_{t+1} = (1 − z) ⊙ n + z ⊙ h_t

    from h_0 = ``hx`` (zeros if None); σ is the sigmoid, ⊙ the elementwise product. Layer k > 0
    reads the output of layer k − 1 as its x_t. z near 1 copies the state: ∂h_{t+1}/∂h_t → I.

    Arguments:
        input_size: H_in, the features of each x_t.
        hidden_size: H, the features of each h_t.
        num_layers: layers stacked on each other (default 1).
        bias: if False, no b_ih and no b_hh.
        batch_first: input and output are (N, L, ·) instead of (L, N, ·); hx and h_n are not affected.
        dropout: p of a dropout on each layer's output except the last, in training (default 0).
        bidirectional: each layer also runs from t = L−1 back to 0; D = 2 directions, else D = 1.
        reset_after: True (PyTorch, cuDNN) applies r after W_hn; False (Cho et al. 2014) before it.

    Parameters of layer k (a name ending ``_reverse`` for the backward direction), from U(−1/√H, 1/√H):
        weight_ih_l{k}: (3·H, H_in) for k = 0, (3·H, D·H) for k > 0
        weight_hh_l{k}: (3·H, H)
        bias_ih_l{k}, bias_hh_l{k}: (3·H,)
        the gates' blocks stacked in the order r, z, n (W_ih = [W_ir; W_iz; W_in]).

    Shapes (L: sequence length, N: batch size; one state per layer and direction):
        input: (L, N, H_in), or (N, L, H_in) with batch_first, or (L, H_in) for a single sequence.
        hx: h_0, (D·num_layers, N, H); (D·num_layers, H) unbatched; None for zeros.

    Returns ``(output, h_n)``:
        output: the top layer's h_1 .. h_L, (L, N, D·H), both directions side by side.
        output in the other layouts: (N, L, D·H) with batch_first; (L, D·H) unbatched.
        h_n: h_L of each layer and direction, (D·num_layers, N, H); (D·num_layers, H) unbatched.
    """

    num_gates = 3

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 reset_after: bool = True) -> None:  # fmt: skip
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, reset_after)  # fmt: skip


class LSTM(_RNNBase):
    """Long short-term memory over a sequence. For each time step t = 0 .. L−1 of each layer:

        i = σ(W_ii x_t + b_ii + W_hi h_t + b_hi)          input gate
        f = σ(W_if x_t + b_if + W_hf h_t + b_hf)          forget gate
        g = tanh(W_ig x_t + b_ig + W_hg h_t + b_hg)       candidate
        o = σ(W_io x_t + b_io + W_ho h_t + b_ho)          output gate
        c_{t+1} = f ⊙ c_t + i ⊙ g
        h_{t+1} = o ⊙ tanh(c_{t+1})

    from (h_0, c_0) = ``hx`` (zeros if None); σ is the sigmoid, ⊙ the elementwise product. Layer
    k > 0 reads the output h of layer k − 1 as its x_t. The cell's own path has no weight matrix:
    ∂c_{t+1}/∂c_t = diag(f).

    Arguments:
        input_size: H_in, the features of each x_t.
        hidden_size: H, the features of each h_t and c_t.
        num_layers: layers stacked on each other (default 1).
        bias: if False, no b_ih and no b_hh.
        batch_first: input and output are (N, L, ·) instead of (L, N, ·); hx, h_n, c_n are not affected.
        dropout: p of a dropout on each layer's output except the last, in training (default 0).
        bidirectional: each layer also runs from t = L−1 back to 0; D = 2 directions, else D = 1.

    Parameters of layer k (a name ending ``_reverse`` for the backward direction), from U(−1/√H, 1/√H):
        weight_ih_l{k}: (4·H, H_in) for k = 0, (4·H, D·H) for k > 0
        weight_hh_l{k}: (4·H, H)
        bias_ih_l{k}, bias_hh_l{k}: (4·H,)
        the gates' blocks stacked in the order i, f, g, o (W_ih = [W_ii; W_if; W_ig; W_io]).

    Shapes (L: sequence length, N: batch size):
        input: (L, N, H_in); (N, L, H_in) with batch_first; (L, H_in) for one unbatched sequence.
        hx: a tuple (h_0, c_0), each (D·num_layers, N, H), or (D·num_layers, H) unbatched; None: zeros.

    Returns ``(output, (h_n, c_n))``:
        output: (L, N, D·H), the last layer's h_{t+1} for every t (directions concatenated).
        output in the other layouts: (N, L, D·H) with batch_first; (L, D·H) unbatched.
        h_n, c_n: (D·num_layers, N, H), the last h and c of every layer and direction; unbatched (D·num_layers, H).
    """

    num_gates = 4

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False) -> None:  # fmt: skip
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional)  # fmt: skip

    def forward(self, input, hx=None) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        """``(output, (h_n, c_n))``; ``hx = (h0, c0)`` or None for zeros."""
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise TypeError(f"LSTM: hx must be a tuple (h0, c0) or None, got {describe(hx)}")
        if hx is not None and (hx[0] is None or hx[1] is None):  # PyTorch too needs both or neither
            missing = "h0" if hx[0] is None else "c0"
            raise TypeError(f"LSTM: hx = (h0, c0) needs both states, got {missing} = None (or pass hx=None)")
        out, finals, unbatched = self._run(input, *(hx if hx is not None else (None, None)))
        H = self.hidden_size
        h_n = self._stack_finals([s[:, :H] for s in finals], unbatched)
        c_n = self._stack_finals([s[:, H:] for s in finals], unbatched)
        return out, (h_n, c_n)
