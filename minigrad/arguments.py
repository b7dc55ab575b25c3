"""Argument checks shared by the whole package: one message format, one place.

A wrong argument should fail where it is passed, with a ``TypeError`` (wrong kind of thing) or
``ValueError`` (right kind, wrong value) that names the function, the argument and the value
received; not later inside NumPy (``'<' not supported between 'str' and 'int'``), and never
silently (``std=nan`` would give NaN weights). NumPy scalars are accepted wherever Python
numbers are, as in PyTorch. ``minigrad/tensor_arguments.py`` adds ``tensor_like`` (it needs
``Tensor``; these checks are used below it, by the diagnostics the ops import), and
``minigrad/nn/arguments.py`` the checks only layers need.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import numpy as np


def describe(value) -> str:
    """A received value as a message shows it: its repr, or its type, shape and dtype for arrays."""
    if isinstance(getattr(value, "shape", None), tuple) and hasattr(value, "dtype"):  # an array or a Tensor
        return f"a {type(value).__name__} of shape {value.shape} and dtype {value.dtype}"
    text = repr(value)
    return f"{text} ({type(value).__name__})" if len(text) <= 60 else f"a {type(value).__name__}"


def real_number(value, name: str, owner: str) -> float:
    """``value`` as a float if it is a real number (Python or NumPy, not a bool), else TypeError."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {name} must be a real number, got {describe(value)}")
    return float(value)


def number_in(value, name: str, owner: str, low: float = -math.inf, high: float = math.inf,
              *, low_open: bool = False, high_open: bool = False) -> float:  # fmt: skip
    """``value`` as a float if it is a real number in the interval; NaN is never in it.

    ``number_in(std, "std", "normal_", 0)`` accepts [0, inf]; pass ``high_open=True`` to refuse inf.
    """
    x = real_number(value, name, owner)
    above = x > low if low_open else x >= low
    below = x < high if high_open else x <= high
    if not (above and below):
        interval = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        raise ValueError(f"{owner}: {name} must be a number in {interval}, got {value!r}")
    return x


def finite(value, name: str, owner: str) -> float:
    """``value`` as a float if it is a finite real number (not NaN, not inf)."""
    return number_in(value, name, owner, low_open=True, high_open=True)


def integer(value, name: str, owner: str, low: int | None = None) -> int:
    """``value`` as an int if it is a Python or NumPy integer (not a bool) and ``>= low``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{owner}: {name} must be an int, got {describe(value)}")
    if low is not None and value < low:
        raise ValueError(f"{owner}: {name} must be an int >= {low}, got {value!r}")
    return int(value)


def flag(value, name: str, owner: str) -> bool:
    """``value`` if it is a bool (or NumPy bool), else TypeError: ``"no"`` is truthy."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{owner}: {name} must be a bool (True or False), got {describe(value)}")
    return bool(value)


def numeric_dtype(value, name: str, owner: str) -> np.dtype:
    """``value`` as a NumPy dtype a Tensor can hold: bool, integer or float (no complex, strings, objects)."""
    try:
        d = np.dtype(value)
    except TypeError:
        raise TypeError(f"{owner}: {name} must be a dtype such as minigrad.float32, got {describe(value)}") from None
    if d.kind not in "biuf":
        raise TypeError(f"{owner}: {name} must be a bool, integer or float dtype, got {d}")
    return d


def choice(value, name: str, owner: str, options) -> str:
    """``value`` if it is one of ``options`` (strings), else ValueError listing them."""
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{owner}: {name} must be one of {', '.join(map(repr, options))}, got {describe(value)}")
    return value


def function(value, name: str, owner: str):
    """``value`` if it can be called, else TypeError."""
    if not callable(value):
        raise TypeError(f"{owner}: {name} must be callable (a function), got {describe(value)}")
    return value


def instance(value, cls, name: str, owner: str):
    """``value`` if it is an instance of ``cls``, else TypeError naming the class expected."""
    if not isinstance(value, cls):
        raise TypeError(f"{owner}: {name} must be a {cls.__name__}, got {describe(value)}")
    return value


def int_tuple(value, name: str, owner: str, low: int | None = 0, scalar: bool = True) -> tuple[int, ...]:
    """A shape, axes or split points: a sequence of ints (or one int, if ``scalar``), each >= ``low``."""
    if scalar and isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        value = (value,)
    if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray)):
        kind = "an int or a sequence of ints" if scalar else "a sequence of ints"
        raise TypeError(f"{owner}: {name} must be {kind}, got {describe(value)}")
    out = tuple(integer(v, name, owner) for v in value)
    if low is not None and any(v < low for v in out):
        raise ValueError(f"{owner}: {name} must hold ints >= {low}, got {value!r}")
    return out
