r"""Hidden graded tests of tasks 5.1, 5.2 (step VJPs), 6.1 (explicit BPTT) and 7.2 (Adam).

Oracles are the closed forms, written out here (this file is never shipped to students):
every output is its own item, for several sizes and seeds, compared at 1e-12. The pieces run
in the sealed process (``ask``), the oracles here. The step VJPs also get one large item
(N=64, H=128): one forward pass per input entry does not fit in the time a call may take.
"""

import numpy as np
import pytest
from hidden_oracle import ask, expect_close

import minigrad as mg
from minigrad import bptt
from minigrad.nn.rnn import GRUCell

SIZES = [(1, 1, 0), (2, 3, 1), (3, 2, 2), (64, 128, 3)]  # (N, H, seed)


def sigmoid(a):
    return 0.5 * (1 + np.tanh(0.5 * a))


def rnn_case(nonlinearity, N, H, seed):
    rng = np.random.default_rng(seed)
    xp, h, W, b = rng.normal(size=(N, H)), rng.normal(size=(N, H)), rng.normal(size=(H, H)), rng.normal(size=H)
    z = xp + h @ W.T + b
    xp = np.where(np.abs(z) < 1e-2, 0.5, z) - h @ W.T - b  # keep relu off its kink
    g = rng.normal(size=(N, H))
    z = xp + h @ W.T + b
    delta = g * (1 - np.tanh(z) ** 2) if nonlinearity == "tanh" else g * (z > 0)
    exact = {"dL/dx'_t": delta, "dL/dh_{t-1}": delta @ W, "dL/dW_hh": delta.T @ h, "dL/db_hh": delta.sum(0)}
    return [xp, h, W, b], g, exact


@pytest.mark.parametrize("output", [0, 1, 2, 3], ids=["dx'", "dh_prev", "dW_hh", "db_hh"])
@pytest.mark.parametrize("N, H, seed", SIZES)
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_step_vjp(sealed, nonlinearity, N, H, seed, output):
    inputs, g, exact = rnn_case(nonlinearity, N, H, seed)
    piece = "minigrad.ops.recurrent.RNNStep.vjp"
    grads = ask(sealed, piece, "probes_rnn", "rnn_step_vjp", nonlinearity=nonlinearity, inputs=inputs, g=g)
    n = len(grads) if isinstance(grads, list) else type(grads).__name__
    assert n == 4, f"RNNStep.vjp must return 4 gradients (x', h_prev, W_hh, b_hh), got {n}"
    name = list(exact)[output]
    expect_close(grads[output], exact[name], what=name, piece=piece,
                 made=f"RNNStep({nonlinearity!r}), N={N}, H={H}, normal inputs seed {seed}")  # fmt: skip


def lstm_case(N, H, seed):
    rng = np.random.default_rng(seed)
    xp, s, W, b = rng.normal(size=(N, 4 * H)), rng.normal(size=(N, 2 * H)), rng.normal(size=(4 * H, H)), \
        rng.normal(size=4 * H)  # fmt: skip
    g = rng.normal(size=(N, 2 * H))
    h, c = s[:, :H], s[:, H:]
    a = xp + h @ W.T + b
    i, f, gg, o = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), np.tanh(a[:, 2 * H:3 * H]), sigmoid(a[:, 3 * H:])
    c_new = f * c + i * gg
    tau = np.tanh(c_new)
    gh, gc = g[:, :H], g[:, H:]
    dc = gc + gh * o * (1 - tau**2)
    da = np.concatenate([dc * gg * i * (1 - i), dc * c * f * (1 - f), dc * i * (1 - gg**2),
                         gh * tau * o * (1 - o)], axis=1)  # fmt: skip
    exact = {"dL/dx'_t (the gates' pre-activations)": da, "dL/dh_{t-1}": da @ W, "dL/dc_{t-1}": dc * f,
             "dL/dW_hh": da.T @ h, "dL/db_hh": da.sum(0)}  # fmt: skip
    return [xp, s, W, b], g, exact


@pytest.mark.parametrize("output", [0, 1, 2, 3, 4], ids=["dx'", "dh_prev", "dc_prev", "dW_hh", "db_hh"])
@pytest.mark.parametrize("N, H, seed", SIZES)
def test_lstm_step_vjp(sealed, N, H, seed, output):
    inputs, g, exact = lstm_case(N, H, seed)
    grads = ask(sealed, "minigrad.ops.recurrent.LSTMStep.vjp", "probes_rnn", "lstm_step_vjp", inputs=inputs, g=g)
    n = len(grads) if isinstance(grads, list) else type(grads).__name__
    assert n == 4, f"LSTMStep.vjp must return 4 gradients (x', s_prev, W_hh, b_hh), got {n}"
    name = list(exact)[output]
    got = grads[output - 1 if output >= 2 else output]
    if output in (1, 2):  # s_prev = [h; c]: its gradient's two halves are graded separately
        got = None if got is None else np.asarray(got)[:, :H] if output == 1 else np.asarray(got)[:, H:]
    expect_close(got, exact[name], what=name, piece="minigrad.ops.recurrent.LSTMStep.vjp",
                 made=f"LSTMStep, N={N}, H={H}, normal inputs seed {seed}")  # fmt: skip


BPTT_CASES = [(1, 1, 3), (3, 2, 4), (4, 2, 5)]  # (T, N, seed)
OUTPUTS = ["adjoints[0]", "adjoints[1:]", "contributions", "param_grads keys", "weight_ih", "weight_hh",
           "bias_ih", "bias_hh", "input_grads"]  # fmt: skip


def gru_trajectory(T, N, seed):
    rng = np.random.default_rng(seed)
    cell = GRUCell(2, 3)
    for p in cell.parameters():
        p.data[...] = 0.8 * rng.normal(size=p.shape)
    x, s0 = rng.normal(size=(T, N, 2)), 0.5 * rng.normal(size=(N, 3))
    g = rng.normal(size=(T + 1, N, 3))
    params = [p.data.copy() for p in cell.parameters()]
    return bptt.unroll(cell, mg.tensor(x), state0=mg.tensor(s0)), g, {"params": params, "x": x, "s0": s0, "g": g}


def exact_bptt(traj, g):
    """delta_T = g_T, delta_t = g_t + J_t^T delta_{t+1}; then each step's VJP with delta_{t+1}."""
    T = traj.T
    delta = np.empty_like(g)
    delta[T] = g[T]
    for t in range(T - 1, -1, -1):
        J = traj.steps[t].state_jacobian()
        delta[t] = g[t] + np.einsum("nij,ni->nj", J, delta[t + 1])
    cell = traj.cell
    W_ih = cell.weight_ih.data
    grads = {"weight_ih": np.zeros_like(W_ih), "weight_hh": 0, "bias_ih": 0, "bias_hh": 0}
    contributions, inputs = [], []
    for t, op in enumerate(traj.steps):
        saved, op.needs_grad = op.needs_grad, (True,) * len(op.in_shapes)
        dxp, _, dW, db = op.vjp(delta[t + 1])
        op.needs_grad = saved
        contributions.append(dW)
        grads["bias_hh"] = grads["bias_hh"] + db
        grads["weight_ih"] += dxp.T @ traj.x[t]
        grads["bias_ih"] = grads["bias_ih"] + dxp.sum(0)
        inputs.append(dxp @ W_ih)
    grads["weight_hh"] = np.sum(contributions, axis=0)
    return delta, grads, np.stack(contributions), np.stack(inputs)


@pytest.mark.parametrize("output", OUTPUTS)
@pytest.mark.parametrize("T, N, seed", BPTT_CASES)
def test_explicit_bptt(sealed, T, N, seed, output):
    traj, g, case = gru_trajectory(T, N, seed)
    delta, grads, contributions, input_grads = exact_bptt(traj, g)
    piece = "minigrad.bptt.Trajectory.backprop"
    result = ask(sealed, piece, "probes_rnn", "explicit_bptt", **case)
    made = f"GRUCell(2, 3) weights 0.8 * normal, T={T}, N={N}, seed {seed}"
    if output == "param_grads keys":
        got = sorted(result["param_grads"])
        assert got == sorted(grads), f"{piece}: param_grads must have the keys {sorted(grads)}, got {got} ({made})"
    elif output in grads:
        expect_close(result["param_grads"].get(output), grads[output], what=f"param_grads[{output!r}] (dL/d{output})",
                     piece=piece, made=made)  # fmt: skip
    else:
        expected = {"adjoints[0]": delta[0], "adjoints[1:]": delta[1:], "contributions": contributions,
                    "input_grads": input_grads}[output]  # fmt: skip
        adjoints = np.asarray(result["adjoints"])
        got = {"adjoints[0]": adjoints[0] if adjoints.ndim else adjoints, "adjoints[1:]": adjoints[1:],
               "contributions": result["contributions"], "input_grads": result["input_grads"]}[output]  # fmt: skip
        what = {"adjoints[0]": "delta_0 = dL/ds_0", "adjoints[1:]": "delta_t = dL/ds_t for t = 1..T",
                "contributions": "contributions[t] (step t's term of dL/dW_hh)",
                "input_grads": "dL/dx_t"}[output]  # fmt: skip
        expect_close(got, expected, what=what, piece=piece, made=made)


THETA0 = np.array([1.0, -2.0, 0.5])
A = np.array([2.0, 0.5, 1.0])
B = np.array([1.0, 1.0, -1.0])


def reference_adam(lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, steps=4):
    r"""Kingma & Ba with PyTorch's conventions, on the loss $\frac12 \sum a\theta^2 - b\theta$."""
    theta, m, v, v_max = THETA0.copy(), np.zeros(3), np.zeros(3), np.zeros(3)
    for t in range(1, steps + 1):
        g = A * theta - B + weight_decay * theta
        m = betas[0] * m + (1 - betas[0]) * g
        v = betas[1] * v + (1 - betas[1]) * g * g
        v_max = np.maximum(v_max, v)
        v_hat = (v_max if amsgrad else v) / (1 - betas[1] ** t)
        theta = theta - lr / (1 - betas[0] ** t) * m / (np.sqrt(v_hat) + eps)
    return theta


ADAM = [{"lr": 0.1}, {"lr": 0.1, "betas": (0.5, 0.9), "eps": 1e-3}, {"lr": 0.1, "weight_decay": 0.3},
        {"lr": 0.1, "betas": (0.9, 0.5), "amsgrad": True}]  # fmt: skip


@pytest.mark.parametrize("steps", [1, 4])
@pytest.mark.parametrize("kwargs", ADAM, ids=lambda k: ",".join(f"{a}={b}" for a, b in k.items()))
def test_adam_step(sealed, kwargs, steps):
    piece = "minigrad.optim.Adam._update"
    got = ask(sealed, piece, "probes_rnn", "adam", theta0=THETA0, a=A, b=B, kwargs=kwargs, steps=steps)
    expect_close(got, reference_adam(**kwargs, steps=steps), what=f"theta after {steps} step(s)",
                 piece=piece,
                 made=f"Adam({kwargs}) on 0.5 * sum(a theta^2) - b theta, theta0 = {THETA0.tolist()}")  # fmt: skip
