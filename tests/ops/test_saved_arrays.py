"""Each op saves exactly the arrays its vjp reads (``Op.save``), and nothing else.

For every op in ``ALL_OPS`` (the specs of the gradient factory):

1. recorded by ``apply_op``, every saved array is read-only until backward, and writable after;
2. nothing else matters: overwriting every input array that shares no memory with a saved
   array, after forward, leaves the vjp unchanged;
3. nothing saved is unused: replacing any one saved array changes the vjp.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad import ops
from minigrad.ops.base import dense_grad
from minigrad.tensor import apply_op
from tests.ops.test_op_gradients import SPECS


def _vjp(op, g, shapes):
    return [dense_grad(v, s) for v, s in zip(op.vjp(g), shapes, strict=True)]


def _changed(a: np.ndarray, rng) -> np.ndarray:
    """A random array of the same shape and dtype (values of either sign, up to about 10)."""
    if a.dtype == bool:
        return rng.random(a.shape) < 0.5
    return (5.0 * rng.normal(size=a.shape)).astype(a.dtype)


@pytest.mark.parametrize("op_cls", ops.ALL_OPS, ids=lambda c: c.__name__)
@settings(max_examples=10)
@given(data=st.data())
def test_saved_arrays_are_locked_until_backward(op_cls, data):
    case = data.draw(SPECS[op_cls], label="case")
    tensors = [mg.Tensor(x.copy(), requires_grad=i in case.differentiable) for i, x in enumerate(case.inputs)]
    y = apply_op(case.make(), *tensors)
    saved = [a for a in y._op.saved if isinstance(a, np.ndarray)]
    assert all(not a.flags.writeable for a in saved), f"{op_cls.__name__}: a saved array is writable"
    y.backward(np.ones(y.shape))
    assert all((a.base if a.base is not None else a).flags.writeable for a in saved)


@pytest.mark.parametrize("op_cls", ops.ALL_OPS, ids=lambda c: c.__name__)
@settings(max_examples=5)
@given(data=st.data())
def test_saved_arrays_are_exactly_what_vjp_reads(op_cls, data):
    read, unread = set(), set()
    for draw in range(6):  # one draw can be degenerate (x = 0 hides a factor): take the union
        case = data.draw(SPECS[op_cls], label=f"case {draw}")
        shapes = [x.shape for x in case.inputs]
        inputs = [x.copy() for x in case.inputs]
        op = case.make()
        out = op(*inputs)
        g = np.random.default_rng(draw).uniform(0.5, 1.5, size=out.shape)
        before = _vjp(op, g, shapes)
        # nothing else matters: overwrite every input that shares no memory with a saved array
        for x in inputs:
            if not any(np.shares_memory(x, a) for a in op.saved if isinstance(a, np.ndarray)):
                x[...] = np.nan if x.dtype.kind == "f" else 0
        for b, a in zip(before, _vjp(op, g, shapes), strict=True):
            np.testing.assert_array_equal(a, b, err_msg=f"{op_cls.__name__}: vjp read an input it did not save")
        # nothing saved is unused: replacing one saved array changes the vjp
        for k, a in enumerate(op.saved):
            if not isinstance(a, np.ndarray):
                continue
            kept = op.saved
            for trial in range(4):
                rng = np.random.default_rng([draw, k, trial])
                op.saved = kept[:k] + (_changed(a, rng),) + kept[k + 1:]
                with np.errstate(all="ignore"):
                    after = _vjp(op, g, shapes)
                op.saved = kept
                changed = any(not np.array_equal(u, v, equal_nan=True) for u, v in zip(before, after, strict=True))
                (read if changed else unread).add(k)
    assert not unread - read, f"{op_cls.__name__}: saved arrays {sorted(unread - read)} are never read by vjp"
