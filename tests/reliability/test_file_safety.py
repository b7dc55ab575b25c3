"""Files lose nothing: clashing keys refused, atomic saves, headers checked before allocating.

``minigrad.save`` must never clobber the previous checkpoint (a temporary file is renamed over
it only when complete), ``minigrad.load`` must refuse a member whose header lies about its size
without allocating what the header asks for, and a cast on ``load_state_dict`` that overflows
is an error naming the key.
"""

from __future__ import annotations

import errno
import io
import os
import struct
import tracemalloc
import warnings
import zipfile

import numpy as np
import pytest
from numpy.lib import format as npy

import minigrad as mg
from minigrad import nn


def _npy_bytes(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    npy.write_array(buf, arr, allow_pickle=False)
    return buf.getvalue()


def _npy_with_header(shape, dtype, data: bytes) -> bytes:
    """A .npy member whose header declares ``shape``/``dtype`` but whose data is ``data``."""
    buf = io.BytesIO()
    npy.write_array_header_1_0(buf, {"descr": npy.dtype_to_descr(np.dtype(dtype)), "fortran_order": False,
                                     "shape": shape})  # fmt: skip
    return buf.getvalue() + data


def _zip(path, members: dict[str, bytes], compression=zipfile.ZIP_STORED) -> None:
    with zipfile.ZipFile(path, "w", compression) as z:
        for name, content in members.items():
            z.writestr(name, content)


# ----- clashing keys -------------------------------------------------------------------------
def test_keys_that_clash_inside_the_archive_are_refused(tmp_path):
    path = tmp_path / "ckpt.npz"
    with pytest.raises(ValueError, match=r"'w' and 'w\.npy' would clash"):
        mg.save({"w.npy": np.zeros(2), "w": np.ones(3)}, path)
    assert not path.exists()
    # NumPy's own reader is why: it returns member "w.npy" (key "w") for key "w.npy" too
    buf = io.BytesIO()
    np.savez(buf, **{"w.npy": np.zeros(2), "w": np.ones(3)})
    buf.seek(0)
    with np.load(buf) as f:
        assert f["w.npy"].shape == (3,)


def test_a_key_ending_in_npy_alone_round_trips(tmp_path):
    mg.save({"w.npy": np.arange(3.0)}, tmp_path / "a.npz")
    out = mg.load(tmp_path / "a.npz")
    assert list(out) == ["w.npy"] and out["w.npy"].tolist() == [0.0, 1.0, 2.0]


# ----- atomic save ---------------------------------------------------------------------------
def _half_write_then_fail(f, **arrays):
    f.write(b"PK\x03\x04 half a zip")
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize("where", ["writer", "fsync", "rename"])
def test_a_save_that_fails_part_way_leaves_the_old_checkpoint(tmp_path, monkeypatch, where):
    path = tmp_path / "model.npz"
    mg.save({"w": np.arange(4.0)}, path)
    before = path.read_bytes()
    if where == "writer":
        monkeypatch.setattr(np, "savez", _half_write_then_fail)
    elif where == "fsync":
        monkeypatch.setattr(os, "fsync", lambda fd: (_ for _ in ()).throw(OSError(errno.EIO, "I/O error")))
    else:
        monkeypatch.setattr(os, "replace", lambda a, b: (_ for _ in ()).throw(OSError(errno.EXDEV, "rename")))
    with pytest.raises(OSError):
        mg.save({"w": np.zeros(1000)}, path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert mg.load(path)["w"].tolist() == [0.0, 1.0, 2.0, 3.0]
    assert sorted(os.listdir(tmp_path)) == ["model.npz"]  # no temporary file left behind


def test_an_interrupt_during_save_leaves_the_old_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    mg.save({"w": np.arange(4.0)}, path)
    before = path.read_bytes()

    def interrupted(f, **arrays):
        f.write(b"PK")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", interrupted)
    with pytest.raises(KeyboardInterrupt):
        mg.save({"w": np.zeros(3)}, path)
    assert path.read_bytes() == before and sorted(os.listdir(tmp_path)) == ["model.npz"]


def test_a_successful_save_replaces_the_file_and_keeps_normal_permissions(tmp_path):
    path = tmp_path / "model.npz"
    path.write_bytes(b"old")
    mg.save({"w": np.ones(2)}, path)
    assert mg.load(path)["w"].tolist() == [1.0, 1.0]
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask  # like open(path, "wb"), not 0o600
    assert sorted(os.listdir(tmp_path)) == ["model.npz"]


# ----- headers checked before allocating -----------------------------------------------------
def test_a_header_declaring_a_huge_array_is_refused_without_allocating(tmp_path):
    path = tmp_path / "huge.npz"
    _zip(path, {"w.npy": _npy_with_header((10**12,), np.float64, b"\x00" * 16)})  # 8 TB declared
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"huge\.npz.*'w\.npy'.*declares shape \(1000000000000,\)"):
            mg.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10 * 2**20


@pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_a_header_declaring_less_or_more_than_the_data_is_refused(tmp_path, compression):
    path = tmp_path / "bad.npz"
    for shape in [(3,), (1,)]:  # the data is 2 float64
        _zip(path, {"w.npy": _npy_with_header(shape, np.float64, struct.pack("<2d", 1.0, 2.0))}, compression)
        with pytest.raises(ValueError, match=r"declares shape"):
            mg.load(path)


def test_members_that_are_not_numeric_npy_arrays_are_refused(tmp_path):
    cases = {
        "text member": {"w.npy": _npy_bytes(np.ones(2)), "notes.txt": b"hello"},
        "bad magic": {"w.npy": b"this is not an npy file at all"},
        "complex": {"w.npy": _npy_bytes(np.ones(2, dtype=np.complex128))},
        "strings": {"w.npy": _npy_bytes(np.array(["a", "b"]))},
        "twice": {"w.npy": _npy_bytes(np.ones(2))},
    }
    for label, members in cases.items():
        path = tmp_path / f"{label.replace(' ', '_')}.npz"
        _zip(path, members)
        if label == "twice":
            with pytest.warns(UserWarning, match="Duplicate name"), zipfile.ZipFile(path, "a") as z:
                z.writestr("w.npy", _npy_bytes(np.zeros(2)))
        with pytest.raises(ValueError, match="not a valid state-dict file"):
            mg.load(path)


def test_corrupted_member_data_is_refused(tmp_path):
    path = tmp_path / "c.npz"
    mg.save({"w": np.arange(64.0)}, path)
    raw = bytearray(path.read_bytes())
    raw[200] ^= 0xFF  # inside the array's data: the zip's CRC no longer matches
    path.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="c.npz.*not a valid"):
        mg.load(path)


def test_files_written_by_numpy_load_bit_for_bit(tmp_path):
    """Compressed archives, Fortran order and big-endian arrays are still read as NumPy reads them."""
    a = np.asfortranarray(np.arange(12.0).reshape(3, 4))
    b = np.arange(5, dtype=">f4")
    c = np.array(3.5)
    e = np.zeros((0, 3), dtype=np.float32)
    path = tmp_path / "np.npz"
    np.savez_compressed(path, a=a, b=b, c=c, e=e)
    out = mg.load(path)
    assert list(out) == ["a", "b", "c", "e"]
    with np.load(path) as ref:
        for k in out:
            assert out[k].dtype == ref[k].dtype and out[k].shape == ref[k].shape
            assert out[k].tobytes(order="A") == ref[k].tobytes(order="A"), k
            assert out[k].flags.f_contiguous == ref[k].flags.f_contiguous


# ----- casting on load_state_dict ------------------------------------------------------------
def test_a_cast_that_overflows_names_the_key_and_loads_nothing():
    net = nn.Linear(2, 2, dtype=np.float32)
    before = net.state_dict()
    sd = {"weight": np.full((2, 2), 1e300), "bias": np.zeros(2)}
    with pytest.raises(ValueError, match=r"weight: values of dtype float64 overflow .*float32"):
        net.load_state_dict(sd)
    assert all(np.array_equal(before[k], v) for k, v in net.state_dict().items())


def test_casts_that_do_not_overflow_load_without_warnings():
    net = nn.Linear(2, 2, dtype=np.float32)
    big = float(np.finfo(np.float32).max)
    w = np.array([[np.inf, -np.inf], [np.nan, -big]])  # inf and NaN are values, not overflows
    with np.errstate(all="raise", under="ignore"), warnings.catch_warnings():  # NumPy's default for under
        warnings.simplefilter("error")
        net.load_state_dict({"weight": w, "bias": np.array([1e-300, 2.0])})  # 1e-300 becomes 0
    np.testing.assert_array_equal(net.weight.data, w.astype(np.float32))
    assert net.bias.data.tolist() == [0.0, 2.0]


def test_a_ragged_value_in_load_state_dict_names_the_key():
    net = nn.Linear(2, 2)
    with pytest.raises(ValueError, match=r"weight: expected a numeric array"):
        net.load_state_dict({"weight": [[1.0, 2.0], [3.0]], "bias": [0.0, 0.0]})
