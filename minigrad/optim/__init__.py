"""Optimizers and learning-rate schedules, laid out as ``torch.optim``.

``minigrad.optim.SGD``, ``Adam``, ``AdamW``, ``RMSprop``, ``Adagrad`` (in ``optimizers.py``) update
parameters from their ``.grad``; ``minigrad.optim.lr_scheduler`` (``lr_scheduler.py``) changes an
optimizer's learning rate from epoch to epoch.
"""

from minigrad.optim import lr_scheduler
from minigrad.optim.optimizers import SGD, Adagrad, Adam, AdamW, Optimizer, RMSprop

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "lr_scheduler"]
