"""``minigrad.cuda.is_available()``: False. minigrad computes with NumPy on the CPU (``device.py``)."""


def is_available() -> bool:
    """Whether a GPU can be used: never, in minigrad."""
    return False


def device_count() -> int:
    """The number of GPUs minigrad can use: 0."""
    return 0
