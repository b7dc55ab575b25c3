"""Forward mode of the fused recurrent step ops: jvp(t) == J t (closed form and central differences),
and <g, J t> == <J^T g, t> against their vjp; the layer's sequence variants and StepOutputs too."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from minigrad.ops.base import dense_grad
from minigrad.ops.recurrent_sequence import StepOutputs
from tests.nn.test_fused_ops import KINDS, away_from_relu_kink, draw_inputs
from tests.nn.test_sequence_steps import make_op, whole_projection

EPS = 1e-6


def check_jvp(make, inputs, tangents, g):
    op = make()
    out = op(*inputs)
    jt = np.asarray(op.jvp(*tangents))
    assert jt.shape == out.shape
    # J t from the dense Jacobians (block-diagonal closed forms for xp and s_t, vjp rows for W, b)
    expected = sum(op.jacobian(i) @ t.ravel() for i, t in enumerate(tangents) if t is not None)
    np.testing.assert_allclose(jt.ravel(), expected, rtol=1e-10, atol=1e-11)
    # central differences along t (a fresh op per call: the op keeps what it saved)
    moved = [[x if t is None else x + s * t for x, t in zip(inputs, tangents, strict=True)] for s in (EPS, -EPS)]
    numeric = (make()(*moved[0]) - make()(*moved[1])) / (2 * EPS)
    np.testing.assert_allclose(jt, numeric, rtol=1e-5, atol=1e-7)
    # adjoint identity with vjp
    vjps = op.vjp(g)
    right = sum(np.sum(dense_grad(v, x.shape) * t) for v, x, t in zip(vjps, inputs, tangents, strict=True)
                if t is not None)  # fmt: skip
    assert abs(np.sum(g * jt) - right) <= 1e-10 * (1 + abs(right))


def draw_tangents(data, inputs):
    given_t = [data.draw(st.booleans(), label=f"tangent {i}?") for i in range(len(inputs))]
    given_t[data.draw(st.integers(0, len(inputs) - 1), label="one input surely")] = True
    rng = np.random.default_rng(data.draw(st.integers(0, 2**31 - 1), label="tangent seed"))
    return [rng.normal(size=x.shape) if k else None for x, k in zip(inputs, given_t, strict=True)]


@pytest.mark.parametrize("kind", KINDS)
@given(N=st.integers(1, 2), H=st.integers(1, 3), seed=st.integers(0, 2**31 - 1), bias=st.booleans(),
       data=st.data())  # fmt: skip
def test_step_jvp(kind, N, H, seed, bias, data):
    inputs = draw_inputs(kind, N, H, seed, bias, scale=0.7)
    assume(away_from_relu_kink(kind, inputs))
    tangents = draw_tangents(data, inputs)
    g = np.random.default_rng(seed + 3).normal(size=inputs[1].shape)
    check_jvp(lambda: make_op(kind), inputs, tangents, g)


@pytest.mark.parametrize("kind", KINDS)
@given(T=st.integers(1, 3), seed=st.integers(0, 2**31 - 1), bias=st.booleans(), data=st.data())
def test_sequence_step_jvp(kind, T, seed, bias, data):
    t = data.draw(st.integers(0, T - 1), label="t")
    inputs = draw_inputs(kind, 2, 2, seed, bias, scale=0.7)
    assume(away_from_relu_kink(kind, inputs))
    inputs[0] = whole_projection(kind, T, t, inputs, seed)
    tangents = draw_tangents(data, inputs)
    g = np.random.default_rng(seed + 3).normal(size=inputs[1].shape)
    check_jvp(lambda: make_op(kind, t=t), inputs, tangents, g)


@given(T=st.integers(1, 3), S=st.integers(2, 4), half=st.booleans(), data=st.data())
def test_step_outputs_jvp(T, S, half, data):
    cols = slice(0, S // 2) if half else slice(None)
    rng = np.random.default_rng(T * 10 + S)
    states = [rng.normal(size=(2, S)) for _ in range(T)]
    tangents = draw_tangents(data, states)

    def make():
        buffer = np.empty((T, 2, S))
        return StepOutputs(buffer, list(buffer), cols)

    g = rng.normal(size=(T, 2, S))[:, :, cols]
    check_jvp(make, states, tangents, g)
