"""``minigrad.utils``: ``minigrad.utils.data`` holds ``TensorDataset`` and ``DataLoader``, as ``torch.utils.data``."""

from minigrad.utils import data

__all__ = ["data"]
