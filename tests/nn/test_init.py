"""Initializer statistics (bounds, variances, orthogonality, Haar) with tolerances that can fail."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minigrad
from minigrad import nn
from minigrad.nn import Parameter, init

OUT, IN = 200, 300  # 60,000 samples: the sample variance is within ~0.6% (1 sigma)


def _w(shape=(OUT, IN), dtype=np.float64):
    return Parameter(np.zeros(shape, dtype=dtype))


def test_uniform_and_normal():
    minigrad.manual_seed(0)
    w = init.uniform_(_w(), -2.0, 1.0)
    assert w.data.min() >= -2.0 and w.data.max() < 1.0
    assert abs(w.data.mean() + 0.5) < 5 * 3 / math.sqrt(12 * w.size)
    w = init.normal_(_w(), mean=1.0, std=0.5)
    assert abs(w.data.mean() - 1.0) < 5 * 0.5 / math.sqrt(w.size)
    assert abs(w.data.std() / 0.5 - 1) < 0.03


def test_constant_zeros_ones_fill_in_place_and_keep_dtype():
    w = _w((2, 3), np.float32)
    buffer = w.data
    assert init.constant_(w, 0.25) is w and w.data is buffer
    assert w.dtype == np.float32 and np.all(w.data == 0.25)
    assert np.all(init.ones_(w).data == 1) and np.all(init.zeros_(w).data == 0)


def test_fans_follow_pytorch():
    assert init._calculate_fan_in_and_fan_out(_w((4, 3))) == (3, 4)
    assert init._calculate_fan_in_and_fan_out(_w((8, 2, 5))) == (10, 40)
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(_w((5,)))


def test_calculate_gain():
    assert init.calculate_gain("linear") == 1 and init.calculate_gain("sigmoid") == 1
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01**2)))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match="unsupported nonlinearity"):
        init.calculate_gain("swish")


def _check_uniform(w, bound):
    assert np.abs(w.data).max() <= bound
    assert np.abs(w.data).max() > 0.99 * bound  # the whole interval is used
    # Var U(-a, a) = a^2/3; the sample variance of 60,000 draws is within 0.4% (1 sigma)
    assert abs(w.data.var() / (bound**2 / 3) - 1) < 0.02


def _check_normal(w, std):
    assert abs(w.data.mean()) < 5 * std / math.sqrt(w.size)
    assert abs(w.data.std() / std - 1) < 0.02  # 1 sigma is 0.3%


def test_xavier():
    minigrad.manual_seed(1)
    _check_uniform(init.xavier_uniform_(_w()), math.sqrt(6 / (IN + OUT)))
    _check_uniform(init.xavier_uniform_(_w(), gain=2.0), 2 * math.sqrt(6 / (IN + OUT)))
    _check_normal(init.xavier_normal_(_w()), math.sqrt(2 / (IN + OUT)))
    w3 = init.xavier_uniform_(_w((50, 40, 30)))  # fans 1200 and 1500
    _check_uniform(w3, math.sqrt(6 / 2700))


def test_kaiming():
    minigrad.manual_seed(2)
    _check_uniform(init.kaiming_uniform_(_w(), nonlinearity="relu"), math.sqrt(6 / IN))
    _check_uniform(
        init.kaiming_uniform_(_w(), mode="fan_out", nonlinearity="relu"), math.sqrt(6 / OUT)
    )
    _check_uniform(init.kaiming_uniform_(_w(), a=math.sqrt(5)), 1 / math.sqrt(IN))
    _check_normal(init.kaiming_normal_(_w(), nonlinearity="relu"), math.sqrt(2 / IN))
    _check_normal(
        init.kaiming_normal_(_w(), mode="fan_out", nonlinearity="tanh"), (5 / 3) / math.sqrt(OUT)
    )
    with pytest.raises(ValueError, match="fan_in"):
        init.kaiming_normal_(_w(), mode="fan")


def test_linear_default_init_is_pytorchs():
    minigrad.manual_seed(3)
    layer = nn.Linear(IN, OUT)
    _check_uniform(layer.weight, 1 / math.sqrt(IN))
    assert np.abs(layer.bias.data).max() <= 1 / math.sqrt(IN)
    assert np.abs(layer.bias.data).max() > 0.9 / math.sqrt(IN)


@pytest.mark.parametrize("shape", [(6, 6), (7, 3), (3, 7), (4, 2, 3)])
def test_orthogonal_rows_or_columns_are_orthonormal(shape):
    minigrad.manual_seed(4)
    w = init.orthogonal_(_w(shape), gain=1.5).data.reshape(shape[0], -1)
    small = min(w.shape)
    gram = w.T @ w if w.shape[0] >= w.shape[1] else w @ w.T
    np.testing.assert_allclose(gram, 2.25 * np.eye(small), atol=1e-12)


def test_orthogonal_samples_the_haar_measure():
    # Under Haar measure on O(3) every entry has mean 0 and E[Q_ij^2] = 1/3. Without the
    # sign fix, Householder QR makes Q_11 = -|g_11|/|g_1| <= 0: a mean near -0.5.
    minigrad.manual_seed(5)
    qs = np.array([init.orthogonal_(_w((3, 3))).data for _ in range(2000)])
    sd_of_mean = math.sqrt(1 / 3 / 2000)
    assert np.all(np.abs(qs.mean(axis=0)) < 5 * sd_of_mean)
    np.testing.assert_allclose((qs**2).mean(axis=0), np.full((3, 3), 1 / 3), atol=0.05)
    assert np.abs(np.linalg.det(qs)).min() == pytest.approx(1.0)


def test_manual_seed_makes_initialisation_reproducible():
    minigrad.manual_seed(11)
    a = nn.Linear(4, 3).state_dict()
    minigrad.manual_seed(11)
    b = nn.Linear(4, 3).state_dict()
    c = nn.Linear(4, 3).state_dict()
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["weight"], c["weight"])
    with pytest.raises(ValueError, match="non-negative integer"):
        minigrad.manual_seed(-1)


def test_initializers_reject_non_tensors():
    with pytest.raises(TypeError, match="minigrad Tensor"):
        init.normal_(np.zeros((2, 2)))
