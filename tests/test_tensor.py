"""The Tensor: construction, dtypes, operators (reflected too), comparisons, bad input."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import minigrad as mg


def leaf(values, dtype=None) -> mg.Tensor:
    return mg.tensor(values, requires_grad=True, dtype=dtype)


# ----- construction and attributes ------------------------------------------------------------
def test_attributes():
    x = mg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert x.shape == (2, 3) and x.ndim == 2 and x.size == 6 and x.dtype == np.float64
    assert isinstance(x.data, np.ndarray) and x.grad is None and not x.requires_grad
    np.testing.assert_array_equal(x.T.data, x.data.T)
    assert x.numpy() is x.data
    assert mg.tensor(3.5).item() == 3.5 and isinstance(mg.tensor(3.5).item(), float)
    with pytest.raises(ValueError, match=r"shape \(2, 3\)"):
        x.item()


def test_tensor_copies_its_data():
    a = np.array([1.0, 2.0])
    t = mg.tensor(a)
    a[0] = 9.0
    assert t.data[0] == 1.0


def test_python_floats_take_the_default_dtype_and_ints_stay_ints():
    assert mg.tensor([1.0, 2.0]).dtype == np.float64
    assert mg.tensor([1, 2]).dtype.kind == "i"
    assert mg.tensor(np.ones(2, dtype=np.float32)).dtype == np.float32
    assert mg.tensor([1, 2], dtype=np.float32).dtype == np.float32


def test_set_and_get_default_dtype():
    assert mg.get_default_dtype() == np.float64
    try:
        mg.set_default_dtype(np.float32)
        assert mg.get_default_dtype() == np.float32
        assert mg.tensor([1.5]).dtype == np.float32
        assert mg.tensor(np.ones(2)).dtype == np.float64  # an explicit array keeps its dtype
    finally:
        mg.set_default_dtype(np.float64)
    assert mg.tensor([1.5]).dtype == np.float64
    with pytest.raises(TypeError, match="float32 or float64.*int64"):
        mg.set_default_dtype(np.int64)
    with pytest.raises(TypeError, match="float32 or float64"):
        mg.set_default_dtype("not a dtype")


@pytest.mark.parametrize("data", [[1, 2], [True, False], np.arange(3)])
def test_requires_grad_on_integer_or_bool_data_is_a_type_error(data):
    with pytest.raises(TypeError, match="floating-point"):
        mg.tensor(data, requires_grad=True)
    with pytest.raises(TypeError, match="floating-point"):
        mg.tensor(data).requires_grad_()


@pytest.mark.parametrize("data", ["abc", None, [1.0, "x"], {"a": 1}, [1 + 2j], object()])
def test_non_numeric_data_is_a_type_error(data):
    with pytest.raises(TypeError, match="data"):
        mg.tensor(data)


def test_repr_mentions_requires_grad_and_non_default_dtype():
    assert "requires_grad=True" in repr(leaf([1.0]))
    assert "float32" in repr(mg.tensor(np.ones(1, dtype=np.float32)))


# ----- operators --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "fn, dx",
    [
        (lambda x: 2.0 + x, lambda x: np.ones_like(x)),
        (lambda x: 2.0 - x, lambda x: -np.ones_like(x)),
        (lambda x: 2.0 * x, lambda x: np.full_like(x, 2.0)),
        (lambda x: 2.0 / x, lambda x: -2.0 / x**2),
        (lambda x: 2.0**x, lambda x: np.log(2.0) * 2.0**x),
        (lambda x: x**2, lambda x: 2 * x),
        (lambda x: x**0.5, lambda x: 0.5 / np.sqrt(x)),
        (lambda x: -x, lambda x: -np.ones_like(x)),
        (lambda x: +x, lambda x: np.ones_like(x)),
        (lambda x: np.array([1.0, 2.0, 3.0]) - x, lambda x: -np.ones_like(x)),
        (lambda x: np.array([1.0, 2.0, 3.0]) / x, lambda x: -np.array([1.0, 2.0, 3.0]) / x**2),
        (lambda x: np.array([2.0, 3.0, 4.0]) ** x,
         lambda x: np.log([2.0, 3.0, 4.0]) * np.array([2.0, 3.0, 4.0]) ** x),
    ],
)  # fmt: skip
def test_operators_and_reflected_operators(fn, dx):
    x = leaf([0.5, 1.0, 2.0])
    y = fn(x)
    assert isinstance(y, mg.Tensor)
    y.sum().backward()
    np.testing.assert_allclose(x.grad, dx(x.data), rtol=1e-13)


def test_ndarray_on_the_left_gives_a_tensor():
    x = leaf([1.0, 2.0])
    a = np.array([3.0, 4.0])
    for y in (a + x, a - x, a * x, a / x, a**x):
        assert isinstance(y, mg.Tensor) and y.requires_grad
    m = np.eye(2) @ x
    assert isinstance(m, mg.Tensor)
    np.testing.assert_array_equal((a + x).data, [4.0, 6.0])
    np.testing.assert_array_equal((a - x).data, [2.0, 2.0])


def test_matmul_operator_both_sides():
    w = np.array([[1.0, 2.0], [3.0, 4.0]])
    x = leaf([1.0, -1.0])
    (w @ x).sum().backward()
    np.testing.assert_array_equal(x.grad, w.sum(axis=0))
    x.zero_grad()
    (x @ w).sum().backward()
    np.testing.assert_array_equal(x.grad, w.sum(axis=1))


def test_tensor_exponent():
    a, b = leaf([2.0, 3.0]), leaf([3.0, 0.5])
    (a**b).sum().backward()
    np.testing.assert_allclose(a.grad, b.data * a.data ** (b.data - 1), rtol=1e-14)
    np.testing.assert_allclose(b.grad, a.data**b.data * np.log(a.data), rtol=1e-14)


@pytest.mark.parametrize("op", ["<", "<=", ">", ">=", "==", "!="])
def test_comparisons_are_not_differentiable(op):
    x = leaf([1.0, 2.0, 3.0])
    a = np.array([2.0, 2.0, 2.0])
    fns = {
        "<": lambda p, q: p < q, "<=": lambda p, q: p <= q, ">": lambda p, q: p > q,
        ">=": lambda p, q: p >= q, "==": lambda p, q: p == q, "!=": lambda p, q: p != q,
    }  # fmt: skip
    f = fns[op]
    cases = ((f(x, 2.0), f(x.data, 2.0)), (f(x, a), f(x.data, a)), (f(a, x), f(a, x.data)))
    for y, expected in cases:
        assert isinstance(y, mg.Tensor)
        assert y.dtype == bool and not y.requires_grad and y.is_leaf
        np.testing.assert_array_equal(y.data, expected)


# ----- float32 is preserved ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "fn",
    [
        lambda x: x * 2.0 + 1,
        lambda x: 2.0 / x - 3,
        lambda x: x**2,
        lambda x: 0.5**x,
        lambda x: x * np.ones(3, dtype=np.float32),
        lambda x: np.ones(3, dtype=np.float32) - x,
        lambda x: mg.sigmoid(x) * mg.tanh(x),
        lambda x: mg.gelu(x) + mg.gelu(x, approximate="tanh"),
        lambda x: mg.softmax(x) + mg.log_softmax(x),
        lambda x: mg.maximum(x, 1.0) + mg.clip(x, 0.0, 1.5) + mg.where(x > 1, x, 0.0),
        lambda x: x.reshape(3, 1) @ x.reshape(1, 3),
        lambda x: mg.stack([x, x]).var(axis=0) + x[[0, 0, 1]] + mg.logsumexp(x),
    ],
)
def test_float32_stays_float32_in_data_and_grad(fn):
    x = leaf(np.array([0.5, 1.0, 2.0], dtype=np.float32))
    y = fn(x)
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32


def test_float32_grad_with_float64_ndarray_follows_numpy_for_data():
    x = leaf(np.array([1.0, 2.0], dtype=np.float32))
    y = x * np.array([3.0, 4.0])  # NumPy promotes float32 * float64 array to float64
    assert y.dtype == np.float64
    y.sum().backward()
    assert x.grad.dtype == np.float32  # but a gradient always has its tensor's dtype
    np.testing.assert_array_equal(x.grad, [3.0, 4.0])


# ----- errors -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "fn, op_name",
    [
        (lambda a, b: a + b, "Add"),
        (lambda a, b: a * b, "Mul"),
        (lambda a, b: mg.maximum(a, b), "Maximum"),
        (lambda a, b: a @ b, "MatMul"),
        (lambda a, b: mg.concatenate([a, b], axis=1), "Concatenate"),
    ],
)
def test_shape_mismatch_names_the_op_and_both_shapes(fn, op_name):
    a, b = leaf(np.ones((2, 3))), leaf(np.ones((4, 5)))
    with pytest.raises(ValueError) as info:
        fn(a, b)
    msg = str(info.value)
    assert op_name in msg and "(2, 3)" in msg and "(4, 5)" in msg, msg


def test_reshape_error_names_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4,\)"):
        mg.tensor(np.ones((2, 3))).reshape(4)


def test_reduction_axis_out_of_range():
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        mg.tensor(np.ones((2, 3))).sum(axis=2)


def test_len_and_iteration():
    x = mg.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert len(x) == 2
    rows = list(x)
    assert len(rows) == 2 and isinstance(rows[0], mg.Tensor)
    with pytest.raises(TypeError):
        len(mg.tensor(1.0))


def test_python_number_constants_are_shared_locked_and_typed_like_the_tensor():
    x64 = mg.tensor([1.0, 2.0], requires_grad=True)
    x32 = mg.tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    a, b, c = x64 * 1.5, x64 * 1.5, x32 * 1.5
    k64, k32 = a._op.inputs[1], c._op.inputs[1]
    assert k64 is b._op.inputs[1]  # one constant per (number, dtype), not one per op
    assert k64.dtype == np.float64 and k32.dtype == np.float32 and c.dtype == np.float32
    assert not k64.requires_grad and not k64.data.flags.writeable
    (a.sum() + b.sum()).backward()
    np.testing.assert_array_equal(x64.grad, [3.0, 3.0])


def test_pickling_keeps_only_the_data_as_a_leaf():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    s = w
    for _ in range(10_000):  # a deep non-leaf: its graph must not be pickled (nor recursed into)
        s = s * 1.0
    loss = (s * s).sum()
    blob = pickle.dumps(loss)
    assert len(blob) < 1_000  # the data of one scalar, not 10,000 saved arrays
    back = pickle.loads(blob)
    assert back.is_leaf and back.requires_grad and back.grad is None
    np.testing.assert_array_equal(back.data, loss.data)
    back.backward()  # a new leaf of its own
    np.testing.assert_array_equal(back.grad, 1.0)
    p = mg.nn.Parameter(np.ones((2, 2), dtype=np.float32))
    p2 = pickle.loads(pickle.dumps(p))
    assert type(p2) is mg.nn.Parameter and p2.dtype == np.float32 and p2.data.flags.writeable
    c = copy.deepcopy(s)
    assert c.is_leaf and not np.shares_memory(c.data, s.data)
    np.testing.assert_array_equal(c.data, s.data)
