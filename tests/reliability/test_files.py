"""Files: loading never unpickles, bad files fail clearly, round trips are bit for bit.

Already covered in tests/nn/test_serialization.py (not repeated here): round trip of a
model's state dict (float32, float64), plain-NumPy format, missing / truncated / foreign
files, single .npy and object arrays refused, bad state dicts refused by save; and in
tests/nn/test_module.py: strict/non-strict load_state_dict leaving the model unchanged.
Added here: a pickle payload cannot run, special values and random arrays round-trip bit
for bit (Hypothesis), and a failed load from a file leaves an LSTM unchanged.
"""

from __future__ import annotations

import io
import os
import zipfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

import minigrad as mg
from minigrad import nn


class _Payload:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):  # unpickling this would create a file
        return (open, (self.path, "w"))


def test_a_pickle_payload_in_an_npz_never_runs(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.npz"
    obj = np.empty(1, dtype=object)
    obj[0] = _Payload(str(marker))
    buf = io.BytesIO()
    np.save(buf, obj, allow_pickle=True)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("weight.npy", buf.getvalue())
    with pytest.raises(ValueError, match="not a valid state-dict file"):
        mg.load(path)
    assert not marker.exists()


def test_an_npz_with_a_good_and_an_object_array_is_refused_whole(tmp_path):
    path = tmp_path / "mixed.npz"
    np.savez(path, good=np.ones(2), bad=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match=os.path.basename(str(path))):
        mg.load(path)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_special_values_round_trip_bit_for_bit(tmp_path, dtype):
    info = np.finfo(dtype)
    a = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, info.max, info.tiny, info.smallest_subnormal,
                  -info.eps], dtype=dtype)  # fmt: skip
    mg.save({"a": a}, tmp_path / "s.npz")
    b = mg.load(tmp_path / "s.npz")["a"]
    assert b.dtype == dtype and b.tobytes() == a.tobytes()


@settings(max_examples=10, deadline=None)
@given(st.data())
def test_random_arrays_round_trip_bit_for_bit(tmp_path_factory, data):
    dtype = data.draw(st.sampled_from([np.float32, np.float64, np.int64, np.bool_]))
    a = data.draw(arrays(dtype, array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)))
    path = tmp_path_factory.mktemp("rt") / "x.npz"
    mg.save({"x": a, "t": mg.tensor(a)}, path)
    out = mg.load(path)
    assert list(out) == ["x", "t"]
    assert out["x"].dtype == a.dtype and out["x"].shape == a.shape and out["x"].tobytes() == a.tobytes()


def test_failed_load_from_file_leaves_an_lstm_unchanged(tmp_path):
    mg.manual_seed(0)
    small, big = nn.LSTM(3, 4), nn.LSTM(3, 5)
    mg.save(big.state_dict(), tmp_path / "big.npz")
    before = {k: v.copy() for k, v in small.state_dict().items()}
    with pytest.raises(ValueError, match="size mismatch for weight_ih_l0"):
        small.load_state_dict(mg.load(tmp_path / "big.npz"))
    for k, v in small.state_dict().items():
        assert v.tobytes() == before[k].tobytes()


def test_float32_model_round_trip_keeps_outputs_bit_for_bit(tmp_path):
    mg.manual_seed(1)
    a = nn.LSTM(2, 3).to(np.float32)
    mg.manual_seed(2)
    b = nn.LSTM(2, 3).to(np.float32)
    mg.save(a.state_dict(), tmp_path / "a.npz")
    b.load_state_dict(mg.load(tmp_path / "a.npz"))
    x = mg.tensor(np.random.default_rng(0).standard_normal((4, 1, 2)).astype(np.float32))
    assert a(x)[0].data.tobytes() == b(x)[0].data.tobytes()
