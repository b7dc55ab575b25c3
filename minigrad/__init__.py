"""minigrad: a from-scratch NumPy reverse-mode autograd engine for learning backpropagation.

Reading order: ``tensor.py`` -> ``ops/base.py`` -> any op in ``ops/`` -> ``engine.py``
-> ``broadcast.py`` -> ``autodiff.py`` -> ``forward.py`` -> ``gradcheck.py`` (see docs/ARCHITECTURE.md).
"""

# First give Tensor its methods: each of these modules assigns its functions onto the class, once.
from minigrad import conversions, inplace, tensor_math, tensor_methods  # noqa: F401

# isort: split
from minigrad import (
    bptt,
    cuda,
    diagnostics,
    nn,
    ops,
    optim,
    second_order,  # noqa: F401  (hands create_graph mode its namespace: see the module)
    utils,
)
from minigrad.anomaly import AnomalyError, detect_anomaly, is_anomaly_enabled
from minigrad.autodiff import grad, hessian, hvp, jacobian, vhp, vjp
from minigrad.conversions import log2, log10, mm
from minigrad.creation import (
    arange,
    empty,
    eye,
    full,
    linspace,
    multinomial,
    ones,
    ones_like,
    rand,
    randint,
    randn,
    randn_like,
    randperm,
    zeros,
    zeros_like,
)
from minigrad.device import device

# PyTorch's dtype names, bound to NumPy's types (minigrad.float is float32, as torch.float): dtype_names.py
from minigrad.dtype_names import (  # noqa: F401
    bool,
    double,
    float,
    float32,
    float64,
    int,
    int8,
    int16,
    int32,
    int64,
    long,
    uint8,
)
from minigrad.dtypes import get_default_dtype, set_default_dtype
from minigrad.engine import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from minigrad.forward import jvp
from minigrad.functional import (
    abs,
    add,
    broadcast_to,
    clip,
    concatenate,
    divide,
    exp,
    gelu,
    leaky_relu,
    log,
    log_softmax,
    logsumexp,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    multiply,
    negative,
    permute,
    power,
    relu,
    reshape,
    sigmoid,
    softmax,
    split,
    sqrt,
    stack,
    subtract,
    sum,
    tanh,
    transpose,
    var,
    where,
)  # fmt: skip
from minigrad.gradcheck import GradcheckError, gradcheck, numerical_jacobian
from minigrad.random import Generator, manual_seed
from minigrad.serialization import load, save
from minigrad.tensor import Tensor, as_tensor, tensor

cat = concatenate  # PyTorch's name

__version__ = "0.1.0"

__all__ = [
    "Tensor", "tensor", "as_tensor", "nn", "ops", "optim", "save", "load", "manual_seed",
    "bptt", "diagnostics",
    "get_default_dtype", "set_default_dtype",
    "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
    "detect_anomaly", "is_anomaly_enabled", "AnomalyError",
    "grad", "jacobian", "vjp", "hvp", "vhp", "hessian", "jvp", "gradcheck", "numerical_jacobian", "GradcheckError",
    "abs", "broadcast_to", "clip", "concatenate", "exp", "gelu", "leaky_relu", "log",
    "log_softmax", "logsumexp", "matmul", "max", "maximum", "mean", "min", "minimum",
    "permute", "relu", "reshape", "sigmoid", "softmax", "split", "sqrt", "stack", "sum",
    "tanh", "transpose", "var", "where",
    "add", "subtract", "multiply", "divide", "power", "negative", "cat",
    "zeros", "ones", "empty", "full", "arange", "linspace", "eye", "randn", "rand",
    "zeros_like", "ones_like", "randn_like", "randint", "randperm", "multinomial", "Generator",
    "mm", "log2", "log10", "device", "cuda", "utils",
]  # fmt: skip
# The dtype names (minigrad.float32, minigrad.long, ...) are NumPy's types, documented in dtype_names.py
# and README's porting table rather than in __all__ (`from minigrad import *` would shadow int, float, bool).
