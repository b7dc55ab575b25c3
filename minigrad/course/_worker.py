"""The sealed process: run probes on the grading copy and send back what the pieces computed.

Started by ``sandbox.py`` as ``python -I -S -B _worker.py COPY PROBES SITE``: no site-packages
(``-S``), so ``sys.path`` is the standard library, then ``SITE`` (NumPy alone), the grading copy
``COPY`` (the student copy's stubs with the submission's piece bodies) and the folder ``PROBES``
of the task file's probe modules. It holds no expected value and no reference body of a graded
piece: it only builds inputs, calls the pieces and reports their outputs.

Protocol (one JSON object per line): a request on stdin ``{"nonce", "module", "function",
"args"}``; the answer on the original stdout ``{"nonce", "value"}`` or ``{"nonce", "error"}``.
Arrays travel as ``{"__ndarray__": [shape, [floats]]}``. Everything the pieces print goes to
``/dev/null``. Nothing here is trusted: the grader parses the answer as data, checks its nonce
(a fresh random one per request) and compares it with its own expected values.
"""

import json
import os
import sys
import traceback


def _channel():
    """The original stdout, for answers; fds 1 and 2 then point at /dev/null."""
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)
    return out


def encode(value, np):
    """JSON-ready data: arrays and NumPy scalars as real float arrays, complex refused."""
    if isinstance(value, (list, tuple)):
        return [encode(v, np) for v in value]
    if isinstance(value, dict):
        return {str(k): encode(v, np) for k, v in value.items()}
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, (np.ndarray, np.generic)):
        if np.iscomplexobj(value):
            raise TypeError("a piece returned complex numbers (pieces compute in real float64)")
        array = np.asarray(value, dtype=float)
        return {"__ndarray__": [list(array.shape), array.ravel().tolist()]}
    raise TypeError(f"a piece returned a {type(value).__name__}, not an array or a number")


def decode(value, np):
    """Requests' arrays back into float64 arrays."""
    if isinstance(value, list):
        return [decode(v, np) for v in value]
    if isinstance(value, dict):
        if set(value) == {"__ndarray__"}:
            shape, data = value["__ndarray__"]
            return np.array(data, dtype=float).reshape(shape)
        return {k: decode(v, np) for k, v in value.items()}
    return value


def _memory_limit() -> str:
    """The address space this process may use, in words (the grader sets RLIMIT_AS)."""
    try:
        import resource
    except ImportError:
        return "what the machine has"
    soft = resource.getrlimit(resource.RLIMIT_AS)[0]
    return "what the machine has" if soft == resource.RLIM_INFINITY else f"{soft / 2**30:g} GiB"


def _error(e: BaseException, copy: str) -> str:
    """The exception and the lines of the traceback in the copy (paths relative to it)."""
    frames = [f for f in traceback.extract_tb(e.__traceback__)
              if f.filename.startswith(copy) and not f.filename.endswith("_worker.py")]  # fmt: skip
    lines = [f"{f.filename[len(copy) + 1:]}:{f.lineno} in {f.name}: {f.line}" for f in frames[-4:]]
    head = "".join(traceback.format_exception_only(type(e), e)).strip()
    if isinstance(e, MemoryError):
        head += f" (a sealed process may use {_memory_limit()} of memory)"
    return "\n".join([head] + ["  " + line for line in lines])[:3000]


def main() -> int:
    copy, probes, site = sys.argv[1:4]
    sys.path[:0] = [site, copy, probes]
    out = _channel()
    import importlib

    import numpy as np

    np.seterr(all="raise", under="ignore")  # as the project's tests run
    for line in sys.stdin:
        request = json.loads(line)
        answer = {"nonce": request["nonce"]}
        try:
            module = importlib.import_module(request["module"])
            value = getattr(module, request["function"])(**decode(request["args"], np))
            answer["value"] = encode(value, np)
        except BaseException as e:  # noqa: BLE001 - any failure of a piece is reported, not fatal
            answer = {"nonce": request["nonce"], "error": _error(e, copy)}
        out.write(json.dumps(answer) + "\n")
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
