"""Shared builders for the BPTT tests: cells of every kind with random float64 parameters."""

import numpy as np

import minigrad
from minigrad.nn import reference
from minigrad.nn.rnn import GRUCell, LSTMCell, RNNCell

KINDS = ("rnn_tanh", "rnn_relu", "lstm", "gru", "gru_cho")


def make_cell(kind, H_in, H, seed, scale=1.0, bias=True):
    if kind.startswith("rnn"):
        cell = RNNCell(H_in, H, bias=bias, nonlinearity=kind[4:])
    elif kind == "lstm":
        cell = LSTMCell(H_in, H, bias=bias)
    else:
        cell = GRUCell(H_in, H, bias=bias, reset_after=kind == "gru")
    rng = np.random.default_rng(seed)
    for p in cell.parameters():
        p.data[...] = scale * rng.standard_normal(p.shape)
    return cell


def params(cell):
    return [cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh]


def composed_step(kind, x, s, W_ih, W_hh, b_ih, b_hh):
    """s_{t+1} from primitive ops (minigrad.nn.reference), on the [h; c] state for the LSTM."""
    if kind.startswith("rnn"):
        return reference.rnn_step(x, s, W_ih, W_hh, b_ih, b_hh, nonlinearity=kind[4:])
    if kind == "lstm":
        H = W_hh.shape[1]
        h, c = reference.lstm_step(x, s[:, :H], s[:, H:], W_ih, W_hh, b_ih, b_hh)
        return minigrad.concatenate([h, c], axis=1)
    return reference.gru_step(x, s, W_ih, W_hh, b_ih, b_hh, reset_after=kind == "gru")


def preactivations_off_kink(cell, traj, margin=1e-3):
    """For relu cells: every pre-activation z_t is at least ``margin`` away from 0."""
    x = traj.x
    W_ih, W_hh = cell.weight_ih.data, cell.weight_hh.data
    b = 0 if cell.bias_ih is None else cell.bias_ih.data + cell.bias_hh.data
    z = np.stack([x[t] @ W_ih.T + traj.states[t].data @ W_hh.T + b for t in range(traj.T)])
    return np.abs(z).min() > margin
