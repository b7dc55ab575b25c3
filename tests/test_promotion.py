"""dtype promotion follows PyTorch, checked against a committed PyTorch fixture (560 cases).

The rule (``minigrad/dtypes.py``): a tensor with axes outranks a 0-d tensor, which outranks a
number (a Python or NumPy scalar); an operand of a lower rank changes the dtype only if its
category (bool < integer < float) is higher. So a float32 tensor stays float32 next to
``np.float64(2)`` or a 0-d float64 tensor, where NumPy would give float64. The fixture is
``tests/fixtures/promotion_torch.json``, made by ``make_promotion_fixture.py`` with PyTorch's
default dtype set to float64, minigrad's.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg

_DATA = json.loads((Path(__file__).parent / "fixtures" / "promotion_torch.json").read_text())
FIXTURE, RIGHT = _DATA["cases"], _DATA["right"]  # RIGHT: operand kind -> its value, as JSON
OPS = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b, "/": lambda a, b: a / b}


def _operand(kind: str):
    value = RIGHT[kind]
    if kind[:3] in ("0d ", "1d "):
        return mg.tensor(value, dtype=kind[3:])
    if kind.startswith("np."):
        return getattr(np, kind[3:])(value)  # a NumPy scalar, e.g. np.float64(2.5)
    return value


def _left(dtype: str) -> mg.Tensor:
    if dtype == "bool":
        return mg.tensor([True, False])
    return mg.tensor([1.5, -2.0] if dtype.startswith("float") else [1, -2], dtype=dtype)


def test_the_fixture_covers_every_pairing():
    assert len({(c[0], c[1]) for c in FIXTURE}) == 70
    assert len(FIXTURE) == 70 * 4 * 2


@pytest.mark.parametrize("left", ["float32", "float64", "int32", "int64", "bool"])
def test_result_dtype_and_value_match_pytorch(left):
    mismatches = []
    for left_dtype, kind, op, swap, dtype, value in FIXTURE:
        if left_dtype != left:
            continue
        x, y = _left(left), _operand(kind)
        if dtype == "error":
            with pytest.raises(TypeError):
                OPS[op](y, x) if swap else OPS[op](x, y)
            continue
        out = OPS[op](y, x) if swap else OPS[op](x, y)
        if str(out.dtype) != dtype:
            pair = f"{kind} {op} {left}" if swap else f"{left} {op} {kind}"
            mismatches.append(f"{pair}: {out.dtype}, PyTorch {dtype}")
        else:
            np.testing.assert_allclose(out.data, value, rtol=1e-6 if dtype == "float32" else 1e-15)
    assert not mismatches, "\n".join(mismatches)


def test_gradients_keep_each_operand_dtype():
    x = mg.tensor([1.0, 2.0], dtype=np.float32, requires_grad=True)
    s = mg.tensor(3.0, requires_grad=True)  # a 0-d float64 tensor
    y = x * s
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32 and s.grad.dtype == np.float64
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])
    np.testing.assert_allclose(s.grad, 3.0)


@pytest.mark.parametrize("fn", [mg.maximum, mg.minimum, mg.add, mg.multiply])
def test_functional_forms_follow_the_same_rule(fn):
    x = mg.tensor([1.0, 2.0], dtype=np.float32)
    assert fn(x, np.float64(1.5)).dtype == np.float32
    assert fn(x, mg.tensor(1.5)).dtype == np.float32
    assert fn(np.float64(1.5), x).dtype == np.float32
