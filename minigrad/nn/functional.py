"""Functions on tensors with PyTorch's names and arguments (``minigrad.nn.functional``, or ``F``).

Activations live here as in PyTorch. Note ``dim`` (PyTorch's word) where minigrad's
NumPy-style functions say ``axis``.
"""

from __future__ import annotations

import numbers

import numpy as np

from minigrad import functional as _mf
from minigrad.arguments import describe, flag, integer, number_in
from minigrad.nn.functional_attention import scaled_dot_product_attention  # noqa: F401 - PyTorch's F name
from minigrad.random import get_generator
from minigrad.tensor import Tensor
from minigrad.tensor_arguments import tensor_like


def sigmoid(input) -> Tensor:
    r"""σ(x) = 1/(1 + e⁻ˣ); finite, with no warnings, for |x| up to 1e4 and beyond."""
    return _mf.sigmoid(_input(input, "sigmoid"))


def tanh(input) -> Tensor:
    r"""tanh(x)."""
    return _mf.tanh(_input(input, "tanh"))


def relu(input) -> Tensor:
    r"""max(x, 0)."""
    return _mf.relu(_input(input, "relu"))


def leaky_relu(input, negative_slope: float = 0.01) -> Tensor:
    r"""x for x > 0, else ``negative_slope`` · x."""
    return _mf.leaky_relu(_input(input, "leaky_relu"), negative_slope)


def gelu(input, approximate: str = "none") -> Tensor:
    r"""x·Φ(x) with the exact erf form (``'none'``) or the tanh approximation (``'tanh'``)."""
    return _mf.gelu(_input(input, "gelu"), approximate)


def softmax(input, dim: int = -1) -> Tensor:
    r"""exp(xᵢ) / Σⱼ exp(xⱼ) along ``dim``; stable for logits of magnitude 1e4."""
    return _mf.softmax(_input(input, "softmax"), dim=dim)


def log_softmax(input, dim: int = -1) -> Tensor:
    r"""xᵢ − log Σⱼ exp(xⱼ) along ``dim``; stable for logits of magnitude 1e4."""
    return _mf.log_softmax(_input(input, "log_softmax"), dim=dim)


def softplus(input) -> Tensor:
    r"""log(1 + eˣ), as log(e⁰ + eˣ) with ``logsumexp``: no overflow, smooth at 0."""
    x = _as_float(input, "softplus")
    return _mf.logsumexp(_mf.stack([_zeros_like(x), x]), axis=0)


# ----- layers as functions ---------------------------------------------------------------
def linear(input, weight, bias=None) -> Tensor:
    r"""y = x Wᵀ + b; ``weight`` is ``(out_features, in_features)`` as in PyTorch."""
    x, w = _input(input, "linear"), tensor_like(weight, "weight", "linear")
    if w.ndim != 2 or x.ndim == 0 or x.shape[-1] != w.shape[1]:
        raise ValueError(
            f"linear: expected input (..., {w.shape[-1] if w.ndim else '?'}) and weight "
            f"(out_features, in_features), got input {x.shape} and weight {w.shape}"
        )
    _check_same_float_dtype(x, w, "linear")
    out = x @ w.T
    return out if bias is None else out + tensor_like(bias, "bias", "linear")


def layer_norm(input, normalized_shape, weight=None, bias=None, eps: float = 1e-5) -> Tensor:
    r"""y = (x − μ) / √(σ² + ε) ⊙ γ + β over the last axes.

    μ and the biased σ² are taken over the trailing ``normalized_shape`` axes.
    """
    x = _as_float(input, "layer_norm")
    shape = _shape_tuple(normalized_shape, "layer_norm")
    if x.shape[x.ndim - len(shape):] != shape or len(shape) > x.ndim:
        raise ValueError(
            f"layer_norm: normalized_shape {shape} must match the last dimensions of the input, "
            f"got input shape {x.shape}"
        )
    eps = number_in(eps, "eps", "layer_norm", 0, low_open=True, high_open=True)
    axes = tuple(range(x.ndim - len(shape), x.ndim))
    centered = x - x.mean(axis=axes, keepdims=True)
    out = centered / _mf.sqrt(x.var(axis=axes, keepdims=True) + eps)
    if weight is not None:
        weight = tensor_like(weight, "weight", "layer_norm")
        _check_same_float_dtype(x, weight, "layer_norm")
        out = out * weight
    if bias is not None:
        out = out + tensor_like(bias, "bias", "layer_norm")
    return out


def dropout(input, p: float = 0.5, training: bool = True) -> Tensor:
    r"""Zero each element with probability p, scale the rest by 1/(1 − p).

    The identity when ``training=False``. The mask comes from minigrad's generator
    (``minigrad.manual_seed``).
    """
    if isinstance(p, (bool, np.bool_)) or not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: p must be a probability in [0, 1], got {p!r}")
    x = _as_float(input, "dropout")
    if not flag(training, "training", "dropout") or p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0
    keep = get_generator().random(x.shape) >= p
    return x * Tensor(keep.astype(x.dtype) / np.asarray(1.0 - p, dtype=x.dtype), dtype=x.dtype)


def embedding(input, weight, padding_idx: int | None = None) -> Tensor:
    """Rows of ``weight`` (num_embeddings, embedding_dim) picked by the integer ``input``: out[..., :] = W[i].

    Indices must lie in [0, num_embeddings) (a negative one is an error, not NumPy's wrap-around).
    The row ``padding_idx`` gets no gradient, as in PyTorch, whatever it holds.
    """
    w = tensor_like(weight, "weight", "embedding")
    padding_idx = None if padding_idx is None else integer(padding_idx, "padding_idx", "embedding")
    idx = np.asarray(input.data if isinstance(input, Tensor) else input)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"embedding: input must hold integer indices, got {describe(input)}")
    if w.ndim != 2:
        raise ValueError(f"embedding: weight must be (num_embeddings, embedding_dim), got shape {w.shape}")
    if idx.size and (idx.min() < 0 or idx.max() >= w.shape[0]):
        raise IndexError(
            f"embedding: input indices must be in [0, {w.shape[0]}), got values from {idx.min()} to {idx.max()}"
        )
    rows = w[idx]
    if padding_idx is None:
        return rows
    keep = (idx != padding_idx)[..., None]  # same values either way; only the kept rows pass gradient
    return _mf.where(keep, rows, rows.detach())


# ----- losses ----------------------------------------------------------------------------
_REDUCTIONS = ("mean", "sum", "none")


def one_hot(tensor, num_classes: int = -1) -> Tensor:
    """Class indices as one-hot rows: shape (..., num_classes), int64, like ``F.one_hot``.

    ``num_classes=-1`` takes one more than the largest index, as PyTorch does.
    """
    idx = np.asarray(tensor.data if isinstance(tensor, Tensor) else tensor)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"one_hot: tensor must hold integer class indices, got {describe(tensor)}")
    num_classes = integer(num_classes, "num_classes", "one_hot", low=-1)
    if num_classes == -1:
        num_classes = int(idx.max()) + 1 if idx.size else 0
    if idx.size and (idx.min() < 0 or idx.max() >= num_classes):
        raise ValueError(f"one_hot: class indices must be in [0, {num_classes}), got values from "
                         f"{idx.min()} to {idx.max()}")  # fmt: skip
    return Tensor((idx[..., None] == np.arange(num_classes)).astype(np.int64))


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        # the mean of no elements is NaN, as in PyTorch (and without NumPy's "mean of empty slice")
        return loss.sum() + _nan(loss) if loss.size == 0 else loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _nan(like: Tensor) -> Tensor:
    """A NaN constant: ``x + nan`` makes the value NaN while the gradient that flows to ``x`` stays finite."""
    return Tensor(np.array(np.nan, dtype=like.dtype), dtype=like.dtype)


def _check_reduction(reduction, name: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{name}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def mse_loss(input, target, reduction: str = "mean") -> Tensor:
    r"""ℓ = (x − y)² elementwise, then reduced; ``input`` and ``target`` share one shape.

    The mean of empty inputs is NaN, as in PyTorch.
    """
    _check_reduction(reduction, "mse_loss")
    x, y = _as_float(input, "mse_loss"), tensor_like(target, "target", "mse_loss")
    if x.shape != y.shape:
        # PyTorch only warns; a (N, 1) vs (N,) broadcast to (N, N) is a classic silent bug
        raise ValueError(
            f"mse_loss: input and target must have the same shape, got {x.shape} and {y.shape}"
        )
    d = x - y
    return _reduce(d * d, reduction)


def l1_loss(input, target, reduction: str = "mean") -> Tensor:
    r"""ℓ = |x − y| elementwise, then reduced; ``input`` and ``target`` share one shape.

    ∂ℓ/∂x = sign(x − y), 0 where x = y (as PyTorch). The mean of empty inputs is NaN.
    """
    _check_reduction(reduction, "l1_loss")
    x, y = _as_float(input, "l1_loss"), tensor_like(target, "target", "l1_loss")
    if x.shape != y.shape:
        raise ValueError(f"l1_loss: input and target must have the same shape, got {x.shape} and {y.shape}")
    return _reduce(_mf.abs(x - y), reduction)


def nll_loss(
    input, target, weight=None, ignore_index: int = -100, reduction: str = "mean"
) -> Tensor:
    r"""ℓₙ = −w_{yₙ} x_{n,yₙ} for log-probabilities x.

    ``input`` is ``(N, C)``, ``(C,)`` or ``(N, C, d...)``; ``target`` holds class indices.

    ``reduction='mean'`` divides by Σₙ w_{yₙ} (PyTorch's weighted mean); targets equal
    to ``ignore_index`` contribute nothing, to the sum or to the count. If nothing counts (every
    target ignored, or an empty batch) the mean is NaN and the gradient 0, as in PyTorch.
    """
    _check_reduction(reduction, "nll_loss")
    x = _as_float(input, "nll_loss")
    ignore_index = integer(ignore_index, "ignore_index", "nll_loss")
    t = np.asarray(target.data if isinstance(target, Tensor) else target)
    if t.dtype.kind not in "iu":
        raise TypeError(f"nll_loss: target must hold integer class indices, got {describe(target)}")
    if x.ndim == 0:
        raise ValueError("nll_loss: input must have a class dimension, got a 0-d tensor")
    class_axis = 0 if x.ndim == 1 else 1
    n_classes = x.shape[class_axis]
    expected = x.shape[:class_axis] + x.shape[class_axis + 1:]
    if t.shape != expected:
        raise ValueError(
            f"nll_loss: target must have shape {expected} for input {x.shape}, got {t.shape}"
        )
    valid = t != ignore_index
    if np.any((t[valid] < 0) | (t[valid] >= n_classes)):
        raise ValueError(
            f"nll_loss: target values must be in [0, {n_classes}) or ignore_index, got {t[valid]}"
        )
    # move the class axis last and flatten: rows of log-probabilities, one per target
    if x.ndim > 2:
        x = x.transpose((0, *range(2, x.ndim), 1))
    rows = x.reshape(-1, n_classes)
    safe_t = np.where(valid, t, 0).ravel()
    picked = -rows[np.arange(rows.shape[0]), safe_t]
    w = np.ones(n_classes) if weight is None else _class_weights(weight, "nll_loss", np.float64)
    if w.shape != (n_classes,):
        raise ValueError(f"nll_loss: weight must have shape ({n_classes},), got {w.shape}")
    w_t = (w[safe_t] * valid.ravel()).astype(x.dtype)
    losses = picked * Tensor(w_t, dtype=x.dtype)
    if reduction == "none":
        return losses.reshape(t.shape)
    if reduction == "sum":
        return losses.sum()
    total = w_t.sum()
    if total == 0:  # 0/0: NaN, as PyTorch, but no NumPy warning and a zero gradient (PyTorch's too)
        return losses.sum() + _nan(losses)
    return losses.sum() / Tensor(np.asarray(total, dtype=x.dtype), dtype=x.dtype)


def cross_entropy(
    input, target, weight=None, ignore_index: int = -100, reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:  # fmt: skip
    r"""ℓₙ = −Σ_c w_c q_{n,c} log softmax(xₙ)_c: logits ``input``, targets as classes or probabilities.

    ``target`` holds class indices (then q is one-hot and this is ``log_softmax`` + ``nll_loss``,
    stable for logits of magnitude 1e4), or class probabilities of the input's shape (then q is
    ``target``). ``label_smoothing`` ε mixes q with the uniform distribution, q ← (1 − ε) q + ε/C
    (PyTorch's formulas, with its 'mean' for each: divided by Σ w_{yₙ} for class indices, by the
    number of samples for probabilities). The mean over nothing is NaN, as in PyTorch.
    """
    _check_reduction(reduction, "cross_entropy")
    x = _as_float(input, "cross_entropy")
    if x.ndim == 0:
        raise ValueError("cross_entropy: input must have a class dimension, got a 0-d tensor")
    class_axis = 0 if x.ndim == 1 else 1
    n_classes = x.shape[class_axis]
    if n_classes == 0:
        raise ValueError(f"cross_entropy: input must have at least one class, got shape {x.shape}")
    eps = label_smoothing
    if isinstance(eps, (bool, np.bool_)) or not isinstance(eps, numbers.Real) or not 0 <= eps <= 1:
        raise ValueError(f"cross_entropy: label_smoothing must be a number in [0, 1], got {label_smoothing!r}")
    logp = log_softmax(x, dim=class_axis)
    t = target.data if isinstance(target, Tensor) else np.asarray(target)
    ignore_index = integer(ignore_index, "ignore_index", "cross_entropy")
    w = None if weight is None else _class_weights(weight, "cross_entropy", x.dtype)
    if w is not None and w.shape != (n_classes,):
        raise ValueError(f"cross_entropy: weight must have shape ({n_classes},), got {w.shape}")
    # weight broadcast along the class axis: (C,) or (C, 1, ..., 1) for (N, C, d...)
    w_b = None if w is None else w.reshape((n_classes,) + (1,) * (x.ndim - class_axis - 1))
    if t.dtype.kind == "f":
        if t.shape != x.shape:
            raise TypeError(
                f"cross_entropy: target must hold integer class indices, or class probabilities of the "
                f"input's shape {x.shape}; got {t.dtype} values of shape {t.shape}"
            )
        if ignore_index != -100:
            raise ValueError("cross_entropy: ignore_index is not supported for probability (float) targets")
        q = target if isinstance(target, Tensor) else Tensor(t, dtype=x.dtype)  # no silent float64
        q = q * (1 - eps) + eps / n_classes if eps else q
        terms = logp * q if w_b is None else logp * q * Tensor(w_b, dtype=x.dtype)
        return _reduce(-terms.sum(axis=class_axis), reduction)  # 'mean': over the samples N·d...
    nll = nll_loss(logp, target, weight=weight, ignore_index=ignore_index, reduction=reduction)
    if not eps:
        return nll
    # label smoothing, PyTorch's way: (1 − ε)·nll + (ε/C)·smooth, smooth the same reduction of −Σ_c w_c log p_c
    smooth = -(logp if w_b is None else logp * Tensor(w_b, dtype=x.dtype)).sum(axis=class_axis)
    valid = t != ignore_index
    smooth = smooth * Tensor(valid.astype(x.dtype), dtype=x.dtype)
    if reduction == "mean":
        safe_t = np.where(valid, t, 0)
        total = (np.ones(n_classes, x.dtype) if w is None else w)[safe_t][valid].sum()
        smooth = smooth.sum() + _nan(smooth) if total == 0 else smooth.sum() / Tensor(total, dtype=x.dtype)
    else:
        smooth = _reduce(smooth, reduction)
    return nll * (1 - eps) + smooth * (eps / n_classes)


def binary_cross_entropy_with_logits(
    input, target, weight=None, reduction: str = "mean", pos_weight=None
) -> Tensor:
    r"""ℓ = −[p y log σ(x) + (1 − y) log(1 − σ(x))] = (1 − y) x + (1 + (p − 1) y) sp(−x).

    sp is softplus, log(1 + eˣ).
    The softplus form never takes the log of a rounded-to-zero σ(x), so it is finite for
    any logit. ``pos_weight`` p (default 1) weights the positive term; ``weight`` each element.
    """
    name = "binary_cross_entropy_with_logits"
    _check_reduction(reduction, name)
    x = _as_float(input, name)
    y = tensor_like(target, "target", name, x)
    if x.shape != y.shape:
        raise ValueError(
            f"binary_cross_entropy_with_logits: target must have the input's shape {x.shape}, "
            f"got {y.shape}"
        )
    # −[p·y·log σ(x) + (1−y)·log(1−σ(x))] with −log σ(x) = softplus(−x) and −log(1−σ(x)) = softplus(x):
    # no x − softplus(x) cancellation, which left softplus(−10) = 4.5e-5 only 11 digits
    p = 1 if pos_weight is None else tensor_like(pos_weight, "pos_weight", name, x)
    loss = p * y * softplus(-x) + (1 - y) * softplus(x)
    if weight is not None:
        loss = loss * tensor_like(weight, "weight", name, x)
    return _reduce(loss, reduction)


# ----- helpers ---------------------------------------------------------------------------
def _input(x, name: str) -> Tensor:
    return tensor_like(x, "input", name)


def _class_weights(weight, name: str, dtype) -> np.ndarray:
    """The per-class ``weight`` as a float array (a complex one would lose its imaginary part)."""
    w = tensor_like(weight, "weight", name).data
    if w.dtype.kind not in "biuf":
        raise TypeError(f"{name}: weight must be real, got {describe(weight)}")
    return w.astype(dtype)


def _as_float(x, name: str) -> Tensor:
    t = _input(x, name)
    if t.dtype.kind != "f":
        raise TypeError(f"{name}: input must be a float tensor, got dtype {t.dtype}")
    return t


def _check_same_float_dtype(x: Tensor, w: Tensor, name: str) -> None:
    """As PyTorch: a float32 model given float64 input is an error, not a silent float64 computation."""
    if x.dtype != w.dtype:
        raise TypeError(
            f"{name}: input has dtype {x.dtype} but the weight has dtype {w.dtype}; convert one of them, "
            f"e.g. minigrad.tensor(x, dtype=np.{w.dtype}) or model.to(np.{x.dtype})"
        )


def _zeros_like(x: Tensor) -> Tensor:
    return Tensor(np.zeros(x.shape, dtype=x.dtype), dtype=x.dtype)


def _shape_tuple(shape, name: str) -> tuple[int, ...]:
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        return (int(shape),)
    try:
        if isinstance(shape, (str, bytes)):  # "34" would otherwise iterate into (3, 4)
            raise TypeError
        out = tuple(int(s) for s in shape)
    except (TypeError, ValueError):
        raise TypeError(
            f"{name}: normalized_shape must be an int or a tuple of ints, got {shape!r}"
        ) from None
    return out
