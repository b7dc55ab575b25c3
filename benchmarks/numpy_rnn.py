r"""Hand-written NumPy BPTT for one-layer RNN (tanh), LSTM and GRU: the benchmarks' baseline.

Written the way one would by hand, with the same equations and PyTorch's parameter layout:
the input projection $x'_t = W_{ih} x_t + b_{ih}$ for all steps in one matmul, a forward loop
that stores what backward needs, then the backward loop $\delta_t = g_t + J_t^\top \delta_{t+1}$
accumulating $\partial\mathcal{L}/\partial W_{hh}$ step by step, and
$\partial\mathcal{L}/\partial W_{ih}$ in one matmul at the end. Sigmoid is
$\frac12(1+\tanh(a/2))$ in place, as in minigrad's ops.

Each function takes ``x`` (T, N, H_in) and a dict of parameters named as in PyTorch
(``weight_ih_l0``, ...), computes the loss $\mathcal{L} = \sum_t \|h_t\|^2$ over all outputs,
and returns ``(loss, grads)`` with ``grads`` named like the parameters.
"""

from __future__ import annotations

import numpy as np


def _sigmoid_(a: np.ndarray) -> np.ndarray:
    a *= 0.5
    np.tanh(a, out=a)
    a += 1.0
    a *= 0.5
    return a


def _input_grads(x, dxp, p, grads) -> None:
    """Gradients of W_ih and b_ih from every step's dL/dx'_t at once (one matmul)."""
    T, N, _ = x.shape
    d = dxp.reshape(T * N, -1)
    grads["weight_ih_l0"] = d.T @ x.reshape(T * N, -1)
    grads["bias_ih_l0"] = d.sum(axis=0)


def rnn_tanh(x: np.ndarray, p: dict) -> tuple[float, dict]:
    r"""$h_t = \tanh(x'_t + W_{hh} h_{t-1} + b_{hh})$; loss $\sum_t \|h_t\|^2$."""
    W_ih, W_hh, b_ih, b_hh = p["weight_ih_l0"], p["weight_hh_l0"], p["bias_ih_l0"], p["bias_hh_l0"]
    T, N, _ = x.shape
    H = W_hh.shape[1]
    xp = (x.reshape(T * N, -1) @ W_ih.T + b_ih).reshape(T, N, H)
    hs = np.zeros((T + 1, N, H), dtype=x.dtype)
    for t in range(T):
        z = hs[t] @ W_hh.T
        z += xp[t]
        z += b_hh
        np.tanh(z, out=hs[t + 1])
    out = hs[1:]
    loss = float((out * out).sum())
    dxp = np.empty_like(xp)
    dW_hh = np.zeros_like(W_hh)
    dh = np.zeros((N, H), dtype=x.dtype)
    for t in reversed(range(T)):
        dh += 2 * out[t]
        dz = dxp[t]
        np.multiply(out[t], out[t], out=dz)
        np.subtract(1, dz, out=dz)
        dz *= dh
        dW_hh += dz.T @ hs[t]
        dh = dz @ W_hh
    grads = {"weight_hh_l0": dW_hh, "bias_hh_l0": dxp.sum(axis=(0, 1))}
    _input_grads(x, dxp, p, grads)
    return loss, grads


def lstm(x: np.ndarray, p: dict) -> tuple[float, dict]:
    r"""$c_t = f c_{t-1} + i g$, $h_t = o \tanh(c_t)$, gates i, f, g, o; loss $\sum_t \|h_t\|^2$."""
    W_ih, W_hh, b_ih, b_hh = p["weight_ih_l0"], p["weight_hh_l0"], p["bias_ih_l0"], p["bias_hh_l0"]
    T, N, _ = x.shape
    H = W_hh.shape[1]
    xp = (x.reshape(T * N, -1) @ W_ih.T + b_ih).reshape(T, N, 4 * H)
    hs = np.zeros((T + 1, N, H), dtype=x.dtype)
    cs = np.zeros((T + 1, N, H), dtype=x.dtype)
    acts = np.empty((T, N, 4 * H), dtype=x.dtype)
    tcs = np.empty((T, N, H), dtype=x.dtype)
    for t in range(T):
        a = acts[t]
        np.matmul(hs[t], W_hh.T, out=a)
        a += xp[t]
        a += b_hh
        _sigmoid_(a[:, :2 * H])
        np.tanh(a[:, 2 * H:3 * H], out=a[:, 2 * H:3 * H])
        _sigmoid_(a[:, 3 * H:])
        i, f, g, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
        np.multiply(f, cs[t], out=cs[t + 1])
        cs[t + 1] += i * g
        np.tanh(cs[t + 1], out=tcs[t])
        np.multiply(o, tcs[t], out=hs[t + 1])
    out = hs[1:]
    loss = float((out * out).sum())
    dxp = np.empty_like(xp)
    dW_hh = np.zeros_like(W_hh)
    dh = np.zeros((N, H), dtype=x.dtype)
    dc = np.zeros((N, H), dtype=x.dtype)
    for t in reversed(range(T)):
        a, tc, da = acts[t], tcs[t], dxp[t]
        i, f, g, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
        dh += 2 * out[t]
        dc += dh * o * (1 - tc * tc)
        np.multiply(dh * tc, o * (1 - o), out=da[:, 3 * H:])
        np.multiply(dc * g, i * (1 - i), out=da[:, :H])
        np.multiply(dc * cs[t], f * (1 - f), out=da[:, H:2 * H])
        np.multiply(dc * i, 1 - g * g, out=da[:, 2 * H:3 * H])
        dW_hh += da.T @ hs[t]
        dh = da @ W_hh
        dc *= f
    grads = {"weight_hh_l0": dW_hh, "bias_hh_l0": dxp.sum(axis=(0, 1))}
    _input_grads(x, dxp, p, grads)
    return loss, grads


def gru(x: np.ndarray, p: dict) -> tuple[float, dict]:
    r"""$h_t = (1-z) n + z h_{t-1}$, $n = \tanh(x'_n + r(W_{hn} h_{t-1} + b_{hn}))$."""
    W_ih, W_hh, b_ih, b_hh = p["weight_ih_l0"], p["weight_hh_l0"], p["bias_ih_l0"], p["bias_hh_l0"]
    T, N, _ = x.shape
    H = W_hh.shape[1]
    xp = (x.reshape(T * N, -1) @ W_ih.T + b_ih).reshape(T, N, 3 * H)
    hs = np.zeros((T + 1, N, H), dtype=x.dtype)
    ghs = np.empty((T, N, 3 * H), dtype=x.dtype)  # W_hh h + b_hh; its r, z part becomes r, z
    ns = np.empty((T, N, H), dtype=x.dtype)
    for t in range(T):
        gh = ghs[t]
        np.matmul(hs[t], W_hh.T, out=gh)
        gh += b_hh
        rz = gh[:, :2 * H]
        rz += xp[t, :, :2 * H]
        _sigmoid_(rz)
        r, z = rz[:, :H], rz[:, H:]
        n = ns[t]
        np.multiply(r, gh[:, 2 * H:], out=n)
        n += xp[t, :, 2 * H:]
        np.tanh(n, out=n)
        np.subtract(hs[t], n, out=hs[t + 1])
        hs[t + 1] *= z
        hs[t + 1] += n
    out = hs[1:]
    loss = float((out * out).sum())
    dxp = np.empty_like(xp)
    dgh = np.empty((N, 3 * H), dtype=x.dtype)
    dW_hh = np.zeros_like(W_hh)
    db_hh = np.zeros_like(b_hh)
    dh = np.zeros((N, H), dtype=x.dtype)
    for t in reversed(range(T)):
        gh, n, h, dx = ghs[t], ns[t], hs[t], dxp[t]
        r, z, hn = gh[:, :H], gh[:, H:2 * H], gh[:, 2 * H:]
        dh += 2 * out[t]
        dan = dx[:, 2 * H:]
        np.multiply(dh * (1 - z), 1 - n * n, out=dan)
        np.multiply(dan * hn, r * (1 - r), out=dx[:, :H])
        np.multiply(dh * (h - n), z * (1 - z), out=dx[:, H:2 * H])
        dgh[:, :2 * H] = dx[:, :2 * H]
        np.multiply(dan, r, out=dgh[:, 2 * H:])
        dW_hh += dgh.T @ h
        db_hh += dgh.sum(axis=0)
        dh = dh * z + dgh @ W_hh
    grads = {"weight_hh_l0": dW_hh, "bias_hh_l0": db_hh}
    _input_grads(x, dxp, p, grads)
    return loss, grads
