"""minigrad against numbers PyTorch 2.13 computed (by fixtures/make_torch_reference.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import minigrad
import minigrad.nn.functional as F
from minigrad import nn, optim
from minigrad.nn import Parameter
from minigrad.nn.utils import clip_grad_norm_

with np.load(Path(__file__).parent / "fixtures" / "torch_reference.npz") as _f:
    REF = {k: _f[k] for k in _f.files}

OPTIMIZERS = {
    "sgd_nesterov_wd": (optim.SGD, {"lr": 0.1, "momentum": 0.9, "nesterov": True,
                                    "weight_decay": 0.01}),
    "sgd_dampening": (optim.SGD, {"lr": 0.1, "momentum": 0.5, "dampening": 0.3}),
    "adam_wd": (optim.Adam, {"lr": 0.05, "betas": (0.8, 0.95), "weight_decay": 0.1}),
    "adam_amsgrad": (optim.Adam, {"lr": 0.05, "amsgrad": True}),
    "rmsprop_centered_momentum": (optim.RMSprop, {"lr": 0.01, "alpha": 0.9, "momentum": 0.5,
                                                  "centered": True}),
    "rmsprop_wd": (optim.RMSprop, {"lr": 0.01, "weight_decay": 0.1}),
    "adagrad": (optim.Adagrad, {"lr": 0.1, "lr_decay": 0.01, "initial_accumulator_value": 0.1,
                                "weight_decay": 0.05}),
}  # fmt: skip


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_optimizer_trajectory_matches_pytorch(name):
    cls, kwargs = OPTIMIZERS[name]
    p = Parameter(REF["optim/theta0"])
    opt = cls([p], **kwargs)
    for step, g in enumerate(REF["optim/grads"]):
        p.grad = g.copy()
        opt.step()
        np.testing.assert_allclose(p.data, REF[f"optim/{name}"][step], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_matches_pytorch(reduction):
    z = minigrad.tensor(REF["ce/logits"], requires_grad=True)
    loss = F.cross_entropy(z, REF["ce/target"], weight=REF["ce/weight"], reduction=reduction)
    loss.backward(np.ones(loss.shape))
    np.testing.assert_allclose(loss.data, REF[f"ce/{reduction}/loss"], rtol=1e-12)
    np.testing.assert_allclose(z.grad, REF[f"ce/{reduction}/grad"], rtol=1e-12, atol=1e-15)


def test_bce_with_logits_matches_pytorch():
    z = minigrad.tensor(REF["bce/x"], requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(z, REF["bce/y"], pos_weight=REF["bce/pos_weight"])
    loss.backward()
    np.testing.assert_allclose(loss.item(), REF["bce/loss"], rtol=1e-12)
    np.testing.assert_allclose(z.grad, REF["bce/grad"], rtol=1e-12, atol=1e-15)


def test_layer_norm_matches_pytorch():
    ln = nn.LayerNorm((3, 4))
    ln.load_state_dict({"weight": REF["ln/gamma"], "bias": REF["ln/beta"]})
    x = minigrad.tensor(REF["ln/x"], requires_grad=True)
    y = ln(x)
    y.backward(REF["ln/g_out"])
    np.testing.assert_allclose(y.data, REF["ln/y"], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(x.grad, REF["ln/grad_x"], rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(ln.weight.grad, REF["ln/grad_gamma"], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ln.bias.grad, REF["ln/grad_beta"], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf")])
def test_clip_grad_norm_matches_pytorch(norm_type):
    ps = []
    for i in range(2):
        p = Parameter(np.zeros(REF[f"clip/input{i}"].shape))
        p.grad = REF[f"clip/input{i}"].copy()
        ps.append(p)
    total = clip_grad_norm_(ps, max_norm=2.0, norm_type=norm_type)
    np.testing.assert_allclose(total, REF[f"clip/{norm_type}/total"], rtol=1e-12)
    for i, p in enumerate(ps):
        np.testing.assert_allclose(p.grad, REF[f"clip/{norm_type}/grad{i}"], rtol=1e-12)


def test_a_pytorch_state_dict_loads_unchanged_and_gives_the_same_output():
    state = {k[len("mlp/state/"):]: v for k, v in REF.items() if k.startswith("mlp/state/")}
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.LayerNorm(4), nn.Linear(4, 2))
    assert list(state) == list(model.state_dict())  # same names, same order
    model.load_state_dict(state)
    np.testing.assert_allclose(model(REF["mlp/x"]).data, REF["mlp/y"], rtol=1e-12, atol=1e-14)
