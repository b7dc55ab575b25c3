"""Probes of tasks 5.1, 5.2, 6.1 and 7.2, run in the sealed process. No expected value is here."""

import numpy as np

import minigrad as mg
from minigrad import bptt
from minigrad.nn import Parameter
from minigrad.nn.rnn import GRUCell
from minigrad.ops.recurrent import LSTMStep, RNNStep
from minigrad.optim import Adam


def rnn_step_vjp(nonlinearity, inputs, g):
    op = RNNStep(nonlinearity)
    op(*inputs)
    return list(op.vjp(g))


def lstm_step_vjp(inputs, g):
    op = LSTMStep()
    op(*inputs)
    return list(op.vjp(g))


def explicit_bptt(params, x, s0, g):
    """Trajectory.backprop of a GRUCell(2, 3) with these parameters (in parameters() order)."""
    cell = GRUCell(2, 3)
    for p, value in zip(cell.parameters(), params, strict=True):
        p.data[...] = value
    result = bptt.unroll(cell, mg.tensor(x), state0=mg.tensor(s0)).backprop(g)
    return {"adjoints": np.asarray(result.adjoints), "contributions": result.contributions,
            "input_grads": result.input_grads, "param_grads": dict(result.param_grads)}  # fmt: skip


def adam(theta0, a, b, kwargs, steps):
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in kwargs.items()}
    p = Parameter(theta0)
    opt = Adam([p], **kwargs)
    for _ in range(int(steps)):
        p.grad = a * p.data - b  # the gradient, set by hand: no backward pass needed
        opt.step()
    return p.data
