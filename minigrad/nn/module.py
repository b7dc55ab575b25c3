r"""``Module`` and ``Parameter``: how a model keeps track of its weights.

A model is a tree. Each node is a :class:`Module`; its leaves are :class:`Parameter`\ s
(the tensors an optimizer updates). A module finds its parameters and sub-modules by
looking at its own attributes, in the order ``__init__`` assigned them (a Python
``dict`` keeps insertion order), so this is all a layer needs:

>>> class Affine(Module):
...     def __init__(self):
...         super().__init__()
...         self.weight = Parameter([[1.0, 2.0]])
...         self.bias = Parameter([0.0])
...     def forward(self, x):
...         return x @ self.weight.T + self.bias
>>> [name for name, _ in Affine().named_parameters()]
['weight', 'bias']

Names are dotted paths through the tree (``layers.1.bias``), exactly as in PyTorch, so a
``state_dict`` (name -> array) moves between minigrad and PyTorch unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import NamedTuple

import numpy as np

from minigrad import safety
from minigrad.arguments import describe
from minigrad.device import check_device, is_device
from minigrad.dtypes import get_default_dtype
from minigrad.nn.arguments import cast_overflows, flag, float_dtype
from minigrad.tensor import Tensor


class Parameter(Tensor):
    """A tensor that is a learnable weight: always a float leaf with ``requires_grad=True``.

    ``data`` is copied. A float array keeps its dtype; Python numbers, lists and
    integer arrays get the default dtype (float64 unless changed).
    """

    __slots__ = ()  # Tensor uses __slots__; a Parameter adds no fields, only a meaning

    def __init__(self, data, requires_grad: bool = True) -> None:
        arr = np.array(data.data if isinstance(data, Tensor) else data)
        if arr.dtype.kind in "biu":
            arr = arr.astype(get_default_dtype())
        super().__init__(arr, requires_grad=requires_grad, dtype=arr.dtype)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class IncompatibleKeys(NamedTuple):
    """What :meth:`Module.load_state_dict` returns (PyTorch's ``_IncompatibleKeys``)."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class Module:
    """Base class of every layer and model.

    Subclasses assign ``Parameter``\\ s and ``Module``\\ s as attributes in ``__init__``
    and define ``forward``; calling the module calls ``forward``. As in PyTorch, a subclass's
    ``__init__`` calls ``super().__init__()`` before assigning parameters or sub-modules.
    """

    training: bool = True  # instances shadow this in train()/eval()

    def __init__(self) -> None:
        self.training = True

    def __setattr__(self, name: str, value) -> None:
        """Assign as Python does; a parameter or module before ``Module.__init__`` is PyTorch's error."""
        if isinstance(value, (Parameter, Module)) and "training" not in self.__dict__:
            what = "parameters" if isinstance(value, Parameter) else "module"
            raise AttributeError(
                f"cannot assign {what} before Module.__init__() call: {type(self).__name__}.__init__ must "
                f"call super().__init__() first (as in PyTorch)"
            )
        object.__setattr__(self, name, value)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # ----- walking the tree ---------------------------------------------------------
    def _own_parameters(self) -> Iterator[tuple[str, Parameter]]:
        for name, value in vars(self).items():
            if isinstance(value, Parameter):
                yield name, value

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """The direct sub-modules with their attribute names, in assignment order."""
        for name, value in vars(self).items():
            if isinstance(value, Module):
                yield name, value

    def children(self) -> Iterator[Module]:
        """The direct sub-modules, in assignment order."""
        for _, m in self.named_children():
            yield m

    def _walk(self, prefix: str, dedup: bool) -> Iterator[tuple[str, Module]]:
        # Depth first with an explicit stack. With dedup, a module reached twice is skipped (a
        # visited set, like PyTorch's named_modules). Without it, a shared module is yielded under
        # each of its names, but a module is never entered from inside itself: a back-reference
        # (``child.parent = parent``) is a cycle, and following it would never end.
        seen: set[int] = set()
        stack = [(prefix, self, frozenset())]
        while stack:
            name, m, ancestors = stack.pop()
            if (dedup and id(m) in seen) or id(m) in ancestors:
                continue
            seen.add(id(m))
            yield name, m
            inside = ancestors | {id(m)}
            kids = [(f"{name}.{k}" if name else k, c, inside) for k, c in m.named_children()]
            stack.extend(reversed(kids))

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module (name ``prefix``) and every descendant, depth first, each once."""
        return self._walk(prefix, dedup=True)

    def modules(self) -> Iterator[Module]:
        """This module and every descendant, depth first."""
        for _, m in self.named_modules():
            yield m

    def _all_named_parameters(self) -> Iterator[tuple[str, Parameter]]:
        # every (name, parameter) pair, a shared module or parameter under each of its names
        for mod_name, m in self._walk("", dedup=False):
            for name, p in m._own_parameters():
                yield (f"{mod_name}.{name}" if mod_name else name), p

    def named_parameters(self) -> Iterator[tuple[str, Parameter]]:
        """``(dotted_name, parameter)`` for every parameter; a shared one is listed once."""
        seen: set[int] = set()
        for name, p in self._all_named_parameters():
            if id(p) not in seen:
                seen.add(id(p))
                yield name, p

    def parameters(self) -> Iterator[Parameter]:
        """Every parameter of this module and its descendants, each once."""
        for _, p in self.named_parameters():
            yield p

    # ----- modes and gradients ------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Set training mode (``mode=True``) or evaluation mode on every module; return ``self``."""
        mode = flag(mode, "mode", "train()")
        for m in self.modules():
            m.training = mode
        return self

    def eval(self) -> Module:
        """Evaluation mode (e.g. ``Dropout`` does nothing); same as ``train(False)``."""
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's ``.grad`` (to ``None`` by default, as in PyTorch)."""
        set_to_none = flag(set_to_none, "set_to_none", "zero_grad()")
        for p in self.parameters():
            p.zero_grad(set_to_none)

    def apply(self, fn) -> Module:
        """Call ``fn(m)`` on every sub-module and then on ``self`` (e.g. to initialise weights)."""
        for m in reversed(list(self.modules())):
            fn(m)
        return self

    def to(self, *args, dtype=None, device=None) -> Module:
        """Cast every parameter, in place, to a float dtype, as ``model.to(torch.float64)``; return self.

        ``model.to("cpu")`` (or ``device="cpu"``) is accepted and changes nothing: minigrad runs
        on the CPU only, and any other device is an error.
        """
        for a in args:
            if is_device(a):
                device = a
            else:
                dtype = a
        if device is not None:
            check_device(device, "to()")
        if dtype is None:
            return self
        d = float_dtype(dtype, "to()")  # float16 would pass a kind check, and nothing runs in it
        for p in self.parameters():
            p.data = p.data.astype(d)
            p.grad = None
        return self

    # ----- state dict ---------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        """``{dotted_name: copy of the parameter's array}``, in parameter order."""
        return {name: p.data.copy() for name, p in self._all_named_parameters()}

    def load_state_dict(self, state_dict: dict, strict: bool = True) -> IncompatibleKeys:
        """Copy arrays into the existing parameters, casting to each parameter's dtype.

        With ``strict=True`` the keys must match exactly. A shape mismatch is always an
        error. Everything is checked before anything is copied, so a failed load leaves
        the model unchanged.
        """
        if not isinstance(state_dict, dict):
            raise TypeError(
                f"load_state_dict(): state_dict must be a dict, got {describe(state_dict)}"
            )
        strict = flag(strict, "strict", "load_state_dict()")
        own = dict(self._all_named_parameters())
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        problems = []
        if strict and missing:
            problems.append(f"missing keys: {missing}")
        if strict and unexpected:
            problems.append(f"unexpected keys: {unexpected}")
        arrays = {}
        for name, p in own.items():
            if name not in state_dict:
                continue
            value = state_dict[name]
            try:
                arr = np.asarray(value.data if isinstance(value, Tensor) else value)
            except ValueError as e:  # a ragged list: NumPy's message names no key
                problems.append(f"{name}: expected a numeric array, got a value NumPy cannot make one of ({e})")
                continue
            if arr.dtype.kind not in "biuf":
                problems.append(f"{name}: expected a numeric array, got dtype {arr.dtype}")
            elif arr.shape != p.shape:
                problems.append(
                    f"size mismatch for {name}: expected shape {p.shape}, got {arr.shape}"
                )
            elif cast_overflows(arr, p.dtype):
                problems.append(
                    f"{name}: values of dtype {arr.dtype} overflow the parameter's dtype {p.dtype} "
                    f"(largest |value| {np.max(np.abs(arr[np.isfinite(arr)])):.3g})"
                )
            else:
                arrays[name] = arr
        if problems:
            raise ValueError(
                f"load_state_dict() for {type(self).__name__} failed; nothing was loaded:\n  "
                + "\n  ".join(problems)
            )
        for name, arr in arrays.items():
            safety.writable(own[name])[...] = arr  # in place: casts to the parameter's dtype
        return IncompatibleKeys(missing, unexpected)

    # ----- printing -----------------------------------------------------------------
    def extra_repr(self) -> str:
        """The text inside this module's parentheses (e.g. ``in_features=2, out_features=3``)."""
        return ""

    def __repr__(self) -> str:
        return self._repr(frozenset())

    def _repr(self, ancestors: frozenset) -> str:
        inside = ancestors | {id(self)}
        lines = []
        for name, child in self.named_children():
            if id(child) in inside:  # a back-reference (child.parent = parent): printing it never ends
                body = f"<back-reference to {type(child).__name__}>"
            else:
                body = child._repr(inside).replace("\n", "\n  ")
            lines.append(f"  ({name}): {body}")
        extra = self.extra_repr()
        if not lines:
            return f"{type(self).__name__}({extra})"
        head = f"{type(self).__name__}({extra}" if extra else f"{type(self).__name__}("
        return head + "\n" + "\n".join(lines) + "\n)"


def _check_module(m, where: str) -> Module:
    if not isinstance(m, Module):
        raise TypeError(f"{where}: expected a Module, got {describe(m)}")
    return m


class ModuleList(Module):
    """A list of modules whose parameters are named ``0.weight``, ``1.weight``, ..."""

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        self._list: list[Module] = []
        if modules is not None:
            self.extend(modules)

    def named_children(self) -> Iterator[tuple[str, Module]]:
        for i, m in enumerate(self._list):
            yield str(i), m

    def append(self, module: Module) -> ModuleList:
        """Add ``module`` at the end; return ``self``."""
        self._list.append(_check_module(module, f"{type(self).__name__}.append"))
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        """Add every module of ``modules`` at the end; return ``self``."""
        for m in modules:
            self.append(m)
        return self

    def __getitem__(self, index):
        if isinstance(index, slice):
            if isinstance(self, Sequential):
                return Sequential(*self._list[index])
            return ModuleList(self._list[index])
        return self._list[index]

    def __setitem__(self, index: int, module: Module) -> None:
        self._list[index] = _check_module(module, f"{type(self).__name__}[{index}] = ...")

    def __len__(self) -> int:
        return len(self._list)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._list)


class Sequential(ModuleList):
    """Modules applied one after another: ``Sequential(a, b)(x) == b(a(x))``."""

    def __init__(self, *modules: Module) -> None:
        super().__init__(modules)

    def forward(self, input):
        for m in self._list:
            input = m(input)
        return input
