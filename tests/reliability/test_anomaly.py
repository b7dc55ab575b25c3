"""detect_anomaly(): the first op whose forward or backward makes NaN/inf raises, naming it and where it was made."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn

HERE = __file__


def _line_of(text: str) -> int:
    with open(HERE) as f:
        for k, line in enumerate(f, start=1):
            if text in line and "_line_of" not in line:
                return k
    raise AssertionError(text)


def test_off_by_default_and_log0_gives_inf_as_numpy():
    assert not mg.is_anomaly_enabled()
    x = mg.tensor([0.0, 1.0], requires_grad=True)
    with np.errstate(divide="ignore"):
        y = x.log()
        y.sum().backward()
    assert y.data[0] == -np.inf and x.grad[0] == np.inf and x.grad[1] == 1.0


def test_sqrt_at_zero_gives_inf_gradient_as_numpy_when_off():
    x = mg.tensor([0.0, 4.0], requires_grad=True)
    with np.errstate(divide="ignore"):
        x.sqrt().sum().backward()
    assert x.grad[0] == np.inf and x.grad[1] == 0.25


def test_forward_log0_is_caught_with_op_shapes_and_user_line():
    x = mg.tensor([[0.0, 1.0, 2.0]], requires_grad=True)
    with mg.detect_anomaly(), np.errstate(divide="ignore"):
        with pytest.raises(mg.AnomalyError) as info:
            x.log()  # ANOMALY-LOG-LINE
    msg = str(info.value)
    assert "Log (forward)" in msg and "(1, 3)" in msg and "1 inf" in msg
    assert f"{HERE}:{_line_of('ANOMALY-LOG-LINE')}" in msg
    assert "born" in msg  # its input was finite
    assert isinstance(info.value, RuntimeError)


def test_backward_sqrt0_is_caught_and_points_at_the_forward_line():
    x = mg.tensor([0.0, 4.0], requires_grad=True)
    with mg.detect_anomaly(), np.errstate(divide="ignore"):
        loss = mg.sqrt(x).sum()  # ANOMALY-SQRT-LINE
        with pytest.raises(mg.AnomalyError) as info:
            loss.backward()
    msg = str(info.value)
    assert "Sqrt (backward)" in msg and "input 0" in msg and "(2,)" in msg
    assert f"{HERE}:{_line_of('ANOMALY-SQRT-LINE')}" in msg
    assert "incoming gradient was finite" in msg


def test_first_op_is_reported_not_a_later_one():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    with mg.detect_anomaly(), np.errstate(all="ignore"):
        h = x * 1.0
        with pytest.raises(mg.AnomalyError, match=r"Div \(forward\)"):
            h / 0.0  # inf here; an exp or sum after it would also be non-finite


def test_nan_input_is_named_as_already_nonfinite():
    x = mg.tensor([np.nan, 1.0], requires_grad=True)
    with mg.detect_anomaly(), pytest.raises(mg.AnomalyError, match=r"input\(s\) \[0\] already"):
        x * 2.0


def test_site_is_user_code_even_through_layers():
    lin = nn.Linear(2, 1)
    with mg.detect_anomaly(), np.errstate(all="ignore"):
        x = mg.tensor([[np.inf, 0.0]])
        with pytest.raises(mg.AnomalyError) as info:
            lin(x)  # ANOMALY-LAYER-LINE
    assert f"{HERE}:{_line_of('ANOMALY-LAYER-LINE')}" in str(info.value)
    assert "minigrad/nn" not in str(info.value).split("created at")[1]


def test_mode_restored_after_error_and_nested_and_decorator():
    with pytest.raises(ZeroDivisionError), mg.detect_anomaly():
        assert mg.is_anomaly_enabled()
        raise ZeroDivisionError
    assert not mg.is_anomaly_enabled()

    @mg.detect_anomaly()
    def f():
        return mg.is_anomaly_enabled()

    assert f() and not mg.is_anomaly_enabled()


def test_finite_computations_pass_unchanged_in_anomaly_mode():
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    with mg.detect_anomaly():
        loss = (mg.tanh(x @ x.T) * 2.0).sum()
        loss.backward()
    g_on = x.grad.copy()
    x.grad = None
    (mg.tanh(x @ x.T) * 2.0).sum().backward()
    np.testing.assert_array_equal(g_on, x.grad)


def test_sparse_indexed_gradient_is_checked():
    x = mg.tensor([0.0, 1.0, 4.0], requires_grad=True)
    with mg.detect_anomaly(), np.errstate(divide="ignore"):
        y = mg.sqrt(x)[np.array([0, 2])].sum()
        with pytest.raises(mg.AnomalyError, match=r"Sqrt \(backward\)"):
            y.backward()
