"""Neural-network building blocks with PyTorch's names (``minigrad.nn``)."""

from minigrad.nn import functional

__all__ = ["functional"]
