r"""Optimizers with PyTorch's names, arguments and update formulas (``minigrad.optim``).

Each ``step()`` reads ``p.grad`` and updates ``p.data`` in place with NumPy: an update is
not part of any computation graph. $g_t$ is the gradient at step $t$ (plus
``weight_decay`` $\cdot\,\theta$, the L2 penalty's gradient), $\eta$ the learning rate.
The formulas are those of PyTorch's documentation and code, so the same gradients give
the same parameters (up to floating-point rounding).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from minigrad import safety
from minigrad.engine import enable_grad
from minigrad.tensor import Tensor


def _check(value, name: str, cls: str, low: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= low:
        raise ValueError(f"{cls}: invalid {name}: expected a number >= {low}, got {value!r}")
    return float(value)


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
                    f"{type(self).__name__}: can only optimize Tensors, got {type(p).__name__}"
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
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    # copy-on-write: a graph not yet backpropagated may still hold the old array
                    safety.writable(p, copy=True)
                    self._update(p, p.grad, group, self.state.setdefault(p, {}))
        return loss

    def _update(self, p: Tensor, grad: np.ndarray, group: dict, state: dict) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in group.items() if k != "params"]
        return "\n".join(lines) + "\n)"


class SGD(Optimizer):
    r"""Stochastic gradient descent with optional momentum (heavy ball or Nesterov).

    $b_t = \mu b_{t-1} + (1 - \tau) g_t$ ($b_1 = g_1$); then $\theta_t = \theta_{t-1} - \eta\,b_t$,
    or with Nesterov $\theta_t = \theta_{t-1} - \eta\,(g_t + \mu b_t)$. Without momentum,
    $\theta_t = \theta_{t-1} - \eta\,g_t$.
    """

    def __init__(
        self, params, lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
        weight_decay: float = 0.0, nesterov: bool = False,
    ) -> None:  # fmt: skip
        defaults = {
            "lr": _check(lr, "learning rate", "SGD"),
            "momentum": _check(momentum, "momentum", "SGD"),
            "dampening": _check(dampening, "dampening", "SGD"),
            "weight_decay": _check(weight_decay, "weight_decay", "SGD"),
            "nesterov": bool(nesterov),
        }
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
    r"""Adam (Kingma & Ba, 2015), bias-corrected; ``weight_decay`` adds $\lambda\theta$ to $g_t$.

    $m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t$, $v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2$,
    $\theta_t = \theta_{t-1} - \frac{\eta}{1-\beta_1^t}\,
    \frac{m_t}{\sqrt{v_t}/\sqrt{1-\beta_2^t} + \epsilon}$.
    ``amsgrad=True`` uses $\max_{s \le t} v_s$ in place of $v_t$.
    """

    def __init__(
        self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False,
    ) -> None:  # fmt: skip
        if len(betas) != 2 or not all(0.0 <= b < 1.0 for b in betas):
            raise ValueError(f"Adam: betas must be two numbers in [0, 1), got {betas!r}")
        defaults = {
            "lr": _check(lr, "learning rate", "Adam"),
            "betas": (float(betas[0]), float(betas[1])),
            "eps": _check(eps, "eps", "Adam"),
            "weight_decay": _check(weight_decay, "weight_decay", "Adam"),
            "amsgrad": bool(amsgrad),
        }
        super().__init__(params, defaults)

    def _update(self, p, grad, group, state):
        g = grad + group["weight_decay"] * p.data if group["weight_decay"] else grad
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


class RMSprop(Optimizer):
    r"""RMSprop (Hinton): divide $g_t$ by a running root mean square.

    $s_t = \alpha s_{t-1} + (1-\alpha) g_t^2$,
    $\theta_t = \theta_{t-1} - \eta\, g_t / (\sqrt{s_t} + \epsilon)$.
    ``centered``: use $s_t - \bar g_t^2$ (the variance) with $\bar g_t$ the running mean of $g$.
    ``momentum`` $\mu$: $b_t = \mu b_{t-1} + g_t / (\sqrt{s_t} + \epsilon)$,
    $\theta_t = \theta_{t-1} - \eta b_t$.
    """

    def __init__(
        self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
        weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False,
    ) -> None:  # fmt: skip
        defaults = {
            "lr": _check(lr, "learning rate", "RMSprop"),
            "alpha": _check(alpha, "alpha", "RMSprop"),
            "eps": _check(eps, "eps", "RMSprop"),
            "weight_decay": _check(weight_decay, "weight_decay", "RMSprop"),
            "momentum": _check(momentum, "momentum", "RMSprop"),
            "centered": bool(centered),
        }
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

    $S_t = S_{t-1} + g_t^2$ ($S_0$ = ``initial_accumulator_value``),
    $\theta_t = \theta_{t-1} - \tilde\eta_t\, g_t / (\sqrt{S_t} + \epsilon)$ with
    $\tilde\eta_t = \eta / (1 + (t-1)\,\text{lr\_decay})$.
    """

    def __init__(
        self, params, lr: float = 1e-2, lr_decay: float = 0.0, weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0, eps: float = 1e-10,
    ) -> None:  # fmt: skip
        defaults = {
            "lr": _check(lr, "learning rate", "Adagrad"),
            "lr_decay": _check(lr_decay, "lr_decay", "Adagrad"),
            "weight_decay": _check(weight_decay, "weight_decay", "Adagrad"),
            "initial_accumulator_value": _check(
                initial_accumulator_value, "initial_accumulator_value", "Adagrad"
            ),
            "eps": _check(eps, "eps", "Adagrad"),
        }
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


__all__ = ["Optimizer", "SGD", "Adam", "RMSprop", "Adagrad"]
