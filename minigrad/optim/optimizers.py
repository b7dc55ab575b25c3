r"""Optimizers with PyTorch's names, arguments and update formulas (``minigrad.optim.SGD``, ...).

Each ``step()`` reads ``p.grad`` and updates ``p.data`` in place with NumPy: an update is
not part of any computation graph. gₜ is the gradient at step t (plus
``weight_decay``·θ, the L2 penalty's gradient), η the learning rate.
The formulas are those of PyTorch's documentation and code, so the same gradients give
the same parameters (up to floating-point rounding).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable

import numpy as np

from minigrad import safety
from minigrad.arguments import describe
from minigrad.engine import enable_grad
from minigrad.tensor import Tensor


def _check(value, name: str, cls: str, low: float = 0.0, high: float | None = None) -> float:
    """``value`` as a float, if it is a real number in [low, high) (NumPy scalars accepted, as in PyTorch)."""
    what = f"a number >= {low}" if high is None else f"a number in [{low}, {high})"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{cls}: invalid {name}: expected {what}, got {value!r} ({type(value).__name__})")
    if not (value >= low and (high is None or value < high)) or math.isinf(value):
        raise ValueError(f"{cls}: invalid {name}: expected {what}, got {value!r}")
    return float(value)


def _numbers(cls: str, **settings) -> dict:
    """Each setting checked by :func:`_check` (a real number >= 0), in a dict; ``lr`` is named in full."""
    return {key: _check(value, "lr (learning rate)" if key == "lr" else key, cls) for key, value in settings.items()}


def _check_bool(value, name: str, cls: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{cls}: invalid {name}: expected True or False, got {value!r}")
    return bool(value)


def _check_betas(betas, cls: str) -> tuple[float, float]:
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise TypeError(f"{cls}: invalid betas: expected a pair (beta1, beta2) such as (0.9, 0.999), got {betas!r}")
    return (_check(betas[0], "beta1 (betas[0])", cls, 0.0, 1.0), _check(betas[1], "beta2 (betas[1])", cls, 0.0, 1.0))


class Optimizer:
    """Base class: ``param_groups`` (``params`` + hyper-parameters) and per-parameter ``state``.

    ``params`` is an iterable of tensors, or of dicts ``{"params": [...], "lr": ...}`` to give
    groups their own settings (missing settings take the constructor's values).
    """

    def __init__(self, params, defaults: dict) -> None:
        if isinstance(params, Tensor):
            raise TypeError(
                f"{type(self).__name__}: params must be an iterable of Tensors (e.g. "
                f"model.parameters()), got a single Tensor; wrap it in a list"
            )
        if hasattr(params, "parameters") or isinstance(params, (str, bytes)) or not isinstance(params, Iterable):
            raise TypeError(
                f"{type(self).__name__}: params must be an iterable of Tensors (e.g. model.parameters()), "
                f"got {describe(params)}"
            )
        self.defaults = defaults
        self.param_groups: list[dict] = []
        self.state: dict[Tensor, dict] = {}  # Tensors hash by identity
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group: dict) -> None:
        """Add a group of parameters with its own hyper-parameters."""
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"{type(self).__name__}: params must hold Tensors (can only optimize Tensors), got {describe(p)}"
                )
            if not p.is_leaf or not p.requires_grad:
                raise ValueError(
                    f"{type(self).__name__}: can only optimize leaf tensors with requires_grad=True"
                )
            if id(p) in seen:
                raise ValueError(
                    f"{type(self).__name__}: a parameter appears in more than one group"
                )
            seen.add(id(p))
        cls = type(self).__name__
        for key, value in group.items():  # a group's own settings are checked like the constructor's
            default = self.defaults.get(key)
            if key == "betas":
                group = {**group, key: _check_betas(value, cls)}
            elif isinstance(default, bool):
                group = {**group, key: _check_bool(value, key, cls)}
            elif isinstance(default, float):
                group = {**group, **_numbers(cls, **{key: value})}
        full = {**self.defaults, **group, "params": params}
        self.param_groups.append(full)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradient of every parameter (to ``None`` by default, as in PyTorch)."""
        for group in self.param_groups:
            for p in group["params"]:
                p.zero_grad(set_to_none)

    def step(self, closure: Callable | None = None):
        """Update each parameter that has a gradient; ``closure`` (optional) recomputes the loss."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for p in self._all_params():  # every gradient first: a bad one must not leave a half-done step
            if p.grad is not None:
                self._check_grad(p)
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    # copy-on-write: a graph not yet backpropagated may still hold the old array
                    safety.writable(p, copy=True)
                    # an inf gradient gives inf/inf = NaN in Adam's step, as in PyTorch: the NaN is
                    # the documented result (docs/RELIABILITY.md), NumPy's warning about it is not
                    with np.errstate(invalid="ignore", over="ignore"):
                        self._update(p, p.grad, group, self.state.setdefault(p, {}))
        return loss

    def _check_grad(self, p: Tensor) -> None:
        """A hand-set ``p.grad`` must match ``p`` exactly: a broadcast update would be silently wrong."""
        g = p.grad
        where = f"{type(self).__name__}.step: the gradient of parameter {self._index(p)}"
        if not isinstance(g, np.ndarray):
            raise TypeError(f"{where} must be an np.ndarray, got {type(g).__name__}")
        if g.shape != p.shape:
            raise ValueError(f"{where} must have the parameter's shape {p.shape}, got {g.shape}")
        if g.dtype.kind != "f":
            raise TypeError(f"{where} must be a float array, got dtype {g.dtype}")

    def _index(self, p: Tensor) -> int:
        """``p``'s position among all parameters, counted across groups (PyTorch's state-dict index)."""
        return next(i for i, q in enumerate(self._all_params()) if q is p)

    def _all_params(self) -> list[Tensor]:
        return [p for group in self.param_groups for p in group["params"]]

    def _update(self, p: Tensor, grad: np.ndarray, group: dict, state: dict) -> None:
        raise NotImplementedError

    # ----- saving and resuming ------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        """Everything ``step()`` depends on, as plain arrays: ``minigrad.save`` writes it as it is.

        PyTorch's nested ``{"state": {i: {...}}, "param_groups": [{...}]}`` flattened with dots:
        ``"state.0.exp_avg"``, ``"state.0.step"``, ``"param_groups.0.lr"``, ``"param_groups.0.params"``
        (the indices of the group's parameters). Parameters are numbered across groups, as in
        PyTorch; a parameter that has not been stepped yet has no ``state.i`` keys.
        """
        out: dict[str, np.ndarray] = {}
        for i, p in enumerate(self._all_params()):
            for name, value in self.state.get(p, {}).items():
                out[f"state.{i}.{name}"] = np.array(value)  # a copy: later steps must not change it
        start = 0
        for g, group in enumerate(self.param_groups):
            for name, value in group.items():
                if name != "params":
                    out[f"param_groups.{g}.{name}"] = np.array(value)
            out[f"param_groups.{g}.params"] = np.arange(start, start + len(group["params"]))
            start += len(group["params"])
        return out

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore what :meth:`state_dict` returned (or ``minigrad.load`` read back) into this optimizer.

        The optimizer must have been built on the same parameters, in the same groups. Every key is
        checked first (an unknown key, a group of another size, a state array of the wrong shape is a
        ValueError naming the key), so a failed load changes nothing.
        """
        if not isinstance(state_dict, dict):
            raise TypeError(f"load_state_dict: expected a dict of arrays, got {type(state_dict).__name__}")
        params = self._all_params()
        groups: list[dict] = [{} for _ in self.param_groups]
        states: list[dict] = [{} for _ in params]
        for key, value in state_dict.items():
            parts = key.split(".") if isinstance(key, str) else []
            ok = len(parts) == 3 and parts[0] in ("state", "param_groups") and parts[1].isdigit()
            index = int(parts[1]) if ok else -1
            if not ok or index >= (len(params) if parts[0] == "state" else len(groups)):
                raise ValueError(
                    f"load_state_dict: unexpected key {key!r} for this optimizer ({len(groups)} group(s), "
                    f"{len(params)} parameter(s)); expected 'state.<i>.<name>' or 'param_groups.<g>.<name>'"
                )
            arr = np.asarray(value)
            if arr.dtype.kind not in "biuf":
                raise TypeError(f"load_state_dict: {key!r} must be a numeric array, got dtype {arr.dtype}")
            if parts[0] == "state":
                p = params[index]
                if arr.ndim == 0 and arr.dtype.kind in "iu":
                    states[index][parts[2]] = int(arr)  # a step counter
                elif arr.shape == p.shape:
                    states[index][parts[2]] = np.array(arr, dtype=p.dtype)  # a copy that steps may change
                else:
                    raise ValueError(
                        f"load_state_dict: {key!r} has shape {arr.shape}, but parameter {index} has shape {p.shape}"
                    )
            elif parts[2] == "params":
                size = len(self.param_groups[index]["params"])
                if arr.shape != (size,):
                    raise ValueError(
                        f"load_state_dict: {key!r} lists {arr.size} parameters, but group {index} has {size}"
                    )
            else:
                v = arr.tolist()  # 0-d -> a Python number or bool; betas -> a list
                groups[index][parts[2]] = tuple(v) if isinstance(v, list) else v
        for g in range(len(self.param_groups)):
            missing = [name for name in self.defaults if name not in groups[g]]
            if missing:
                raise ValueError(
                    f"load_state_dict: the state dict has no 'param_groups.{g}.{missing[0]}' (a setting of "
                    f"{type(self).__name__}); was it saved from another optimizer?"
                )
        for g, group in enumerate(self.param_groups):
            group.update(groups[g])
        self.state = {p: states[i] for i, p in enumerate(params) if states[i]}

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in group.items() if k != "params"]
        return "\n".join(lines) + "\n)"


class SGD(Optimizer):
    r"""Stochastic gradient descent with optional momentum (heavy ball or Nesterov).

    bₜ = μ bₜ₋₁ + (1 − τ) gₜ (b₁ = g₁); then θₜ = θₜ₋₁ − η bₜ,
    or with Nesterov θₜ = θₜ₋₁ − η (gₜ + μ bₜ). Without momentum, θₜ = θₜ₋₁ − η gₜ.
    (μ = ``momentum``, τ = ``dampening``.)
    """

    def __init__(
        self, params, lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
        weight_decay: float = 0.0, nesterov: bool = False,
    ) -> None:  # fmt: skip
        defaults = _numbers("SGD", lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay)
        defaults["nesterov"] = _check_bool(nesterov, "nesterov", "SGD")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: nesterov momentum requires momentum > 0 and dampening = 0")
        super().__init__(params, defaults)

    def _update(self, p, grad, group, state):
        g = grad + group["weight_decay"] * p.data if group["weight_decay"] else grad
        mu = group["momentum"]
        if mu:
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = np.array(g, dtype=p.dtype)
            else:
                buf = state["momentum_buffer"]
                buf *= mu
                buf += (1 - group["dampening"]) * g
            buf = state["momentum_buffer"]
            g = g + mu * buf if group["nesterov"] else buf
        p.data -= group["lr"] * g


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2015), bias-corrected; ``weight_decay`` adds λθ to gₜ.

    mₜ = β₁ mₜ₋₁ + (1 − β₁) gₜ,   vₜ = β₂ vₜ₋₁ + (1 − β₂) gₜ²,
    θₜ = θₜ₋₁ − η/(1 − β₁ᵗ) · mₜ / (√vₜ / √(1 − β₂ᵗ) + ε).
    ``amsgrad=True`` uses max over s ≤ t of vₛ in place of vₜ.
    """

    def __init__(
        self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False,
    ) -> None:  # fmt: skip
        cls = type(self).__name__  # "Adam" or "AdamW", for the error messages
        defaults = _numbers(cls, lr=lr, eps=eps, weight_decay=weight_decay)
        defaults["betas"] = _check_betas(betas, cls)
        defaults["amsgrad"] = _check_bool(amsgrad, "amsgrad", cls)
        super().__init__(params, defaults)

    _decoupled_weight_decay = False  # AdamW sets it

    def _update(self, p, grad, group, state):
        g = grad
        if group["weight_decay"] and self._decoupled_weight_decay:
            p.data *= 1 - group["lr"] * group["weight_decay"]  # AdamW: shrink theta, leave g alone
        elif group["weight_decay"]:
            g = grad + group["weight_decay"] * p.data  # Adam: the L2 penalty's gradient
        beta1, beta2 = group["betas"]
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(p.data)
            state["exp_avg_sq"] = np.zeros_like(p.data)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = np.zeros_like(p.data)
        state["step"] += 1
        t = state["step"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m += (1 - beta1) * (g - m)  # = beta1 m + (1 - beta1) g, written as PyTorch's lerp
        v *= beta2
        v += (1 - beta2) * g * g
        if group["amsgrad"]:
            np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
            v = state["max_exp_avg_sq"]
        step_size = group["lr"] / (1 - beta1**t)
        denom = np.sqrt(v) / math.sqrt(1 - beta2**t) + group["eps"]
        p.data -= step_size * (m / denom)


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter, 2019), PyTorch's ``AdamW``.

    First θ ← θ (1 − ηλ), then the Adam step on gₜ alone: the decay is not divided by √vₜ, so
    every weight shrinks at the same rate. Default λ = ``weight_decay`` = 0.01.
    """

    _decoupled_weight_decay = True

    def __init__(
        self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False,
    ) -> None:  # fmt: skip
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad)


class RMSprop(Optimizer):
    r"""RMSprop (Hinton): divide gₜ by a running root mean square.

    sₜ = α sₜ₋₁ + (1 − α) gₜ²,   θₜ = θₜ₋₁ − η gₜ / (√sₜ + ε).
    ``centered``: use sₜ − ḡₜ² (the variance), with ḡₜ the running mean of g.
    ``momentum`` μ: bₜ = μ bₜ₋₁ + gₜ / (√sₜ + ε),   θₜ = θₜ₋₁ − η bₜ.
    """

    def __init__(
        self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
        weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False,
    ) -> None:  # fmt: skip
        defaults = _numbers("RMSprop", lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum)
        defaults["centered"] = _check_bool(centered, "centered", "RMSprop")
        super().__init__(params, defaults)

    def _update(self, p, grad, group, state):
        g = grad + group["weight_decay"] * p.data if group["weight_decay"] else grad
        alpha = group["alpha"]
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(p.data)
            if group["momentum"] > 0:
                state["momentum_buffer"] = np.zeros_like(p.data)
            if group["centered"]:
                state["grad_avg"] = np.zeros_like(p.data)
        state["step"] += 1
        sq = state["square_avg"]
        sq *= alpha
        sq += (1 - alpha) * g * g
        if group["centered"]:
            ga = state["grad_avg"]
            ga += (1 - alpha) * (g - ga)
            avg = np.sqrt(sq - ga * ga) + group["eps"]
        else:
            avg = np.sqrt(sq) + group["eps"]
        if group["momentum"] > 0:
            buf = state["momentum_buffer"]
            buf *= group["momentum"]
            buf += g / avg
            p.data -= group["lr"] * buf
        else:
            p.data -= group["lr"] * (g / avg)


class Adagrad(Optimizer):
    r"""Adagrad (Duchi et al., 2011): per-coordinate steps shrink with the sum of squared gradients.

    Sₜ = Sₜ₋₁ + gₜ² (S₀ = ``initial_accumulator_value``),
    θₜ = θₜ₋₁ − η̃ₜ gₜ / (√Sₜ + ε)   with   η̃ₜ = η / (1 + (t − 1) · ``lr_decay``).
    """

    def __init__(
        self, params, lr: float = 1e-2, lr_decay: float = 0.0, weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0, eps: float = 1e-10,
    ) -> None:  # fmt: skip
        defaults = _numbers(
            "Adagrad", lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value, eps=eps,
        )  # fmt: skip
        super().__init__(params, defaults)

    def _update(self, p, grad, group, state):
        g = grad + group["weight_decay"] * p.data if group["weight_decay"] else grad
        if not state:
            state["step"] = 0
            state["sum"] = np.full_like(p.data, group["initial_accumulator_value"])
        state["step"] += 1
        clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        state["sum"] += g * g
        p.data -= clr * (g / (np.sqrt(state["sum"]) + group["eps"]))
