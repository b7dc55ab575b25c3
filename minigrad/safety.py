"""In-place safety, in one place: what an op saved for backward stays exactly as forward saw it.

A reverse-mode engine keeps arrays from the forward pass (``Op.save``) and reads them again in
backward. If anything overwrote one of them in between -- ``x.data[...] = 0``, ``x.add_(1)``,
an optimizer step, an initializer -- the gradient would be silently wrong. So:

* :func:`lock` makes every array an op saved read-only when ``apply_op`` records the op;
* :func:`unlock` makes them writable again when backward has used them (``engine.release``);
* :func:`writable` is the one door for every writer in the package: in-place methods refuse
  to write into a locked array (with the reason), optimizers, initializers and
  ``load_state_dict`` write into a fresh copy instead (copy-on-write: the old graph keeps the
  values it saw, and the write still happens).

No other file changes an array's ``writeable`` flag (a test checks this).
"""

from __future__ import annotations

import numpy as np

from minigrad.grad_mode import is_grad_enabled


def lock(arrays) -> None:
    """Make each array (and the array a view looks into) read-only. None entries are skipped.

    ``a.setflags(False)`` is written positionally: measured at 170 ns against 375 ns for
    ``setflags(write=False)``, and this runs for every array every recorded op saves.
    """
    for a in arrays:
        if type(a) is np.ndarray:
            a.setflags(False)
            base = a.base
            if type(base) is np.ndarray:  # a view: lock the memory it looks into too
                owner(base).setflags(False)


def unlock(arrays) -> None:
    """Undo :func:`lock`: the owner of each array's memory, then the array, become writable again.

    NumPy refuses to make some views writable (``broadcast_to``'s); they stay read-only, and
    their owner is what users and optimizers write to.
    """
    for a in arrays:
        if type(a) is np.ndarray:
            base = a.base
            if type(base) is np.ndarray:
                owner(base).setflags(True)
            try:
                a.setflags(True)
            except ValueError:  # a view NumPy made read-only for good
                pass


def lock_constant(a: np.ndarray) -> np.ndarray:
    """A constant shared by many graphs (``x * 2.0`` reuses one array) is read-only for good."""
    a.setflags(False)
    return a


def owner(a: np.ndarray) -> np.ndarray:
    """The array that owns ``a``'s memory: ``a`` itself, or the array a view looks into.

    NumPy links a view of a view straight to the owner, but ``np.ndarray(buffer=...)`` and
    ``.view()`` chains may not, so the chain is followed to its end.
    """
    while type(a.base) is np.ndarray:
        a = a.base
    return a


def is_locked(a: np.ndarray) -> bool:
    """True if writing into ``a`` could change an array a recorded op saved.

    :func:`lock` locks what an op saved *and its owner*; a view made before that (``v = w[1:]``
    under ``no_grad``) keeps its own write flag, so the owner's flag decides too: every path
    into the memory sees the lock (PyTorch's version counter is per storage in the same way).
    """
    return not (a.flags.writeable and owner(a).flags.writeable)


def writable(t, method: str | None = None, copy: bool = False) -> np.ndarray:
    """``t.data``, ready to be overwritten in place.

    ``method`` names an in-place tensor method (``"add_"``): then a tensor that requires grad
    may be changed only under ``no_grad()``, and an array a graph still holds is refused with
    the reason. Every other writer (``method=None``: initializers, ``load_state_dict``) gets
    copy-on-write: if a graph holds the array, ``t`` gets a copy first. ``copy=True`` always
    copies (optimizer steps): locks are not counted, so when one of two graphs that saved the
    same parameter is released, the array is unlocked while the other graph still needs it.
    """
    if method is None:
        if copy or is_locked(t.data):
            t.data = t.data.copy()
        return t.data
    if t.requires_grad and is_grad_enabled():
        raise RuntimeError(
            f"{method}: this tensor (shape {t.shape}) requires grad, and an in-place change "
            f"is not recorded in the graph; do it under `with minigrad.no_grad():` (as an "
            f"optimizer step does) or write it out of place (x = x + y)"
        )
    if is_locked(t.data):
        shared = "" if not t.data.flags.writeable else " shares its memory with an array that"
        raise RuntimeError(
            f"{method}: this tensor (shape {t.shape}, dtype {t.dtype}){shared} is saved for the "
            f"backward pass of a graph that has not run backward() yet, so its data is "
            f"read-only: changing it now would make that gradient silently wrong. Call "
            f"backward() first, or run the forward under minigrad.no_grad() if it needs no "
            f"gradient (or the array is a read-only NumPy view)"
        )
    return t.data
