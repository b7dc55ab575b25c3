"""Edge values (0, ±inf, NaN, ties, empty axes): each op's value and gradient follow NumPy or a documented rule.

The rules that differ from PyTorch are listed in README's "Differences from PyTorch"; each is
checked here, with NumPy warnings turned into errors (tests/conftest.py), so none leaks.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import minigrad as mg


def _value_and_grad(fn, x):
    t = mg.tensor(np.asarray(x, dtype=np.float64), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = fn(t)
        y.sum().backward()
    return y.data, t.grad


# ----- documented rules (README, Differences from PyTorch) ----------------------------------
@pytest.mark.parametrize("reduce", [mg.max, mg.min])
def test_max_and_min_share_the_gradient_among_ties(reduce):
    x = [[2.0, 2.0, 1.0, 2.0], [5.0, 5.0, 5.0, 5.0]] if reduce is mg.max else [[1.0, 1.0, 2.0, 1.0], [5.0] * 4]
    y, g = _value_and_grad(lambda t: reduce(t, axis=1), x)
    np.testing.assert_array_equal(g, [[1 / 3, 1 / 3, 0, 1 / 3], [0.25] * 4])
    _, g_all = _value_and_grad(reduce, x)  # over every axis: the ties still share exactly 1
    assert g_all.sum() == pytest.approx(1.0)


def test_logsumexp_of_an_all_minus_inf_row_is_minus_inf_with_gradient_zero():
    y, g = _value_and_grad(lambda t: mg.logsumexp(t, axis=1), [[-np.inf, -np.inf], [0.0, np.log(3.0)]])
    assert y[0] == -np.inf and y[1] == pytest.approx(np.log(4.0))
    np.testing.assert_array_equal(g[0], [0.0, 0.0])
    np.testing.assert_allclose(g[1], [0.25, 0.75])
