"""``minigrad.save`` / ``minigrad.load``: a state dict as a NumPy ``.npz`` file, never a pickle.

A state dict (``{name: array}``) is written with ``np.savez`` to exactly the path given
(no ``.npz`` is appended) and read back without pickle, so loading a file cannot run code.
The file is an ordinary zip of ``.npy`` arrays: NumPy alone reads it, and
``torch.from_numpy`` turns each array into a PyTorch tensor with the same name.

Nothing is lost on the way:

* ``save`` writes a temporary file next to ``path`` and renames it over ``path`` only once it
  is complete and flushed to disk, so a failure part-way (disk full, an interrupt) leaves the
  previous checkpoint as it was.
* ``load`` reads each member's ``.npy`` header before its data and refuses a member whose
  header declares more (or less) data than the member holds, before allocating anything:
  a corrupted header must not ask for terabytes.
"""

from __future__ import annotations

import math
import os
import uuid
import zipfile

import numpy as np
from numpy.lib import format as npy

from minigrad.tensor import Tensor

_RESERVED = ("file", "allow_pickle")  # np.savez's own keyword arguments
_CHUNK = 1 << 20  # load reads a member's data 1 MiB at a time (memory follows the real data)


def save(state_dict: dict, path: str | os.PathLike) -> None:
    """Write ``state_dict`` (str -> numeric array or Tensor) to ``path`` as an ``.npz`` file.

    The write is atomic: ``path`` holds either its old content or the whole new file.
    """
    if not isinstance(state_dict, dict):
        raise TypeError(
            f"save: state_dict must be a dict of arrays, got {type(state_dict).__name__}"
        )
    arrays = {}
    for name, value in state_dict.items():
        if not isinstance(name, str) or name in _RESERVED or "/" in name:
            raise ValueError(
                f"save: keys must be strings without '/' and not {_RESERVED}, got {name!r}"
            )
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


def _write_atomically(path: str | os.PathLike, write) -> None:
    """Call ``write(file)`` on a new file beside ``path``, then rename it to ``path``.

    ``os.replace`` is atomic within one directory (POSIX and Windows), so ``path`` never holds
    a half-written file; ``fsync`` first, so a crash right after the rename cannot leave it
    empty. The temporary file is created with mode 0o666 (less the umask), as ``open`` does.
    """
    path = os.fspath(path)
    tmp = os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.{uuid.uuid4().hex[:12]}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def load(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read a state dict written by :func:`save`: ``{name: np.ndarray}`` in the saved order.

    A missing file raises ``FileNotFoundError``; a truncated, corrupted or foreign file
    (including one that would need pickle, a member that is not a numeric ``.npy`` array, or a
    header declaring more data than the file holds) raises ``ValueError``, naming the path.
    """
    if not os.path.exists(path):
        raise FileNotFoundError(f"load: no such file: {os.fspath(path)!r}")
    try:
        if not zipfile.is_zipfile(path):
            if _is_npy(path):
                raise ValueError("it holds a single array, not a state dict (.npz)")
            raise ValueError("it is not a zip archive of .npy arrays")
        out = {}
        with zipfile.ZipFile(path) as z:
            for info in z.infolist():
                name = info.filename
                if not name.endswith(".npy") or name[:-4] in out:
                    raise ValueError(f"member {name!r} is not a .npy array, or is there twice")
                with z.open(info) as f:
                    out[name[:-4]] = _read_npy(f, info.file_size, name)
        return out
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, KeyError) as e:
        raise ValueError(
            f"load: {os.fspath(path)!r} is not a valid state-dict file written by minigrad.save "
            f"(truncated, corrupted or a different format): {e}"
        ) from None


def _is_npy(path) -> bool:
    with open(path, "rb") as f:
        return f.read(6) == b"\x93NUMPY"


def _read_npy(f, size: int, name: str) -> np.ndarray:
    """One ``.npy`` member of ``size`` bytes: header first, then exactly the data it declares."""
    version = npy.read_magic(f)
    if version == (1, 0):
        shape, fortran_order, dtype = npy.read_array_header_1_0(f)
    elif version == (2, 0):
        shape, fortran_order, dtype = npy.read_array_header_2_0(f)
    else:
        raise ValueError(f"member {name!r}: unsupported .npy format version {version}")
    if dtype.kind not in "biuf":  # object arrays would need pickle; minigrad writes numbers only
        raise ValueError(f"member {name!r}: dtype {dtype} is not a numeric array")
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes != size - f.tell():  # checked before any allocation
        raise ValueError(
            f"member {name!r}: its header declares shape {shape} {dtype} ({nbytes} bytes) but it holds "
            f"{size - f.tell()} bytes of data"
        )
    data = bytearray()
    while len(data) < nbytes:  # grows with the data actually read, whatever the zip claims
        chunk = f.read(min(_CHUNK, nbytes - len(data)))
        if not chunk:
            raise ValueError(f"member {name!r} is truncated")
        data += chunk
    arr = np.frombuffer(data, dtype=dtype, count=math.prod(shape))
    return arr.reshape(shape, order="F" if fortran_order else "C")
