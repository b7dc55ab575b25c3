"""PyTorch habits that must work (or fail clearly) on minigrad: issue 24, and issue 21's `.grad` type."""

import numpy as np
import pytest

import minigrad as mg
from minigrad.grad_array import GradArray


# ----- .grad: its type survives, and PyTorch's in-place habits work ---------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_grad_of_a_0d_leaf_stays_an_array_after_two_backwards(dtype):
    a = mg.tensor(3.0, dtype=dtype, requires_grad=True)
    (a * a).backward()
    (a * a).backward()
    assert isinstance(a.grad, GradArray) and a.grad.shape == () and a.grad.dtype == dtype
    assert a.grad == 12.0
    mg.optim.SGD([a], lr=0.1).step()  # used to crash: .grad had become a NumPy scalar
    assert a.data == pytest.approx(1.8) and a.dtype == dtype


def test_grad_zero_in_place_and_clip_by_a_constant_tensor():
    x = mg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    (x * x).sum().backward()
    g = x.grad
    norm = mg.sqrt(mg.sum(x.grad**2))  # a constant Tensor, as in a hand-written clip
    x.grad[:] *= 1.0 / norm
    assert x.grad is g and np.allclose(x.grad, 2 * x.data / np.linalg.norm(2 * x.data))
    assert x.grad.zero_() is g and not x.grad.any()


def test_arithmetic_on_grad_gives_plain_arrays_so_the_type_does_not_spread():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    assert type(x.grad * 2) is np.ndarray and type(x.data - 0.1 * x.grad) is np.ndarray
    assert repr(x.grad) == "array([2., 4.])"
    opt = mg.optim.Adam([x], lr=0.1)
    opt.step()
    assert type(x.data) is np.ndarray


def test_mixing_an_array_and_a_graph_tensor_says_what_happened():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    with pytest.raises(TypeError, match=r"\.grad is a NumPy array.*use `\.data`.*mg\.tensor"):
        x.grad[:] *= x
    with pytest.raises(TypeError, match=r"left operand is a NumPy array.*use `\.data`"):
        a = np.ones(2)
        a *= mg.tensor([1.0, 2.0])


def test_var_method_checks_ddof_as_the_function_does():
    x = mg.tensor([1.0, 2.0, 4.0])
    for bad, err in ((2.5, TypeError), ("1", TypeError), (-1, ValueError), (True, TypeError)):
        with pytest.raises(err, match=r"var: ddof must be an int.*got"):
            x.var(ddof=bad)
        with pytest.raises(err, match=r"var: ddof must be an int.*got"):
            mg.var(x, ddof=bad)
    assert x.var(ddof=1).item() == pytest.approx(np.var([1, 2, 4], ddof=1))


# ----- x.size: NumPy's number and PyTorch's method -------------------------------------------
def test_size_is_the_element_count_and_answers_pytorch_calls():
    x = mg.zeros(2, 3)
    assert x.size == 6 and isinstance(x.size, int) and np.zeros(x.size).shape == (6,)
    assert x.size() == (2, 3) and x.size(0) == 2 and x.size(-1) == 3
    with pytest.raises(IndexError, match="size: dim must be an int in"):
        x.size(2)
    with pytest.raises(TypeError, match="size: dim must be an int"):
        x.size(0.5)
