"""Names for tensors in a drawing, kept here so that ``Tensor`` needs no ``name`` field.

``viz.name(x, "x")`` remembers a name for as long as ``x`` lives. The map is keyed by
``id`` with a weak reference beside it: ``weakref.WeakKeyDictionary`` compares keys with
``==``, and ``Tensor.__eq__`` is elementwise (it returns a tensor, not a bool).
"""

from __future__ import annotations

import threading
import weakref

from minigrad.tensor import Tensor


class IdMap:
    """``obj -> value`` for as long as ``obj`` is alive, without keeping it alive."""

    def __init__(self) -> None:
        self._items: dict = {}  # id(obj) -> (weak reference to obj, value)
        self._lock = threading.Lock()

    def set(self, obj, value) -> None:
        """Map ``obj`` to ``value`` (replacing what it had)."""
        key = id(obj)
        items = self._items

        def forget(ref, key=key):
            # runs when obj dies; a newer object may already have reused the id
            with self._lock:
                if key in items and items[key][0] is ref:
                    del items[key]

        with self._lock:
            items[key] = (weakref.ref(obj, forget), value)

    def get(self, obj, default=None) -> object:
        """The value of ``obj``, or ``default``."""
        item = self._items.get(id(obj))
        if item is None or item[0]() is not obj:
            return default
        return item[1]

    def __len__(self) -> int:
        return len(self._items)


_NAMES = IdMap()


def name(tensor: Tensor, label: str) -> Tensor:
    """Give ``tensor`` a name for :func:`minigrad.viz.to_dot`; returns ``tensor`` (so it chains).

    >>> import minigrad as mg
    >>> x = name(mg.tensor([1.0, 2.0]), "x")
    >>> name_of(x)
    'x'
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"name: tensor must be a minigrad Tensor, got {type(tensor).__name__}")
    if not isinstance(label, str) or not label:
        raise TypeError(f"name: label must be a non-empty str, got {label!r}")
    _NAMES.set(tensor, label)
    return tensor


def name_of(tensor: Tensor) -> str | None:
    """The name given with :func:`name`, or None."""
    return _NAMES.get(tensor)
