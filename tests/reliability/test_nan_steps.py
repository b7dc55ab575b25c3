"""What a NaN gradient does to an optimizer step, and the guard that stops it (docs/RELIABILITY.md).

As in PyTorch, no optimizer checks its gradients: a NaN in ``p.grad`` makes that parameter
(and, for the stateful optimizers, its moments) NaN, silently, and every later step stays NaN.
``clip_grad_norm_(..., error_if_nonfinite=True)`` between ``backward()`` and ``step()`` raises
instead, before anything is written.
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, optim
from minigrad.nn.utils import clip_grad_norm_

OPTIMIZERS = {
    "sgd": (optim.SGD, {"lr": 0.1}, []),
    "sgd-momentum": (optim.SGD, {"lr": 0.1, "momentum": 0.9}, ["momentum_buffer"]),
    "adam": (optim.Adam, {"lr": 0.1}, ["exp_avg", "exp_avg_sq"]),
    "rmsprop": (optim.RMSprop, {"lr": 0.1}, ["square_avg"]),
    "adagrad": (optim.Adagrad, {"lr": 0.1}, ["sum"]),
}


def _nan_gradient_model():
    mg.manual_seed(0)
    lin = nn.Linear(2, 2)
    lin.weight.grad = np.array([[np.nan, 1.0], [1.0, 1.0]])  # one NaN element
    lin.bias.grad = np.ones(2)
    return lin


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_a_nan_gradient_makes_the_parameter_and_its_moments_nan(name):
    cls, kwargs, moments = OPTIMIZERS[name]
    lin = _nan_gradient_model()
    opt = cls(lin.parameters(), **kwargs)
    opt.step()
    assert np.isnan(lin.weight.data[0, 0]) and np.isfinite(lin.weight.data[1]).all()
    assert np.isfinite(lin.bias.data).all()  # the other parameter is not touched by the NaN
    for key in moments:
        assert np.isnan(opt.state[lin.weight][key][0, 0]), key
    lin.weight.grad = np.ones((2, 2))  # a good gradient later does not heal it
    opt.step()
    assert np.isnan(lin.weight.data[0, 0])


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_error_if_nonfinite_stops_the_step_before_anything_is_written(bad):
    lin = _nan_gradient_model()
    lin.weight.grad[0, 0] = bad
    before = lin.state_dict()
    opt = optim.Adam(lin.parameters(), lr=0.1)
    with pytest.raises(RuntimeError, match="error_if_nonfinite"):
        clip_grad_norm_(lin.parameters(), max_norm=np.inf, error_if_nonfinite=True)
        opt.step()  # not reached
    assert all(np.array_equal(before[k], v) for k, v in lin.state_dict().items())
    assert opt.state == {} or all(not s for s in opt.state.values())



def test_an_inf_gradient_in_adam_gives_nan_without_a_numpy_warning():
    import warnings

    p = mg.nn.Parameter(np.ones(3))
    opt = mg.optim.Adam([p])
    p.grad = np.array([np.inf, 1.0, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.step()
    assert np.isnan(p.data[0]) and np.isfinite(p.data[1:]).all()


def test_functional_layer_norm_refuses_a_string_shape():
    with pytest.raises(TypeError, match="normalized_shape"):
        mg.nn.functional.layer_norm(mg.tensor(np.ones((2, 3, 4))), "34")
