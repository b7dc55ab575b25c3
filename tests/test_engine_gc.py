"""backward() pauses the cyclic garbage collector while it runs, and leaves it as it found it."""

import gc
import threading

import numpy as np
import pytest

import minigrad as mg
from minigrad.ops.base import Op
from minigrad.tensor import apply_op


def _loss():
    x = mg.tensor(np.linspace(-1.0, 1.0, 4), requires_grad=True)
    return x, (x * 2.0).tanh().sum()


class _Spy(Op):
    """y = x; its vjp records whether the collector was on when backward called it."""

    seen: list = []

    def forward(self, x):
        return x.copy()

    def vjp(self, g):
        _Spy.seen.append(gc.isenabled())
        return (g,)


def test_collector_is_off_during_backward_and_on_again_after():
    x = mg.tensor(np.ones(3), requires_grad=True)
    _Spy.seen.clear()
    assert gc.isenabled()
    apply_op(_Spy(), x).sum().backward()
    assert _Spy.seen == [False]
    assert gc.isenabled()
    np.testing.assert_array_equal(x.grad, np.ones(3))


def test_collector_left_off_when_the_user_turned_it_off():
    x, loss = _loss()
    gc.disable()
    try:
        loss.backward()
        assert not gc.isenabled()
    finally:
        gc.enable()
    np.testing.assert_allclose(x.grad, 2 * (1 - np.tanh(2 * x.data) ** 2))


def test_collector_back_on_after_a_failing_backward():
    x, loss = _loss()
    loss.backward()
    with pytest.raises(RuntimeError, match="a second time"):
        loss.backward()
    assert gc.isenabled()


def test_collector_back_on_after_two_threads_backward():
    barrier = threading.Barrier(2)
    errors = []

    def work():
        try:
            barrier.wait()
            for _ in range(50):
                _loss()[1].backward()
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert gc.isenabled()
