"""Neural-network building blocks with PyTorch's names (``minigrad.nn``)."""

from minigrad.nn import functional, init
from minigrad.nn.module import Module, ModuleList, Parameter, Sequential

__all__ = ["functional", "init", "Module", "ModuleList", "Parameter", "Sequential"]
