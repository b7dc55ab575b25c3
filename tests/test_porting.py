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


# ----- the missing names ----------------------------------------------------------------------
def test_a_generator_gives_reproducible_draws_independent_of_the_global_one():
    def draws(g):
        return (mg.randn(3, generator=g).tolist(), mg.rand(2, generator=g).tolist(),
                mg.randint(0, 10, (4,), generator=g).tolist(), mg.randperm(5, generator=g).tolist(),
                mg.multinomial(mg.tensor([0.2, 0.8]), 3, replacement=True, generator=g).tolist())

    g = mg.Generator().manual_seed(2147483647)
    first = draws(g)
    mg.manual_seed(0)
    mg.randn(10)  # the global generator moves; the given one does not care
    assert draws(mg.Generator().manual_seed(2147483647)) == first
    assert g.initial_seed() == 2147483647
    with pytest.raises(TypeError, match="randn: generator must be a minigrad.Generator or None, got 3"):
        mg.randn(2, generator=3)


def test_randint_randperm_and_multinomial_follow_pytorchs_documented_behaviour():
    g = mg.Generator().manual_seed(0)
    r = mg.randint(3, 7, (1000,), generator=g)
    assert r.dtype == np.int64 and r.shape == (1000,) and set(r.tolist()) == {3, 4, 5, 6}  # high excluded
    assert set(mg.randint(3, (50,), generator=g).tolist()) == {0, 1, 2}  # randint(high, size)
    p = mg.randperm(6, generator=g)
    assert p.dtype == np.int64 and sorted(p.tolist()) == list(range(6))
    w = mg.tensor([[0.0, 1.0, 3.0], [5.0, 0.0, 0.0]])  # unnormalized weights, one row each
    s = mg.multinomial(w, 2000, replacement=True, generator=g)
    assert s.shape == (2, 2000) and s.dtype == np.int64
    assert 0 not in s[0].tolist() and set(s[1].tolist()) == {0}  # zero weight: never drawn
    assert abs(np.mean(s.data[0] == 2) - 0.75) < 0.05
    s = mg.multinomial(mg.tensor([1.0, 1.0, 1.0, 1.0]), 4, generator=g)  # without replacement
    assert sorted(s.tolist()) == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="without replacement, num_samples=3 needs that many nonzero"):
        mg.multinomial(mg.tensor([1.0, 0.0, 1.0]), 3)


def test_one_hot_mm_log2_log10_nelement_and_detach_():
    import minigrad.nn.functional as F

    assert F.one_hot(mg.tensor([0, 2])).tolist() == [[1, 0, 0], [0, 0, 1]]
    assert F.one_hot(mg.tensor([[1]]), num_classes=3).shape == (1, 1, 3)
    with pytest.raises(ValueError, match=r"one_hot: class indices must be in \[0, 2\)"):
        F.one_hot(mg.tensor([2]), 2)
    a, b = mg.tensor([[1.0, 2.0]]), mg.tensor([[3.0], [4.0]])
    assert mg.mm(a, b).tolist() == [[11.0]] and a.mm(b).tolist() == [[11.0]]
    with pytest.raises(ValueError, match="mm: input and mat2 must be 2-D"):
        mg.mm(mg.ones(2), b)
    assert mg.log2(mg.tensor(8.0)).item() == pytest.approx(3.0)
    assert mg.tensor(1000.0).log10().item() == pytest.approx(3.0)
    assert mg.zeros(2, 3).nelement() == 6
    x = mg.tensor([1.0], requires_grad=True)
    y = x * 2
    assert y.detach_() is y and y.is_leaf and not y.requires_grad


@settings(max_examples=30, deadline=None)
@given(x=arrays(shape=(2, 3), min_value=0.1, max_value=3.0))
def test_log2_log10_and_float_casts_have_the_gradient_of_central_differences(x):
    assert_gradients_match(lambda t: t.log2() + mg.log10(t), [x])
    # through float32 and back: a wider step, as float32 rounding (~1e-7) over 1e-6 would be all noise
    assert_gradients_match(lambda t: t.to(mg.float32).double() * t, [x], eps=1e-3, atol=1e-3)


def test_conversions_and_dtype_names_are_pytorchs():
    x = mg.tensor([1.5, -2.5], requires_grad=True)
    assert x.long().dtype == mg.long == mg.int64 and x.int().dtype == mg.int32
    assert x.float().dtype == mg.float32 and x.double() is x and x.bool().dtype == mg.bool
    assert x.type() == "minigrad.DoubleTensor" and x.type(mg.float32).dtype == np.float32
    assert x.to(mg.float32).dtype == np.float32 and x.to("cpu") is x and x.to(mg.tensor([1])).dtype == np.int64
    assert x.to("cpu", mg.float32).dtype == np.float32 and x.cpu() is x and x.device == "cpu"
    y = x.float()
    (y * y).sum().backward()  # the cast is in the graph: the gradient reaches x, in x's dtype
    assert x.grad.dtype == np.float64 and x.grad.tolist() == [3.0, -5.0]
    assert mg.zeros(2, dtype=mg.long).dtype == np.int64
    mg.set_default_dtype(mg.float64)  # a program's first line, as in PyTorch
    assert mg.tensor([1.0]).dtype == mg.float64


def test_devices_are_the_cpu_only():
    assert mg.zeros(2, device="cpu").shape == (2,) and mg.tensor([1.0], device=mg.device("cpu")).shape == (1,)
    assert not mg.cuda.is_available()
    device = mg.device("cuda" if mg.cuda.is_available() else "cpu")
    assert mg.randn(2, device=device).shape == (2,)
    with pytest.raises(ValueError, match="minigrad runs on the CPU only; device must be 'cpu', got 'cuda'"):
        mg.zeros(2, device="cuda")
    with pytest.raises(ValueError, match="to: minigrad runs on the CPU only"):
        mg.ones(1).to("cuda:0")
    model = mg.nn.Linear(2, 2)
    assert model.to("cpu") is model and model.weight.dtype == np.float64
    assert model.to(mg.float32).weight.dtype == np.float32
    with pytest.raises(ValueError, match=r"to\(\): minigrad runs on the CPU only"):
        model.to("cuda")


def test_a_module_that_forgets_super_init_is_told_as_pytorch_tells_it():
    class Forgetful(mg.nn.Module):
        def __init__(self):
            self.fc = mg.nn.Linear(2, 2)

    class ForgetfulParam(mg.nn.Module):
        def __init__(self):
            self.w = mg.nn.Parameter([1.0])

    with pytest.raises(AttributeError, match=r"cannot assign module before Module.__init__\(\) call.*super"):
        Forgetful()
    with pytest.raises(AttributeError, match=r"cannot assign parameters before Module.__init__\(\) call"):
        ForgetfulParam()


def test_tensor_dataset_and_data_loader_batch_as_torch_utils_data():
    from minigrad.utils.data import DataLoader, TensorDataset

    X, y = mg.arange(10.0).view(5, 2), mg.arange(5)
    ds = TensorDataset(X, y)
    assert len(ds) == 5 and ds[1][0].tolist() == [2.0, 3.0] and ds[1][1].item() == 1
    batches = list(DataLoader(ds, batch_size=2))
    assert [yb.tolist() for _, yb in batches] == [[0, 1], [2, 3], [4]]
    assert len(DataLoader(ds, batch_size=2, drop_last=True)) == 2
    assert [yb.tolist() for _, yb in DataLoader(ds, batch_size=2, drop_last=True)] == [[0, 1], [2, 3]]
    orders = [[v for _, yb in DataLoader(ds, 2, shuffle=True, generator=mg.Generator().manual_seed(s))
               for v in yb.tolist()] for s in (1, 1, 2)]  # fmt: skip
    assert orders[0] == orders[1] and sorted(orders[0]) == [0, 1, 2, 3, 4] and orders[0] != orders[2]
    loader = DataLoader(ds, 5, shuffle=True, generator=mg.Generator().manual_seed(0))
    assert next(iter(loader))[1].tolist() != next(iter(loader))[1].tolist()  # a new order each epoch
    pairs = [(mg.tensor([float(i)]), i) for i in range(3)]  # any dataset: samples are stacked
    xb, yb = next(iter(DataLoader(pairs, batch_size=3)))
    assert xb.shape == (3, 1) and yb.tolist() == [0, 1, 2]
    with pytest.raises(ValueError, match="TensorDataset: tensors must share the size of their first axis"):
        TensorDataset(X, mg.arange(4))
    with pytest.raises(ValueError, match="DataLoader: batch_size must be an int >= 1, got 0"):
        DataLoader(ds, batch_size=0)


def test_split_is_numpys_with_axis_pytorchs_with_dim_and_ambiguous_without():
    x = mg.arange(5.0)
    assert [p.tolist() for p in mg.split(x, 2, dim=0)] == [[0.0, 1.0], [2.0, 3.0], [4.0]]  # pieces of size 2
    assert [p.tolist() for p in mg.split(x, [1, 4], dim=0)] == [[0.0], [1.0, 2.0, 3.0, 4.0]]  # sizes
    assert [p.tolist() for p in mg.split(x, [1, 4], axis=0)] == [[0.0], [1.0, 2.0, 3.0], [4.0]]  # split points
    assert [p.shape for p in mg.split(mg.zeros(2, 6), 3, axis=1)] == [(2, 2)] * 3  # 3 equal pieces
    with pytest.raises(TypeError, match=r"split: ambiguous call.*axis= \(NumPy\) or dim= \(PyTorch\)"):
        mg.split(x, 2)
    with pytest.raises(ValueError, match=r"split: the sizes \[1, 2\] must add up to dim 0's size 5, got 3"):
        mg.split(x, [1, 2], dim=0)
    w = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    a, b = mg.split(w, 2, dim=0)
    (a.sum() * 2 + b.sum() * 3).backward()
    assert w.grad.tolist() == [2.0, 2.0, 3.0]
