"""A float32 model given float64 input is a clear dtype error (as PyTorch), never a silent float64 run."""

import numpy as np
import pytest

import minigrad
from minigrad import nn


@pytest.mark.parametrize("make", [lambda d: nn.Linear(3, 2, dtype=d), lambda d: nn.LayerNorm(3, dtype=d)])
def test_mixed_float_dtypes_are_an_error_naming_both(make):
    model = make(np.float32)
    with pytest.raises(TypeError, match=r"input has dtype float64 but the weight has dtype float32"):
        model(np.ones((4, 3)))
    assert model(np.ones((4, 3), np.float32)).dtype == np.float32
    assert model(minigrad.tensor(np.ones((4, 3)), dtype=np.float32)).dtype == np.float32
    assert make(np.float64)(np.ones((4, 3))).dtype == np.float64


def test_a_float32_sequential_stays_float32_end_to_end():
    minigrad.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).to(np.float32)
    loss = nn.CrossEntropyLoss()(model(np.ones((5, 3), np.float32)), np.array([0, 1, 1, 0, 1]))
    loss.backward()
    assert loss.dtype == np.float32 and all(p.grad.dtype == np.float32 for p in model.parameters())
