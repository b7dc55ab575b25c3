"""Grad mode and anomaly mode: per-thread switches, and the blocks that set them.

``apply_op`` records an op in the graph only while grad mode is on; ``no_grad()`` turns it off
for evaluation and optimizer updates. As in PyTorch, each thread has its own modes: a
``no_grad()`` in one thread neither stops another thread's graph nor leaves recording off when
blocks in two threads interleave.
"""

from __future__ import annotations

import functools
import inspect
import threading

import numpy as np


class _ThreadModes(threading.local):
    """This thread's modes. ``threading.local`` gives every thread its own copy of the attributes."""

    def __init__(self) -> None:
        self.grad_enabled = True
        self.anomaly_enabled = False
        self.saved: list = []  # the values blocks entered in this thread will restore, innermost last


MODES = _ThreadModes()


def is_grad_enabled() -> bool:
    """True when new ops record themselves for backward (in this thread)."""
    return MODES.grad_enabled


class _ModeBlock:
    """``with block:`` sets a mode for this thread, and restores the previous value on exit.

    Used as a decorator (``@block`` or ``@block()``), each call of the function runs inside the
    block. What is restored lives in the thread, not in the instance, so one instance may be
    entered by several threads, or re-entered, at once.
    """

    value = True

    def __new__(cls, fn=None):
        if callable(fn):  # ``@no_grad`` without parentheses, as PyTorch allows
            return cls()(fn)
        if fn is not None:
            raise TypeError(f"{cls.__name__}: fn must be a function to decorate (or nothing), got {fn!r}")
        return super().__new__(cls)

    def __init__(self, fn=None) -> None:
        pass

    def get(self) -> bool:
        raise NotImplementedError

    def set(self, value: bool) -> None:
        raise NotImplementedError

    def __enter__(self) -> None:
        MODES.saved.append(self.get())
        self.set(self.value)

    def __exit__(self, *exc) -> None:
        self.set(MODES.saved.pop())

    def __call__(self, fn):
        """Decorate ``fn``: every call runs inside this block (for a generator, every resumption)."""
        if inspect.isgeneratorfunction(fn):
            return self._wrap_generator(fn)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self:
                return fn(*args, **kwargs)

        return wrapper

    def _wrap_generator(self, fn):
        """A generator's body runs at each ``next()``, after the call has returned: as PyTorch
        does, each step runs inside the block, and the caller's mode is back between steps."""

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            gen = fn(*args, **kwargs)
            try:
                with self:
                    value = gen.send(None)
                while True:
                    try:
                        sent = yield value
                    except GeneratorExit:
                        with self:
                            gen.close()
                        raise
                    except BaseException as e:  # thrown into us: pass it to fn's body, in the block
                        with self:
                            value = gen.throw(e)
                    else:
                        with self:
                            value = gen.send(sent)
            except StopIteration as stop:
                return stop.value

        return wrapper


class _GradModeBlock(_ModeBlock):
    def get(self) -> bool:
        return MODES.grad_enabled

    def set(self, value: bool) -> None:
        MODES.grad_enabled = value


class no_grad(_GradModeBlock):
    """``with minigrad.no_grad():`` (or ``@minigrad.no_grad``): build no graph in this block.

    Use it for evaluation and for optimizer updates, which must not become part of the
    graph they update.
    """

    value = False


class enable_grad(_GradModeBlock):
    """Turn graph recording back on inside a ``no_grad`` block."""

    value = True


class set_grad_enabled:
    """Turn graph recording on or off: as a call, a context manager, or a decorator.

    As in PyTorch, ``minigrad.set_grad_enabled(False)`` on its own switches recording off at
    once (in this thread); ``with set_grad_enabled(False):`` restores the previous mode on exit.
    """

    def __init__(self, mode: bool) -> None:
        if not isinstance(mode, (bool, np.bool_)):  # 2 is not a mode
            raise TypeError(f"set_grad_enabled: mode must be a bool, got {mode!r}")
        self.mode = bool(mode)
        self.prev = MODES.grad_enabled
        MODES.grad_enabled = mode

    def __enter__(self) -> None:
        pass  # the switch already happened in __init__

    def __exit__(self, *exc) -> None:
        MODES.grad_enabled = self.prev

    def __call__(self, fn):
        """Use as a decorator: ``fn`` runs with recording set to ``mode``."""
        MODES.grad_enabled = self.prev  # decorating must not change the mode (PyTorch does this too)
        block = enable_grad() if self.mode else no_grad()
        return block(fn)
