"""The backward pass: graph shapes, accumulation, deep chains, grad mode, freeing the graph."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest
from hypothesis import given

import minigrad as mg
from minigrad.testing import arrays, assert_gradients_match


def leaf(values) -> mg.Tensor:
    return mg.tensor(values, requires_grad=True)


# ----- graph shapes ---------------------------------------------------------------------------
def test_fan_out_sums_both_paths():
    x = leaf([1.0, -2.0, 3.0])
    y = (x.exp() + x * 3.0).sum()  # x feeds two ops
    y.backward()
    np.testing.assert_allclose(x.grad, np.exp(x.data) + 3.0, rtol=1e-14)


def test_diamond_graph():
    # x -> a, b -> c: d c / d x = (da/dx) * b + a * (db/dx)
    x = leaf([0.5, 1.5])
    a = x * x
    b = x.tanh()
    c = (a * b).sum()
    c.backward()
    t = np.tanh(x.data)
    np.testing.assert_allclose(x.grad, 2 * x.data * t + x.data**2 * (1 - t**2), rtol=1e-13)


def test_reused_intermediate():
    # b = a + a; c = b * b  =>  dc/da = 2b * 2 = 8a
    a = leaf([1.0, -2.0, 0.25])
    b = a + a
    c = b * b
    c.sum().backward()
    np.testing.assert_array_equal(a.grad, 8 * a.data)


@pytest.mark.parametrize("uses", [2, 3, 5])
def test_zero_dim_tensor_used_many_times(uses):
    # A regression test: 0-d gradients are NumPy scalars, and `+=` on a scalar does not add.
    x = leaf(2.0)
    y = x * x
    for _ in range(uses - 1):
        y = y + x * x
    y.backward()
    assert x.grad == pytest.approx(4.0 * uses)


@given(arrays((3,)), arrays((2, 3)))
def test_composite_graph_with_broadcasting(x, w):
    assert_gradients_match(lambda a, b: ((a * b).tanh() + b / (1.0 + a * a)).sum(axis=0), [x, w])


def test_two_leaves_one_unused():
    x, z = leaf([1.0, 2.0]), leaf([5.0])
    (x * 2.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 2.0])
    assert z.grad is None


# ----- accumulation and retain_grad -------------------------------------------------------------
def test_leaves_accumulate_across_backward_calls():
    x = leaf([1.0, 2.0])
    (x * x).sum().backward()
    (x * 3.0).sum().backward()
    np.testing.assert_array_equal(x.grad, 2 * x.data + 3.0)
    x.zero_grad()
    assert x.grad is None
    (x * 3.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])
    x.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])


def test_same_graph_backward_twice_doubles():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward(retain_graph=True)  # without it the first backward frees the graph (PyTorch)
    y.backward()
    np.testing.assert_array_equal(x.grad, 4 * x.data)
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_leaf_grad_is_a_copy_not_shared():
    x = leaf([1.0, 2.0])
    g = np.array([1.0, 1.0])
    (x + 0.0).backward(g)
    x.grad[0] = 100.0  # must not write into g or any buffer of a later pass
    assert g[0] == 1.0
    x.zero_grad()
    (x + 0.0).backward(g)
    np.testing.assert_array_equal(x.grad, [1.0, 1.0])


def test_intermediates_keep_grad_only_after_retain_grad():
    x = leaf([1.0, 2.0])
    h = x * 2.0
    k = h * 3.0
    h.retain_grad()
    loss = k.sum()
    loss.backward(retain_graph=True)
    np.testing.assert_array_equal(h.grad, [3.0, 3.0])
    assert k.grad is None
    np.testing.assert_array_equal(x.grad, [6.0, 6.0])
    # PyTorch (checked with torch 2.13): a retained intermediate's grad accumulates, like a leaf's.
    loss.backward()
    np.testing.assert_array_equal(h.grad, [6.0, 6.0])
    np.testing.assert_array_equal(x.grad, [12.0, 12.0])


def test_is_leaf_and_requires_grad_flags():
    x = leaf([1.0])
    c = mg.tensor([2.0])
    y = x * c
    assert x.is_leaf and c.is_leaf and not y.is_leaf
    assert y.requires_grad and not c.requires_grad
    assert (c * 2.0).is_leaf and not (c * 2.0).requires_grad  # constants build no graph
    d = y.detach()
    assert d.is_leaf and not d.requires_grad and np.shares_memory(d.data, y.data)
    with pytest.raises(ValueError, match="detach"):
        y.requires_grad_(False)


# ----- deep chains ----------------------------------------------------------------------------
def test_backward_through_100k_op_chain_without_recursion_error():
    x = leaf(np.array([1.0, 2.0]))
    y = x
    for _ in range(50_000):
        y = y * 1.0
        y = y + 0.0
    y.sum().backward()  # 100,000 ops
    np.testing.assert_array_equal(x.grad, [1.0, 1.0])
    del y  # freeing a 100,000-deep graph must not overflow the C stack either


def test_long_chain_of_slices_is_correct():
    x = leaf(np.arange(2000.0))
    total = x[0]
    for t in range(1, 2000):
        total = total + x[t] * 2.0
    total.backward()
    np.testing.assert_array_equal(x.grad, np.r_[1.0, np.full(1999, 2.0)])


# ----- grad mode ------------------------------------------------------------------------------
def test_no_grad_context_builds_no_graph():
    x = leaf([1.0, 2.0])
    with mg.no_grad():
        assert not mg.is_grad_enabled()
        y = x * 2.0
    assert mg.is_grad_enabled()
    assert not y.requires_grad and y.is_leaf and y._op is None
    with pytest.raises(ValueError, match="does not require grad"):
        y.sum().backward()


def test_no_grad_decorator_and_nesting():
    x = leaf([1.0, 2.0])

    @mg.no_grad()
    def f(t):
        with mg.enable_grad():
            inner = t * 1.0
        return t * 2.0, inner

    out, inner = f(x)
    assert not out.requires_grad and inner.requires_grad
    assert mg.is_grad_enabled()


def test_no_grad_restores_mode_after_exception():
    with pytest.raises(RuntimeError):
        with mg.no_grad():
            raise RuntimeError("boom")
    assert mg.is_grad_enabled()


def test_set_grad_enabled_as_call_and_context():
    try:
        mg.set_grad_enabled(False)  # PyTorch semantics: a plain call takes effect at once
        assert not mg.is_grad_enabled()
        assert not (leaf([1.0]) * 2.0).requires_grad
    finally:
        mg.set_grad_enabled(True)
    with mg.set_grad_enabled(False):
        assert not mg.is_grad_enabled()
    assert mg.is_grad_enabled()


# ----- the graph is freed ---------------------------------------------------------------------
def test_graph_freed_when_output_dropped_without_gc():
    gc.collect()
    gc.disable()  # refcounting alone must free it: the graph has no reference cycles
    try:
        x = leaf(np.ones(3))
        h = x.tanh()
        y = (h * h).sum()
        op_ref, h_ref = weakref.ref(y._op), weakref.ref(h)
        del h
        assert h_ref() is not None  # still reachable from y
        y.backward()
        del y
        assert op_ref() is None and h_ref() is None
    finally:
        gc.enable()


def test_no_grad_output_holds_no_graph():
    x = leaf(np.ones(3))
    with mg.no_grad():
        y = x * 2.0
    assert y._op is None


# ----- backward errors ------------------------------------------------------------------------
def test_backward_on_non_scalar_needs_grad():
    y = leaf([1.0, 2.0]) * 2.0
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        y.backward()


def test_backward_with_wrong_grad_shape():
    y = leaf([1.0, 2.0]) * 2.0
    with pytest.raises(ValueError, match=r"\(2,\).*\(3,\)"):
        y.backward(np.ones(3))


def test_backward_with_grad_given():
    x = leaf([1.0, 2.0])
    (x * 2.0).backward(mg.tensor([1.0, -1.0]))
    np.testing.assert_array_equal(x.grad, [2.0, -2.0])


def test_backward_on_tensor_without_grad():
    with pytest.raises(ValueError, match="does not require grad"):
        mg.tensor([1.0, 2.0]).sum().backward()


def test_backward_on_one_element_non_scalar_seeds_one():
    x = leaf([[3.0]])
    (x * 2.0).backward()
    np.testing.assert_array_equal(x.grad, [[2.0]])


def test_no_grad_on_a_generator_function_records_nothing_in_each_step():
    w = mg.tensor([1.0, 2.0], requires_grad=True)

    @mg.no_grad()
    def steps(n):
        for _ in range(n):
            got = yield w * 2.0
            assert got is None or got == "sent"

    gen = steps(3)
    first = next(gen)
    assert mg.is_grad_enabled()  # between steps the caller's mode is back
    second = gen.send("sent")
    assert not first.requires_grad and not second.requires_grad
    assert [t.requires_grad for t in steps(2)] == [False, False]

    @mg.enable_grad()
    def recorded():
        yield w * 2.0

    with mg.no_grad():
        assert next(recorded()).requires_grad
    assert mg.is_grad_enabled()
