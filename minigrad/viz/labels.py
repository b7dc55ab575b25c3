"""The text inside each box of a drawing: tensors (shape, dtype, value, gradient) and ops.

An op's parameters are the arguments its constructor takes (``Sum(axis=0)``), read back from
the attributes of the same names; only values that differ from the default are shown.
"""

from __future__ import annotations

import inspect
import math

import numpy as np

_PLAIN = (type(None), bool, int, float, str, tuple, slice, np.integer, np.floating, np.bool_)
_SKIP = {"self", "out", "gates", "buffer", "rows"}  # where fused ops write, not what they compute
_PARAMS: dict = {}  # op class -> [(name, default)]


def _params_of(cls) -> list:
    params = _PARAMS.get(cls)
    if params is None:
        params = []
        if cls.__init__ is not object.__init__:
            for p in inspect.signature(cls.__init__).parameters.values():
                if p.name not in _SKIP and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                    params.append((p.name, p.default))
        _PARAMS[cls] = params
    return params


def index_text(index) -> str:
    """``x[...]``'s index as written: ``1:, 0``, ``::2``, ``[0 2]``."""
    parts = index if isinstance(index, tuple) else (index,)
    out = []
    for p in parts:
        if isinstance(p, slice):
            text = ":".join("" if v is None else str(v) for v in (p.start, p.stop, p.step))
            out.append(text[:-1] if p.step is None else text)
        elif p is Ellipsis:
            out.append("...")
        elif isinstance(p, (np.ndarray, list)):
            a = np.asarray(p)
            out.append(str(a.tolist()) if a.size <= 6 else f"<{a.dtype} array {a.shape}>")
        else:
            out.append(str(p))
    return ", ".join(out)


def op_label(op) -> str:
    """``Sum(axis=0)``, ``GetItem[1:, 0]``, ``Tanh``: the op's name and its non-default parameters."""
    if op.name == "GetItem":
        return f"GetItem[{index_text(op.index)}]"
    shown = []
    for pname, default in _params_of(type(op)):
        value = getattr(op, pname, inspect.Parameter.empty)
        if value is inspect.Parameter.empty or not isinstance(value, _PLAIN):
            continue
        if default is inspect.Parameter.empty or type(value) is not type(default) or value != default:
            shown.append(f"{pname}={value!r}")
    return f"{op.name}({', '.join(shown)})" if shown else op.name


def values_text(a: np.ndarray) -> str:
    """A small array on one line, 3 significant digits."""
    a = np.asarray(a)
    if a.ndim == 0:
        return f"{a.item():.4g}" if a.dtype.kind == "f" else str(a.item())
    return np.array2string(a, precision=3, separator=", ").replace("\n", "")


def norm(a: np.ndarray) -> float:
    r"""$\|a\|_2$ over all entries, ``inf`` if any entry is inf or nan; scaled so squaring cannot overflow."""
    a = np.asarray(a, dtype=np.float64)
    if not np.all(np.isfinite(a)):
        return math.inf
    scale = float(np.max(np.abs(a))) if a.size else 0.0
    return scale * float(np.linalg.norm(a / scale)) if scale > 0 else 0.0


def grad_state(grad, vanish: float) -> str | None:
    """``'nonfinite'``, ``'vanished'`` (``‖grad‖ < vanish``) or None for a healthy gradient."""
    if grad is None or np.size(grad) == 0:  # an empty gradient has not vanished: it has no entries
        return None
    n = norm(grad)
    if math.isinf(n):
        return "nonfinite"
    return "vanished" if n < vanish else None


def tensor_lines(t, label: str | None, max_values: int, vanish: float, is_output: bool) -> list:
    """The lines of a tensor's box: name, shape and dtype, value, gradient, flags."""
    lines = [label] if label else []
    lines.append(f"{tuple(t.data.shape)} {t.data.dtype}")
    if t.data.size <= max_values:
        lines.append(f"data {values_text(t.data)}")
    if t.grad is not None:
        g = np.asarray(t.grad)
        state = grad_state(g, vanish)
        if g.size <= max_values:
            lines.append(f"grad {values_text(g)}")
        elif state != "nonfinite":
            lines.append(f"‖grad‖ {norm(g):.3g}")
        if state == "vanished":
            lines.append(f"grad vanished (‖grad‖ < {vanish:g})")
        elif state == "nonfinite":
            lines.append("grad non-finite (inf or nan)")
    flags = []
    if t._op is None:
        flags.append("leaf" if t.requires_grad else "constant")
    if t.requires_grad:
        flags.append("requires_grad")
    if t._retains_grad:
        flags.append("retains_grad")
    if is_output:
        flags.append("output")
    lines.append(", ".join(flags))
    return lines
