"""Parity with PyTorch 2.13: attention function, MultiheadAttention and TransformerEncoderLayer.

The expected values come from ``tests/fixtures/attention_torch.npz``, written by
``tests/fixtures/make_attention_fixture.py`` (run by hand; no test imports torch). Each case
names the function or module, its arguments, inputs and masks; the same state dict (loaded with
``strict=True``, so every parameter name and shape is PyTorch's) and inputs must give the same
outputs, attention weights and gradients of a random linear functional of them.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from minigrad import nn
from minigrad.nn import functional as F
from minigrad.tensor import Tensor

FIXTURE = np.load(Path(__file__).parents[1] / "fixtures" / "attention_torch.npz", allow_pickle=False)
CASES = sorted({k.split("::")[0] for k in FIXTURE.files})


def get(case: str, key: str) -> np.ndarray:
    return FIXTURE[f"{case}::{key}"]


def spec(case: str) -> dict:
    return json.loads(str(get(case, "spec")))


def run(case: str):
    """minigrad on the fixture's inputs: (inputs, module or None, outputs)."""
    s = spec(case)
    inputs = {name: Tensor(get(case, f"in::{name}"), requires_grad=True) for name in s["inputs"]}
    masks = {name: get(case, f"mask::{name}") for name in s["masks"]}
    if s["kind"] == "sdpa":
        out = F.scaled_dot_product_attention(*inputs.values(), attn_mask=masks.get("attn_mask"), **s["call"])
        return inputs, None, {"out": out}
    m = (nn.MultiheadAttention if s["kind"] == "mha" else nn.TransformerEncoderLayer)(**s["ctor"])
    prefix = f"{case}::param::"
    m.load_state_dict({k[len(prefix):]: FIXTURE[k] for k in FIXTURE.files if k.startswith(prefix)}, strict=True)
    if s["kind"] == "mha":
        out, weights = m(*inputs.values(), **masks, **s["call"])
        return inputs, m, {"out": out} | ({} if weights is None else {"weights": weights})
    return inputs, m, {"out": m(inputs["src"], **masks, **s["call"])}


def test_the_fixture_covers_what_the_issue_asks():
    specs = [spec(c) for c in CASES]
    kinds = {s["kind"] for s in specs}
    assert kinds == {"sdpa", "mha", "tel"}
    mha = [s for s in specs if s["kind"] == "mha"]
    assert any(s["call"].get("need_weights", True) for s in mha)  # the attention weights are compared
    assert any(not s["call"].get("need_weights", True) for s in mha)
    assert any("key_padding_mask" in s["masks"] for s in mha) and any("attn_mask" in s["masks"] for s in mha)
    assert any(c.endswith("unbatched") for c in CASES) and any(s["ctor"].get("batch_first") for s in specs)
    assert {s["ctor"].get("activation", "relu") for s in specs if s["kind"] == "tel"} == {"relu", "gelu"}
    assert {s["ctor"].get("norm_first", False) for s in specs if s["kind"] == "tel"} == {False, True}


@pytest.mark.parametrize("case", CASES)
def test_same_outputs_weights_and_gradients_as_pytorch(case):
    inputs, m, outs = run(case)
    expected_outs = {k.split("::w_")[1] for k in FIXTURE.files if k.startswith(f"{case}::w_")}
    assert set(outs) == expected_outs, f"{case}: minigrad returned {set(outs)}, PyTorch {expected_outs}"
    phi = None
    for name, t in outs.items():
        np.testing.assert_allclose(t.data, get(case, name), rtol=1e-10, atol=1e-12, err_msg=f"{case}: {name}")
        term = (t * Tensor(get(case, f"w_{name}"))).sum()
        phi = term if phi is None else phi + term
    phi.backward()
    params = [] if m is None else list(m.named_parameters())
    for name, t in list(inputs.items()) + params:
        np.testing.assert_allclose(t.grad, get(case, f"grad::{name}"), rtol=1e-9, atol=1e-11,
                                   err_msg=f"{case}: gradient of {name}")  # fmt: skip


@pytest.mark.parametrize("case", [c for c in CASES if spec(c)["kind"] != "sdpa"])
def test_state_dict_goes_back_to_pytorch_unchanged(case):
    """Same names, shapes and values as the PyTorch state dict the fixture holds, in PyTorch's order."""
    _, m, _ = run(case)
    prefix = f"{case}::param::"
    theirs = [k[len(prefix):] for k in FIXTURE.files if k.startswith(prefix)]
    ours = m.state_dict()
    assert sorted(ours) == sorted(theirs)
    assert [n for n, _ in m.named_parameters()] == [n for n in theirs]
    for name in theirs:
        np.testing.assert_array_equal(ours[name], FIXTURE[prefix + name])
