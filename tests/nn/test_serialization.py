"""minigrad.save / minigrad.load: bit-for-bit round trips, no pickle, clear errors."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad
from minigrad import nn


def _model(dtype):
    minigrad.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.LayerNorm(5), nn.Linear(5, 2)).to(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_state_dict_round_trip_is_bit_for_bit(tmp_path, dtype):
    src = _model(dtype)
    path = tmp_path / "model.ckpt"
    minigrad.save(src.state_dict(), path)
    assert path.exists() and not (tmp_path / "model.ckpt.npz").exists()  # the exact path
    loaded = minigrad.load(path)
    assert list(loaded) == list(src.state_dict())
    for name, arr in src.state_dict().items():
        assert loaded[name].dtype == dtype and loaded[name].shape == arr.shape
        assert loaded[name].tobytes() == arr.tobytes(), name
    minigrad.manual_seed(1)  # a differently initialised model of the same architecture
    dst = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.LayerNorm(5), nn.Linear(5, 2)).to(dtype)
    assert not np.array_equal(dst[0].weight.data, src[0].weight.data)
    dst.load_state_dict(loaded)
    x = np.random.default_rng(2).normal(size=(4, 3)).astype(dtype)
    assert dst(x).data.tobytes() == src(x).data.tobytes()


def test_file_is_plain_numpy(tmp_path):
    path = tmp_path / "w.npz"
    minigrad.save({"a.weight": minigrad.tensor([[1.0, 2.0]]), "b": np.arange(3)}, path)
    with np.load(path, allow_pickle=False) as f:
        assert f.files == ["a.weight", "b"]
        np.testing.assert_array_equal(f["b"], np.arange(3))


def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.npz"):
        minigrad.load(tmp_path / "nope.npz")


def test_truncated_file_is_a_clear_error(tmp_path):
    path = tmp_path / "m.npz"
    minigrad.save(_model(np.float64).state_dict(), path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="m.npz.*not a valid state-dict file"):
        minigrad.load(path)


@pytest.mark.parametrize(
    "content", [b"hello, this is not a checkpoint", b"", b"\x80\x04\x95 pickled"], ids=str
)
def test_foreign_file_is_a_clear_error(tmp_path, content):
    path = tmp_path / "foreign.bin"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="foreign.bin"):
        minigrad.load(path)


def test_single_npy_array_and_object_arrays_are_refused(tmp_path):
    path = tmp_path / "one.npy"
    np.save(path, np.arange(3))
    with pytest.raises(ValueError, match="single array"):
        minigrad.load(path)
    obj = tmp_path / "obj.npz"
    np.savez(obj, a=np.array([{"x": 1}], dtype=object))  # would need pickle to load
    with pytest.raises(ValueError, match="obj.npz"):
        minigrad.load(obj)


def test_save_rejects_bad_state_dicts(tmp_path):
    with pytest.raises(TypeError, match="dict"):
        minigrad.save([np.zeros(2)], tmp_path / "x")
    with pytest.raises(TypeError, match="numeric"):
        minigrad.save({"a": np.array(["s"])}, tmp_path / "x")
    with pytest.raises(ValueError, match="keys"):
        minigrad.save({1: np.zeros(2)}, tmp_path / "x")
