"""Small random programs for the PyTorch comparison (``tests/test_generated_programs.py``).

A program is plain data (JSON-able lists), drawn from a seed with NumPy only, so that the fixture
script (``tests/fixtures/make_program_fixture.py``, run by hand with PyTorch) and the test (which
never imports torch) build exactly the same programs and each runs them with its own engine:

* ``inputs``: one list of int codes per input tensor; the input is ``codes / 4`` (exact in
  float64, so both engines start from the same bits) reshaped to its shape;
* ``steps``: ``[name, args, operands]``; each step appends one tensor to the list of values
  (inputs first), reading earlier values by position;
* the loss is ``sum(last * cos(arange(size)))``, and both engines report the last value and the
  gradient of the loss with respect to every input.

Ops: unary math (kept in its domain: ``log(x*x + 1)``), broadcasting binary ops, reductions over an
axis, reshapes, transposes, ``x @ y.T``, softmax, concatenation, and indexing with every form NumPy
accepts: ints, slices with negative steps, ``None``, ``...``, integer arrays, lists and tuples with
repeated picks, and boolean masks.
"""

from __future__ import annotations

import json
import zlib

import numpy as np

UNARY = ["neg", "tanh", "sigmoid", "relu", "abs", "square", "exp_tanh", "log_sq1", "sqrt_sq1"]
BINARY = ["add", "sub", "mul", "div_sq1", "maximum", "minimum"]
REDUCE = ["sum", "mean", "amax", "logsumexp", "var"]


def _shape_after(name: str, args: list, shapes: list[tuple]) -> tuple | None:
    """The result's shape (NumPy on zeros), or None if the step does not apply to these shapes."""
    zeros = [np.zeros(s) for s in shapes]
    try:
        if name in UNARY or name == "softmax":
            return shapes[0]
        if name in BINARY:
            return np.broadcast_shapes(*shapes)
        if name in REDUCE:
            return np.sum(zeros[0], axis=args[0], keepdims=args[1]).shape
        if name == "reshape":
            return np.reshape(zeros[0], args[0]).shape
        if name == "transpose":
            return np.transpose(zeros[0], args[0]).shape
        if name == "matmul_t":
            return (zeros[0] @ zeros[1].T).shape
        if name == "concat":
            return np.concatenate(zeros, axis=args[0]).shape
        if name == "index":
            return zeros[0][to_numpy_index(args[0])].shape
    except (ValueError, IndexError):
        return None
    raise AssertionError(name)


def to_numpy_index(parts: list):
    """An index part list ``[[kind, value], ...]`` as a NumPy/minigrad index (tuples stay tuples)."""
    out = []
    for kind, value in parts:
        if kind == "int":
            out.append(value)
        elif kind == "slice":
            out.append(slice(*value))
        elif kind == "none":
            out.append(None)
        elif kind == "ellipsis":
            out.append(Ellipsis)
        elif kind == "tuple":
            out.append(tuple(value))
        elif kind == "list":
            out.append(list(value))
        elif kind == "array":
            out.append(np.array(value, dtype=np.int64))
        elif kind == "mask":
            out.append(np.array(value, dtype=bool))
    return tuple(out)


def _draw_index(rng: np.random.Generator, shape: tuple) -> list:
    """An index for ``shape``: a few basic parts, at most one advanced part (or a mask)."""
    parts, dim = [], 0
    if rng.random() < 0.15 and len(shape) >= 1:
        mask = rng.random(shape[:1]) < 0.6
        parts.append(["mask", mask.tolist()])
        dim = 1
    if rng.random() < 0.2:
        parts.append(["none", None])
    advanced_left = 1 if not parts or parts[0][0] != "mask" else 0
    while dim < len(shape) and rng.random() < 0.8:
        n = shape[dim]
        kind = rng.choice(["int", "slice", "slice", "tuple", "list", "array", "ellipsis"])
        if kind in ("tuple", "list", "array") and advanced_left:
            advanced_left -= 1
            picks = rng.integers(-n, n, size=int(rng.integers(1, 4))).tolist()
            picks.append(picks[0])  # a repeated pick: its gradients must add up
            parts.append([str(kind), picks])
        elif kind == "int":
            parts.append(["int", int(rng.integers(-n, n))])
        elif kind == "ellipsis" and not any(p[0] == "ellipsis" for p in parts):
            parts.append(["ellipsis", None])
            dim = len(shape) - int(rng.integers(0, len(shape) - dim + 1))  # the ... takes some axes
            continue
        else:
            step = int(rng.choice([1, 2, -1, -2]))
            start = int(rng.integers(-n, n)) if rng.random() < 0.5 else None
            stop = int(rng.integers(-n - 1, n + 1)) if rng.random() < 0.5 else None
            parts.append(["slice", [start, stop, step]])
        dim += 1
    if any(p[0] in ("tuple", "list", "array", "mask") for p in parts):
        # NumPy reads an int next to an index array as one more index array, and whether the axes
        # they pick move to the front depends on what stands between them (even a ... of no axes);
        # PyTorch selects the int first. Not a gradient question: the int becomes a 1-wide slice.
        parts = [["slice", [p[1], (p[1] + 1) or None, 1]] if p[0] == "int" else p for p in parts]
    return parts


def _draw_step(rng: np.random.Generator, shapes: list[tuple]) -> tuple[list, tuple] | None:
    """One step ``[name, args, operands]`` on the values so far, with its result's shape."""
    k = len(shapes)
    last = k - 1
    other = int(rng.integers(0, k))
    family = rng.choice(["unary", "binary", "reduce", "shape", "index", "index", "other"])
    ndim = len(shapes[last])
    if family == "unary":
        step = [str(rng.choice(UNARY)), [], [last]]
    elif family == "binary":
        pair = [last, other] if rng.random() < 0.5 else [other, last]
        step = [str(rng.choice(BINARY)), [], pair]
    elif family == "reduce":
        axis = None if ndim == 0 or rng.random() < 0.15 else int(rng.integers(-ndim, ndim))
        step = [str(rng.choice(REDUCE)), [axis, bool(rng.random() < 0.4)], [last]]
    elif family == "shape":
        if rng.random() < 0.5 or ndim < 2:
            step = ["reshape", [[-1] if ndim != 1 else [1, -1]], [last]]
        else:
            step = ["transpose", [rng.permutation(ndim).tolist()], [last]]
    elif family == "index":
        if ndim == 0:
            return None
        step = ["index", [_draw_index(rng, shapes[last])], [last]]
    else:
        name = str(rng.choice(["matmul_t", "softmax", "concat"]))
        if name == "softmax":
            if ndim == 0:
                return None
            step = ["softmax", [int(rng.integers(-ndim, ndim))], [last]]
        elif name == "matmul_t":
            step = ["matmul_t", [], [last, other]]
        else:
            step = ["concat", [int(rng.integers(0, max(ndim, 1)))], [last, other]]
    shape = _shape_after(step[0], step[1], [shapes[i] for i in step[2]])
    if shape is None or int(np.prod(shape)) == 0 or int(np.prod(shape)) > 64:
        return None
    return step, shape


def make_program(seed: int) -> dict:
    """The program of ``seed``: 1-3 inputs of up to 3 axes (broadcastable together) and 2-6 steps."""
    rng = np.random.default_rng(seed)
    ndim = int(rng.integers(0, 4) if rng.random() < 0.1 else rng.integers(1, 4))  # 0-d inputs now and then
    base = tuple(int(n) for n in rng.integers(2, 5, size=ndim))
    shapes, inputs = [], []
    for _ in range(int(rng.integers(1, 4))):
        shape = tuple(1 if rng.random() < 0.2 else n for n in base[int(rng.integers(0, len(base) // 2 + 1)):])
        codes = rng.integers(-12, 13, size=int(np.prod(shape))).tolist()
        shapes.append(shape)
        inputs.append([list(shape), codes])
    steps = []
    target = int(rng.integers(2, 7))
    for _ in range(40):  # draws that do not apply are skipped
        if len(steps) == target:
            break
        drawn = _draw_step(rng, shapes)
        if drawn is not None:
            steps.append(drawn[0])
            shapes.append(drawn[1])
    return {"inputs": inputs, "steps": steps, "shape": list(shapes[-1])}


def execute(program: dict, leaves: list, table: dict):
    """Run the program's steps on ``leaves`` with one engine's ``table`` of ops; return the last value.

    ``table[name](*operands, *args)``: unary ops take ``x``, binary ops ``(a, b)``, reductions
    ``(x, axis, keepdims)``, ``reshape``/``transpose``/``softmax`` ``(x, shape | axes | axis)``,
    ``matmul_t`` ``(a, b)``, ``concat`` ``(a, b, axis)`` and ``index`` ``(x, parts)``.
    """
    values = list(leaves)
    for name, args, operands in program["steps"]:
        values.append(table[name](*[values[i] for i in operands], *args))
    return values[-1]


def fingerprint(program: dict) -> int:
    """A checksum of the program, so a changed generator is caught before values are compared."""
    return zlib.crc32(json.dumps(program, sort_keys=True).encode())


def input_array(spec: list) -> np.ndarray:
    """An input's values: its codes / 4, exact in float64."""
    shape, codes = spec
    return (np.array(codes, dtype=np.float64) / 4).reshape(shape)


def loss_weights(shape) -> np.ndarray:
    """The fixed weights of the loss ``sum(last * w)``."""
    return np.cos(np.arange(int(np.prod(shape)), dtype=np.float64)).reshape(shape)


def hvp_direction(shape) -> np.ndarray:
    """The fixed direction $v$ of the Hessian-vector products (``tests/test_hvp_programs.py``)."""
    return np.sin(0.7 * np.arange(int(np.prod(shape)), dtype=np.float64) + 0.3).reshape(shape)
