r"""Ops that move elements without changing them: reshape, transpose, broadcast, index, join.

Each Jacobian is a 0/1 matrix (a permutation, selection or copy), so each VJP
just moves the gradient back to where the element came from.
"""

from __future__ import annotations

import numpy as np

from minigrad.ops.base import Op
from minigrad.tensor import apply_op


class Reshape(Op):
    r"""$y = \mathrm{reshape}(x)$;  $J = I$: the gradient is reshaped back."""

    __slots__ = ("shape",)

    def __init__(self, shape: tuple):
        if not all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) for n in shape):
            raise TypeError(f"reshape: shape must be ints (one may be -1), got {shape!r}")
        self.shape = shape

    def forward(self, x):
        try:
            return np.reshape(x, self.shape)
        except ValueError:
            raise ValueError(
                f"cannot reshape a tensor of shape {x.shape} (size {x.size}) into shape {self.shape}"
            ) from None

    def vjp(self, grad_out):
        return (np.reshape(grad_out, self.in_shapes[0]),)

    def recorded_vjp(self, grad_out, xp):
        return (xp.reshape(grad_out, self.in_shapes[0]),)

    def jvp(self, t):
        return np.reshape(t, self.out_shape)  # linear: the tangent moves as x does

    def jacobian(self, i):
        return np.eye(int(np.prod(self.in_shapes[0])))


class Transpose(Op):
    r"""$y = x$ with axes permuted by ``axes``;  the VJP applies the inverse permutation."""

    __slots__ = ("axes",)

    def __init__(self, axes=None):
        self.axes = axes

    def forward(self, x):
        if self.axes is None:
            self.axes = tuple(reversed(range(x.ndim)))
        if sorted(int(a) % max(x.ndim, 1) for a in self.axes) != list(range(x.ndim)):
            raise ValueError(f"transpose: axes {self.axes} are not a permutation of {x.ndim} axes")
        return np.transpose(x, self.axes)

    def vjp(self, grad_out):
        return (np.transpose(grad_out, np.argsort([a % grad_out.ndim for a in self.axes])),)

    def recorded_vjp(self, grad_out, xp):
        return (xp.transpose(grad_out, tuple(np.argsort([a % grad_out.ndim for a in self.axes]).tolist())),)

    def jvp(self, t):
        return np.transpose(t, self.axes)


class BroadcastTo(Op):
    r"""$y = x$ copied along new or size-1 axes;  the VJP sums the copies (``unbroadcast``)."""

    __slots__ = ("shape",)

    def __init__(self, shape: tuple):
        self.shape = tuple(shape)

    def forward(self, x):
        try:
            return np.broadcast_to(x, self.shape)
        except ValueError:
            raise ValueError(f"broadcast_to: cannot broadcast shape {x.shape} to {self.shape}") from None

    def vjp(self, grad_out):
        return (grad_out,)  # the engine sums over the broadcast axes

    def recorded_vjp(self, grad_out, xp):
        return (grad_out,)

    def jvp(self, t):
        return np.broadcast_to(t, self.shape)


class IndexedGrad:
    r"""A gradient that is zero except at ``index``, where it is ``values``.

    Picking ``x[t]`` in a loop over T time steps would otherwise cost a full
    ``zeros_like(x)`` per step, O(T^2) in all. The engine instead adds ``values``
    into one buffer per tensor (``add_to``); ``dense`` gives the ordinary array.
    """

    __slots__ = ("index", "values", "advanced")

    def __init__(self, index, values: np.ndarray, advanced: bool):
        self.index, self.values, self.advanced = index, values, advanced

    def add_to(self, target: np.ndarray) -> None:
        """``target[index] += values``; with integer arrays a repeated index adds twice."""
        if self.advanced:
            np.add.at(target, self.index, self.values)
        else:  # basic indexing is a view: no element is picked twice
            target[self.index] += self.values

    def dense(self, shape: tuple, dtype=None) -> np.ndarray:
        out = np.zeros(shape, dtype=dtype or self.values.dtype)
        self.add_to(out)
        return out


def _is_basic(part) -> bool:
    """An int, a slice (any step), ``None`` or ``...``: a part that picks each element at most once."""
    if isinstance(part, (bool, np.bool_)):  # x[True] is advanced indexing in NumPy
        return False
    return isinstance(part, (int, np.integer, slice, type(None), type(Ellipsis)))


def _index_part(part):
    """One part of an index, as NumPy reads it: a tuple or list of ints is an index *array*.

    ``W[rows, cols]`` with ``rows, cols = zip(*pairs)`` has tuple parts; NumPy treats them
    exactly as lists, so here they become arrays too (and count as advanced indexing, whose
    repeated picks must add up). ``x[[]]`` selects nothing: NumPy reads ``[]`` as a *float*
    index array and refuses it, so an empty part becomes an empty integer array.
    """
    if isinstance(part, (tuple, list, np.ndarray)):
        part = np.array(part)  # our own copy: the caller may reuse its index array before backward
    if isinstance(part, np.ndarray) and part.size == 0 and part.dtype.kind == "f":
        return np.array([], dtype=np.intp)
    return part


class GetItem(Op):
    r"""$y = x[\text{index}]$;  the VJP scatters $g$ back: $\bar x[\text{index}] \mathrel{+}= g$.

    With integer-array indices (arrays, lists or tuples of ints) or booleans an element can be
    picked twice; ``np.add.at`` then *adds* both gradients (a plain assignment would keep only
    one). Only ints, slices (any step), ``None`` and ``...`` are basic: each element at most once.
    The VJP is returned as an :class:`IndexedGrad`, so that it costs the size of
    the slice, not of the whole input.
    """

    __slots__ = ("index", "advanced")

    def __init__(self, index):
        parts = index if isinstance(index, tuple) else (index,)
        parts = tuple(p if _is_basic(p) else _index_part(p) for p in parts)
        self.advanced = not all(_is_basic(p) for p in parts)
        self.index = parts if isinstance(index, tuple) else parts[0]

    def forward(self, x):
        out = x[self.index]
        if type(out) is not np.ndarray:  # all ints: NumPy copies the element out; x[i, ...] is a 0-d view
            out = x[(*self.index, ...) if isinstance(self.index, tuple) else (self.index, ...)]
        return out

    def vjp(self, grad_out):
        return (IndexedGrad(self.index, grad_out, self.advanced),)

    def recorded_vjp(self, grad_out, xp):
        return (apply_op(Scatter(self.index, self.advanced, self.in_shapes[0]), grad_out),)

    def jvp(self, t):
        return t[self.index]


def _joined(join, xs: tuple, axis: int) -> np.ndarray:
    """``join(xs, axis=axis)`` for ``np.concatenate`` or ``np.stack``; NumPy's error does not say
    which shapes it got, so it is raised again with them."""
    try:
        return join(xs, axis=axis)
    except ValueError as e:
        shapes = ", ".join(str(x.shape) for x in xs)
        raise ValueError(f"{join.__name__}: inputs of shapes {shapes} do not fit along axis {axis}: {e}") from None


class Concatenate(Op):
    r"""$y = [x_1; x_2; \dots]$ along ``axis``;  each input gets its own slice of $g$."""

    __slots__ = ("axis", "bounds")

    def __init__(self, axis: int = 0):
        self.axis = axis

    def forward(self, *xs):
        out = _joined(np.concatenate, xs, self.axis)
        self.axis = self.axis % out.ndim
        self.bounds = np.cumsum([x.shape[self.axis] for x in xs])[:-1]
        return out

    def vjp(self, grad_out):
        return tuple(np.split(grad_out, self.bounds, axis=self.axis))

    def recorded_vjp(self, grad_out, xp):
        edges = [0, *self.bounds.tolist(), grad_out.shape[self.axis]]
        before = (slice(None),) * self.axis
        return tuple([grad_out[(*before, slice(lo, hi))] for lo, hi in zip(edges[:-1], edges[1:])])

    def jvp(self, *tangents):
        return np.concatenate(zeros_for_none(tangents, self.in_shapes), axis=self.axis)


class Stack(Op):
    r"""$y = [x_1, x_2, \dots]$ stacked on a new ``axis``;  input $k$ gets $g$ at position $k$."""

    __slots__ = ("axis",)

    def __init__(self, axis: int = 0):
        self.axis = axis

    def forward(self, *xs):
        out = _joined(np.stack, xs, self.axis)
        self.axis = self.axis % out.ndim
        return out

    def vjp(self, grad_out):
        # views, not copies: the engine never writes into a gradient it did not allocate
        return tuple(np.moveaxis(grad_out, self.axis, 0))

    def recorded_vjp(self, grad_out, xp):
        before = (slice(None),) * self.axis
        return tuple([grad_out[(*before, k)] for k in range(len(self.in_shapes))])

    def jvp(self, *tangents):
        return np.stack(zeros_for_none(tangents, self.in_shapes), axis=self.axis)


class Scatter(Op):
    r"""$y = 0$ of ``shape`` with $y[\text{index}] \mathrel{+}= x$: ``GetItem``'s VJP as an op (create-graph mode).

    Linear, and the transpose of ``GetItem``: its VJP picks ``g[index]``, its JVP scatters.
    """

    __slots__ = ("index", "advanced", "shape")

    def __init__(self, index, advanced: bool, shape: tuple):
        self.index, self.advanced, self.shape = index, advanced, shape

    def forward(self, x):
        return IndexedGrad(self.index, x, self.advanced).dense(self.shape)

    def vjp(self, grad_out):
        return (grad_out[self.index],)

    def jvp(self, t):
        return IndexedGrad(self.index, t, self.advanced).dense(self.shape)

    def recorded_vjp(self, grad_out, xp):
        return (apply_op(GetItem(self.index), grad_out),)


def zeros_for_none(tangents: tuple, shapes: tuple) -> list:
    """The tangents, with zeros of the input's shape where an input has none (for a join)."""
    dtype = next(t.dtype for t in tangents if t is not None)
    return [np.zeros(s, dtype=dtype) if t is None else t for t, s in zip(tangents, shapes, strict=True)]
