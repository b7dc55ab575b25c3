"""``minigrad.save`` / ``minigrad.load``: a state dict as a NumPy ``.npz`` file, never a pickle.

A state dict (``{name: array}``) is written with ``np.savez`` to exactly the path given
(no ``.npz`` is appended) and read back with ``allow_pickle=False``, so loading a file
cannot run code. The file is an ordinary zip of ``.npy`` arrays: NumPy alone reads it, and
``torch.from_numpy`` turns each array into a PyTorch tensor with the same name.
"""

from __future__ import annotations

import os
import zipfile

import numpy as np

from minigrad.tensor import Tensor

_RESERVED = ("file", "allow_pickle")  # np.savez's own keyword arguments


def save(state_dict: dict, path: str | os.PathLike) -> None:
    """Write ``state_dict`` (str -> numeric array or Tensor) to ``path`` as an ``.npz`` file."""
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
        arr = np.asarray(value.data if isinstance(value, Tensor) else value)
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"save: {name!r} must be a numeric array, got dtype {arr.dtype}")
        arrays[name] = arr
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def load(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read a state dict written by :func:`save`: ``{name: np.ndarray}`` in the saved order.

    A missing file raises ``FileNotFoundError``; a truncated, corrupted or foreign file
    (including one that would need pickle) raises ``ValueError``, both naming the path.
    """
    if not os.path.exists(path):
        raise FileNotFoundError(f"load: no such file: {os.fspath(path)!r}")
    try:
        data = np.load(path, allow_pickle=False)
        if not isinstance(data, np.lib.npyio.NpzFile):  # a .npy file: one bare array
            raise ValueError("it holds a single array, not a state dict (.npz)")
        with data:  # read every array now, while the file is open: errors surface here
            return {name: data[name] for name in data.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, KeyError) as e:
        raise ValueError(
            f"load: {os.fspath(path)!r} is not a valid state-dict file written by minigrad.save "
            f"(truncated, corrupted or a different format): {e}"
        ) from None
