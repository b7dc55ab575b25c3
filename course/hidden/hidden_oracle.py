"""Exact comparisons with feedback a student can act on.

:func:`expect_close` fails with the task's piece, the quantity's name (``dL/dW_hh``, ``c_t``),
the shapes, a few mismatching entries with expected and actual values, and how the inputs were
made (seed, sizes). The tolerance is 1e-12 relative (and 1e-12 absolute, the values are O(1)):
a hand-derived float64 formula meets it; central differences (error about 1e-10) do not. An
infinite expected entry is matched only by the same infinity.
The pieces run in the sealed process (:func:`ask`); these comparisons run here, beside the
expected values, where no piece's code runs.
"""

from numpy import abs as _abs
from numpy import argwhere as _argwhere
from numpy import asarray as _asarray
from numpy import errstate as _errstate
from numpy import isfinite as _isfinite
from numpy import shape as _shape

from minigrad.course.sandbox import SealedError

RTOL = ATOL = 1e-12
SHOWN = 4


def expect_close(actual, expected, *, what: str, piece: str, made: str, rtol=RTOL, atol=ATOL) -> None:
    """Raise AssertionError unless ``actual`` matches ``expected`` entry by entry."""
    head = f"{piece}: {what} is wrong ({made})"
    if actual is None:
        raise AssertionError(f"{head}\n  expected an array of shape {_shape(expected)}, got None")
    try:
        actual = _asarray(actual, dtype=float)
    except (TypeError, ValueError) as e:
        kind = type(actual).__name__
        raise AssertionError(f"{head}\n  expected an array of shape {_shape(expected)}, got {kind}: {e}") from None
    expected = _asarray(expected, dtype=float)
    if actual.shape != expected.shape:
        raise AssertionError(f"{head}\n  shape: expected {expected.shape}, got {actual.shape}")
    with _errstate(all="ignore"):  # inf or nan in a student's answer is reported, not raised
        close = _abs(actual - expected) <= atol + rtol * _abs(expected)
        # an infinity is matched only by the same infinity (inf - inf is nan; |x - inf| <= inf is true)
        bad = ~((_isfinite(actual) & _isfinite(expected) & close) | (actual == expected))
    if bad.any():
        where = _argwhere(bad)
        lines = [f"{head}", f"  shape {expected.shape}; {len(where)} of {expected.size} entries differ "
                 f"beyond rtol={rtol:g}, atol={atol:g}:"]  # fmt: skip
        for index in where[:SHOWN]:
            k = tuple(int(i) for i in index)
            lines.append(f"    [{', '.join(map(str, k))}]: expected {float(expected[k])!r}, got {float(actual[k])!r}")
        if len(where) > SHOWN:
            lines.append(f"    ... and {len(where) - SHOWN} more")
        raise AssertionError("\n".join(lines))


def ask(sealed, piece: str, module: str, function: str, **args):
    """What probe ``module.function`` returned in the sealed process; its failure names ``piece``."""
    try:
        return sealed.call(module, function, **args)
    except SealedError as e:
        raise AssertionError(f"{piece}: {e}") from None
