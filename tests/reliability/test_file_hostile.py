"""Hostile and damaged files: memory bounded by the bytes in the file, every flip a ValueError.

``minigrad.load`` decompresses each member itself, at most 1 MiB per step, and refuses a member
that would expand more than deflate can (1032x); ``save`` refuses keys that would not come back,
keeps a checkpoint's mode and symlink, handles 255-character names and cleans up after a killed
save. The bomb fixtures are written by ``tests/fixtures/make_bomb_npz.py``.
"""

from __future__ import annotations

import bz2
import io
import os
import pathlib
import random
import signal
import stat
import struct
import subprocess
import sys
import time
import tracemalloc
import zipfile

import numpy as np
import pytest
from numpy.lib import format as npy

import minigrad as mg
from minigrad import nn

FIXTURES = pathlib.Path(__file__).parent.parent / "fixtures"
COMPRESSIONS = [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA]


def _peak_of(fn) -> int:
    """Traced peak (NumPy's allocations are traced too) while ``fn`` runs."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _recompress(src, dst, method) -> None:
    with zipfile.ZipFile(src) as z, zipfile.ZipFile(dst, "w", method) as out:
        for info in z.infolist():
            out.writestr(info.filename, z.read(info))


def _checkpoint(path, method=zipfile.ZIP_STORED) -> dict:
    mg.manual_seed(0)
    state = {**nn.Linear(3, 2).state_dict(), "steps": np.arange(5, dtype=np.int64)}
    mg.save(state, path)
    if method != zipfile.ZIP_STORED:
        _recompress(path, str(path) + ".tmpzip", method)
        os.replace(str(path) + ".tmpzip", path)
    return mg.load(path)


# ----- memory follows the bytes in the file --------------------------------------------------
@pytest.mark.parametrize("fixture, declared", [("bomb_bzip2.npz", 1 << 30), ("bomb_lzma.npz", 1 << 26)])
def test_a_small_file_declaring_a_huge_array_is_refused_with_little_memory(fixture, declared):
    path = FIXTURES / fixture
    assert path.stat().st_size < 16_000 and zipfile.ZipFile(path).infolist()[0].file_size > declared

    def load():
        message = rf"{fixture}.*'w\.npy' declares {declared + 128} bytes from .* more than 1032x"
        with pytest.raises(ValueError, match=message):
            mg.load(path)

    assert _peak_of(load) < 4 * 2**20  # it was 2.1 GB for the bzip2 file (zipfile inflates in one piece)


def _with_member_data(members: dict, name: str, method: int, data: bytes) -> bytes:
    """A stored zip of ``members`` whose member ``name`` then claims ``method`` and holds ``data``."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for key, content in members.items():
            z.writestr(key, data if key == name else content)
    raw = bytearray(buf.getvalue())
    for signature, method_at in [(b"PK\x03\x04", 8), (b"PK\x01\x02", 10)]:  # local and central headers
        at = raw.find(signature)
        while at >= 0:
            if raw[at:].split(signature, 1)[1][:60].find(name.encode()) >= 0:
                struct.pack_into("<H", raw, at + method_at, method)
            at = raw.find(signature, at + 1)
    return bytes(raw)


def test_a_stream_that_expands_past_its_headers_stops_within_one_step(tmp_path):
    """Header and directory both say 16 bytes; the bzip2 stream holds 32 MiB."""
    header = io.BytesIO()
    npy.write_array_header_1_0(header, {"descr": "|u1", "fortran_order": False, "shape": (16,)})
    honest = header.getvalue() + bytes(16)
    bomb = bz2.compress(header.getvalue() + bytes(32 << 20))
    raw = bytearray(_with_member_data({"w.npy": honest}, "w.npy", zipfile.ZIP_BZIP2, bomb))
    for at in [raw.find(b"PK\x03\x04") + 22, raw.find(b"PK\x01\x02") + 24]:  # uncompressed sizes
        struct.pack_into("<L", raw, at, len(honest))
    path = tmp_path / "liar.npz"
    path.write_bytes(bytes(raw))

    def load():
        with pytest.raises(ValueError, match=r"liar\.npz.*'w\.npy' holds more than the 144 bytes"):
            mg.load(path)

    assert _peak_of(load) < 6 * 2**20


@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])  # what np.savez writes
def test_an_honest_member_costs_its_array_plus_a_bounded_overhead(tmp_path, method):
    """16 MiB of float64: the peak is the array plus a 1 MiB step (it was 21.8 MB: a growing bytearray)."""
    path = tmp_path / "big.npz"
    mg.save({"w": np.random.default_rng(0).random(2**21)}, path)
    _recompress(path, tmp_path / "r.npz", method)
    peak = _peak_of(lambda: mg.load(tmp_path / "r.npz"))
    assert peak < 16 * 2**20 + 3 * 2**20


# ----- damaged files -------------------------------------------------------------------------
@pytest.mark.parametrize("method", COMPRESSIONS)
def test_every_single_byte_flip_is_refused_or_harmless(tmp_path, method):
    """Bytes of a real checkpoint XORed with a seeded random value (every byte of the plain file,
    300 of each compressed one): a ValueError naming the file, or (a flip in a field nothing
    reads) exactly the saved keys, values and dtypes."""
    saved = _checkpoint(tmp_path / "model.npz", method)
    good = (tmp_path / "model.npz").read_bytes()
    rng = random.Random(method)
    path = tmp_path / "flipped.npz"
    places = range(len(good)) if method == zipfile.ZIP_STORED else rng.sample(range(len(good)), 300)
    for at in places:
        damaged = bytearray(good)
        damaged[at] ^= rng.randrange(1, 256)
        path.write_bytes(bytes(damaged))
        try:
            out = mg.load(path)
        except ValueError as e:
            assert "flipped.npz" in str(e), (at, e)
            continue
        assert list(out) == list(saved), f"byte {at}: keys {list(out)}"
        for key, value in saved.items():
            assert out[key].dtype == value.dtype and np.array_equal(out[key], value), (at, key)


def test_a_member_count_that_disagrees_with_the_directory_is_refused(tmp_path):
    _checkpoint(tmp_path / "model.npz")
    raw = bytearray((tmp_path / "model.npz").read_bytes())
    end = raw.rfind(b"PK\x05\x06")
    assert struct.unpack_from("<H", raw, end + 10)[0] == 3
    for count in (2, 4):
        struct.pack_into("<HH", raw, end + 8, count, count)
        (tmp_path / "count.npz").write_bytes(bytes(raw))
        with pytest.raises(ValueError, match=rf"count\.npz.*lists 3 members but its end record says {count}"):
            mg.load(tmp_path / "count.npz")


@pytest.mark.parametrize("method, flag, message", [(99, 0, "compression method 99"), (0, 1, "encrypted")])
def test_unknown_compression_and_encryption_are_value_errors(tmp_path, method, flag, message):
    raw = bytearray(_with_member_data({"w.npy": b"x" * 40}, "w.npy", method, b"x" * 40))
    for signature, flags_at in [(b"PK\x03\x04", 6), (b"PK\x01\x02", 8)]:
        struct.pack_into("<H", raw, raw.find(signature) + flags_at, flag)
    (tmp_path / "odd.npz").write_bytes(bytes(raw))
    with pytest.raises(ValueError, match=rf"odd\.npz.*{message}"):
        mg.load(tmp_path / "odd.npz")


@pytest.mark.parametrize("method", COMPRESSIONS)
def test_every_compression_zip_can_meet_round_trips(tmp_path, method):
    path = tmp_path / "c.npz"
    arrays = {"w": np.arange(12.0).reshape(3, 4), "e": np.zeros((0, 2), np.float32)}
    arrays["big"] = np.random.default_rng(0).random(30_000)
    mg.save(arrays, path)
    _recompress(path, tmp_path / "r.npz", method)
    out = mg.load(tmp_path / "r.npz")
    assert list(out) == list(arrays)
    assert all(np.array_equal(out[k], v) and out[k].dtype == v.dtype for k, v in arrays.items())


# ----- saving --------------------------------------------------------------------------------
@pytest.mark.parametrize("key", ["a\x00b", "\ud800", "w/x"])
def test_a_key_that_cannot_round_trip_is_refused_and_nothing_is_written(tmp_path, key):
    path = tmp_path / "model.npz"
    mg.save({"w": np.ones(2)}, path)
    before = path.read_bytes()
    with pytest.raises(ValueError, match=r"save: key .* cannot be stored.*nothing was written"):
        mg.save({"w": np.zeros(2), key: np.zeros(1)}, path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["model.npz"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX modes and symlinks")
def test_saving_over_a_checkpoint_keeps_its_mode_and_its_symlink(tmp_path):
    target = tmp_path / "real.npz"
    mg.save({"w": np.ones(2)}, target)
    os.chmod(target, 0o600)
    link = tmp_path / "latest.npz"
    link.symlink_to(target.name)
    mg.save({"w": np.full(2, 7.0)}, link)
    assert link.is_symlink() and os.readlink(link) == "real.npz"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert mg.load(target)["w"].tolist() == [7.0, 7.0]
    assert sorted(os.listdir(tmp_path)) == ["latest.npz", "real.npz"]


def test_saving_over_a_file_we_may_not_write_is_refused_as_open_would(tmp_path, monkeypatch):
    """os.replace needs only the folder's permission; a read-only checkpoint must stay (as open(path, "wb"))."""
    path = tmp_path / "frozen.npz"
    mg.save({"w": np.ones(2)}, path)
    monkeypatch.setattr(os, "access", lambda p, mode: False)  # as a non-root user sees a 0444 file
    with pytest.raises(PermissionError, match="not writable"):
        mg.save({"w": np.zeros(2)}, path)
    monkeypatch.undo()
    assert mg.load(path)["w"].tolist() == [1.0, 1.0] and os.listdir(tmp_path) == ["frozen.npz"]


@pytest.mark.parametrize("length", [238, 250, 255])
def test_names_up_to_the_file_system_limit_work(tmp_path, length):
    path = tmp_path / ("m" * (length - 4) + ".npz")
    mg.save({"w": np.arange(3.0)}, path)
    mg.save({"w": np.arange(4.0)}, path)  # over an existing file too
    assert mg.load(path)["w"].tolist() == [0.0, 1.0, 2.0, 3.0]
    assert os.listdir(tmp_path) == [path.name]


_SLOW_SAVE = """
import sys, time, numpy as np, minigrad as mg
def stuck(f, **arrays):
    f.write(b"PK half a file")
    f.flush()
    time.sleep(60)
np.savez = stuck
mg.save({"w": np.zeros(3)}, sys.argv[1])
"""


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL")
def test_the_temporary_file_of_a_killed_save_is_removed_by_the_next_save(tmp_path):
    path = tmp_path / "model.npz"
    mg.save({"w": np.ones(2)}, path)
    child = subprocess.Popen([sys.executable, "-c", _SLOW_SAVE, str(path)])
    try:
        for _ in range(600):  # wait (at most a minute) for the child's temporary file
            if len(os.listdir(tmp_path)) == 2:
                break
            time.sleep(0.1)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    left = sorted(set(os.listdir(tmp_path)) - {"model.npz"})
    assert len(left) == 1 and left[0].endswith(".tmp"), left
    assert mg.load(path)["w"].tolist() == [1.0, 1.0]  # the killed save did not touch it
    mg.save({"w": np.zeros(2)}, path)
    assert os.listdir(tmp_path) == ["model.npz"]


def test_a_save_in_progress_in_this_process_is_not_cleaned_up(tmp_path, monkeypatch):
    """Another thread's temporary file (a live process id) is left alone."""
    path = tmp_path / "model.npz"
    live = tmp_path / f".model.npz.{os.getpid()}.0123abcd.tmp"
    live.write_bytes(b"PK in progress")
    mg.save({"w": np.ones(2)}, path)
    assert live.exists()
