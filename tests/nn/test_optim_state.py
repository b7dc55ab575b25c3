"""Optimizer/scheduler state_dict + resume (bit for bit), argument checks, and the grad-shape guard."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad
import minigrad.nn.functional as F
from minigrad import nn, optim
from minigrad.nn import Parameter
from minigrad.optim import lr_scheduler

OPTIMIZERS = [
    (optim.SGD, {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    (optim.Adam, {"lr": 0.01, "amsgrad": True}),
    (optim.AdamW, {"lr": 0.01, "weight_decay": 0.1}),
    (optim.RMSprop, {"lr": 0.01, "momentum": 0.5, "centered": True}),
    (optim.Adagrad, {"lr": 0.1, "lr_decay": 0.01}),
]
SCHEDULERS = [
    lambda o: lr_scheduler.StepLR(o, step_size=4, gamma=0.5),
    lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=6, eta_min=1e-4),
    lambda o: lr_scheduler.ExponentialLR(o, gamma=0.95),
    lambda o: lr_scheduler.LambdaLR(o, lambda e: 1 / (1 + e)),
    lambda o: lr_scheduler.ReduceLROnPlateau(o, patience=1, factor=0.5),
]


def _setup(cls, kwargs, make_sched):
    minigrad.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 2))
    opt = cls([{"params": model[0].parameters()}, {"params": model[2].parameters(), "lr": 0.02}], **kwargs)
    return model, opt, make_sched(opt)


def _train(model, opt, sched, steps, start):
    rng = np.random.default_rng(start)  # the data of steps start.. depend on start only
    for _ in range(steps):
        x, y = rng.normal(size=(16, 3)), rng.integers(0, 2, size=16)
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if isinstance(sched, lr_scheduler.ReduceLROnPlateau):
            sched.step(loss)
        else:
            sched.step()


@pytest.mark.parametrize("cls, kwargs", OPTIMIZERS, ids=[c.__name__ for c, _ in OPTIMIZERS])
@pytest.mark.parametrize("make_sched", SCHEDULERS, ids=["step", "cosine", "exp", "lambda", "plateau"])
def test_resume_from_a_saved_file_is_bit_for_bit(tmp_path, cls, kwargs, make_sched):
    model, opt, sched = _setup(cls, kwargs, make_sched)
    _train(model, opt, sched, 7, start=1)
    minigrad.save(model.state_dict(), tmp_path / "model.npz")
    minigrad.save(opt.state_dict(), tmp_path / "opt.npz")
    minigrad.save(sched.state_dict(), tmp_path / "sched.npz")
    _train(model, opt, sched, 6, start=2)  # the uninterrupted run

    model2, opt2, sched2 = _setup(cls, kwargs, make_sched)  # a fresh process would do this
    model2.load_state_dict(minigrad.load(tmp_path / "model.npz"))
    opt2.load_state_dict(minigrad.load(tmp_path / "opt.npz"))
    sched2.load_state_dict(minigrad.load(tmp_path / "sched.npz"))
    _train(model2, opt2, sched2, 6, start=2)
    for (name, a), b in zip(model.state_dict().items(), model2.state_dict().values()):
        np.testing.assert_array_equal(a, b, err_msg=name)
    assert sched.get_last_lr() == sched2.get_last_lr()
    s1, s2 = opt.state_dict(), opt2.state_dict()
    assert s1.keys() == s2.keys()
    for k in s1:
        np.testing.assert_array_equal(s1[k], s2[k], err_msg=k)


def test_state_dict_is_a_copy_and_has_pytorch_names():
    p = Parameter(np.ones(3))
    opt = optim.Adam([p], lr=0.1)
    p.grad = np.ones(3)
    opt.step()
    sd = opt.state_dict()
    assert set(sd) == {"state.0.step", "state.0.exp_avg", "state.0.exp_avg_sq", "param_groups.0.lr",
                       "param_groups.0.betas", "param_groups.0.eps", "param_groups.0.weight_decay",
                       "param_groups.0.amsgrad", "param_groups.0.params"}  # fmt: skip
    before = sd["state.0.exp_avg"].copy()
    opt.step()
    np.testing.assert_array_equal(sd["state.0.exp_avg"], before)


@pytest.mark.parametrize("change, match", [
    (lambda sd: sd.update({"state.5.step": np.array(1)}), r"unexpected key 'state.5.step'"),
    (lambda sd: sd.update({"state.0.exp_avg": np.zeros(4)}), r"'state.0.exp_avg' has shape \(4,\).*\(3,\)"),
    (lambda sd: sd.pop("param_groups.0.betas"), r"no 'param_groups.0.betas'"),
    (lambda sd: sd.update({"param_groups.0.params": np.arange(2)}), r"lists 2 parameters.*has 1"),
    (lambda sd: sd.update({"junk": np.array(1)}), r"unexpected key 'junk'"),
])  # fmt: skip
def test_load_state_dict_names_the_bad_key_and_changes_nothing(change, match):
    p = Parameter(np.ones(3))
    opt = optim.Adam([p], lr=0.1)
    p.grad = np.ones(3)
    opt.step()
    sd = opt.state_dict()
    change(sd)
    before = opt.state_dict()
    with pytest.raises(ValueError, match=match):
        opt.load_state_dict(sd)
    after = opt.state_dict()
    assert before.keys() == after.keys() and all(np.array_equal(before[k], after[k]) for k in before)


def test_scheduler_load_state_dict_checks_keys():
    sched = lr_scheduler.StepLR(optim.SGD([Parameter(np.ones(1))], lr=0.1), step_size=2)
    with pytest.raises(ValueError, match=r"StepLR.load_state_dict: expected the keys"):
        sched.load_state_dict({"last_epoch": np.array(3)})


@pytest.mark.parametrize("make, error, match", [
    (lambda p: optim.Adam(p, betas=0.9), TypeError, r"Adam: invalid betas: expected a pair.*got 0.9"),
    (lambda p: optim.Adam(p, betas=(0.9, 1.0)), ValueError, r"Adam: invalid beta2 \(betas\[1\]\).*\[0.0, 1.0\)"),
    (lambda p: optim.AdamW(p, lr="0.1"), TypeError, r"AdamW: invalid lr \(learning rate\).*'0.1'"),
    (lambda p: optim.SGD(p, lr=0.1, momentum=-0.5), ValueError, r"SGD: invalid momentum.*-0.5"),
    (lambda p: optim.SGD(p, lr=0.1, nesterov="yes"), TypeError, r"SGD: invalid nesterov.*True or False"),
    (lambda p: optim.RMSprop(p, eps=float("inf")), ValueError, r"RMSprop: invalid eps"),
    (lambda p: optim.Adagrad(p, lr_decay=None), TypeError, r"Adagrad: invalid lr_decay"),
    (lambda p: lr_scheduler.StepLR(optim.SGD(p), step_size=0), ValueError, r"StepLR: invalid step_size"),
    (lambda p: lr_scheduler.StepLR([1], step_size=1), TypeError, r"StepLR: optimizer must be"),
    (lambda p: lr_scheduler.CosineAnnealingLR(optim.SGD(p), T_max=2.5), ValueError, r"invalid T_max"),
    (lambda p: lr_scheduler.ExponentialLR(optim.SGD(p), gamma=-1), ValueError, r"invalid gamma"),
    (lambda p: lr_scheduler.LambdaLR(optim.SGD(p), lr_lambda=3), TypeError, r"lr_lambda must be a function"),
    (lambda p: lr_scheduler.ReduceLROnPlateau(optim.SGD(p), factor=1.0), ValueError, r"invalid factor"),
    (lambda p: lr_scheduler.ReduceLROnPlateau(optim.SGD(p), mode="low"), ValueError, r"invalid mode"),
    (lambda p: lr_scheduler.ReduceLROnPlateau(optim.SGD(p), patience=-1), ValueError, r"invalid patience"),
    (lambda p: lr_scheduler.StepLR(optim.SGD(p), step_size=1, last_epoch=3), ValueError, r"last_epoch"),
])  # fmt: skip
def test_bad_arguments_name_argument_expected_and_received(make, error, match):
    with pytest.raises(error, match=match):
        make([Parameter(np.ones(2))])


def test_numpy_scalar_hyper_parameters_are_accepted():
    p = Parameter(np.ones(2))
    opt = optim.Adam([p], lr=np.float32(0.1), betas=(np.float64(0.9), np.float32(0.99)), amsgrad=np.bool_(False))
    assert opt.param_groups[0]["lr"] == float(np.float32(0.1))
    optim.SGD([p], lr=np.float64(0.1), momentum=np.float32(0.5))
    lr_scheduler.StepLR(opt, step_size=np.int64(2), gamma=np.float32(0.5))


@pytest.mark.parametrize("grad, error, match", [
    (np.ones((1, 3)), ValueError, r"parameter 1 must have the parameter's shape \(3,\), got \(1, 3\)"),
    (np.ones(1), ValueError, r"parameter 1 must have the parameter's shape \(3,\), got \(1,\)"),
    ([1.0, 2.0, 3.0], TypeError, r"parameter 1 must be an np.ndarray, got list"),
    (np.ones(3, dtype=np.int64), TypeError, r"must be a float array"),
])  # fmt: skip
def test_hand_set_grad_of_wrong_shape_is_an_error_in_step(grad, error, match):
    a, b = Parameter(np.ones(2)), Parameter(np.ones(3))
    opt = optim.SGD([a, b], lr=0.1)
    a.grad, b.grad = np.ones(2), grad  # broadcastable (1,) or (1, 3) would silently broadcast unchecked
    with pytest.raises(error, match=match):
        opt.step()
    np.testing.assert_array_equal(a.data, np.ones(2))  # no half-done step: a is checked and left alone
    np.testing.assert_array_equal(b.data, np.ones(3))


def test_a_param_groups_own_settings_are_checked_too():
    a, b = Parameter(np.ones(2)), Parameter(np.ones(2))
    with pytest.raises(ValueError, match=r"Adam: invalid lr \(learning rate\).*got -1.0"):
        optim.Adam([{"params": [a]}, {"params": [b], "lr": -1.0}])
    with pytest.raises(TypeError, match=r"Adam: invalid betas"):
        optim.Adam([{"params": [a], "betas": 0.5}])
    opt = optim.SGD([{"params": [a], "lr": np.float32(0.5)}], lr=0.1)
    assert opt.param_groups[0]["lr"] == 0.5 and type(opt.param_groups[0]["lr"]) is float
