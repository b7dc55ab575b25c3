"""Every primitive op of minigrad, one class each. ``ALL_OPS`` is the derivatives table.

Read ``base.py`` first (the Op contract), then any op: each file is independent.
"""

from minigrad.ops.activations import GELU, LeakyReLU, ReLU, Sigmoid, Tanh
from minigrad.ops.arithmetic import Add, Div, Maximum, Minimum, Mul, Neg, Pow, Sub, Where
from minigrad.ops.attention import ScaledDotProductAttention
from minigrad.ops.base import Elementwise, Op
from minigrad.ops.extra_steps import HighwayRNNStep, LayerNormRNNStep, ResidualRNNStep
from minigrad.ops.gru_step import GRUStep
from minigrad.ops.linalg import MatMul
from minigrad.ops.recurrent import LSTMStep, RNNStep
from minigrad.ops.recurrent_sequence import GRUSequenceStep, LSTMSequenceStep, RNNSequenceStep, StepOutputs
from minigrad.ops.reductions import LogSumExp, Max, Mean, Min, Sum, Var
from minigrad.ops.shape import BroadcastTo, Concatenate, GetItem, Reshape, Stack, Transpose
from minigrad.ops.softmax import LogSoftmax, Softmax
from minigrad.ops.spectral import NuclearNorm, SpectralNorm, SpectralRadius
from minigrad.ops.unary import Abs, Clip, Exp, Log, Sqrt

#: Every op: the primitives, the spectral ops the regularizers use, and the fused recurrent
#: steps (the remedy cells' too, ``extra_steps.py``). The gradient test factory (tests/ops)
#: checks each one, and a meta-test fails if an op listed here has no test spec.
ALL_OPS = (
    Add, Sub, Mul, Div, Neg, Pow, Maximum, Minimum, Where,
    Exp, Log, Sqrt, Abs, Clip,
    Sigmoid, Tanh, ReLU, LeakyReLU, GELU,
    MatMul,
    Sum, Mean, Var, Max, Min, LogSumExp,
    Softmax, LogSoftmax,
    Reshape, Transpose, BroadcastTo, GetItem, Concatenate, Stack,
    SpectralNorm, NuclearNorm, SpectralRadius,
    RNNStep, LSTMStep, GRUStep, RNNSequenceStep, LSTMSequenceStep, GRUSequenceStep, StepOutputs,
    ResidualRNNStep, HighwayRNNStep, LayerNormRNNStep,
    ScaledDotProductAttention,
)  # fmt: skip

__all__ = [
    "ALL_OPS", "Op", "Elementwise",
    "Add", "Sub", "Mul", "Div", "Neg", "Pow", "Maximum", "Minimum", "Where",
    "Exp", "Log", "Sqrt", "Abs", "Clip",
    "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "GELU",
    "MatMul",
    "Sum", "Mean", "Var", "Max", "Min", "LogSumExp",
    "Softmax", "LogSoftmax",
    "Reshape", "Transpose", "BroadcastTo", "GetItem", "Concatenate", "Stack",
    "SpectralNorm", "NuclearNorm", "SpectralRadius",
    "RNNStep", "LSTMStep", "GRUStep", "RNNSequenceStep", "LSTMSequenceStep", "GRUSequenceStep", "StepOutputs",
    "ResidualRNNStep", "HighwayRNNStep", "LayerNormRNNStep",
    "ScaledDotProductAttention",
]  # fmt: skip
