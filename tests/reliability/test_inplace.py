"""In-place safety: a tensor saved for backward cannot be changed before backward runs.

Raw writes (``t.data[...] = v``) hit a read-only array; minigrad's in-place methods raise a
RuntimeError that says which tensor and why. After backward (which frees the graph, as in
PyTorch) everything is writable again; optimizers, ``zero_grad``, ``load_state_dict`` and
``nn.init`` keep working, even when a forward pass was never backpropagated.
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, optim

INPLACE = [
    ("add_", (1.0,)), ("sub_", (1.0,)), ("mul_", (2.0,)), ("div_", (2.0,)),
    ("fill_", (3.0,)), ("zero_", ()), ("copy_", (np.ones(3),)), ("clamp_", (0.0, 1.0)),
]  # fmt: skip


def _saved_leaf():
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = (x * x).sum()  # Mul saves x
    return x, y


@pytest.mark.parametrize("raw", ["setitem", "iadd", "slice"])
def test_raw_write_to_saved_leaf_is_refused(raw):
    x, y = _saved_leaf()
    with pytest.raises(ValueError, match="read-only"):
        if raw == "setitem":
            x.data[...] = 0.0
        elif raw == "iadd":
            x.data += 1.0
        else:
            x.data[1:] = 5.0
    y.backward()
    np.testing.assert_array_equal(x.grad, [2.0, 4.0, 6.0])  # the gradient is the true one


def test_raw_write_to_saved_output_and_view_base_is_refused():
    x = mg.tensor([0.5, -0.5], requires_grad=True)
    y = x.tanh()  # Tanh saves its output
    with pytest.raises(ValueError, match="read-only"):
        y.data[0] = 9.0
    W = mg.tensor(np.eye(2), requires_grad=True)
    z = x @ W.T  # MatMul saves the view W.T: its base, W.data, is locked too
    with pytest.raises(ValueError, match="read-only"):
        W.data[0, 0] = 5.0
    (y.sum() + z.sum()).backward()
    np.testing.assert_allclose(x.grad, 1 - np.tanh([0.5, -0.5]) ** 2 + W.data.sum(axis=0))


@pytest.mark.parametrize("name,args", INPLACE)
def test_inplace_methods_refused_while_saved_with_a_clear_message(name, args):
    c = mg.tensor([1.0, 2.0, 3.0])  # a constant: no requires_grad
    x = mg.tensor([1.0, 1.0, 1.0], requires_grad=True)
    y = (x * c).sum()
    expected = rf"{name}: this tensor \(shape \(3,\), dtype float64\) is saved for the backward"
    with pytest.raises(RuntimeError, match=expected):
        getattr(c, name)(*args)
    y.backward()
    np.testing.assert_array_equal(x.grad, [1.0, 2.0, 3.0])
    getattr(c, name)(*args)  # allowed after backward freed the graph


@pytest.mark.parametrize("name,args", INPLACE)
def test_inplace_on_requires_grad_needs_no_grad(name, args):
    w = mg.tensor([0.5, 1.5, 2.5], requires_grad=True)
    with pytest.raises(RuntimeError, match=rf"{name}: .*requires grad.*no_grad"):
        getattr(w, name)(*args)
    with mg.no_grad():
        assert getattr(w, name)(*args) is w


def test_inplace_values_match_numpy():
    a = np.array([-1.5, 0.25, 2.0])
    cases = {
        "add_": a + 2, "sub_": a - 2, "mul_": a * 3, "div_": a / 4, "fill_": np.full(3, 7.0),
        "zero_": np.zeros(3), "copy_": np.array([9.0, 8.0, 7.0]), "clamp_": np.clip(a, -1, 1),
    }
    args = {"add_": (2,), "sub_": (2,), "mul_": (3,), "div_": (4,), "fill_": (7,), "zero_": (),
            "copy_": ([9, 8, 7],), "clamp_": (-1, 1)}  # fmt: skip
    for name, want in cases.items():
        t = mg.tensor(a.copy())
        getattr(t, name)(*args[name])
        np.testing.assert_array_equal(t.data, want, err_msg=name)
    t32 = mg.tensor(a.astype(np.float32))
    t32.add_(np.float64(1e-3))
    assert t32.dtype == np.float32


def test_inplace_bad_arguments():
    t = mg.tensor([1.0, 2.0])
    with pytest.raises(ValueError, match=r"add_: other of shape \(3,\)"):
        t.add_([1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="add_: other must be a number"):
        t.add_("a")
    with pytest.raises(TypeError, match="cannot write dtype float64 into this int64"):
        mg.tensor([1, 2]).add_(0.5)
    with pytest.raises(ValueError, match="clamp_: at least one"):
        t.clamp_()


def test_second_backward_through_freed_graph_is_a_clear_error():
    x, y = _saved_leaf()
    y.backward()
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        y.backward()
    x2, y2 = _saved_leaf()
    y2.backward(retain_graph=True)
    with pytest.raises(ValueError, match="read-only"):
        x2.data[0] = 0.0  # retained graph: still protected
    y2.backward()
    np.testing.assert_array_equal(x2.grad, [4.0, 8.0, 12.0])
    x2.data[0] = 0.0  # freed now


def _model_and_data():
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    x = mg.tensor(np.random.default_rng(0).standard_normal((5, 3)))
    return model, x


@pytest.mark.parametrize("opt_cls", [optim.SGD, optim.Adam, optim.RMSprop, optim.Adagrad])
def test_training_loop_with_stale_eval_graph_keeps_working(opt_cls):
    model, x = _model_and_data()
    opt = opt_cls(model.parameters(), lr=0.01)
    stale = model(x)  # an evaluation forward without no_grad, kept alive, never backpropagated
    before = [p.data.copy() for p in model.parameters()]
    for _ in range(3):
        opt.zero_grad()
        loss = (model(x) ** 2).mean()
        loss.backward()
        opt.step()  # must not fail although `stale` still holds the parameters
        for p in model.parameters():
            p.data[...] = p.data  # raw writes after backward are allowed again
    assert all(not np.array_equal(b, p.data) for b, p in zip(before, model.parameters()))
    # the stale graph kept the values it saw: its gradient is that of the forward that ran
    ref, _ = _model_and_data()
    ref.load_state_dict({k: v for k, v in zip(ref.state_dict(), before)})
    model.zero_grad()
    stale.sum().backward()
    ref(x).sum().backward()
    for p, q in zip(model.parameters(), ref.parameters()):
        np.testing.assert_allclose(p.grad, q.grad, rtol=1e-12)


def test_load_state_dict_and_init_allowed_after_backward_and_with_stale_graph():
    model, x = _model_and_data()
    state = {k: v + 1.0 for k, v in model.state_dict().items()}
    (model(x) ** 2).sum().backward()
    model.load_state_dict(state)
    stale = model(x)
    nn.init.zeros_(model[0].bias)
    model.load_state_dict(state)
    np.testing.assert_array_equal(model[0].bias.data, state["0.bias"])
    model.zero_grad()
    assert stale.requires_grad


def test_no_grad_forward_locks_nothing():
    model, x = _model_and_data()
    with mg.no_grad():
        model(x)
    for p in model.parameters():
        p.data[...] = 0.0


def test_autodiff_grad_keeps_the_graph_and_locks_only_with_retain_graph():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    np.testing.assert_array_equal(mg.grad(y, x, retain_graph=True), [2.0, 4.0])
    with pytest.raises(ValueError, match="read-only"):
        x.data[0] = 3.0
    np.testing.assert_array_equal(mg.grad(y, x), [2.0, 4.0])  # retained: a second call works, and frees
    x.data[0] = 3.0  # freed: writable again
    with pytest.raises(RuntimeError, match="second time"):
        mg.grad(y, x)  # as torch.autograd.grad without retain_graph


def test_functional_training_loop_with_grad():
    """``g = mg.grad(loss, w)`` then ``with no_grad(): w -= lr * g``: grad releases what it locked."""
    w = mg.tensor([1.0, -2.0], requires_grad=True)
    W = mg.tensor([[2.0, 0.0], [0.0, 3.0]])  # a constant the loss closes over
    for _ in range(3):
        loss = ((W @ w) ** 2).sum()
        g = mg.grad(loss, w)
        with mg.no_grad():
            w -= 0.01 * g
            W *= 1.0  # the constant was saved by MatMul: released too
    np.testing.assert_allclose(w.data, [1.0 * (1 - 0.08) ** 3, -2.0 * (1 - 0.18) ** 3], rtol=1e-12)


@pytest.mark.parametrize("strategy", ["reverse-mode", "forward-mode"])
def test_jacobian_and_jvp_release_what_f_closed_over(strategy):
    W = mg.tensor([[2.0, 1.0], [0.0, 3.0]], requires_grad=True)
    mg.jacobian(lambda x: W @ x, np.ones(2), strategy=strategy)
    mg.jvp(lambda x: W @ x, np.ones(2), np.ones(2))
    with mg.no_grad():
        W -= 1.0  # W was saved by f's MatMul; the call is over, so it is free again
    np.testing.assert_array_equal(W.data, [[1.0, 0.0], [-1.0, 2.0]])


def test_optimizer_step_between_two_graphs_sharing_a_parameter():
    """l1 and l2 both hold W; l1.backward releases W, yet the step must not corrupt l2's gradient."""
    model, x = _model_and_data()
    ref, _ = _model_and_data()
    opt = optim.SGD(model.parameters(), lr=0.5)
    l1, l2 = model(x).sum(), (model(x) ** 2).sum()
    l1.backward()
    opt.step()
    model.zero_grad()
    l2.backward()
    (ref(x) ** 2).sum().backward()
    for p, q in zip(model.parameters(), ref.parameters()):
        np.testing.assert_allclose(p.grad, q.grad, rtol=1e-12)
