"""Which ops each ``nn.Module`` call created, so a drawing can collapse a call into one box.

``with trace_modules(model) as trace: out = model(x)`` replaces ``Module.__call__`` for the
duration of the block (and puts it back on exit, even after an error). When a call of one of
``model``'s modules returns, the wrapper walks the graph back from what it returned, stopping
at the call's tensor arguments, and records every op it meets that no other call has claimed:
those ops were made inside this call. Inner calls return first, so each op keeps its innermost
call, and a call's ``parent`` links the nesting. Only ``Tensor._op`` and ``Op.inputs`` are read.

A tensor the module did not receive as an argument (one it kept from outside, say) is read as
made inside it, if no earlier call made it. Calls from other threads are not recorded.
"""

from __future__ import annotations

import threading

from minigrad.nn.module import Module
from minigrad.tensor import Tensor
from minigrad.viz.names import IdMap

_PATCH_LOCK = threading.Lock()  # one thread at a time swaps Module.__call__


class Call:
    """One call of a module: its qualified ``name``, the call's ``index`` among that module's
    calls, the enclosing ``parent`` call (or None), and ``depth`` (0 for the outermost)."""

    def __init__(self, module: Module, name: str, index: int, parent: Call | None) -> None:
        self.module, self.name, self.index, self.parent = module, name, index, parent
        self.depth = 0 if parent is None else parent.depth + 1

    @property
    def label(self) -> str:
        """E.g. ``cell: LSTMCell #3`` (the 4th call of the module named ``cell``)."""
        return f"{self.name}: {type(self.module).__name__} #{self.index}"

    def within(self, other: Call) -> bool:
        """True if this call is ``other`` or runs inside it."""
        call = self
        while call is not None:
            if call is other:
                return True
            call = call.parent
        return False

    def __repr__(self) -> str:
        return f"Call({self.label!r}, depth={self.depth})"


def _tensors(value) -> list:
    """The tensors in an argument or a return value (through tuples, lists and dict values)."""
    found, stack = [], [value]
    while stack:
        v = stack.pop()
        if isinstance(v, Tensor):
            found.append(v)
        elif isinstance(v, (tuple, list)):
            stack.extend(v)
        elif isinstance(v, dict):
            stack.extend(v.values())
    return found


class ModuleTrace:
    """What :func:`trace_modules` records: every call, and for each op the call that made it."""

    def __init__(self, model: Module) -> None:
        if not isinstance(model, Module):
            raise TypeError(f"trace_modules: model must be an nn.Module, got {type(model).__name__}")
        root = type(model).__name__
        self.module_names = {id(m): (n or root) for n, m in model.named_modules()}
        self.parameter_names = {id(p): n for n, p in model.named_parameters()}
        self.calls: list[Call] = []
        self._count: dict = {}  # id(module) -> calls so far
        self._owner = IdMap()  # op -> innermost Call that made it
        self._stack: list[Call] = []
        self._thread = threading.get_ident()
        self._previous = None

    def call_of(self, op) -> Call | None:
        """The innermost recorded call that created ``op``, or None."""
        return self._owner.get(op)

    def call_at(self, op, depth: int) -> Call | None:
        """The call at nesting ``depth`` that (directly or through inner calls) created ``op``."""
        call = self._owner.get(op)
        while call is not None and call.depth > depth:
            call = call.parent
        return call if call is not None and call.depth == depth else None

    def _record(self, call: Call, args, result) -> None:
        """Claim for ``call`` every unclaimed op between its arguments and its results."""
        stop = {id(t) for t in _tensors(args)}
        seen = set()
        stack = _tensors(result)
        while stack:
            t = stack.pop()
            op = t._op
            if op is None or id(t) in stop or id(t) in seen:
                continue
            seen.add(id(t))
            owner = self._owner.get(op)
            if owner is None:
                self._owner.set(op, call)
            elif not owner.within(call):
                continue  # made by an earlier call outside this one: an input, not ours
            stack.extend(op.inputs)

    def _wrap(self, previous):
        trace = self

        def __call__(module, *args, **kwargs):
            name = trace.module_names.get(id(module))
            if name is None or threading.get_ident() != trace._thread:
                return previous(module, *args, **kwargs)
            index = trace._count.get(id(module), 0)
            trace._count[id(module)] = index + 1
            call = Call(module, name, index, trace._stack[-1] if trace._stack else None)
            trace.calls.append(call)
            trace._stack.append(call)
            try:
                result = previous(module, *args, **kwargs)
            finally:
                trace._stack.pop()
            trace._record(call, (args, kwargs), result)
            return result

        return __call__

    def __enter__(self) -> ModuleTrace:
        with _PATCH_LOCK:
            self._previous = Module.__call__
            Module.__call__ = self._wrap(self._previous)
        return self

    def __exit__(self, *exc) -> None:
        with _PATCH_LOCK:
            Module.__call__ = self._previous


def trace_modules(model: Module) -> ModuleTrace:
    """Record which ops each call of ``model``'s modules creates (a context manager).

    >>> from minigrad import nn
    >>> import numpy as np
    >>> model = nn.Sequential(nn.Linear(2, 3), nn.Tanh())
    >>> with trace_modules(model) as trace:
    ...     out = model(np.ones((1, 2)))
    >>> [c.label for c in trace.calls]
    ['Sequential: Sequential #0', '0: Linear #0', '1: Tanh #0']

    Pass ``modules=trace`` to :func:`minigrad.viz.to_dot` to draw the calls as boxes.
    """
    return ModuleTrace(model)
