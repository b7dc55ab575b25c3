r"""Optimizers on a quadratic, against their update formulas written out by hand.

$L(\theta) = \tfrac12 \sum_k a_k \theta_k^2 - \sum_k b_k \theta_k$, so $g = a \odot \theta - b$.
Each reference below is PyTorch's documented algorithm, typed out independently of
minigrad/optim/optimizers.py; five steps must agree to rounding.
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad
from minigrad import optim
from minigrad.nn import Parameter

RNG = np.random.default_rng(0)
A = RNG.uniform(0.5, 2.0, size=(2, 3))
B = RNG.normal(size=(2, 3))
THETA0 = RNG.normal(size=(2, 3))
STEPS = 5


def _run(make_opt, dtype=np.float64):
    p = Parameter(THETA0.astype(dtype))
    opt = make_opt([p])
    for _ in range(STEPS):
        opt.zero_grad()
        loss = 0.5 * (minigrad.tensor(A.astype(dtype)) * p * p).sum() - (p * B.astype(dtype)).sum()
        loss.backward()
        opt.step()
    return p.data


def _grad(theta):
    return A * theta - B


def ref_sgd(lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
    theta, buf = THETA0.copy(), None
    for _ in range(STEPS):
        g = _grad(theta) + weight_decay * theta
        if momentum:
            buf = g.copy() if buf is None else momentum * buf + (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        theta = theta - lr * g
    return theta


def ref_adam(lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False):
    theta = THETA0.copy()
    m, v, vmax = np.zeros_like(theta), np.zeros_like(theta), np.zeros_like(theta)
    for t in range(1, STEPS + 1):
        g = _grad(theta) + weight_decay * theta
        m = betas[0] * m + (1 - betas[0]) * g
        v = betas[1] * v + (1 - betas[1]) * g**2
        m_hat = m / (1 - betas[0] ** t)
        vmax = np.maximum(vmax, v)
        v_hat = (vmax if amsgrad else v) / (1 - betas[1] ** t)
        theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
    return theta


def ref_rmsprop(lr, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
    theta = THETA0.copy()
    s, gbar, buf = np.zeros_like(theta), np.zeros_like(theta), np.zeros_like(theta)
    for _ in range(STEPS):
        g = _grad(theta) + weight_decay * theta
        s = alpha * s + (1 - alpha) * g**2
        if centered:
            gbar = alpha * gbar + (1 - alpha) * g
            denom = np.sqrt(s - gbar**2) + eps
        else:
            denom = np.sqrt(s) + eps
        if momentum:
            buf = momentum * buf + g / denom
            theta = theta - lr * buf
        else:
            theta = theta - lr * g / denom
    return theta


def ref_adagrad(lr, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10):
    theta = THETA0.copy()
    acc = np.full_like(theta, initial_accumulator_value)
    for t in range(1, STEPS + 1):
        g = _grad(theta) + weight_decay * theta
        acc = acc + g**2
        theta = theta - lr / (1 + (t - 1) * lr_decay) * g / (np.sqrt(acc) + eps)
    return theta


CASES = [
    (optim.SGD, ref_sgd, {"lr": 0.1}),
    (optim.SGD, ref_sgd, {"lr": 0.1, "momentum": 0.9}),
    (optim.SGD, ref_sgd, {"lr": 0.1, "momentum": 0.9, "dampening": 0.5}),
    (optim.SGD, ref_sgd, {"lr": 0.1, "momentum": 0.8, "nesterov": True}),
    (optim.SGD, ref_sgd, {"lr": 0.05, "momentum": 0.5, "weight_decay": 0.1}),
    (optim.Adam, ref_adam, {"lr": 0.1}),
    (optim.Adam, ref_adam, {"lr": 0.1, "betas": (0.5, 0.9), "eps": 1e-3}),
    (optim.Adam, ref_adam, {"lr": 0.1, "weight_decay": 0.3}),
    (optim.Adam, ref_adam, {"lr": 0.1, "betas": (0.9, 0.5), "amsgrad": True}),
    (optim.RMSprop, ref_rmsprop, {"lr": 0.01}),
    (optim.RMSprop, ref_rmsprop, {"lr": 0.01, "alpha": 0.9, "momentum": 0.7}),
    (optim.RMSprop, ref_rmsprop, {"lr": 0.01, "centered": True}),
    (optim.RMSprop, ref_rmsprop, {"lr": 0.01, "centered": True, "momentum": 0.5}),
    (optim.RMSprop, ref_rmsprop, {"lr": 0.01, "weight_decay": 0.2, "eps": 1e-2}),
    (optim.Adagrad, ref_adagrad, {"lr": 0.1}),
    (optim.Adagrad, ref_adagrad, {"lr": 0.1, "lr_decay": 0.3}),
    (optim.Adagrad, ref_adagrad, {"lr": 0.1, "initial_accumulator_value": 0.5}),
    (optim.Adagrad, ref_adagrad, {"lr": 0.1, "weight_decay": 0.2, "eps": 1e-3}),
]


@pytest.mark.parametrize("cls, ref, kwargs", CASES, ids=[f"{c.__name__}{k}" for c, _, k in CASES])
def test_update_matches_the_formula_over_several_steps(cls, ref, kwargs):
    got = _run(lambda params: cls(params, **kwargs))
    expected = ref(**kwargs)
    assert not np.allclose(expected, THETA0, atol=1e-3)  # the steps did move the parameters
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("cls", [optim.SGD, optim.Adam, optim.RMSprop, optim.Adagrad])
def test_float32_parameters_stay_float32_and_steps_build_no_graph(cls):
    got = _run(lambda params: cls(params, lr=0.01), dtype=np.float32)
    assert got.dtype == np.float32
    p = Parameter(np.ones(3))
    opt = cls([p], lr=0.1)
    (p * p).sum().backward()
    opt.step()
    assert p.is_leaf and p.requires_grad and p._op is None
    np.testing.assert_array_equal(p.grad, 2 * np.ones(3))  # step reads the gradient, keeps it


def test_zero_grad_and_parameters_without_grad_are_skipped():
    p, q = Parameter([1.0, 2.0]), Parameter([3.0])
    opt = optim.SGD([p, q], lr=0.5)
    (p * p).sum().backward()
    opt.step()
    np.testing.assert_allclose(p.data, [0.0, 0.0])
    np.testing.assert_allclose(q.data, [3.0])
    opt.zero_grad()
    assert p.grad is None
    (p + 1.0).sum().backward()
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(p.grad, [0.0, 0.0])


def test_param_groups_have_their_own_settings():
    p, q = Parameter([1.0]), Parameter([1.0])
    opt = optim.SGD([{"params": [p]}, {"params": [q], "lr": 0.5}], lr=0.1)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    (p + q).sum().backward()
    opt.step()
    np.testing.assert_allclose([p.data[0], q.data[0]], [0.9, 0.5])


def test_step_with_closure_returns_the_loss():
    p = Parameter([2.0])
    opt = optim.SGD([p], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    assert opt.step(closure).item() == 4.0
    np.testing.assert_allclose(p.data, [1.0])


@pytest.mark.parametrize(
    "make, error, match",
    [
        (lambda p: optim.SGD([], lr=0.1), ValueError, "empty parameter list"),
        (lambda p: optim.SGD(p[0], lr=0.1), TypeError, "single Tensor"),
        (lambda p: optim.SGD([p[0] * 2], lr=0.1), ValueError, "leaf"),
        (lambda p: optim.SGD(p, lr=-1.0), ValueError, "learning rate"),
        (lambda p: optim.SGD(p, lr=0.1, nesterov=True), ValueError, "nesterov"),
        (lambda p: optim.Adam(p, betas=(0.9, 1.0)), ValueError, "betas"),
        (lambda p: optim.RMSprop(p, alpha=-0.1), ValueError, "alpha"),
        (lambda p: optim.Adagrad(p, eps=-1.0), ValueError, "eps"),
        (lambda p: optim.SGD([p[0], p[0]], lr=0.1), ValueError, "more than one group"),
    ],
)
def test_bad_arguments_are_clear_errors(make, error, match):
    with pytest.raises(error, match=match):
        make([Parameter([1.0])])
