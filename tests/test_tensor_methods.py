"""PyTorch habits on Tensor (minigrad/tensor_methods.py): in-place operators, dim=/keepdim=, PyTorch's
method names, conversions to Python values, and NumPy functions handed a Tensor."""

from __future__ import annotations

import pydoc
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn.functional as F
from minigrad.testing import arrays, assert_gradients_match, distinct_arrays, shapes


# ----- the learner's from-scratch SGD loop (README, "Training from scratch") ------------------
def _readme_snippet(heading: str) -> str:
    text = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    section = text.split(heading, 1)[1]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


def test_readme_from_scratch_sgd_loop_trains_in_place(capsys):
    code = _readme_snippet("### Training from scratch")
    assert "w -= 0.1 * w.grad" in code
    mg.manual_seed(0)
    ns = {"mg": mg}
    exec(code, ns)  # the README's code, verbatim
    w, b = ns["w"], ns["b"]
    assert w.is_leaf and w.requires_grad and b.requires_grad  # still the leaves the loop started with
    np.testing.assert_allclose(w.data, [2.0, -1.0, 0.5], atol=1e-9)  # "w ≈ [2, -1, 0.5], b ≈ 0.3"
    np.testing.assert_allclose(b.data, [0.3], atol=1e-9)
    assert capsys.readouterr().out.startswith(f"{ns['loss'].item():.2e}")


def test_from_scratch_loop_keeps_the_same_leaf():
    w = mg.zeros(3, requires_grad=True)
    w_id, data = id(w), w.data
    (w * 2.0).sum().backward()
    with mg.no_grad():
        w -= 0.5 * w.grad
    assert id(w) == w_id and w.data is data and w.is_leaf and w.requires_grad
    np.testing.assert_array_equal(w.data, [-1.0, -1.0, -1.0])


def test_in_place_operators_follow_numpy_arithmetic_exactly():
    a = np.array([1.5, -2.0, 3.0])
    for op, ref in [("+=", a + 0.25), ("-=", a - 0.25), ("*=", a * 0.25), ("/=", a / 0.25)]:
        t = mg.tensor(a)
        data = t.data
        exec(f"t {op} 0.25")
        assert t.data is data  # in place: the same array
        np.testing.assert_array_equal(t.data, ref)
    t = mg.tensor(a)
    t += mg.tensor([1.0, 1.0, 1.0])
    np.testing.assert_array_equal(t.data, a + 1)


def test_in_place_on_a_leaf_requiring_grad_needs_no_grad():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    for op in ("+=", "-=", "*=", "/="):
        with pytest.raises(RuntimeError, match=re.escape(op) + r": this tensor .* requires grad.*minigrad.no_grad"):
            exec(f"w {op} 1.0")
    np.testing.assert_array_equal(w.data, [1.0, 2.0])


def test_in_place_on_a_tensor_saved_for_backward_is_refused():
    a = mg.tensor([1.0, 2.0])
    w = mg.tensor([3.0, 4.0], requires_grad=True)
    loss = (a * w).sum()  # Mul saved a: changing it now would make w.grad wrong
    with pytest.raises(RuntimeError, match=r"\+=: .*saved for the backward pass"):
        a += 1.0
    loss.backward()
    np.testing.assert_array_equal(w.grad, [1.0, 2.0])
    a += 1.0  # after backward it is free again
    np.testing.assert_array_equal(a.data, [2.0, 3.0])


def test_in_place_bad_operands_are_clear():
    t = mg.tensor([1, 2])
    with pytest.raises(TypeError, match=r"\+=: cannot write dtype float64 into this int64 tensor"):
        t += 0.5
    with pytest.raises(ValueError, match=r"\*=: other of shape \(3,\) does not broadcast"):
        t *= np.ones(3, dtype=np.int64)


# ----- dim= / keepdim= -------------------------------------------------------------------------
REDUCTIONS = ["sum", "mean", "var", "max", "min", "logsumexp", "std"]


@pytest.mark.parametrize("name", REDUCTIONS)
def test_dim_and_keepdim_are_axis_and_keepdims(name):
    x = mg.tensor(np.random.default_rng(0).normal(size=(3, 4)))
    # var/std named PyTorch's way take PyTorch's default correction=1; max/min along a dim give
    # PyTorch's (values, indices) (minigrad/pytorch_rules.py)
    numpy_extra = {"ddof": 1} if name in ("var", "std") else {}
    ref = getattr(x, name)(axis=1, keepdims=True, **numpy_extra).data

    def values(out):
        return out.values if name in ("max", "min") else out

    np.testing.assert_array_equal(values(getattr(x, name)(dim=1, keepdim=True)).data, ref)
    np.testing.assert_array_equal(values(getattr(x, name)(1, keepdim=True)).data, ref)
    if hasattr(mg, name):
        np.testing.assert_array_equal(values(getattr(mg, name)(x, dim=1, keepdim=True)).data, ref)
    with pytest.raises(TypeError, match=rf"{'var' if name == 'std' else name}: got both axis=1 and dim=0"):
        getattr(x, name)(axis=1, dim=0)
    with pytest.raises(TypeError, match=rf"{'var' if name == 'std' else name}: got both keepdims and keepdim"):
        getattr(x, name)(dim=1, keepdims=True, keepdim=True)


def test_softmax_likes_accept_dim():
    x = mg.tensor(np.random.default_rng(1).normal(size=(2, 5)))
    np.testing.assert_array_equal(mg.softmax(x, dim=0).data, mg.softmax(x, axis=0).data)
    np.testing.assert_array_equal(mg.log_softmax(x, dim=0).data, mg.log_softmax(x, axis=0).data)
    np.testing.assert_array_equal(x.softmax(0).data, F.softmax(x, dim=0).data)
    np.testing.assert_array_equal(x.log_softmax(dim=1).data, F.log_softmax(x, dim=1).data)
    with pytest.raises(TypeError, match=r"softmax: got both axis=0 and dim=1"):
        mg.softmax(x, axis=0, dim=1)


# ----- PyTorch's method names ------------------------------------------------------------------
def test_shape_methods_as_pytorch():
    x = mg.tensor(np.arange(6.0).reshape(2, 1, 3))
    assert x.unsqueeze(0).shape == (1, 2, 1, 3) and x.unsqueeze(-1).shape == (2, 1, 3, 1)
    assert x.squeeze().shape == (2, 3) and x.squeeze(1).shape == (2, 3)
    assert x.squeeze(0).shape == (2, 1, 3)  # PyTorch: a dim whose size is not 1 is left alone
    assert x.flatten().shape == (6,) and x.flatten(1).shape == (2, 3) and mg.tensor(2.0).flatten().shape == (1,)
    assert x.view(3, 2).shape == (3, 2) and x.view(-1).shape == (6,)
    assert x.numel() == 6 and x.dim() == 3 and x.tolist() == [[[0.0, 1.0, 2.0]], [[3.0, 4.0, 5.0]]]
    with pytest.raises(IndexError, match=r"unsqueeze: dim must be an int in \[-4, 4\), got 4"):
        x.unsqueeze(4)
    with pytest.raises(ValueError, match="start_dim 2 comes after end_dim 0"):
        x.flatten(2, 0)


def test_index_and_truth_methods():
    x = mg.tensor([[1.0, 5.0, 5.0], [7.0, 0.0, -1.0]])
    np.testing.assert_array_equal(x.argmax(dim=1).data, [1, 0])
    assert x.argmax().item() == 3 and x.argmin().item() == 5 and x.argmax().dtype == np.int64
    np.testing.assert_array_equal(x.argmin(axis=0, keepdims=True).data, [[0, 1, 1]])
    assert not x.all().item() and x.any().item()
    np.testing.assert_array_equal(x.all(dim=1).data, [True, False])
    assert not x.argmax().requires_grad


@given(arrays(shapes(min_dims=1)))
def test_reshaping_methods_gradients(x):
    assert_gradients_match(lambda t: t.unsqueeze(0).flatten().view(-1, 1).squeeze() * 2.0, [x])


@given(arrays((3, 4)), arrays((4, 2)))
def test_value_methods_gradients(a, b):
    assert_gradients_match(lambda s, t: s.matmul(t).pow(2).clone().neg().clamp(-50, 0.0), [a, b])


@given(distinct_arrays((3, 4)), st.sampled_from([1, 2, np.inf]), st.booleans())
def test_norm_and_std_gradients(d, p, negate):
    a = (d - d.min() + 0.5) * (-1 if negate else 1)  # distinct |x| away from 0: no kink, no tied max
    assert_gradients_match(lambda s: s.norm(p=p), [a])
    assert_gradients_match(lambda s: s.norm(p=p, dim=1, keepdim=True), [a])
    assert_gradients_match(lambda s: s.std(dim=0, ddof=1), [a])


def test_norm_and_std_formulas_and_their_gradient_at_zero():
    x = np.array([[3.0, -4.0], [0.0, 1.0]])
    t = mg.tensor(x)
    assert t.norm().item() == np.sqrt(26.0) and t.norm(p=1).item() == 8.0 and t.norm(p=np.inf).item() == 4.0
    np.testing.assert_allclose(t.norm(dim=1).data, [5.0, 1.0])
    np.testing.assert_allclose(t.std(axis=0, ddof=1).data, np.std(x, axis=0, ddof=1))
    z = mg.zeros(3, requires_grad=True)
    z.norm().backward()  # PyTorch's subgradient 0 (no NaN, no NumPy warning: conftest makes them errors)
    np.testing.assert_array_equal(z.grad, np.zeros(3))
    c = mg.ones(4, requires_grad=True)
    c.std(ddof=0).backward()
    np.testing.assert_array_equal(c.grad, np.zeros(4))
    with pytest.raises(ValueError, match=r"norm: p must be 1, 2 \('fro'\) or inf, got 3"):
        t.norm(p=3)


def test_clone_is_a_copy_in_the_graph():
    x = mg.tensor([-0.0, np.inf, 2.0], requires_grad=True)
    c = x.clone()
    assert c.data is not x.data and np.signbit(c.data[0]) and not c.is_leaf
    (c * mg.tensor([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 2.0, 3.0])
    with mg.no_grad():
        assert x.clone().is_leaf and not x.clone().requires_grad


# ----- Python values ---------------------------------------------------------------------------
def test_one_element_conversions():
    loss = mg.tensor(0.123456, requires_grad=True) * 2
    assert f"{loss:.3f}" == "0.247" and int(mg.tensor([2.7])) == 2 and float(loss) == loss.item()
    assert f"{mg.tensor([1.0, 2.0])}" == str(mg.tensor([1.0, 2.0]))
    assert bool(mg.tensor([1.0])) and not bool(mg.tensor(0.0))


@pytest.mark.parametrize("convert, error, match", [
    (float, ValueError, r"float\(\) needs a one-element tensor, got shape \(3,\); use x.tolist\(\)"),
    (int, ValueError, r"int\(\) needs a one-element tensor, got shape \(3,\)"),
    (bool, ValueError, r"bool\(\) \(an `if` or `while` on a tensor\).*use x.any\(\) or x.all\(\)"),
    (lambda t: f"{t:.3f}", TypeError, r"format spec '.3f' needs a one-element tensor"),
])  # fmt: skip
def test_conversion_errors_say_what_to_do(convert, error, match):
    with pytest.raises(error, match=match):
        convert(mg.tensor([1.0, 2.0, 3.0]))


def test_iteration():
    rows = list(mg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True))
    assert len(rows) == 2 and rows[1].tolist() == [3.0, 4.0] and rows[1].requires_grad
    with pytest.raises(TypeError, match="iteration over a 0-d tensor"):
        iter(mg.tensor(1.0))
    with pytest.raises(TypeError, match="iteration over a 0-d tensor"):
        list(mg.tensor(1.0))


# ----- NumPy functions handed a Tensor ---------------------------------------------------------
@pytest.mark.parametrize("call, match", [
    (lambda t: np.exp(t), r"np.exp does not work on a minigrad Tensor: use minigrad.exp\(...\).*np.exp\(x.data\)"),
    (lambda t: np.sum(t), r"np.sum does not work on a minigrad Tensor: use minigrad.sum"),
    (lambda t: np.abs(t), r"np.absolute does not work .*use minigrad.abs"),
    (lambda t: np.concatenate([t, t]), r"use minigrad.concatenate"),
    (lambda t: np.sin(t), r"minigrad has no sin; use np.sin\(x.data\)"),
    (lambda t: np.add(t, 1.0, out=np.zeros(2)), r"np.add does not work"),
])  # fmt: skip
def test_numpy_functions_name_the_minigrad_function(call, match):
    with pytest.raises(TypeError, match=match):
        call(mg.tensor([1.0, 2.0]))


def test_ndarray_operators_with_a_tensor_stay_in_the_graph():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    a = np.array([3.0, 5.0])
    out = (a + w) * 1.0 + (a * w) - (a - w) + (a / w) + np.float64(2.0) ** w
    assert isinstance(out, mg.Tensor) and out.requires_grad
    out.sum().backward()
    np.testing.assert_allclose(w.grad, 1 + a + 1 - a / w.data**2 + np.log(2.0) * 2.0 ** w.data)
    np.testing.assert_array_equal((a < w).data, [False, False])
    assert isinstance(np.eye(2) @ w, mg.Tensor)


# ----- decorators, help() ------------------------------------------------------------------------
def test_bare_decorators():
    @mg.no_grad
    def evaluate(t):
        return t * 2

    @mg.detect_anomaly
    def check():
        return mg.is_anomaly_enabled()

    assert not evaluate(mg.tensor([1.0], requires_grad=True)).requires_grad and check()
    assert mg.is_grad_enabled() and not mg.is_anomaly_enabled()


def test_help_reads_well():
    text = pydoc.plain(pydoc.render_doc(mg.Tensor))
    assert "# -----" not in text  # no section-divider comment shown as a method's documentation
    assert "$" not in pydoc.plain(pydoc.render_doc(mg.Tensor.backward))
    for name in ("__add__", "__getitem__", "__matmul__", "__iadd__", "__format__"):
        assert getattr(mg.Tensor, name).__doc__, name
