"""``tensor_like``: ``as_tensor`` with a refusal that names the function, the argument and the value.

``Tensor(None)`` can only say "data must have a bool, integer or float dtype"; ``exp(None)``
should say ``exp: x must be a Tensor or numeric array, got None``. The other checks live in
``minigrad/arguments.py``, which does not import ``Tensor``.
"""

from __future__ import annotations

from minigrad.arguments import describe
from minigrad.tensor import Tensor, as_tensor


def tensor_like(value, name: str, owner: str, like: Tensor | None = None) -> Tensor:
    """``as_tensor(value, like)``; None, strings, complex or ragged data are a TypeError naming ``name``."""
    try:
        return as_tensor(value, like)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{owner}: {name} must be a Tensor or numeric array, got {describe(value)}: {e}") from None
