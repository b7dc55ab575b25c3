"""Grad mode and anomaly mode are per thread; leaf gradients from two threads add up; constants.

PyTorch's grad mode is thread-local: a ``no_grad()`` in one thread must neither stop another
thread's graph nor, when the blocks of two threads interleave, leave recording off.
"""

from __future__ import annotations

import threading

import numpy as np

import minigrad as mg


def _in_thread(fn):
    result, errors = [], []

    def run():
        try:
            result.append(fn())
        except BaseException as e:  # noqa: BLE001 - reported to the test thread
            errors.append(e)

    t = threading.Thread(target=run)
    t.start()
    return t, result, errors


def test_no_grad_in_one_thread_does_not_stop_another_threads_graph():
    entered, built = threading.Event(), threading.Event()

    def other():
        with mg.no_grad():
            entered.set()
            built.wait(5)
            return mg.is_grad_enabled()

    t, result, errors = _in_thread(other)
    entered.wait(5)
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3.0  # the other thread is inside no_grad right now
    built.set()
    t.join(5)
    assert not errors and result == [False]
    assert y.requires_grad and y._op is not None
    assert mg.is_grad_enabled()


def test_interleaved_blocks_in_two_threads_restore_each_threads_mode():
    # A enters, B enters, A exits, B exits: with one global flag, A's exit would switch
    # recording back on inside B's block, and B's exit would leave it off for everyone.
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    seen = {}

    def a():
        with mg.no_grad():
            a_in.set()
            b_in.wait(5)
        a_out.set()
        seen["a_after"] = mg.is_grad_enabled()

    def b():
        a_in.wait(5)
        with mg.no_grad():
            b_in.set()
            a_out.wait(5)
            seen["b_inside_after_a_left"] = mg.is_grad_enabled()
        seen["b_after"] = mg.is_grad_enabled()

    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert seen == {"a_after": True, "b_inside_after_a_left": False, "b_after": True}
    assert mg.is_grad_enabled()


def test_anomaly_mode_is_per_thread():
    entered, checked = threading.Event(), threading.Event()

    def other():
        with mg.detect_anomaly():
            entered.set()
            checked.wait(5)

    t, _, errors = _in_thread(other)
    entered.wait(5)
    assert not mg.is_anomaly_enabled()
    y = mg.tensor([-np.inf], requires_grad=True) * 1.0  # -inf: fine outside anomaly mode
    checked.set()
    t.join(5)
    assert not errors and np.isneginf(y.data[0])


def test_one_no_grad_instance_shared_by_threads():
    block = mg.no_grad()
    barrier = threading.Barrier(2)
    states = []

    def run():
        with block:
            barrier.wait(5)
            states.append(mg.is_grad_enabled())
        states.append(mg.is_grad_enabled())

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert sorted(states) == [False, False, True, True]


def test_leaf_gradients_from_two_threads_lose_no_contribution():
    w = mg.tensor(np.zeros(64), requires_grad=True)
    n = 300

    def work(scale):
        def run():
            for _ in range(n):
                (w * scale).sum().backward()

        return run

    threads = [threading.Thread(target=work(1.0)), threading.Thread(target=work(2.0))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    np.testing.assert_array_equal(w.grad, np.full(64, 3.0 * n))


def test_bare_decorators():
    @mg.no_grad
    def f(x):
        return x * 2.0

    @mg.detect_anomaly
    def g():
        return mg.is_anomaly_enabled()

    x = mg.tensor([1.0], requires_grad=True)
    assert not f(x).requires_grad
    assert g() and not mg.is_anomaly_enabled()
    assert mg.is_grad_enabled()


# ----- constants --------------------------------------------------------------------------
def test_as_tensor_never_returns_the_shared_constant():
    x = mg.tensor([1.0, 2.0])
    c = mg.as_tensor(2.0, like=x)
    assert c is not mg.as_tensor(2.0, like=x)
    c.data = np.array(100.0)  # the user's own constant: changing it changes nothing else
    np.testing.assert_array_equal((x * 2.0).data, [2.0, 4.0])
    np.testing.assert_array_equal(mg.tensor([1.0]).__mul__(2.0).data, [2.0])


def test_times_minus_zero_keeps_the_sign_as_numpy():
    x = mg.tensor([1.0, 2.0])
    assert not np.signbit((x * 0.0).data).any()
    assert np.signbit((x * -0.0).data).all()  # NumPy: 1.0 * -0.0 == -0.0
    assert not np.signbit((x * 0.0).data).any()
    assert np.signbit((x + -0.0).data).sum() == 0  # 1 + -0 = 1 either way


def test_float32_constants_stay_float32():
    x = mg.tensor(np.ones(2, dtype=np.float32))
    assert (x * 1.01).dtype == np.float32
    assert mg.as_tensor(1.01, like=x).dtype == np.float32


# ----- retain_grad accumulates, as PyTorch ---------------------------------------------------
def test_retain_grad_accumulates_across_backward_passes():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3.0
    y.retain_grad()
    loss = (y * y).sum()
    loss.backward(retain_graph=True)
    np.testing.assert_allclose(y.grad, 2 * y.data)
    loss.backward()
    np.testing.assert_allclose(y.grad, 4 * y.data)  # PyTorch: a retained .grad accumulates
    np.testing.assert_allclose(x.grad, 2 * 3 * 2 * y.data)
