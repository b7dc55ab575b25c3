"""AdamW, schedulers and the newer losses against numbers PyTorch 2.13 computed (fixtures/make_torch_reference_2.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import minigrad.nn.functional as F
from minigrad import nn, optim
from minigrad.nn import Parameter
from minigrad.optim import lr_scheduler
from minigrad.tensor import Tensor

with np.load(Path(__file__).parent / "fixtures" / "torch_reference_2.npz") as _f:
    REF = {k: _f[k] for k in _f.files}

ADAMW = {
    "adamw_default": {"lr": 0.05},
    "adamw_wd_betas": {"lr": 0.05, "betas": (0.8, 0.95), "weight_decay": 0.3},
    "adamw_amsgrad": {"lr": 0.05, "weight_decay": 0.1, "amsgrad": True},
}


@pytest.mark.parametrize("name", list(ADAMW))
def test_adamw_trajectory_matches_pytorch(name):
    p = Parameter(REF["adamw/theta0"])
    opt = optim.AdamW([p], **ADAMW[name])
    for step, g in enumerate(REF["adamw/grads"]):
        p.grad = g.copy()
        opt.step()
        np.testing.assert_allclose(p.data, REF[f"adamw/{name}"][step], rtol=1e-12, atol=1e-14)


def test_adamw_is_not_adam_with_l2():
    # the decay is decoupled: with the same weight_decay, Adam (L2 in g) and AdamW differ
    a, b = Parameter(REF["adamw/theta0"]), Parameter(REF["adamw/theta0"])
    oa, ob = optim.Adam([a], lr=0.05, weight_decay=0.3), optim.AdamW([b], lr=0.05, weight_decay=0.3)
    a.grad, b.grad = REF["adamw/grads"][0].copy(), REF["adamw/grads"][0].copy()
    oa.step()
    ob.step()
    assert not np.allclose(a.data, b.data)


SCHEDULERS = {
    "step": lambda o: lr_scheduler.StepLR(o, step_size=3, gamma=0.5),
    "exponential": lambda o: lr_scheduler.ExponentialLR(o, gamma=0.9),
    "cosine": lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=7, eta_min=0.001),
    "lambda": lambda o: lr_scheduler.LambdaLR(o, lr_lambda=[lambda e: 1 / (1 + e), lambda e: 0.95**e]),
}


def _two_group_sgd():
    return optim.SGD([{"params": [Parameter(np.zeros(1))], "lr": 0.1},
                      {"params": [Parameter(np.zeros(1))], "lr": 0.03}])  # fmt: skip


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_scheduler_rates_match_pytorch_bit_for_bit(name):
    opt = _two_group_sgd()
    sched = SCHEDULERS[name](opt)
    for step in range(30):
        opt.step()
        sched.step()
        assert sched.get_last_lr() == list(REF[f"sched/{name}"][step]), f"step {step}"
        assert [g["lr"] for g in opt.param_groups] == sched.get_last_lr()


PLATEAU = {
    "min_rel": {},
    "min_abs_cooldown": {"threshold_mode": "abs", "threshold": 0.01, "patience": 2, "cooldown": 3, "factor": 0.5},
    "max_rel_minlr": {"mode": "max", "patience": 1, "factor": 0.3, "min_lr": 0.002},
}


@pytest.mark.parametrize("name", list(PLATEAU))
def test_reduce_lr_on_plateau_matches_pytorch(name):
    opt = optim.SGD([Parameter(np.zeros(1))], lr=0.1)
    sched = lr_scheduler.ReduceLROnPlateau(opt, **PLATEAU[name])
    lrs = []
    for m in REF["plateau/metrics"]:
        opt.step()
        sched.step(Tensor(m) if len(lrs) % 2 else float(m))  # a number or a one-element Tensor
        lrs.append(sched.get_last_lr()[0])
    assert lrs == list(REF[f"plateau/{name}"])


def _loss_and_grad(fn, x):
    z = Tensor(x, requires_grad=True)
    loss = fn(z)
    loss.backward(np.ones(loss.shape))
    return loss.data, z.grad


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_l1_loss_matches_pytorch_including_the_kink(reduction):
    y = REF["l1/y"]
    loss, grad = _loss_and_grad(lambda z: F.l1_loss(z, y, reduction=reduction), REF["l1/x"])
    np.testing.assert_allclose(loss, REF[f"l1/{reduction}/loss"], rtol=1e-12)
    np.testing.assert_allclose(grad, REF[f"l1/{reduction}/grad"], rtol=1e-12)
    assert grad[0, 0] == 0.0
    module, _ = _loss_and_grad(lambda z: nn.L1Loss(reduction=reduction)(z, y), REF["l1/x"])
    np.testing.assert_array_equal(module, loss)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("kind", ["smooth", "probs"])
def test_cross_entropy_label_smoothing_and_probability_targets(reduction, weighted, kind):
    w = REF["ce2/weight"] if weighted else None
    if kind == "smooth":  # class indices (one ignored), label_smoothing=0.2
        target, eps = REF["ce2/target"], 0.2
    else:  # class probabilities, label_smoothing=0.1
        target, eps = REF["ce2/probs"], 0.1
    key = f"ce2/{kind}/{reduction}/{'w' if weighted else 'nw'}"
    fn = lambda z: F.cross_entropy(z, target, weight=w, reduction=reduction, label_smoothing=eps)  # noqa: E731
    loss, grad = _loss_and_grad(fn, REF["ce2/logits"])
    np.testing.assert_allclose(loss, REF[f"{key}/loss"], rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(grad, REF[f"{key}/grad"], rtol=1e-10, atol=1e-14)
    module = nn.CrossEntropyLoss(weight=w, reduction=reduction, label_smoothing=eps)
    np.testing.assert_array_equal(module(Tensor(REF["ce2/logits"]), target).data, loss)


@pytest.mark.parametrize("kind", ["smooth", "probs"])
def test_cross_entropy_with_spatial_dims(kind):
    w = REF["ce2/weight"][:4]
    if kind == "smooth":
        fn = lambda z: F.cross_entropy(z, REF["ce3/target"], weight=w, label_smoothing=0.3)  # noqa: E731
    else:
        fn = lambda z: F.cross_entropy(z, REF["ce3/probs"], weight=w)  # noqa: E731
    loss, grad = _loss_and_grad(fn, REF["ce3/logits"])
    np.testing.assert_allclose(loss, REF[f"ce3/{kind}/loss"], rtol=1e-10)
    np.testing.assert_allclose(grad, REF[f"ce3/{kind}/grad"], rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("name, fn, x", [
    ("ce_all_ignored", lambda z: F.cross_entropy(z, np.array([-100, -100, -100])), np.zeros((3, 4))),
    ("ce_all_ignored_smooth", lambda z: F.cross_entropy(z, np.array([-100, -100]), label_smoothing=0.1),
     np.zeros((2, 4))),
    ("mse_empty", lambda z: F.mse_loss(z, np.zeros(0)), np.zeros(0)),
    ("l1_empty", lambda z: F.l1_loss(z, np.zeros(0)), np.zeros(0)),
    ("ce_probs_empty", lambda z: F.cross_entropy(z, np.zeros((0, 4))), np.zeros((0, 4))),
])  # fmt: skip
def test_means_over_nothing_are_nan_without_warnings_as_pytorch(name, fn, x):
    # tests/conftest.py turns NumPy floating-point warnings into errors: this passing means none leaked
    loss, grad = _loss_and_grad(fn, x)
    assert np.isnan(loss) and np.isnan(REF[f"edge/{name}/loss"])
    if f"edge/{name}/grad" in REF:
        np.testing.assert_array_equal(grad, REF[f"edge/{name}/grad"])  # PyTorch: zero gradient
    assert grad.shape == x.shape and np.all(np.isfinite(grad))
