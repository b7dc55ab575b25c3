"""Neural-network building blocks with PyTorch's names (``minigrad.nn``)."""

from minigrad.nn import (
    clipping,
    dropout_rnn,
    extra_cells,
    functional,
    init,
    recurrent_init,
    regularizers,
    utils,
)  # fmt: skip
from minigrad.nn.attention import MultiheadAttention
from minigrad.nn.layers import (
    GELU,
    Dropout,
    Embedding,
    Identity,
    LayerNorm,
    LeakyReLU,
    Linear,
    LogSoftmax,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
)
from minigrad.nn.losses import BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss, NLLLoss
from minigrad.nn.module import Module, ModuleList, Parameter, Sequential
from minigrad.nn.rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from minigrad.nn.transformer import (
    SinusoidalPositionalEncoding,
    TransformerEncoderLayer,
    sinusoidal_positional_encoding,
)

__all__ = [
    "functional", "init", "utils", "Module", "ModuleList", "Parameter", "Sequential",
    "clipping", "recurrent_init", "regularizers", "extra_cells", "dropout_rnn",
    "Linear", "LayerNorm", "Dropout", "Identity", "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "GELU",
    "Softmax", "LogSoftmax",
    "RNNCell", "LSTMCell", "GRUCell", "RNN", "LSTM", "GRU", "Embedding",
    "MSELoss", "L1Loss", "NLLLoss", "CrossEntropyLoss", "BCEWithLogitsLoss",
    "MultiheadAttention", "TransformerEncoderLayer", "SinusoidalPositionalEncoding", "sinusoidal_positional_encoding",
]
