"""Generated programs against PyTorch: values and gradients agree in float64 (rtol 1e-9).

``tests/program_generator.py`` draws small random programs from a seed (elementwise math,
broadcasting, reductions, reshapes, ``x @ y.T``, softmax, concatenation, and indexing with ints,
negative-step slices, ``None``, ``...``, integer arrays, lists and tuples with repeated picks, and
masks). ``tests/fixtures/programs_torch.npz`` holds PyTorch 2.13's results for the first
``len(fingerprint)`` seeds (made by ``tests/fixtures/make_program_fixture.py``; no test imports
torch). This test runs the same programs in minigrad and compares the last value and the gradient
of ``sum(last * cos(arange))`` with respect to every input.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
from tests.program_generator import execute, fingerprint, input_array, loss_weights, make_program, to_numpy_index

FIXTURE = np.load(Path(__file__).parent / "fixtures" / "programs_torch.npz", allow_pickle=False)
COUNT = len(FIXTURE["fingerprint"])
CHUNKS = 8  # the programs run in 8 test cases, so a failure names a range of seeds

TABLE = {
    "neg": lambda x: -x, "tanh": mg.tanh, "sigmoid": mg.sigmoid, "relu": mg.relu, "abs": mg.abs,
    "square": lambda x: x * x, "exp_tanh": lambda x: mg.exp(mg.tanh(x)),
    "log_sq1": lambda x: mg.log(x * x + 1), "sqrt_sq1": lambda x: mg.sqrt(x * x + 1),
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "div_sq1": lambda a, b: a / (b * b + 1), "maximum": mg.maximum, "minimum": mg.minimum,
    "sum": lambda x, a, k: x.sum(axis=a, keepdims=k), "mean": lambda x, a, k: x.mean(axis=a, keepdims=k),
    "amax": lambda x, a, k: x.max(axis=a, keepdims=k), "var": lambda x, a, k: x.var(axis=a, ddof=0, keepdims=k),
    "logsumexp": lambda x, a, k: x.logsumexp(axis=a, keepdims=k),
    "reshape": lambda x, shape: x.reshape(shape), "transpose": lambda x, axes: x.transpose(axes),
    "matmul_t": lambda a, b: a @ b.T, "softmax": lambda x, axis: mg.softmax(x, axis=axis),
    "concat": lambda a, b, axis: mg.concatenate([a, b], axis=axis),
    "index": lambda x, parts: x[to_numpy_index(parts)],  # tuples stay tuples: what NumPy users write
}  # fmt: skip


def run(program: dict) -> tuple[np.ndarray, list[np.ndarray]]:
    """The program's last value and the loss's gradient for each input, in minigrad."""
    leaves = [mg.tensor(input_array(spec), requires_grad=True) for spec in program["inputs"]]
    last = execute(program, leaves, TABLE)
    grads = mg.grad((last * loss_weights(last.shape)).sum(), leaves, materialize_grads=True)  # an unused input: 0
    return last.data, list(grads)


def _offsets(sizes: list[int]) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(sizes)]).astype(int)


def _layout() -> tuple[list[dict], np.ndarray, np.ndarray]:
    programs = [make_program(seed) for seed in range(COUNT)]
    value_sizes = [int(np.prod(p["shape"])) for p in programs]
    grad_sizes = [sum(len(codes) for _, codes in p["inputs"]) for p in programs]
    return programs, _offsets(value_sizes), _offsets(grad_sizes)


PROGRAMS, VALUE_AT, GRAD_AT = _layout()


def test_the_fixture_matches_the_generator():
    """A changed generator makes other programs: regenerate the fixture (see the module docstring)."""
    assert COUNT >= 1000
    prints = np.array([fingerprint(p) for p in PROGRAMS], dtype=np.uint32)
    changed = np.flatnonzero(prints != FIXTURE["fingerprint"])
    assert not changed.size, f"programs {changed[:10].tolist()} differ from the fixture's"
    assert VALUE_AT[-1] == FIXTURE["values"].size and GRAD_AT[-1] == FIXTURE["grads"].size


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_generated_programs_match_pytorch(chunk):
    values, grads = FIXTURE["values"], FIXTURE["grads"]
    failures = []
    for seed in range(chunk, COUNT, CHUNKS):
        program = PROGRAMS[seed]
        value, gs = run(program)
        want_value = values[VALUE_AT[seed]:VALUE_AT[seed + 1]]
        want_grads = grads[GRAD_AT[seed]:GRAD_AT[seed + 1]]
        got_grads = np.concatenate([g.ravel() for g in gs])
        for what, got, want in (("value", value.ravel(), want_value), ("gradient", got_grads, want_grads)):
            if got.shape != want.shape or not np.allclose(got, want, rtol=1e-9, atol=1e-9):
                failures.append(f"seed {seed} {what}: minigrad {got}, PyTorch {want}\n  program {program}")
    assert not failures, f"{len(failures)} mismatches:\n" + "\n".join(failures[:5])
