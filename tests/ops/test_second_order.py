r"""Every op differentiated twice (create_graph=True), in float64, against central differences.

For each op in ``ALL_OPS`` (the specs of ``test_op_gradients.py``), a random upstream $g$ and
random directions $u_i$ for the differentiable inputs:

1. the recorded VJP (``Op.recorded_vjp``, Tensors) equals the plain ``vjp`` (arrays);
2. the gradient of $\varphi(x) = \sum_i \langle \mathrm{vjp}_i(x, g), u_i\rangle$ with respect to every
   input, found by differentiating the recorded VJP, equals central differences of $\varphi$
   computed with the plain ``vjp``: the op's second derivatives;
3. the gradient of $\varphi$ with respect to $g$ is $\sum_i J_i u_i$, the op's ``jvp``: the recorded
   VJP is linear in $g$ with the right matrix.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad import ops
from minigrad.ops.base import dense_grad
from minigrad.tensor import Tensor, apply_op
from minigrad.testing import arrays
from tests.ops.test_op_gradients import SPECS, Case, assert_close

EPS = 1e-5

TWICE = list(ops.ALL_OPS)  # the spectral ops too: ops/spectral_derivatives.py


def phi(case: Case, inputs: list[np.ndarray], g: np.ndarray, us: dict) -> float:
    """$\\sum_i \\langle \\mathrm{vjp}_i(x, g), u_i\\rangle$ with the plain (NumPy) vjp."""
    op = case.make()
    op(*inputs)
    op.needs_grad = tuple(i in case.differentiable for i in range(len(inputs)))
    vjps = op.vjp(g)
    return float(sum(np.sum(dense_grad(vjps[i], inputs[i].shape) * u) for i, u in us.items()))


def numerical_second(case: Case, g, us, i: int) -> np.ndarray:
    x = case.inputs[i]
    out = np.zeros(x.size)
    for j in range(x.size):
        values = []
        for step in (EPS, -EPS):
            shifted = list(case.inputs)
            shifted[i] = x.copy()
            shifted[i].flat[j] += step
            values.append(phi(case, shifted, g, us))
        out[j] = (values[0] - values[1]) / (2 * EPS)
    return out.reshape(x.shape)


@pytest.mark.parametrize("op_cls", TWICE, ids=lambda c: c.__name__)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_op_second_derivatives(op_cls, data):
    case = data.draw(SPECS[op_cls], label="case")
    name = op_cls.__name__
    out = case.make()(*case.inputs)
    g = data.draw(arrays(out.shape, min_value=-2.0, max_value=2.0), label="grad_out")
    us = {i: data.draw(arrays(case.inputs[i].shape, min_value=-1.0, max_value=1.0), label=f"u{i}")
          for i in case.differentiable}  # fmt: skip
    tensors = [Tensor(x, requires_grad=i in case.differentiable) for i, x in enumerate(case.inputs)]
    g_t = Tensor(g, requires_grad=True)
    y = apply_op(case.make(), *tensors)
    wrt = [tensors[i] for i in case.differentiable]
    first = mg.grad(y, wrt, g_t, create_graph=True, materialize_grads=True)
    # 1. the recorded VJP is the plain one
    plain = case.make()
    plain(*case.inputs)
    plain.needs_grad = tuple(t.requires_grad for t in tensors)
    for i, f in zip(case.differentiable, first):
        assert isinstance(f, Tensor), f"{name}: create_graph gave {type(f).__name__}"
        want = dense_grad(plain.vjp(g)[i], case.inputs[i].shape)
        assert_close(f.data, want, f"{name} recorded vjp[{i}]", atol=1e-10, rtol=1e-9)
    phi_t = sum((f * us[i]).sum() for i, f in zip(case.differentiable, first))
    second = mg.grad(phi_t, [*wrt, g_t], materialize_grads=True)
    # 2. second derivatives against central differences of the plain VJP
    for k, i in enumerate(case.differentiable):
        assert_close(second[k], numerical_second(case, g, us, i), f"{name} d<vjp, u>/dx{i}", atol=1e-5, rtol=1e-4)
    # 3. linear in g, with the op's own Jacobian: d<vjp(g), u>/dg = sum_i J_i u_i = jvp(u)
    tangents = [us.get(i) for i in range(len(case.inputs))]
    jvp = np.broadcast_to(plain.jvp(*tangents), out.shape)
    assert_close(second[-1], jvp, f"{name} d<vjp, u>/dg vs jvp(u)", atol=1e-9, rtol=1e-9)


@pytest.mark.parametrize("op_cls", TWICE, ids=lambda c: c.__name__)
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_op_hessian_of_a_scalar_composition_is_symmetric(op_cls, data):
    r"""$s(x) = \sum w \odot y + \tfrac12 \sum y^2$, $y = f(x)$: its Hessian over all inputs is symmetric."""
    case = data.draw(SPECS[op_cls], label="case")
    out = case.make()(*case.inputs)
    w = data.draw(arrays(out.shape, min_value=-1.0, max_value=1.0), label="w")
    diff = list(case.differentiable)

    def s(*xs):
        ins = [Tensor(x) for x in case.inputs]
        for i, x in zip(diff, xs):
            ins[i] = x
        y = apply_op(case.make(), *ins)
        return (y * w).sum() + 0.5 * (y * y).sum()

    H = mg.hessian(s, [case.inputs[i] for i in diff])
    sizes = [case.inputs[i].size for i in diff]
    flat = np.block([[np.reshape(H[a][b], (sizes[a], sizes[b])) for b in range(len(diff))] for a in range(len(diff))])
    assert_close(flat, flat.T, f"{op_cls.__name__} Hessian symmetry", atol=1e-8, rtol=1e-7)
