"""PyTorch habits that must work (or fail clearly) on minigrad: issue 24, and issue 21's `.grad` type."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad.grad_array import GradArray
from minigrad.testing import arrays, assert_gradients_match


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


# ----- calls both libraries accept but answer differently (minigrad/pytorch_rules.py) --------
def test_max_with_a_dim_is_pytorchs_values_and_indices():
    out = mg.tensor([[0.1, 0.9], [0.8, 0.2]])
    labels = mg.tensor([1, 0])
    assert (out.max(1)[1] == labels).sum().item() == 2  # used to compare the values: accuracy 0
    _, pred = mg.max(out, 1)
    assert pred.tolist() == [1, 0] and pred.dtype == np.int64
    values, indices = out.min(dim=0, keepdim=True)
    assert values.tolist() == [[0.1, 0.2]] and indices.tolist() == [[0, 1]]
    assert out.max(1).values.tolist() == [0.9, 0.8]
    assert type(out.max(axis=1)) is mg.Tensor and out.max(axis=1).tolist() == [0.9, 0.8]  # NumPy's call
    assert out.max().item() == 0.9 and out.max((0, 1)).item() == 0.9
    assert out.max(mg.tensor(0.5)).tolist() == [[0.5, 0.9], [0.8, 0.5]]  # PyTorch's elementwise form
    with pytest.raises(TypeError, match="max: got both axis=0 and dim=1"):
        out.max(1, axis=0)


def test_max_along_a_dim_sends_a_tie_gradient_to_one_index_as_pytorch():
    x = mg.tensor([[2.0, 2.0, 1.0]], requires_grad=True)
    x.max(1).values.sum().backward()
    assert x.grad.tolist() == [[1.0, 0.0, 0.0]]  # torch.max(x, 1): the first index takes it all
    x.grad = None
    x.max(axis=1).sum().backward()
    assert x.grad.tolist() == [[0.5, 0.5, 0.0]]  # NumPy-style amax: shared (README)


@settings(max_examples=40, deadline=None)
@given(data=st.data(), name=st.sampled_from(["max", "min"]), keepdim=st.booleans())
def test_values_along_a_dim_have_the_gradient_of_central_differences(data, name, keepdim):
    order = data.draw(st.permutations(range(12)))  # distinct values 0.5 apart: no ties, smooth there
    x = np.array(order, dtype=np.float64).reshape(3, 4) * 0.5 + data.draw(arrays(shape=(3, 4), max_value=0.1,
                                                                                 min_value=-0.1))
    dim = data.draw(st.sampled_from([0, 1, -1]))
    assert_gradients_match(lambda t: getattr(t, name)(dim, keepdim).values, [x])


def test_var_and_std_follow_the_library_whose_arguments_are_named():
    x = mg.tensor([[1.0, 2.0, 4.0], [0.0, 3.0, 3.0]])
    np.testing.assert_allclose(x.var(dim=1).data, np.var(x.data, axis=1, ddof=1))  # PyTorch's default
    np.testing.assert_allclose(x.var(0, keepdim=True).data, np.var(x.data, axis=0, ddof=1, keepdims=True))
    np.testing.assert_allclose(x.var(axis=1).data, np.var(x.data, axis=1))  # NumPy's default
    np.testing.assert_allclose(x.std(correction=0).data, np.std(x.data))
    np.testing.assert_allclose(x.std(unbiased=True).data, np.std(x.data, ddof=1))
    np.testing.assert_allclose(mg.var(x, dim=0).data, np.var(x.data, axis=0, ddof=1))
    for call in (lambda: x.var(), lambda: x.std(), lambda: x.var(1), lambda: mg.var(x)):
        with pytest.raises(TypeError, match=r"ambiguous call: NumPy.*ddof=0.*PyTorch.*correction=1"):
            call()
    with pytest.raises(TypeError, match=r"var: got ddof=0 and correction=1; pass one"):
        x.var(ddof=0, correction=1)


def test_transpose_with_two_dims_swaps_them_as_pytorch():
    x = mg.tensor(np.arange(6.0).reshape(2, 3))
    assert x.transpose(0, 1).shape == (3, 2)  # NumPy would read (0, 1) as "unchanged"
    np.testing.assert_array_equal(x.transpose(0, 1).data, x.data.T)
    assert mg.zeros(2, 3, 4).transpose(0, 2).shape == (4, 3, 2)
    assert mg.zeros(2, 3, 4).transpose((1, 0, 2)).shape == (3, 2, 4)  # a tuple: NumPy's permutation
    assert x.transpose().shape == (3, 2)
