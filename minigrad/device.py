"""Devices: minigrad runs on the CPU only, and accepts PyTorch's ``device=`` arguments that say so.

``device="cpu"`` (or ``minigrad.device("cpu")``) is accepted everywhere PyTorch takes a device and
changes nothing; any other device is an error that says minigrad has only the CPU, so a program
written for PyTorch runs unchanged when it asks for the CPU, and fails clearly when it asks for a GPU.
``minigrad.cuda.is_available()`` is False, so ``"cuda" if torch.cuda.is_available() else "cpu"`` picks the CPU.
"""

from __future__ import annotations

from minigrad.arguments import describe


class device:  # noqa: N801  (PyTorch's name)
    """A device, like ``torch.device``; only ``"cpu"`` exists here."""

    def __init__(self, type: str) -> None:  # noqa: A002  (PyTorch's argument name)
        self.type = check_device(type, "device", "type")

    def __eq__(self, other) -> bool:
        return isinstance(other, (device, str)) and str(other) == self.type

    def __hash__(self) -> int:
        return hash(self.type)

    def __str__(self) -> str:
        return self.type

    def __repr__(self) -> str:
        return f"device(type='{self.type}')"


def check_device(value, owner: str, name: str = "device") -> str:
    """``"cpu"`` if ``value`` names the CPU (``"cpu"``, ``"cpu:0"``, a ``device``), else a clear error."""
    if isinstance(value, device):
        return value.type
    if not isinstance(value, str):
        raise TypeError(f"{owner}: {name} must be a string such as 'cpu' or a minigrad.device, got {describe(value)}")
    if value not in ("cpu", "cpu:0"):
        raise ValueError(f"{owner}: minigrad runs on the CPU only; {name} must be 'cpu', got {value!r}")
    return "cpu"


def is_device(value) -> bool:
    """True for what ``.to()`` reads as a device (a string or a ``device``), not a dtype."""
    return isinstance(value, (str, device)) and not _is_dtype_name(value)


def _is_dtype_name(value) -> bool:
    return isinstance(value, str) and value in ("float32", "float64", "int64", "int32", "bool")
