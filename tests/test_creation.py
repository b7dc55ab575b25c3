"""Constructors (minigrad/creation.py): PyTorch's names, sizes, dtype rules and the seeded generator."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg


@pytest.mark.parametrize("fn, value", [(mg.zeros, 0.0), (mg.ones, 1.0)])
def test_zeros_ones_take_both_size_spellings(fn, value):
    for t in (fn(2, 3), fn((2, 3)), fn([2, 3])):
        assert t.shape == (2, 3) and t.dtype == np.float64 and t.is_leaf and not t.requires_grad
        assert np.all(t.data == value)
    assert fn().shape == () and fn(0).shape == (0,)


def test_dtype_and_requires_grad():
    t = mg.ones(3, dtype=np.float32, requires_grad=True)
    assert t.dtype == np.float32 and t.requires_grad
    (t * t).sum().backward()
    np.testing.assert_array_equal(t.grad, 2 * np.ones(3, np.float32))
    assert mg.zeros(2, dtype="int32").dtype == np.int32
    with pytest.raises(TypeError, match="requires_grad=True needs a floating-point"):
        mg.zeros(2, dtype=np.int64, requires_grad=True)
    with pytest.raises(TypeError, match="requires_grad must be True or False"):
        mg.zeros(2, requires_grad="yes")


def test_default_dtype_is_followed():
    mg.set_default_dtype(np.float32)
    try:
        assert mg.zeros(2).dtype == np.float32 and mg.randn(2).dtype == np.float32
        assert mg.linspace(0, 1, 3).dtype == np.float32 and mg.eye(2).dtype == np.float32
    finally:
        mg.set_default_dtype(np.float64)


def test_full_dtype_follows_the_fill_value_as_pytorch():
    assert mg.full((2,), 7).dtype == np.int64
    assert mg.full((2,), 7.0).dtype == np.float64
    assert mg.full((2,), True).dtype == np.bool_
    assert mg.full(3, 1.5, dtype=np.float32).dtype == np.float32
    np.testing.assert_array_equal(mg.full((2, 2), 3.5).data, np.full((2, 2), 3.5))


def test_arange_and_linspace():
    np.testing.assert_array_equal(mg.arange(5).data, np.arange(5))
    assert mg.arange(5).dtype == np.int64  # all ints: int64, as torch.arange
    assert mg.arange(0, 1, 0.25).dtype == np.float64
    np.testing.assert_array_equal(mg.arange(0, 1, 0.25).data, [0, 0.25, 0.5, 0.75])
    np.testing.assert_array_equal(mg.arange(5, 0, -2).data, [5, 3, 1])
    np.testing.assert_array_equal(mg.linspace(-1, 1, 5).data, [-1, -0.5, 0, 0.5, 1])
    with pytest.raises(ValueError, match="step must be nonzero"):
        mg.arange(0, 3, 0)
    with pytest.raises(TypeError, match="linspace: steps must be a non-negative int"):
        mg.linspace(0, 1, 2.5)


def test_eye():
    np.testing.assert_array_equal(mg.eye(3).data, np.eye(3))
    np.testing.assert_array_equal(mg.eye(2, 3).data, np.eye(2, 3))


def test_random_constructors_draw_from_manual_seed():
    mg.manual_seed(7)
    a, u = mg.randn(4, 3), mg.rand(5)
    g = np.random.default_rng(7)
    np.testing.assert_array_equal(a.data, g.standard_normal((4, 3)))
    np.testing.assert_array_equal(u.data, g.random(5))
    assert np.all((u.data >= 0) & (u.data < 1))
    mg.manual_seed(7)
    np.testing.assert_array_equal(mg.randn((4, 3)).data, a.data)
    b = mg.randn_like(mg.zeros(2, 2, dtype=np.float32))
    assert b.shape == (2, 2) and b.dtype == np.float32
    with pytest.raises(TypeError, match="randn: dtype must be a float dtype"):
        mg.randn(2, dtype=np.int64)


def test_like_constructors_keep_shape_and_dtype():
    x = mg.tensor(np.arange(6, dtype=np.int32).reshape(2, 3))
    z, o = mg.zeros_like(x), mg.ones_like(x, dtype=np.float64)
    assert z.shape == o.shape == (2, 3) and z.dtype == np.int32 and o.dtype == np.float64
    assert np.all(z.data == 0) and np.all(o.data == 1)
    assert mg.empty(2, 3).shape == (2, 3)
    with pytest.raises(TypeError, match="zeros_like: input must be a Tensor"):
        mg.zeros_like([1, 2])


@pytest.mark.parametrize("bad", [(-1,), (2.0,), ("3",), (True,)])
def test_bad_sizes_are_named(bad):
    with pytest.raises(TypeError, match=r"zeros: size must be non-negative ints"):
        mg.zeros(*bad)


def test_cat_is_concatenate():
    a, b = mg.ones(2, requires_grad=True), mg.zeros(3)
    out = mg.cat([a, b])
    assert mg.cat is mg.concatenate and out.shape == (5,)


def test_cat_and_stack_take_pytorchs_dim():
    a, b = mg.ones(2, 3), mg.zeros(2, 1)
    assert mg.cat([a, b], dim=1).shape == (2, 4) and mg.concatenate([a, b], axis=1).shape == (2, 4)
    assert mg.stack([a, a], dim=2).shape == (2, 3, 2)
    with pytest.raises(TypeError, match=r"concatenate: got both axis=1 and dim=1"):
        mg.cat([a, b], axis=1, dim=1)
