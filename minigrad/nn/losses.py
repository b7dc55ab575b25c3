"""Loss modules with PyTorch's names and arguments: each one is a function of ``nn.functional``.

``nn.CrossEntropyLoss()(logits, target)`` is ``F.cross_entropy(logits, target)`` with the
module's settings. (PyTorch registers ``weight`` as a buffer, so it shows in its state dict;
minigrad's modules have no buffers, so here it is a plain attribute.)
"""

from __future__ import annotations

import numbers

import numpy as np

from minigrad.arguments import integer
from minigrad.nn import functional as F
from minigrad.nn.module import Module
from minigrad.tensor import Tensor
from minigrad.tensor_arguments import tensor_like


def _weight(value, name: str, owner: str):
    """``value`` (None or array-like), checked now rather than at the first forward."""
    if value is not None:
        tensor_like(value, name, owner)
    return value


class _Loss(Module):
    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        F._check_reduction(reduction, type(self).__name__)
        self.reduction = reduction

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class MSELoss(_Loss):
    """Mean squared error, ``F.mse_loss``: ℓ = (x − y)², then the ``reduction``."""

    def forward(self, input, target) -> Tensor:
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error, ``F.l1_loss``: ℓ = |x − y|, then the ``reduction``."""

    def forward(self, input, target) -> Tensor:
        return F.l1_loss(input, target, reduction=self.reduction)


class NLLLoss(_Loss):
    """Negative log-likelihood of log-probabilities, ``F.nll_loss``: ℓₙ = −w_{yₙ} x_{n,yₙ}."""

    def __init__(self, weight=None, ignore_index: int = -100, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.weight = _weight(weight, "weight", "NLLLoss")
        self.ignore_index = integer(ignore_index, "ignore_index", "NLLLoss")

    def forward(self, input, target) -> Tensor:
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index, reduction=self.reduction)


class CrossEntropyLoss(_Loss):
    """Cross-entropy of logits, ``F.cross_entropy``: class-index or class-probability targets, label smoothing."""

    def __init__(
        self, weight=None, ignore_index: int = -100, reduction: str = "mean", label_smoothing: float = 0.0
    ) -> None:
        super().__init__(reduction)
        if isinstance(label_smoothing, (bool, np.bool_)) or not isinstance(label_smoothing, numbers.Real):
            raise TypeError(f"CrossEntropyLoss: label_smoothing must be a number in [0, 1], got {label_smoothing!r}")
        if not 0 <= label_smoothing <= 1:
            raise ValueError(f"CrossEntropyLoss: label_smoothing must be in [0, 1], got {label_smoothing!r}")
        self.weight, self.label_smoothing = _weight(weight, "weight", "CrossEntropyLoss"), float(label_smoothing)
        self.ignore_index = integer(ignore_index, "ignore_index", "CrossEntropyLoss")  # None would ignore nothing

    def forward(self, input, target) -> Tensor:
        return F.cross_entropy(
            input, target, weight=self.weight, ignore_index=self.ignore_index, reduction=self.reduction,
            label_smoothing=self.label_smoothing,
        )  # fmt: skip


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy of logits, ``F.binary_cross_entropy_with_logits`` (with ``pos_weight``)."""

    def __init__(self, weight=None, reduction: str = "mean", pos_weight=None) -> None:
        super().__init__(reduction)
        self.weight = _weight(weight, "weight", "BCEWithLogitsLoss")
        self.pos_weight = _weight(pos_weight, "pos_weight", "BCEWithLogitsLoss")

    def forward(self, input, target) -> Tensor:
        return F.binary_cross_entropy_with_logits(
            input, target, weight=self.weight, reduction=self.reduction, pos_weight=self.pos_weight
        )


__all__ = ["MSELoss", "L1Loss", "NLLLoss", "CrossEntropyLoss", "BCEWithLogitsLoss"]
