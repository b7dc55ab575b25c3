r"""Hessian-vector products of generated programs: against PyTorch, forward-over-reverse, and central differences.

The programs are those of ``tests/program_generator.py`` (elementwise math, broadcasting, reductions,
reshapes, ``x @ y.T``, softmax, concatenation, every kind of indexing), with the loss
$L = \sum \text{last} \odot \cos(\text{arange})$ of all inputs together.

* ``hvp`` (reverse over reverse: the gradient recorded with ``create_graph=True``, then
  differentiated again) equals PyTorch's double backward, stored in ``tests/fixtures/hvp_torch.npz``
  by ``tests/fixtures/make_hvp_fixture.py`` (no test imports torch);
* for Hypothesis-drawn programs and inputs: the Hessian from ``hessian`` (reverse over reverse)
  equals the Hessian from forward mode over reverse mode (each column is the JVP, through the
  recorded gradient's graph, of a basis vector), is symmetric, and ``hvp`` equals central differences
  of the gradient along $v$.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad.forward import push_tangents
from tests.program_generator import execute, fingerprint, hvp_direction, input_array, loss_weights, make_program
from tests.test_generated_programs import TABLE

FIXTURE = np.load(Path(__file__).parent / "fixtures" / "hvp_torch.npz", allow_pickle=False)
COUNT = len(FIXTURE["fingerprint"])
CHUNKS = 4
KINKED = {"relu", "abs", "maximum", "minimum", "amax", "index"}  # central differences need smooth steps


def loss_of(program):
    def loss(*leaves):
        last = execute(program, list(leaves), TABLE)
        return (last * loss_weights(last.shape)).sum()

    return loss


def _offsets(program_list) -> np.ndarray:
    sizes = [sum(len(codes) for _, codes in p["inputs"]) for p in program_list]
    return np.concatenate([[0], np.cumsum(sizes)]).astype(int)


PROGRAMS = [make_program(seed) for seed in range(COUNT)]
HVP_AT = _offsets(PROGRAMS)


def test_the_fixture_matches_the_generator():
    assert COUNT >= 500
    prints = np.array([fingerprint(p) for p in PROGRAMS], dtype=np.uint32)
    assert np.array_equal(prints, FIXTURE["fingerprint"]), "regenerate hvp_torch.npz (see the module docstring)"
    assert HVP_AT[-1] == FIXTURE["hvps"].size


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_hvp_of_generated_programs_matches_pytorch(chunk):
    failures = []
    for seed in range(chunk, COUNT, CHUNKS):
        program = PROGRAMS[seed]
        xs = [input_array(spec) for spec in program["inputs"]]
        vs = [hvp_direction(x.shape) for x in xs]
        _, hv = mg.hvp(loss_of(program), xs, vs)
        got = np.concatenate([np.ravel(h) for h in hv])
        want = FIXTURE["hvps"][HVP_AT[seed]:HVP_AT[seed + 1]]
        if not np.allclose(got, want, rtol=1e-9, atol=1e-10):
            failures.append(seed)
    assert not failures, f"programs whose hvp differs from PyTorch's: {failures[:20]}"


def forward_over_reverse_hessian(program, xs) -> np.ndarray:
    """Column k of H is the JVP of the recorded gradient along e_k (minigrad/forward.py)."""
    leaves = [mg.tensor(x, requires_grad=True) for x in xs]
    grads = mg.grad(loss_of(program)(*leaves), leaves, create_graph=True, materialize_grads=True)
    n = sum(x.size for x in xs)
    H = np.zeros((n, n))
    col = 0
    for leaf in leaves:
        for k in range(leaf.size):
            e = np.zeros(leaf.size)
            e[k] = 1
            found = push_tangents(list(grads), {id(leaf): e.reshape(leaf.shape)})
            H[:, col] = np.concatenate([np.ravel(np.broadcast_to(found.get(id(g), 0.0), g.shape)) for g in grads])
            col += 1
    return H


def flat_hessian(program, xs) -> np.ndarray:
    H = mg.hessian(loss_of(program), xs)  # a list of inputs: a tuple of tuples, H[i][j]
    return np.block([[np.reshape(H[i][j], (xi.size, xj.size)) for j, xj in enumerate(xs)] for i, xi in enumerate(xs)])


def flat_grad(program, xs) -> np.ndarray:
    leaves = [mg.tensor(x, requires_grad=True) for x in xs]
    gs = mg.grad(loss_of(program)(*leaves), leaves, materialize_grads=True)
    return np.concatenate([np.ravel(g) for g in gs])


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10**6), values=st.integers(0, 2**31 - 1))
def test_hessian_reverse_over_reverse_equals_forward_over_reverse(seed, values):
    program = make_program(seed)
    rng = np.random.default_rng(values)
    xs = [rng.normal(size=tuple(spec[0])) for spec in program["inputs"]]  # off the lattice: no ties, no kinks
    H = flat_hessian(program, xs)
    np.testing.assert_allclose(H, forward_over_reverse_hessian(program, xs), rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(H, H.T, rtol=1e-9, atol=1e-10)  # a Hessian is symmetric
    vs = [hvp_direction(x.shape) for x in xs]
    _, hv = mg.hvp(loss_of(program), xs, vs)
    hv = np.concatenate([np.ravel(h) for h in hv])
    np.testing.assert_allclose(hv, H @ np.concatenate([np.ravel(v) for v in vs]), rtol=1e-9, atol=1e-10)
    if not any(name in KINKED for name, _, _ in program["steps"]):
        eps = 1e-5
        plus = flat_grad(program, [x + eps * v for x, v in zip(xs, vs)])
        minus = flat_grad(program, [x - eps * v for x, v in zip(xs, vs)])
        np.testing.assert_allclose(hv, (plus - minus) / (2 * eps), rtol=1e-5, atol=1e-5)
