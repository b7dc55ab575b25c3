"""Views and in-place writes: a write that would change an array a recorded op saved is refused.

Basic indexing, the reshape family, transposes, ``detach``, ``split`` and iteration return views
(they share memory with their input, as in PyTorch). A view made *before* a forward pass keeps
its own NumPy write flag, so the lock on what the forward saved is checked on the memory's owner
too (``safety.is_locked``). The test enumerates every view maker x saving op x in-place operator:
each write is refused, or backward gives the gradient of the forward that ran (never another).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import minigrad as mg

VIEW_MAKERS = {
    "slice": lambda t: t[1:],
    "negative step": lambda t: t[::-1],
    "row": lambda t: t[0],
    "element": lambda t: t[0, 1],
    "None": lambda t: t[..., None],
    "column": lambda t: t[:, 1],
    "reshape": lambda t: t.reshape(6),
    "view": lambda t: t.view(3, 2),
    "flatten": lambda t: t.flatten(),
    "unsqueeze": lambda t: t.unsqueeze(0),
    "squeeze": lambda t: t.squeeze(),
    "T": lambda t: t.T,
    "transpose": lambda t: t.transpose(1, 0),
    "permute": lambda t: t.permute(1, 0),
    "detach": lambda t: t.detach(),
    "split": lambda t: mg.split(t, 3, axis=1)[1],
    "iteration": lambda t: next(iter(t)),
}

SAVING_OPS = {  # y = f(w), scalar; each saves w (or its output) for backward
    "mul": lambda t: (t * t).sum(),
    "div": lambda t: (1.0 / t).sum(),
    "pow": lambda t: (t**3).sum(),
    "matmul": lambda t: (t @ t.T).sum(),
    "exp": lambda t: t.exp().sum(),
    "tanh": lambda t: t.tanh().sum(),
    "log": lambda t: t.log().sum(),
    "sqrt": lambda t: t.sqrt().sum(),
    "max": lambda t: t.max(),
    "logsumexp": lambda t: t.logsumexp(axis=1).sum(),
    "softmax": lambda t: (mg.softmax(t, axis=1) * mg.tensor([1.0, 2.0, 3.0])).sum(),
    "var": lambda t: t.var(ddof=0),
}

IN_PLACE = {
    "add_": lambda v: v.add_(1.0),
    "sub_": lambda v: v.sub_(1.0),
    "mul_": lambda v: v.mul_(0.0),
    "div_": lambda v: v.div_(2.0),
    "fill_": lambda v: v.fill_(0.5),
    "zero_": lambda v: v.zero_(),
    "copy_": lambda v: v.copy_(np.zeros(v.shape)),
    "clamp_": lambda v: v.clamp_(0.0, 0.5),
    "+=": lambda v: v.__iadd__(1.0),
    "-=": lambda v: v.__isub__(1.0),
    "*=": lambda v: v.__imul__(0.0),
    "/=": lambda v: v.__itruediv__(2.0),
}

W0 = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])


def _true_grad(f) -> np.ndarray:
    w = mg.tensor(W0, requires_grad=True)
    f(w).backward()
    return w.grad


def _refused_or_right(write, v, y, w, expected) -> None:
    """The write raises the in-place RuntimeError; or it happens and the gradient is the forward's."""
    before = w.data.copy()
    try:
        with mg.no_grad():
            write(v)
    except RuntimeError as e:
        assert "saved for the backward pass" in str(e)
        np.testing.assert_array_equal(w.data, before)  # refused: nothing was written
    y.backward()
    np.testing.assert_allclose(w.grad, expected, rtol=1e-12)


@pytest.mark.parametrize("maker", VIEW_MAKERS)
def test_every_view_maker_shares_memory(maker):
    w = mg.tensor(W0, requires_grad=True)
    with mg.no_grad():
        v = VIEW_MAKERS[maker](w)
    assert np.shares_memory(v.data, w.data)


@pytest.mark.parametrize(("maker", "op"), list(itertools.product(VIEW_MAKERS, SAVING_OPS)))
def test_write_through_a_view_made_before_the_forward(maker, op):
    """``with no_grad(): v = w[1:]``; ``y = f(w)``; ``with no_grad(): v *= 0``; ``y.backward()``."""
    expected = _true_grad(SAVING_OPS[op])
    for write in IN_PLACE.values():
        w = mg.tensor(W0, requires_grad=True)
        with mg.no_grad():
            v = VIEW_MAKERS[maker](w)
        y = SAVING_OPS[op](w)
        _refused_or_right(write, v, y, w, expected)


CONSTANT_OPS = {  # y = f(w, c) saves the constant c (or a view of it)
    "mul": lambda w, c: (w * c).sum(),
    "div": lambda w, c: (w / c).sum(),
    "matmul": lambda w, c: (w @ c.T).sum(),
    "pow": lambda w, c: (w**c).sum(),
    "maximum": lambda w, c: mg.maximum(w, c).sum(),
}


@pytest.mark.parametrize(("maker", "op"), list(itertools.product(VIEW_MAKERS, CONSTANT_OPS)))
def test_write_through_a_view_of_a_saved_constant(maker, op):
    """A constant's view needs no ``no_grad`` to be made; writing through it is refused all the same."""
    c0 = W0[::-1] / 4
    w0 = W0 / 3
    w = mg.tensor(w0, requires_grad=True)
    CONSTANT_OPS[op](w, mg.tensor(c0)).backward()
    expected = w.grad
    for write in IN_PLACE.values():
        c = mg.tensor(c0)
        v = VIEW_MAKERS[maker](c)
        w = mg.tensor(w0, requires_grad=True)
        y = CONSTANT_OPS[op](w, c)
        try:
            write(v)
        except RuntimeError as e:
            assert "saved for the backward pass" in str(e)
        y.backward()
        np.testing.assert_allclose(w.grad, expected, rtol=1e-12)


@pytest.mark.parametrize("maker", VIEW_MAKERS)
def test_saved_view_written_through_its_owner_or_a_sibling(maker):
    """The forward saves a view; the write goes to the owner, or to another view made before."""
    c = mg.tensor(W0)
    sibling = c[:]
    v = VIEW_MAKERS[maker](c)
    w = mg.tensor(np.ones(v.shape), requires_grad=True)
    y = (w * v).sum()  # Mul saves v's array
    for target in (c, sibling):
        for write in IN_PLACE.values():
            with pytest.raises(RuntimeError, match="saved for the backward pass"):
                write(target)
    y.backward()
    np.testing.assert_array_equal(w.grad, VIEW_MAKERS[maker](mg.tensor(W0)).data)


def test_the_issue_example_raises_and_backward_after_it_is_right():
    w = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with mg.no_grad():
        v = w[1:]
    y = (w * w).sum()
    with pytest.raises(RuntimeError, match="shares its memory"), mg.no_grad():
        v *= 0
    y.backward()
    np.testing.assert_array_equal(w.grad, [2.0, 4.0, 6.0])
    with mg.no_grad():
        v *= 0  # after backward the memory is free again, through the view too
    np.testing.assert_array_equal(w.data, [1.0, 0.0, 0.0])


def test_a_saved_view_is_writable_again_after_backward():
    c = mg.tensor(W0)
    v = c[1:]
    w = mg.tensor(np.ones((1, 3)), requires_grad=True)
    (w * v).sum().backward()
    v.mul_(2.0)  # the view itself was locked by the forward: backward unlocks it, not only its owner
    np.testing.assert_array_equal(c.data[1], 2 * W0[1])


def test_initializers_copy_instead_of_writing_through_a_view_into_a_saved_array():
    p = mg.nn.Parameter(W0.copy())
    with mg.no_grad():
        v = p[0]
    v_param = mg.nn.Parameter(np.zeros(3))
    v_param.data = v.data  # a parameter that shares the saved array's memory
    y = (p * p).sum()
    mg.nn.init.zeros_(v_param)
    np.testing.assert_array_equal(p.data, W0)  # copy-on-write: the saved array is untouched
    np.testing.assert_array_equal(v_param.data, 0.0)
    y.backward()
    np.testing.assert_array_equal(p.grad, 2 * W0)


def test_one_element_of_a_1d_tensor_is_a_view_as_in_pytorch():
    """``x[0]`` of a 1-D tensor is a 0-d view (NumPy would copy the element out), as for 2-D."""
    w = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with mg.no_grad():
        first = w[0]
        assert first.shape == () and np.shares_memory(first.data, w.data)
    y = (w * w).sum()
    with pytest.raises(RuntimeError, match="shares its memory"), mg.no_grad():
        first += 1.0
    y.backward()
    np.testing.assert_array_equal(w.grad, [2.0, 4.0, 6.0])
    with mg.no_grad():
        first += 1.0  # released: the write goes through to w, as PyTorch's view would
    np.testing.assert_array_equal(w.data, [2.0, 2.0, 3.0])
