r"""Backpropagation through time with every Jacobian explicit.

The gradient through time is a product of Jacobians,

$$\delta_t = \frac{\partial\mathcal{L}}{\partial s_t} = g_t + J_t^\top \delta_{t+1},
\qquad J_t = \frac{\partial s_{t+1}}{\partial s_t}
\quad(\text{vanilla RNN: } J_t = \mathrm{diag}(\sigma'(z_{t+1}))\, W_{hh}),$$

where $g_t$ is the loss's *direct* gradient with respect to $s_t$. Unrolled, the gradient that
reaches $s_k$ from $s_t$ is $\partial s_t/\partial s_k = J_{t-1} \cdots J_k$: vanishing or
exploding is a statement about that product. This file makes the equation executable:

* :func:`unroll` runs a cell (or every layer and direction of an ``RNN``/``LSTM``/``GRU``)
  over ``x`` of shape (T, N, H_in) and returns a :class:`Trajectory`: the states
  $s_0, \dots, s_T$ as tensors in the graph, and the fused step op of each step.
* :meth:`Trajectory.jacobians` stacks the closed-form $J_t$ (T, N, S, S) that each step op
  derives in ``minigrad/ops/recurrent.py``; :meth:`Trajectory.product_norms` gives
  $\|\partial s_t/\partial s_k\|$ for every $k$ in one backward sweep.
* :meth:`Trajectory.backprop` runs the recursion above with those matrices and returns the
  adjoints, the parameter gradients and the per-step terms of $\partial\mathcal{L}/\partial W_{hh}$.

Same numbers, two roads: ``loss.backward()`` computes the same gradients by calling each step
op's ``vjp`` (which never builds $J_t$); the tests check that both agree with each other and
with central differences. Indices: step $t$ maps $s_t \to s_{t+1}$ and reads $x_t$
(t = 0..T-1); for a reverse direction, "step t" is the t-th step *processed*
(original time T-1-t).
"""

from __future__ import annotations

import copy
from typing import NamedTuple

import numpy as np

from minigrad.arguments import describe, function
from minigrad.engine import no_grad
from minigrad.functional import concatenate, stack
from minigrad.rtrl import RTRLResult, parameter_name, parameter_names, rtrl
from minigrad.tensor import Tensor
from minigrad.tensor_arguments import tensor_like

__all__ = ["unroll", "Trajectory", "BPTTResult", "truncated_bptt", "TBPTTResult"]  # rtrl: minigrad.rtrl

_BASES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


class BPTTResult(NamedTuple):
    r"""What :meth:`Trajectory.backprop` returns.

    * ``adjoints`` (T+1, N, S): $\delta_t = \partial\mathcal{L}/\partial s_t$ for $t = 0..T$.
    * ``param_grads``: parameter name (as in the cell's ``named_parameters()``) -> gradient.
    * ``contributions`` (T, G*H, H): term $t$ of $\partial\mathcal{L}/\partial W_{hh}$, the
      gradient through step $t$ alone; ``contributions.sum(0)`` is the ``W_hh`` gradient.
    * ``input_grads`` (T, N, H_in): $\partial\mathcal{L}/\partial x_t$ (processing order).
    """

    adjoints: np.ndarray
    param_grads: dict
    contributions: np.ndarray
    input_grads: np.ndarray


class Trajectory:
    """One cell (or one layer and direction) unrolled over a sequence: states, step ops, Jacobians.

    Built by :func:`unroll`. ``states`` are the T+1 tensors $s_0..s_T$ (in the graph: a loss
    built from them can call ``backward()``); ``steps`` the T fused step ops; ``x`` the inputs
    (T, N, H_in) as an array, in processing order; ``cell`` the cell.
    """

    def __init__(self, cell, x: np.ndarray, states: list[Tensor]) -> None:
        self.cell = cell
        self.x = x
        self.states = states
        self.steps = [s._op for s in states[1:]]
        self._jacobians = None

    @property
    def T(self) -> int:
        """Number of steps."""
        return len(self.steps)

    @property
    def state_size(self) -> int:
        """S: H, or 2H for an LSTM's $s = [h; c]$."""
        return self.states[0].shape[-1]

    def param_names(self) -> dict:
        """``{'weight_hh': 'weight_hh_l0', ...}``: short name -> the name the cell/layer uses."""
        return parameter_names(self.cell)

    # ----- Jacobians ------------------------------------------------------------------
    def jacobians(self) -> np.ndarray:
        r"""$J_t = \partial s_{t+1}/\partial s_t$ for t = 0..T-1, shape (T, N, S, S).

        Each entry is the step op's closed form (``state_jacobian``): for a tanh RNN
        $\mathrm{diag}(1 - h_{t+1}^2) W_{hh}$, for the LSTM the 2H x 2H block matrix of
        $(h, c)$, for the GRU $\mathrm{diag}(z) + \dots$. Computed once, then cached.
        """
        if self._jacobians is None:
            first = self.steps[0].state_jacobian()
            J = np.empty((self.T,) + first.shape, dtype=first.dtype)
            J[0] = first
            for t in range(1, self.T):
                J[t] = self.steps[t].state_jacobian()
            self._jacobians = J
        return self._jacobians

    def input_jacobians(self) -> np.ndarray:
        r"""$\partial s_{t+1}/\partial x_t$ = ``input_jacobian() @ W_ih``, shape (T, N, S, H_in)."""
        W_ih = self.cell.weight_ih.data
        return np.stack([op.input_jacobian() @ W_ih for op in self.steps])

    def _check_times(self, k: int, t: int) -> None:
        for name, v in (("k", k), ("t", t)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
                raise TypeError(f"jacobian_product: {name} must be an int, got {describe(v)}")
        if not 0 <= k <= t <= self.T:
            raise ValueError(
                f"jacobian_product: need 0 <= k <= t <= T = {self.T}, got k={k}, t={t}"
            )

    def jacobian_product(self, k: int, t: int) -> np.ndarray:
        r"""$\partial s_t/\partial s_k = J_{t-1} J_{t-2} \cdots J_k$, (N, S, S); $I$ if $k = t$."""
        self._check_times(k, t)
        J = self.jacobians()
        N, S = J.shape[1], J.shape[2]
        P = np.broadcast_to(np.eye(S, dtype=J.dtype), (N, S, S)).copy()
        for j in range(k, t):
            P = J[j] @ P
        return P

    def _products_backward(self, t: int | None):
        r"""Yield $(k, \partial s_t/\partial s_k)$ for k = t, t-1, .., 0: $P_k = P_{k+1} J_k$.

        One matrix product per step: all t+1 products cost what the last one alone would.
        """
        t = self.T if t is None else t
        self._check_times(0, t)
        J = self.jacobians()
        N, S = J.shape[1], J.shape[2]
        P = np.broadcast_to(np.eye(S, dtype=J.dtype), (N, S, S)).copy()
        yield t, P
        for k in range(t - 1, -1, -1):
            P = P @ J[k]
            yield k, P

    def product_norms(self, t: int | None = None, ord=2) -> np.ndarray:
        r"""$\|\partial s_t/\partial s_k\|$ for every k = 0..t (default t = T), shape (t+1, N).

        ``ord`` as in ``np.linalg.norm`` for matrices: 2 (spectral, the norm the vanishing bounds use), 'fro', ...
        Row k is the gradient gain from step t back to step k: the curve to plot on a log axis.
        """
        rows = {}
        for k, P in self._products_backward(t):
            rows[k] = np.linalg.norm(P, ord=ord, axis=(-2, -1))
        return np.stack([rows[k] for k in range(len(rows))])

    def product_singular_values(self, t: int | None = None) -> np.ndarray:
        r"""Singular values of $\partial s_t/\partial s_k$ for every k = 0..t, shape (t+1, N, S).

        The largest is the worst-case gain (explosion), the smallest the best-case loss; their
        spread shows how anisotropic the product becomes.
        """
        rows = {}
        for k, P in self._products_backward(t):
            rows[k] = np.linalg.svd(P, compute_uv=False)
        return np.stack([rows[k] for k in range(len(rows))])

    # ----- explicit BPTT ----------------------------------------------------------------
    def backprop(self, dL_ds) -> BPTTResult:
        r"""Explicit BPTT: $\delta_T = g_T$, $\delta_t = g_t + J_t^\top \delta_{t+1}$.

        ``dL_ds`` (T+1, N, S) holds the direct gradients $g_t = \partial\mathcal{L}/\partial s_t$
        (e.g. zeros except at $t = T$ for a loss on the last state). The adjoint recursion
        multiplies by the explicit matrices from :meth:`jacobians`. The parameter gradients
        then need, per step, $\partial s_{t+1}/\partial\theta$ contracted with $\delta_{t+1}$;
        building that Jacobian would cost (S x G*H*H) per sample, so it is taken from the step
        op's own ``vjp`` (the same closed-form derivatives, applied to a vector):
        $\bar W_{hh} \mathrel{+}= \bar z_{t+1} h_t^\top$, $\bar x'_t = \bar z_{t+1}$,
        $\bar W_{ih} \mathrel{+}= \bar x'^\top_t x_t$. Summing the per-step $\bar W_{hh}$ is the
        textbook sum $\sum_t \frac{\partial\mathcal{L}}{\partial h_T}\frac{\partial h_T}{\partial h_t}
        \frac{\partial h_t}{\partial W}$, term by term (``contributions``).
        """
        J = self.jacobians()
        T, N, S = J.shape[0], J.shape[1], J.shape[2]
        g = np.asarray(getattr(dL_ds, "data", dL_ds), dtype=J.dtype)
        if g.shape != (T + 1, N, S):
            raise ValueError(f"backprop: dL_ds must have shape {(T + 1, N, S)}, got {g.shape}")
        delta = np.empty_like(g)
        delta[T] = g[T]
        for t in range(T - 1, -1, -1):
            delta[t] = g[t] + (delta[t + 1][:, None, :] @ J[t])[:, 0, :]  # J_t^T delta_{t+1}
        cell = self.cell
        present = [b for b in _BASES if getattr(cell, b, None) is not None]
        grads = {b: np.zeros_like(getattr(cell, b).data) for b in present}
        W_hh = cell.weight_hh.data
        contributions = np.zeros((T,) + W_hh.shape, dtype=W_hh.dtype)
        input_grads = np.zeros(self.x.shape, dtype=J.dtype)
        # inputs a step op takes after W_hh[, b_hh] (the LayerNorm cell's gain and shift)
        extra = list(getattr(cell, "step_extra_params", ()))
        extra_grads = [np.zeros_like(p.data) for p in extra]
        for t, op in enumerate(self.steps):
            step = _full_vjp(op, delta[t + 1])  # StepGrads: x̄'_t, s̄_t, W̄_hh, then b̄_hh or the extras
            rest = list(step.rest)
            if "bias_hh" in grads:
                grads["bias_hh"] += rest.pop(0)
            for g_extra, g_step in zip(extra_grads, rest, strict=True):
                g_extra += g_step
            contributions[t] = step.weight_hh
            grads["weight_ih"] += step.x_proj.T @ self.x[t]
            if "bias_ih" in grads:
                grads["bias_ih"] += step.x_proj.sum(axis=0)
            input_grads[t] = step.x_proj @ cell.weight_ih.data
        grads["weight_hh"] = contributions.sum(axis=0)
        names = self.param_names()
        param_grads = {names[b]: grads[b] for b in _BASES if b in grads}
        for p, g_extra in zip(extra, extra_grads, strict=True):
            param_grads[parameter_name(cell, p)] = g_extra
        return BPTTResult(delta, param_grads, contributions, input_grads)

    def rtrl(self, dL_ds) -> RTRLResult:
        r"""RTRL: :meth:`backprop`'s ``param_grads``, forward in time ($M_{t+1} = J_t M_t + \dots$).

        Same ``dL_ds`` (T+1, N, S); returns ``minigrad.rtrl.RTRLResult`` (``param_grads``,
        ``influence_norms``). The recursion lives in ``minigrad/rtrl.py``.
        """
        return rtrl(self, dL_ds)


def _full_vjp(op, grad_out: np.ndarray) -> tuple:
    """The op's VJP for *every* input, even those that did not require grad when it ran.

    It reads the step's saved closed-form pieces, not the graph, so it also works after
    ``backward()`` has released the op. A shallow copy asks for every input's gradient, so the
    op in the graph is never modified.
    """
    every = copy.copy(op)
    every.needs_grad = (True,) * len(op.in_shapes)
    return every.vjp(grad_out)


def _run(cell, x: Tensor, s0: Tensor, reverse: bool) -> Trajectory:
    """Unroll one cell over x (T, N, H_in), from s0, forward or in reverse time order."""
    T = x.shape[0]
    xp = cell.project(x)  # (T, N, G*H): one matmul for all steps, as the layers do
    order = list(range(T - 1, -1, -1)) if reverse else list(range(T))
    states = [s0]
    for t in order:
        states.append(cell.step(xp[t], states[-1]))
    if T and states[-1]._op is None:
        raise ValueError(
            "unroll: the steps were not recorded (ran under no_grad, or no parameter requires "
            "grad), so there are no step ops to read Jacobians from"
        )
    return Trajectory(cell, x.data[order], states)


def _check_cell(cell, name: str, owner: str) -> None:
    """A recurrent cell or layer: something with an ``input_size`` and steps (``unroll(None, x)`` must say so)."""
    if not hasattr(cell, "input_size") or not (hasattr(cell, "initial_state") or hasattr(cell, "cell_for")):
        raise TypeError(f"{owner}: {name} must be a recurrent cell or layer (e.g. nn.RNNCell), got {describe(cell)}")


def _check_x(x, input_size: int, batch_first: bool = False) -> Tensor:
    """``x`` as (T, N, H_in): from (N, T, H_in) if ``batch_first``, and unbatched (T, H_in) as N = 1."""
    x = tensor_like(x, "x", "unroll")
    if x.ndim == 2 and x.shape[-1] == input_size and x.shape[0] >= 1:
        return x.reshape(x.shape[0], 1, input_size)  # unbatched, as the layers accept: a batch of one
    layout = f"(N, T >= 1, {input_size})" if batch_first else f"(T >= 1, N, {input_size})"
    if x.ndim != 3 or x.shape[-1] != input_size or x.shape[1 if batch_first else 0] < 1:
        raise ValueError(f"unroll: x must have shape {layout} or (T >= 1, {input_size}), got {x.shape}")
    return x.transpose(1, 0, 2) if batch_first else x


def _state(s, n: int) -> Tensor:
    s = tensor_like(s, "state0", "unroll")
    return s.reshape(1, s.shape[0]) if s.ndim == 1 and n == 1 else s  # an unbatched state (S,)


def unroll(cell_or_layer, x, state0=None):
    r"""Run ``cell_or_layer`` over ``x`` (T, N, H_in) step by step, keeping every state and step op.

    * A cell (``RNNCell``, ``LSTMCell``, ``GRUCell``, the residual, highway and LayerNorm cells
      of ``minigrad.nn.extra_cells``, or anything with ``project``, ``step``,
      ``state_size``, ``initial_state``): returns one :class:`Trajectory`. ``state0`` is $s_0$,
      (N, S) (LSTM: $[h_0; c_0]$), default zeros.
    * A layer (``RNN``, ``LSTM``, ``GRU``; no dropout between layers): returns a
      list with one Trajectory per layer and direction, in PyTorch's order (layer 0 forward,
      layer 0 reverse, layer 1 forward, ...). Layer k's input is layer k-1's output $h$
      (both directions concatenated). ``state0`` is None or a list of (N, S) tensors, one per
      layer and direction. ``x`` is (N, T, H_in) if the layer is ``batch_first``, as the layer reads it.

    Unbatched ``x`` (T, H_in), as the layers accept, is unrolled as a batch of one (N = 1; ``state0``
    may then be (S,)). Trajectories are always time-major: ``states[t]`` is (N, S).
    """
    _check_cell(cell_or_layer, "cell_or_layer", "unroll")
    if hasattr(cell_or_layer, "cell_for"):
        layer = cell_or_layer
        x = _check_x(x, layer.input_size, getattr(layer, "batch_first", False))
        D = 2 if getattr(layer, "bidirectional", False) else 1
        if state0 is not None and len(state0) != layer.num_layers * D:
            raise ValueError(
                f"unroll: state0 must be a list of {layer.num_layers * D} states, got {len(state0)}"
            )
        trajectories = []
        for k in range(layer.num_layers):
            outputs = []
            for d in range(D):
                cell = layer.cell_for(k, reverse=d == 1)
                i = k * D + d
                s0 = cell.initial_state(x.shape[1]) if state0 is None else _state(state0[i], x.shape[1])
                traj = _run(cell, x, s0, reverse=d == 1)
                trajectories.append(traj)
                hs = [s[:, : cell.hidden_size] for s in traj.states[1:]]
                outputs.append(stack(hs[::-1] if d == 1 else hs, axis=0))
            x = outputs[0] if D == 1 else concatenate(outputs, axis=2)
        return trajectories
    cell = cell_or_layer
    x = _check_x(x, cell.input_size)
    s0 = cell.initial_state(x.shape[1]) if state0 is None else _state(state0, x.shape[1])
    if s0.shape != (x.shape[1], cell.state_size):
        expected = (x.shape[1], cell.state_size)
        raise ValueError(f"unroll: state0 must have shape {expected}, got {s0.shape}")
    return _run(cell, x, s0, reverse=False)


# ----- truncated BPTT ----------------------------------------------------------------------
class TBPTTResult(NamedTuple):
    """What :func:`truncated_bptt` returns: the loss of each chunk and the last (detached) state."""

    losses: list
    state: Tensor


def truncated_bptt(cell, x, k: int, loss_fn, optimizer, state0=None) -> TBPTTResult:
    r"""Train over a long sequence in chunks of ``k`` steps, detaching the state between chunks.

    For each chunk $[t_0, t_0 + k)$: run the steps from the (detached) state, compute
    ``loss = loss_fn(states, t0)`` where ``states`` is the list of the chunk's new states
    $s_{t_0+1}, \dots$, then ``optimizer.zero_grad()``, ``loss.backward()``, ``optimizer.step()``.
    The state is carried forward (the forward pass still sees the whole past) but ``detach()``
    cuts the graph, so each backward pass covers at most k steps: memory O(k), not O(T), and
    one update per chunk. ``optimizer`` must cover the cell's parameters and whatever
    ``loss_fn`` uses (e.g. a readout layer).

    Choosing k: a gradient can reach at most k-1 steps back, so k must exceed the longest
    dependency the model has to *learn*. Beyond the effective horizon
    $\tau_{\text{eff}} = \log\epsilon/\log\rho$ (``diagnostics.effective_horizon``) the
    full-BPTT gradient is negligible anyway, so for a vanishing regime k of a few memory
    spans $-1/\log\rho$ loses almost nothing; longer k only costs memory and makes
    exploding gradients likelier. Smaller k means more, cheaper, noisier updates.
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"truncated_bptt: k must be an integer >= 1, got {k!r}")
    _check_cell(cell, "cell", "truncated_bptt")
    function(loss_fn, "loss_fn", "truncated_bptt")
    if not (hasattr(optimizer, "zero_grad") and hasattr(optimizer, "step")):
        raise TypeError(f"truncated_bptt: optimizer must be an optimizer (zero_grad, step), got {describe(optimizer)}")
    x = _check_x(x, cell.input_size)
    s = cell.initial_state(x.shape[1]) if state0 is None else tensor_like(state0, "state0", "truncated_bptt")
    losses = []
    for t0 in range(0, x.shape[0], k):
        s = s.detach()  # the graph of the previous chunk ends here
        states = []
        for t in range(t0, min(t0 + k, x.shape[0])):
            s = cell.state_step(x[t], s)
            states.append(s)
        loss = loss_fn(states, t0)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.item()))
    with no_grad():
        final = s.detach()
    return TBPTTResult(losses, final)
