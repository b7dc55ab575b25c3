"""Learning-rate schedules with PyTorch's names, formulas and ``step()`` rules (``minigrad.optim.lr_scheduler``).

A scheduler changes ``group["lr"]`` of its optimizer's parameter groups. As in PyTorch, building one
records each group's ``initial_lr`` and counts as step 0 (``last_epoch = 0``); call ``step()`` once per
epoch, after ``optimizer.step()``. ``get_last_lr()`` is the list of rates it set last.

Each ``step()`` updates the current rate with PyTorch's recursive ("chainable") form, e.g. StepLR's
lr ← γ·lr every ``step_size`` epochs, rather than the closed form base_lr·γ^⌊epoch/step_size⌋: the two
agree in exact arithmetic, and the recursive one gives PyTorch's numbers to the last bit.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable

import numpy as np

from minigrad.arguments import describe
from minigrad.optim.optimizers import Optimizer, _check


def _positive_int(value, name: str, cls: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{cls}: invalid {name}: expected a positive int, got {value!r}")
    return int(value)


class LRScheduler:
    """Base class: ``step()`` sets each group's ``lr`` to :meth:`get_lr`; subclasses give the formula."""

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        cls = type(self).__name__
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{cls}: optimizer must be a minigrad.optim Optimizer, got {describe(optimizer)}")
        if last_epoch != -1:
            # resuming is done with load_state_dict, which restores everything step() depends on
            raise ValueError(f"{cls}: last_epoch must be -1 (use load_state_dict to resume), got {last_epoch!r}")
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = -1
        self.step()  # step 0: last_epoch = 0, rates unchanged

    def get_lr(self) -> list[float]:
        """The rates for epoch ``last_epoch``, from the current ones (PyTorch's recursive form)."""
        raise NotImplementedError

    def step(self) -> None:
        """Move to the next epoch and set each group's ``lr``."""
        self.last_epoch += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        """The learning rates set by the last ``step()``, one per parameter group."""
        return list(self._last_lr)

    def _current(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, np.ndarray]:
        """The counters and rates ``step()`` depends on, as plain arrays (savable with ``minigrad.save``)."""
        return {
            "last_epoch": np.array(self.last_epoch),
            "base_lrs": np.array(self.base_lrs, dtype=np.float64),
            "last_lr": np.array(self._last_lr, dtype=np.float64),
        }

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore what :meth:`state_dict` returned; each key is checked (a ValueError names it)."""
        n = len(self.optimizer.param_groups)
        expected = {"last_epoch": (), "base_lrs": (n,), "last_lr": (n,)}
        _check_keys(state_dict, expected, type(self).__name__)
        self.last_epoch = int(state_dict["last_epoch"])
        self.base_lrs = [float(v) for v in state_dict["base_lrs"]]
        self._last_lr = [float(v) for v in state_dict["last_lr"]]


def _check_keys(state_dict, expected: dict[str, tuple], cls: str) -> None:
    if not isinstance(state_dict, dict):
        raise TypeError(f"{cls}.load_state_dict: expected a dict of arrays, got {type(state_dict).__name__}")
    if set(state_dict) != set(expected):
        raise ValueError(
            f"{cls}.load_state_dict: expected the keys {sorted(expected)}, got {sorted(map(str, state_dict))}"
        )
    for key, shape in expected.items():
        arr = np.asarray(state_dict[key])
        if arr.shape != shape or arr.dtype.kind not in "biuf":
            raise ValueError(
                f"{cls}.load_state_dict: {key!r} must be a numeric array of shape {shape}, "
                f"got shape {arr.shape}, dtype {arr.dtype}"
            )


class StepLR(LRScheduler):
    """Multiply the rate by ``gamma`` every ``step_size`` epochs: lr = base_lr · γ^⌊epoch / step_size⌋."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1) -> None:
        self.step_size = _positive_int(step_size, "step_size", "StepLR")
        self.gamma = _check(gamma, "gamma", "StepLR")
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """γ·lr on multiples of ``step_size``, else the current lr."""
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._current()
        return [lr * self.gamma for lr in self._current()]


class ExponentialLR(LRScheduler):
    """Multiply the rate by ``gamma`` every epoch: lr = base_lr · γ^epoch."""

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = _check(gamma, "gamma", "ExponentialLR")
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """γ·lr (the current lr at epoch 0)."""
        if self.last_epoch == 0:
            return self._current()
        return [lr * self.gamma for lr in self._current()]


class CosineAnnealingLR(LRScheduler):
    """Half a cosine from base_lr down to ``eta_min`` over ``T_max`` epochs (SGDR without restarts).

    lr = η_min + (base_lr − η_min)·(1 + cos(π·epoch / T_max)) / 2, computed recursively as PyTorch
    does; past ``T_max`` the rate climbs back up along the same cosine.
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1) -> None:
        self.T_max = _positive_int(T_max, "T_max", "CosineAnnealingLR")
        self.eta_min = _check(eta_min, "eta_min", "CosineAnnealingLR")
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """PyTorch's recursive cosine step (with its special case at the bottom of each cycle)."""
        e, T, lo = self.last_epoch, self.T_max, self.eta_min
        if e == 0:
            return self._current()
        if (e - 1 - T) % (2 * T) == 0:  # the bottom of the cosine: the ratio below would be 0/0
            step = (1 - math.cos(math.pi / T)) / 2
            return [lr + (base - lo) * step for lr, base in zip(self._current(), self.base_lrs)]
        ratio = (1 + math.cos(math.pi * e / T)) / (1 + math.cos(math.pi * (e - 1) / T))
        return [ratio * (lr - lo) + lo for lr in self._current()]


class LambdaLR(LRScheduler):
    """lr = base_lr · λ(epoch), with ``lr_lambda`` one function, or a list of one per parameter group."""

    def __init__(
        self, optimizer: Optimizer, lr_lambda: Callable[[int], float] | list, last_epoch: int = -1
    ) -> None:
        n = len(optimizer.param_groups) if isinstance(optimizer, Optimizer) else 0
        lambdas = list(lr_lambda) if isinstance(lr_lambda, (list, tuple)) else [lr_lambda] * n
        if len(lambdas) != n or not all(callable(f) for f in lambdas):
            raise TypeError(
                f"LambdaLR: lr_lambda must be a function of the epoch, or a list of {n} (one per "
                f"parameter group), got {lr_lambda!r}"
            )
        self.lr_lambdas = lambdas
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """base_lr · λ(last_epoch) for each group."""
        return [base * f(self.last_epoch) for f, base in zip(self.lr_lambdas, self.base_lrs)]


class ReduceLROnPlateau:
    """Multiply the rate by ``factor`` when a metric has stopped improving for ``patience`` epochs.

    ``step(metric)`` once per epoch. An epoch improves on the best value so far if, for
    ``mode='min'`` and ``threshold_mode='rel'``, metric < best·(1 − threshold) (``'abs'``:
    metric < best − threshold; ``'max'`` mirrors both). After more than ``patience`` epochs
    without improvement each group's lr becomes max(lr·factor, min_lr), unless that changes it
    by less than ``eps``; then ``cooldown`` epochs pass before bad epochs count again.
    """

    def __init__(
        self, optimizer: Optimizer, mode: str = "min", factor: float = 0.1, patience: int = 10,
        threshold: float = 1e-4, threshold_mode: str = "rel", cooldown: int = 0,
        min_lr: float | list[float] = 0.0, eps: float = 1e-8,
    ) -> None:  # fmt: skip
        cls = "ReduceLROnPlateau"
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{cls}: optimizer must be a minigrad.optim Optimizer, got {describe(optimizer)}")
        if mode not in ("min", "max"):
            raise ValueError(f"{cls}: invalid mode: expected 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"{cls}: invalid threshold_mode: expected 'rel' or 'abs', got {threshold_mode!r}")
        self.factor = _check(factor, "factor", cls, 0.0, 1.0)
        if isinstance(patience, bool) or not isinstance(patience, numbers.Integral) or patience < 0:
            raise ValueError(f"{cls}: invalid patience: expected an int >= 0, got {patience!r}")
        if isinstance(cooldown, bool) or not isinstance(cooldown, numbers.Integral) or cooldown < 0:
            raise ValueError(f"{cls}: invalid cooldown: expected an int >= 0, got {cooldown!r}")
        n = len(optimizer.param_groups)
        lows = list(min_lr) if isinstance(min_lr, (list, tuple)) else [min_lr] * n
        if len(lows) != n:
            raise ValueError(f"{cls}: invalid min_lr: expected a number or a list of {n}, got {min_lr!r}")
        self.optimizer, self.mode, self.threshold_mode = optimizer, mode, threshold_mode
        self.patience, self.cooldown = int(patience), int(cooldown)
        self.threshold = _check(threshold, "threshold", cls)
        self.min_lrs = [_check(v, "min_lr", cls) for v in lows]
        self.eps = _check(eps, "eps", cls)
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self.last_epoch = 0
        self._last_lr = [group["lr"] for group in optimizer.param_groups]

    def _is_better(self, a: float) -> bool:
        rel = self.threshold_mode == "rel"
        if self.mode == "min":
            return a < (self.best * (1 - self.threshold) if rel else self.best - self.threshold)
        return a > (self.best * (1 + self.threshold) if rel else self.best + self.threshold)

    def step(self, metrics: float) -> None:
        """Record one epoch's metric (a number or a one-element Tensor); lower the rate on a plateau."""
        value = metrics.item() if hasattr(metrics, "item") else metrics
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"ReduceLROnPlateau.step: metrics must be a number, got {metrics!r}")
        current = float(value)
        self.last_epoch += 1
        if self._is_better(current):
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:  # in cooldown: bad epochs do not count
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            for group, low in zip(self.optimizer.param_groups, self.min_lrs):
                new = max(group["lr"] * self.factor, low)
                if group["lr"] - new > self.eps:
                    group["lr"] = new
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        """The learning rates after the last ``step()``, one per parameter group."""
        return list(self._last_lr)

    def state_dict(self) -> dict[str, np.ndarray]:
        """The counters and best value ``step()`` depends on, as plain arrays."""
        return {
            "best": np.array(self.best), "num_bad_epochs": np.array(self.num_bad_epochs),
            "cooldown_counter": np.array(self.cooldown_counter), "last_epoch": np.array(self.last_epoch),
            "last_lr": np.array(self._last_lr, dtype=np.float64),
        }  # fmt: skip

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore what :meth:`state_dict` returned; each key is checked (a ValueError names it)."""
        n = len(self.optimizer.param_groups)
        shapes = {"best": (), "num_bad_epochs": (), "cooldown_counter": (), "last_epoch": (), "last_lr": (n,)}
        _check_keys(state_dict, shapes, "ReduceLROnPlateau")
        self.best = float(state_dict["best"])
        self.num_bad_epochs = int(state_dict["num_bad_epochs"])
        self.cooldown_counter = int(state_dict["cooldown_counter"])
        self.last_epoch = int(state_dict["last_epoch"])
        self._last_lr = [float(v) for v in state_dict["last_lr"]]


__all__ = ["LRScheduler", "StepLR", "ExponentialLR", "CosineAnnealingLR", "LambdaLR", "ReduceLROnPlateau"]
