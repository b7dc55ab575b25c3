"""``minigrad.save`` / ``minigrad.load``: a state dict as a NumPy ``.npz`` file, never a pickle.

A state dict (``{name: array}``) is written with ``np.savez`` to exactly the path given
(no ``.npz`` is appended) and read back without pickle, so loading a file cannot run code.
The file is an ordinary zip of ``.npy`` arrays: NumPy alone reads it, and
``torch.from_numpy`` turns each array into a PyTorch tensor with the same name.

Nothing is lost on the way:

* ``save`` refuses a key that would not come back unchanged before writing anything, then writes
  a temporary file next to the real file (through a symlink, keeping the old file's mode) and
  renames it over the file only once it is complete and flushed to disk, so a failure part-way
  (disk full, an interrupt) leaves the previous checkpoint as it was.
* ``load`` reads each member's ``.npy`` header before its data and refuses a member whose
  header declares more (or less) data than the member holds, or more than the member's
  compressed bytes can honestly expand to, before allocating anything: memory follows the
  bytes really in the file (the zip reading lives in ``minigrad/zipread.py``).
"""

from __future__ import annotations

import errno
import itertools
import math
import os
import stat
import tokenize
import uuid
import zipfile

import numpy as np
from numpy.lib import format as npy

from minigrad.arguments import describe
from minigrad.tensor import Tensor
from minigrad.zipread import BadFile, member_chunks, members

_RESERVED = ("file", "allow_pickle")  # np.savez's own keyword arguments


def save(state_dict: dict, path: str | os.PathLike) -> None:
    """Write ``state_dict`` (str -> numeric array or Tensor) to ``path`` as an ``.npz`` file.

    The write is atomic: ``path`` holds either its old content or the whole new file. If
    ``path`` is a symlink, its target is replaced; an existing file keeps its permissions.
    """
    if not isinstance(state_dict, dict):
        raise TypeError(
            f"save: state_dict must be a dict of arrays, got {describe(state_dict)}"
        )
    path = _checked_path(path, "save")
    arrays = {}
    for name, value in state_dict.items():
        _check_key(name)
        # key "w" is stored as member "w.npy", which NumPy's reader also returns for key "w.npy"
        if name.endswith(".npy") and name[: -len(".npy")] in state_dict:
            raise ValueError(
                f"save: keys {name[:-4]!r} and {name!r} would clash inside the file (both are read "
                f"back from member {name!r}); rename one of them"
            )
        arr = np.asarray(value.data if isinstance(value, Tensor) else value)
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"save: {name!r} must be a numeric array, got dtype {arr.dtype}")
        arrays[name] = arr
    _write_atomically(path, lambda f: np.savez(f, **arrays))


def _checked_path(path, owner: str) -> str:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{owner}: path must be a str or os.PathLike, got {path!r} ({type(path).__name__})")
    path = os.fspath(path)
    if not isinstance(path, str) or not path:
        raise ValueError(f"{owner}: path must be a non-empty str path, got {path!r}")
    return path


def _check_key(name) -> None:
    """A key must come back from ``load`` as it went in: zip names stop at NUL, '/' makes a folder."""
    if not isinstance(name, str):
        raise ValueError(f"save: keys must be strings, got {name!r} ({type(name).__name__})")
    member = name + ".npy"
    try:
        member.encode("utf-8")  # zip stores names as UTF-8: a lone surrogate cannot be written
        round_trips = zipfile.ZipInfo(member).filename == member  # drops what follows a NUL
    except UnicodeEncodeError:
        round_trips = False
    if name in _RESERVED or "/" in name or not round_trips:
        raise ValueError(
            f"save: key {name!r} cannot be stored: keys must be strings without '/', NUL or lone "
            f"surrogates and not {_RESERVED}; nothing was written"
        )


def _write_atomically(path: str, write) -> None:
    """Call ``write(file)`` on a new file beside ``path``, then rename it to ``path``.

    ``os.replace`` is atomic within one directory (POSIX and Windows), so ``path`` never holds
    a half-written file; ``fsync`` first, so a crash right after the rename cannot leave it
    empty. A symlink is followed (its target is replaced, the link stays); an existing file's
    mode is kept, a new one gets 0o666 less the umask, as ``open`` does. The temporary name
    holds the process id, so the next save of the same path removes what a killed save left.
    """
    target = os.path.realpath(path)
    old_mode = stat.S_IMODE(os.stat(target).st_mode) if os.path.exists(target) else None
    if old_mode is not None and not os.access(target, os.W_OK):
        raise PermissionError(errno.EACCES, "save: the existing file is not writable", path)
    prefix = _temp_prefix(target)
    _remove_stale_temps(prefix)
    tmp = f"{prefix}{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        if old_mode is not None:
            os.chmod(tmp, old_mode)
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _temp_prefix(target: str) -> str:
    """``dir/.name.``, the name cut to 150 bytes so that a 255-byte name still has room for the rest."""
    base = os.fsencode(os.path.basename(target))[:150].decode(errors="ignore")
    return os.path.join(os.path.dirname(target), f".{base}.")


def _remove_stale_temps(prefix: str) -> None:
    """Remove ``prefix<pid>.<hex>.tmp`` files whose saving process no longer exists (POSIX only)."""
    if os.name != "posix":
        return
    folder, start = os.path.split(prefix)
    for entry in os.listdir(folder or "."):
        parts = entry[len(start):].split(".")
        if not entry.startswith(start) or len(parts) != 3 or parts[2] != "tmp" or not parts[0].isdigit():
            continue
        try:
            os.kill(int(parts[0]), 0)  # signal 0 only asks whether the process exists
        except ProcessLookupError:
            try:
                os.remove(os.path.join(folder, entry))
            except OSError:
                pass  # another save removed it first
        except (PermissionError, OverflowError):
            pass  # a live process of another user (or a pid no process can have)


def load(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read a state dict written by :func:`save`: ``{name: np.ndarray}`` in the saved order.

    A missing file raises ``FileNotFoundError``; a truncated, corrupted or foreign file
    (including one that would need pickle, a member that is not a numeric ``.npy`` array, a
    header declaring more data than the file holds, or a member that would expand more than
    1032-fold) raises ``ValueError``, naming the path and what is wrong.
    """
    path = _checked_path(path, "load")
    if not os.path.exists(path):
        raise FileNotFoundError(f"load: no such file: {path!r}")
    with open(path, "rb") as raw:
        try:
            if raw.read(6) == b"\x93NUMPY":
                raise BadFile("it holds a single array, not a state dict (.npz)")
            out = {}
            for info in members(raw):
                name = info.filename
                if not name.endswith(".npy") or name[:-4] in out:
                    raise BadFile(f"member {name!r} is not a .npy array, or is there twice")
                out[name[:-4]] = _read_npy(raw, info)
            return out
        except BadFile as e:
            raise ValueError(
                f"load: {path!r} is not a valid state-dict file written by minigrad.save "
                f"(truncated, corrupted or a different format): {e}"
            ) from None


class _Header:
    """The start of a member, as a file ``numpy.lib.format`` can read a ``.npy`` header from."""

    def __init__(self, chunks):
        self.chunks, self.rest, self.used = chunks, b"", 0

    def read(self, n: int) -> bytes:
        while len(self.rest) < n:
            chunk = next(self.chunks, None)
            if chunk is None:
                break
            self.rest += chunk
        out, self.rest = self.rest[:n], self.rest[n:]
        self.used += len(out)
        return out


def _read_npy(raw, info: zipfile.ZipInfo) -> np.ndarray:
    """One ``.npy`` member: header first, then exactly the data it declares."""
    name = info.filename
    chunks = member_chunks(raw, info)
    f = _Header(chunks)
    try:
        version = npy.read_magic(f)
        if version not in ((1, 0), (2, 0)):
            raise BadFile(f"member {name!r}: unsupported .npy format version {version}")
        read_header = npy.read_array_header_1_0 if version == (1, 0) else npy.read_array_header_2_0
        shape, fortran_order, dtype = read_header(f)
    except BadFile:
        raise
    except (ValueError, TypeError, SyntaxError, tokenize.TokenError) as e:  # a header NumPy cannot parse
        raise BadFile(f"member {name!r}: not a readable .npy header ({e})") from None
    if dtype.kind not in "biuf":  # object arrays would need pickle; minigrad writes numbers only
        raise BadFile(f"member {name!r}: dtype {dtype} is not a numeric array")
    count = math.prod(shape)
    nbytes = count * dtype.itemsize
    if nbytes != info.file_size - f.used:  # checked before any allocation
        raise BadFile(
            f"member {name!r}: its header declares shape {shape} {dtype} ({nbytes} bytes) but it holds "
            f"{info.file_size - f.used} bytes of data"
        )
    arr = np.empty(count, dtype=dtype)  # member_chunks checked: at most 1032x the member's bytes in the file
    out = arr.view(np.uint8)
    filled = 0
    for chunk in itertools.chain([f.rest], chunks):  # to the end: the member's length and CRC are checked
        if filled + len(chunk) > nbytes:
            raise BadFile(f"member {name!r} holds more data than its header declares")
        out[filled : filled + len(chunk)] = np.frombuffer(chunk, np.uint8)
        filled += len(chunk)
    if filled != nbytes:
        raise BadFile(f"member {name!r} is truncated")
    return arr.reshape(shape, order="F" if fortran_order else "C")
