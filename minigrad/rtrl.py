r"""Real-time recurrent learning (RTRL): the BPTT gradient, multiplied from the other end.

BPTT (``minigrad/bptt.py``) multiplies the chain of step Jacobians starting at the loss and
walking back in time. RTRL (Williams & Zipser 1989) multiplies the same chain starting at the
parameters and walking *forward*: it carries the influence matrix of every sample,

$$M_t = \frac{\partial s_t}{\partial\theta}\quad(S \times P),\qquad M_0 = 0,\qquad
M_{t+1} = J_t M_t + \frac{\partial s_{t+1}}{\partial\theta}\Big|_{\text{immediate}},$$

with $J_t = \partial s_{t+1}/\partial s_t$ (the step op's ``state_jacobian()``) and the
immediate term the effect of $\theta$ through step t alone, $s_t$ held fixed. $M_0 = 0$ because
$s_0$ is not a function of $\theta$. The gradient of $\mathcal{L}$ with direct gradients
$g_t = \partial\mathcal{L}/\partial s_t$ is then

$$\frac{d\mathcal{L}}{d\theta} = \sum_{t=0}^{T} g_t^\top M_t,$$

the number BPTT gets, because both are sums of the same products $g_t^\top J_{t-1}\cdots J_{k+1}
\,\partial s_{k+1}/\partial\theta|_{\text{imm}}$, bracketed from opposite ends. The price:
$M_t$ holds S*P numbers per sample (memory independent of T, so the gradient is ready as soon
as the last loss arrives: :class:`OnlineRTRL`), and $J_t M_t$ costs $S^2 P$ multiply-adds per
step, where BPTT's $J_t^\top\delta$ costs $S^2$.

The immediate Jacobians come from the step op's closed form ``input_jacobian()``
$A_t = \partial s_{t+1}/\partial x'_t$ ((N, S, G*H); $x'_t = W_{ih} x_t + b_{ih}$):

* $\partial s_{t+1}/\partial W_{ih}[a, j] = A_t[:, a]\, x_t[j]$, $\partial s_{t+1}/\partial b_{ih} = A_t$;
* $W_{hh}$ and $b_{hh}$ enter as $W_{hh} u + b_{hh}$ with $u = h_t$: for RNN and LSTM exactly where
  $x'_t$ does, so $B_t = A_t$; for the GRU (``reset_after=True``) the n block is multiplied by r
  first, $a_n = x'_n + r \odot (W_{hn} h_t + b_{hn})$, so $B_t$ is $A_t$ with the n columns scaled
  by r; for the Cho GRU the n block reads $u = r \odot h_t$ instead of $h_t$.
  Then $\partial s_{t+1}/\partial W_{hh}[a, j] = B_t[:, a]\, u_a[j]$, $\partial s_{t+1}/\partial b_{hh} = B_t$.

Index convention (as in bptt.py): step t maps $s_t \to s_{t+1}$ and reads $x_t$, t = 0..T-1.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

_BASES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


class RTRLResult(NamedTuple):
    r"""What :func:`rtrl` (and ``Trajectory.rtrl``) returns.

    * ``param_grads``: parameter name (as in the cell's ``named_parameters()``) -> gradient,
      the same dict :meth:`Trajectory.backprop` returns.
    * ``influence_norms`` (T+1, N): the Frobenius norm $\|M_t\|_F$ of each sample's influence
      matrix, over all parameters at once; row 0 is $\|M_0\| = 0$.
    * ``influence``: $M_T$, base name -> (N, S, *parameter shape).
    """

    param_grads: dict
    influence_norms: np.ndarray
    influence: dict


def parameter_name(cell, p) -> str:
    """The name ``cell.named_parameters()`` gives the parameter ``p`` (e.g. ``'weight_hh_l1_reverse'``)."""
    return next(name for name, q in cell.named_parameters() if q is p)


def parameter_names(cell) -> dict:
    """``{'weight_hh': 'weight_hh_l0', ...}``: base name -> :func:`parameter_name`, for the bases the cell has."""
    return {b: parameter_name(cell, getattr(cell, b)) for b in _BASES if getattr(cell, b, None) is not None}


def immediate_jacobians(cell, op, x_t: np.ndarray, s_t: np.ndarray) -> dict:
    r"""$\partial s_{t+1}/\partial\theta$ with $s_t$ held fixed: base name -> (N, S, *shape of $\theta$).

    ``op`` is the fused step op that computed $s_{t+1}$ from ``x_t`` (N, H_in) and ``s_t`` (N, S)
    (after its forward ran); see the module docstring for the formulas.
    """
    H = cell.hidden_size
    A = op.input_jacobian()  # (N, S, G*H): d s_{t+1} / d x'_t
    h = s_t[:, :H]  # the LSTM's state is [h; c]: only h meets W_hh
    jac = {"weight_ih": A[:, :, :, None] * x_t[:, None, None, :]}
    if cell.bias_ih is not None:
        jac["bias_ih"] = A
    B = A  # d s_{t+1} / d (W_hh u + b_hh)
    r = None
    if cell.mode == "GRU":
        r = op.reset_gate()  # the gate values the op computed and saved
        if cell.reset_after:  # a_n = x'_n + r * (W_hn h + b_hn)
            B = A.copy()
            B[:, :, 2 * H:] *= r[:, None, :]
    jac["weight_hh"] = B[:, :, :, None] * h[:, None, None, :]
    if r is not None and not cell.reset_after:  # Cho: a_n = x'_n + W_hn (r * h) + b_hn
        jac["weight_hh"][:, :, 2 * H:] = B[:, :, 2 * H:, None] * (r * h)[:, None, None, :]
    if cell.bias_hh is not None:
        jac["bias_hh"] = B
    return jac


def influence_step(M: dict | None, J: np.ndarray, immediate: dict) -> dict:
    r"""$M_{t+1} = J_t M_t + \partial s_{t+1}/\partial\theta|_{\text{imm}}$ for every parameter.

    ``M`` None stands for $M_0 = 0$. ``J`` (N, S, S); each ``M[name]`` (N, S, *shape).
    """
    if M is None:
        return {name: I.copy() for name, I in immediate.items()}
    new = {}
    for name, I in immediate.items():
        N, S = I.shape[:2]
        JM = J @ M[name].reshape(N, S, -1)  # the S^2 P step: (N, S, S) @ (N, S, P_name)
        new[name] = JM.reshape(I.shape) + I
    return new


def _gradient_terms(g: np.ndarray, M: dict) -> dict:
    r"""$g_t^\top M_t$ summed over the batch: base name -> array of the parameter's shape."""
    return {name: np.einsum("ns,ns...->...", g, m) for name, m in M.items()}


def _norms(M: dict | None, N: int, dtype) -> np.ndarray:
    r"""$\|M_t\|_F$ per sample over all parameters, shape (N,)."""
    if M is None:
        return np.zeros(N, dtype=dtype)
    squares = sum(np.sum(m.reshape(N, -1) ** 2, axis=1) for m in M.values())
    return np.sqrt(squares)


def rtrl(trajectory, dL_ds) -> RTRLResult:
    r"""RTRL over a stored :class:`~minigrad.bptt.Trajectory`: the gradient, forward in time.

    ``dL_ds`` (T+1, N, S) as for ``Trajectory.backprop``: $g_t = \partial\mathcal{L}/\partial s_t$.
    Uses the step ops the trajectory kept (their ``state_jacobian()`` and ``input_jacobian()``);
    $g_0$ meets $M_0 = 0$ and contributes nothing.
    """
    cell, steps = trajectory.cell, trajectory.steps
    T = len(steps)
    s = [st.data for st in trajectory.states]
    N, S = s[0].shape
    dtype = cell.weight_hh.data.dtype
    g = np.asarray(getattr(dL_ds, "data", dL_ds), dtype=dtype)
    if g.shape != (T + 1, N, S):
        raise ValueError(f"rtrl: dL_ds must have shape {(T + 1, N, S)}, got {g.shape}")
    grads = {b: np.zeros_like(getattr(cell, b).data) for b in _BASES if getattr(cell, b, None) is not None}
    norms = np.zeros((T + 1, N), dtype=dtype)
    M = None
    for t, op in enumerate(steps):
        immediate = immediate_jacobians(cell, op, trajectory.x[t], s[t])
        M = influence_step(M, op.state_jacobian(), immediate)
        for name, term in _gradient_terms(g[t + 1], M).items():
            grads[name] += term
        norms[t + 1] = _norms(M, N, dtype)
    names = parameter_names(cell)
    param_grads = {names.get(b, b): grads[b] for b in _BASES if b in grads}
    return RTRLResult(param_grads, norms, {} if M is None else M)


class OnlineRTRL:
    r"""RTRL as it runs in real time: one input at a time, no trajectory kept.

    ``rt = OnlineRTRL(cell)``; then for each t: ``s = rt.step(x_t)`` returns $s_{t+1}$ (an array),
    and ``rt.accumulate(g)`` adds $g^\top M_{t+1}$ for $g = \partial\mathcal{L}/\partial s_{t+1}$
    (or pass it at once: ``rt.step(x_t, dL_ds=g)`` when it is known beforehand).
    ``rt.param_grads`` is the gradient so far, named as in ``cell.named_parameters()``.
    Memory: the state, $M_t$ (N x S x P) and the gradient -- nothing grows with T.

    ``cell``: an ``RNNCell``/``LSTMCell``/``GRUCell`` or a layer's ``cell_for(k, reverse)``.
    ``state0``: $s_0$, (N, S) or (S,) (unbatched); default zeros, with N from the first input.
    Inputs ``x_t`` are (N, H_in), or (H_in,) for an unbatched sequence.
    """

    def __init__(self, cell, state0=None) -> None:
        self.cell = cell
        self.names = parameter_names(cell)
        self.grads = {b: np.zeros_like(getattr(cell, b).data) for b in self.names}
        self.state = None if state0 is None else self._as_batch(state0, cell.state_size, "state0")
        self.unbatched = state0 is not None and np.ndim(getattr(state0, "data", state0)) == 1
        self.M = None  # M_0 = 0
        self.t = 0

    def _as_batch(self, a, width: int, name: str) -> np.ndarray:
        a = np.asarray(getattr(a, "data", a), dtype=self.cell.weight_hh.data.dtype)
        if a.ndim not in (1, 2) or a.shape[-1] != width:
            raise ValueError(f"OnlineRTRL: {name} must have shape (N, {width}) or ({width},), got {a.shape}")
        return a.reshape(1, width) if a.ndim == 1 else a

    def step(self, x_t, dL_ds=None) -> np.ndarray:
        r"""Run step t on ``x_t``, update $M_{t+1} = J_t M_t + \partial s_{t+1}/\partial\theta|_{\text{imm}}$.

        Returns $s_{t+1}$ ((N, S), or (S,) when unbatched). ``dL_ds``: optional direct gradient
        $\partial\mathcal{L}/\partial s_{t+1}$, passed to :meth:`accumulate`.
        """
        cell = self.cell
        unbatched = np.ndim(getattr(x_t, "data", x_t)) == 1
        x = self._as_batch(x_t, cell.input_size, "x_t")
        if self.state is None:
            self.state = np.zeros((x.shape[0], cell.state_size), dtype=x.dtype)
            self.unbatched = unbatched
        if unbatched != self.unbatched or x.shape[0] != self.state.shape[0]:
            expected = (cell.input_size,) if self.unbatched else (self.state.shape[0], cell.input_size)
            raise ValueError(f"OnlineRTRL: x_t must have shape {expected}, got {np.shape(x_t)}")
        xp = x @ cell.weight_ih.data.T
        if cell.bias_ih is not None:
            xp += cell.bias_ih.data
        op = cell.new_op()  # the fused step op, run on arrays: no graph is recorded
        if cell.bias_hh is None:
            s_next = op(xp, self.state, cell.weight_hh.data)
        else:
            s_next = op(xp, self.state, cell.weight_hh.data, cell.bias_hh.data)
        immediate = immediate_jacobians(cell, op, x, self.state)
        self.M = influence_step(self.M, op.state_jacobian(), immediate)
        self.state = np.array(s_next)
        self.t += 1
        if dL_ds is not None:
            self.accumulate(dL_ds)
        return self.state[0] if self.unbatched else self.state

    def accumulate(self, dL_ds) -> None:
        r"""Add $g^\top M_{t+1}$ to the gradient, for $g = \partial\mathcal{L}/\partial s_{t+1}$ of the last step."""
        if self.M is None:
            raise ValueError("OnlineRTRL.accumulate: call step() first (M_0 = 0: s_0 has no gradient to add)")
        g = self._as_batch(dL_ds, self.cell.state_size, "dL_ds")
        if g.shape != self.state.shape or (np.ndim(getattr(dL_ds, "data", dL_ds)) == 1) != self.unbatched:
            expected = self.state.shape[1:] if self.unbatched else self.state.shape
            raise ValueError(f"OnlineRTRL: dL_ds must have shape {expected}, got {np.shape(dL_ds)}")
        for name, term in _gradient_terms(g, self.M).items():
            self.grads[name] += term

    @property
    def param_grads(self) -> dict:
        """The gradient accumulated so far: parameter name -> array (a copy)."""
        return {self.names[b]: self.grads[b].copy() for b in _BASES if b in self.grads}

    def influence_norm(self) -> np.ndarray:
        r"""$\|M_t\|_F$ of each sample now, shape (N,) (or a 0-d array when unbatched)."""
        if self.state is None:
            raise ValueError("OnlineRTRL.influence_norm: no step has run yet")
        n = _norms(self.M, self.state.shape[0], self.state.dtype)
        return n[0] if self.unbatched else n
