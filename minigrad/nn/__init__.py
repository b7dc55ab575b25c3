"""Neural-network building blocks with PyTorch's names (``minigrad.nn``)."""

from minigrad.nn import functional
from minigrad.nn.module import Module, ModuleList, Parameter, Sequential

__all__ = ["functional", "Module", "ModuleList", "Parameter", "Sequential"]
