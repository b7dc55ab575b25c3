r"""Double backward: ``backward(create_graph=True)`` and ``grad(create_graph=True)`` as PyTorch has them.

* through LSTM, GRU and RNN layers (two layers, T = 6 steps, the fused step ops), and through
  LayerNorm, Linear and four losses, the gradient and the Hessian-vector product
  $\partial_\theta \langle \partial\phi/\partial\theta, u\rangle$ equal PyTorch's double backward
  (``tests/fixtures/double_backward_torch.npz``, from ``make_double_backward_fixture.py``);
* ``.grad`` becomes a Tensor on a graph and accumulates out of place, as in PyTorch;
* the plain ``backward()`` records nothing: no op is created and no memory is kept beyond ``.grad``.
"""

from __future__ import annotations

import gc
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.nn import functional as F
from minigrad.ops import Op, SpectralNorm
from minigrad.tensor import Tensor, apply_op

FIXTURE = np.load(Path(__file__).parent / "fixtures" / "double_backward_torch.npz", allow_pickle=False)
LAYERS = {
    "lstm": lambda: nn.LSTM(3, 4, num_layers=2),
    "gru": lambda: nn.GRU(3, 4, num_layers=2, batch_first=True),
    "rnn_tanh": lambda: nn.RNN(3, 4, num_layers=2),
}


def get(case: str, key: str) -> np.ndarray:
    return FIXTURE[f"{case}::{key}"]


def load(module, case: str):
    prefix = f"{case}::param::"
    module.load_state_dict({k[len(prefix):]: FIXTURE[k] for k in FIXTURE.files if k.startswith(prefix)})
    return module


def check_double_backward(case: str, module, inputs: dict, phi: Tensor) -> None:
    named = list(inputs.items()) + list(module.named_parameters())
    tensors = [t for _, t in named]
    grads = mg.grad(phi, tensors, create_graph=True)
    dot = sum((g * get(case, f"u::{name}")).sum() for (name, _), g in zip(named, grads))
    hvps = mg.grad(dot, tensors, materialize_grads=True)
    for (name, _), g, h in zip(named, grads, hvps):
        np.testing.assert_allclose(g.data, get(case, f"grad::{name}"), rtol=1e-10, atol=1e-12, err_msg=name)
        np.testing.assert_allclose(h, get(case, f"hvp::{name}"), rtol=1e-9, atol=1e-11, err_msg=name)


@pytest.mark.parametrize("case", LAYERS)
def test_double_backward_through_recurrent_layers_equals_pytorch(case):
    m = load(LAYERS[case](), case)
    inputs = {"x": Tensor(get(case, "x"), requires_grad=True), "h0": Tensor(get(case, "h0"), requires_grad=True)}
    if case == "lstm":
        inputs["c0"] = Tensor(get(case, "c0"), requires_grad=True)
        out, (hn, cn) = m(inputs["x"], (inputs["h0"], inputs["c0"]))
        outs = {"out": out, "h_n": hn, "c_n": cn}
    else:
        out, hn = m(inputs["x"], inputs["h0"])
        outs = {"out": out, "h_n": hn}
    phi = sum((t * get(case, f"w_{name}")).sum() for name, t in outs.items())
    check_double_backward(case, m, inputs, phi)


class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.norm = nn.LayerNorm(5)
        self.linear = nn.Linear(5, 3)

    def forward(self, x, target):
        z = self.linear(self.norm(x))
        soft = mg.sigmoid(mg.tensor(get("head", "soft_logits")))
        return (F.cross_entropy(z, target) + F.mse_loss(z, mg.tanh(x[:, :3])) + F.l1_loss(z, x[:, 2:])
                + F.binary_cross_entropy_with_logits(z, soft))  # fmt: skip


def test_double_backward_through_layer_norm_and_losses_equals_pytorch():
    head = load(Head(), "head")
    x = Tensor(get("head", "x"), requires_grad=True)
    check_double_backward("head", head, {"x": x}, head(x, get("head", "target")))


def test_create_graph_grad_is_a_tensor_and_accumulates_as_pytorch():
    x = mg.tensor([0.5, -1.0, 2.0], requires_grad=True)
    (x**3).sum().backward(create_graph=True)  # .grad = 3x², on a graph
    assert isinstance(x.grad, Tensor) and x.grad.requires_grad
    np.testing.assert_allclose(x.grad.data, 3 * x.data**2)
    (x * x).sum().backward(create_graph=True)  # accumulates: 3x² + 2x, out of place
    g = x.grad
    np.testing.assert_allclose(g.data, 3 * x.data**2 + 2 * x.data)
    x.grad = None
    g.sum().backward()  # d/dx sum(3x² + 2x) = 6x + 2
    np.testing.assert_allclose(x.grad, 6 * x.data + 2)


def test_create_graph_keeps_the_graph_and_a_gradient_penalty_works():
    w = mg.tensor([[0.3, -0.2], [0.1, 0.4]], requires_grad=True)
    x = mg.tensor([[1.0, 2.0], [-1.0, 0.5]])
    loss = mg.tanh(x @ w).sum()
    (gw,) = mg.grad(loss, [w], create_graph=True)
    mg.grad(loss, [w], retain_graph=True)  # retain_graph defaulted to True with create_graph: a second pass works
    penalty = (gw * gw).sum()
    (gp,) = mg.grad(penalty, [w])
    eps, num = 1e-6, np.zeros((2, 2))
    for idx in np.ndindex(2, 2):
        vals = []
        for s in (eps, -eps):
            wd = w.data.copy()
            wd[idx] += s
            wt = mg.tensor(wd, requires_grad=True)
            vals.append(float((mg.grad(mg.tanh(x @ wt).sum(), wt) ** 2).sum()))
        num[idx] = (vals[0] - vals[1]) / (2 * eps)
    np.testing.assert_allclose(gp, num, rtol=1e-6, atol=1e-8)


def _live_ops() -> int:
    gc.collect()
    return sum(isinstance(o, Op) for o in gc.get_objects())


def test_plain_backward_records_nothing_and_keeps_only_the_gradient():
    x = mg.tensor(np.linspace(-1, 1, 10_000), requires_grad=True)
    y = x
    for _ in range(20):
        y = mg.tanh(y * 1.01)
    loss = y.sum()
    ops_before = _live_ops()
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    loss.backward()
    kept = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert type(x.grad) is not Tensor and not isinstance(x.grad, Tensor)  # an array, not a graph
    assert _live_ops() == ops_before  # no op was recorded for the gradient
    assert kept <= x.data.nbytes + 16_384, f"backward kept {kept} bytes beyond .grad's {x.data.nbytes}"


def test_create_graph_errors():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match="create_graph must be True or False, got 'yes'"):
        (x * x).sum().backward(create_graph="yes")
    with pytest.raises(ValueError, match=r"hvp: f must return a one-element Tensor"):
        mg.hvp(lambda t: t * 2, np.ones(2), np.ones(2))
    with pytest.raises(ValueError, match=r"v\[0\] must have the shape of inputs\[0\], \(2,\), got \(3,\)"):
        mg.vhp(lambda t: (t * t).sum(), np.ones(2), np.ones(3))
    with pytest.raises(ValueError, match="create_graph=True needs strategy='reverse-mode'"):
        mg.jacobian(lambda t: t * 2, np.ones(2), strategy="forward-mode", create_graph=True)
    W = mg.tensor(np.eye(2) * 2.0, requires_grad=True)  # sigma_1 = sigma_2: u_1 v_1^T has no derivative
    with pytest.raises(ValueError, match="differentiating SpectralNorm twice needs a simple top singular value"):
        apply_op(SpectralNorm(), W).backward(create_graph=True)


def test_hessian_and_jacobian_create_graph_shapes_as_pytorch():
    H = mg.hessian(lambda a, b: (a * a * b).sum(), (np.ones(2), np.ones(3)[:1] * 2))
    assert [[h.shape for h in row] for row in H] == [[(2, 2), (2, 1)], [(1, 2), (1, 1)]]
    np.testing.assert_allclose(H[0][0], 4 * np.eye(2))
    np.testing.assert_allclose(H[0][1], [[2.0], [2.0]])
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    J = mg.jacobian(lambda t: t * t * t, x, create_graph=True)
    assert isinstance(J, Tensor) and J.shape == (2, 2)
    (dJ,) = mg.grad(J.sum(), [x])  # d/dx sum(diag(3x²)) = 6x
    np.testing.assert_allclose(dJ, 6 * x.data)


def test_hvp_and_hessian_leave_closed_over_weights_writable():
    W = mg.tensor(np.array([[1.0, 0.5], [0.0, 2.0]]), requires_grad=True)

    def f(x):
        return mg.tanh(W @ x).sum() + (W * W).sum()  # the W * W branch: no x in it, so no second pass reaches it

    mg.hvp(f, np.ones(2), np.ones(2))
    mg.hessian(f, np.ones(2))
    with mg.no_grad():
        W -= 0.1 * np.ones((2, 2))  # refused if a graph that saved W were still locked
    np.testing.assert_allclose(W.data, [[0.9, 0.4], [-0.1, 1.9]])


def test_hvp_vhp_return_arrays_or_tensors_as_asked():
    f = lambda x: (x**3).sum()  # noqa: E731
    out, hv = mg.hvp(f, np.array([1.0, 2.0]), np.ones(2))
    assert type(hv) is np.ndarray and isinstance(out, Tensor)
    np.testing.assert_allclose(hv, [6.0, 12.0])
    _, (hx, hy) = mg.vhp(lambda x, y: (x * y).sum(), [np.ones(2), np.ones(2)], [np.ones(2), np.zeros(2)])
    assert type(hx) is np.ndarray and type(hy) is np.ndarray
    np.testing.assert_allclose(hy, [1.0, 1.0])
    np.testing.assert_allclose(hx, [0.0, 0.0])
    _, hv = mg.hvp(lambda x: (2 * x).sum(), np.ones(2), np.ones(2))  # linear: H = 0
    assert type(hv) is np.ndarray and not hv.any()
    _, hv = mg.hvp(f, np.array([1.0, 2.0]), np.ones(2), create_graph=True)
    assert isinstance(hv, Tensor)


def test_create_graph_keeps_float32():
    x = mg.tensor(np.array([0.5, -1.0, 2.0], dtype=np.float32), requires_grad=True)
    W = mg.tensor(np.eye(3, dtype=np.float32), requires_grad=True)
    loss = (mg.tanh(W @ x) ** 2).sum() + mg.gelu(x).sum() + mg.softmax(x, axis=0).max() + mg.maximum(x, 0.0).sum()
    loss.backward(create_graph=True)
    assert x.grad.dtype == np.float32 and W.grad.dtype == np.float32
    penalty = (x.grad * x.grad).sum()
    x.grad = W.grad = None
    penalty.backward()
    assert x.grad.dtype == np.float32 and W.grad.dtype == np.float32


def test_detect_anomaly_checks_the_recorded_backward_pass():
    x = mg.tensor([0.0, 1.0], requires_grad=True)
    # the recorded VJP is forward computation: its ops are checked as they run (0.5 / sqrt(0) = inf)
    with mg.detect_anomaly(), pytest.raises(mg.AnomalyError, match=r"Div \(forward\) produced 0 NaN and 1 inf"):
        mg.sqrt(x).sum().backward(create_graph=True)


def test_third_derivative():
    r"""A recorded VJP is made of ops that record their own: $d^3/dx^3 (x^4 + \tanh x) = 24x + \tanh'''(x)$."""
    x = mg.tensor([0.5, -1.0, 2.0], requires_grad=True)
    (g,) = mg.grad((x**4).sum() + mg.tanh(x).sum(), [x], create_graph=True)
    (h,) = mg.grad(g.sum(), [x], create_graph=True)
    (t,) = mg.grad(h.sum(), [x])
    th = np.tanh(x.data)
    np.testing.assert_allclose(t, 24 * x.data - 2 * (1 - th**2) ** 2 + 4 * th**2 * (1 - th**2), rtol=1e-12)
