"""Multi-head self-attention vs hand-written NumPy, and vs the LSTM of the same width (float32, one thread).

Each measurement is forward + backward of $\\mathcal{L} = \\sum \\lVert y\\rVert^2$ over the output of
``nn.MultiheadAttention(E=64, 4 heads)`` on x of shape (T=128, N=16, E=64), self-attention
(query = key = value = x), all parameter gradients, written as a user would:
``(out * out).sum().backward()``. Three minigrad variants:

1. ``need_weights=False``: the fused op ``F.scaled_dot_product_attention`` (one op, closed-form VJP);
2. ``need_weights=True``: scores, softmax and matmul as separate ops (what returns the weights);
3. ``nn.LSTM(64, 64)`` on the same x: the recurrent layer of the same width, T sequential steps.

The NumPy reference (``numpy_mha`` below) is the same math, forward and backward written out by
hand; both are first checked to give the same loss and gradients. Timing: best of several runs,
the sides in turn, CPU time of the process. The machine is shared with other jobs: ratios are the
information, absolute times vary.

Run: ``python benchmarks/bench_attention.py`` (``--quick`` for fewer repeats).
"""

from __future__ import annotations

import sys
import time

import _timing  # noqa: F401, I001  (sets one BLAS thread before NumPy loads)
import numpy as np

import minigrad as mg

T, N, E, HEADS = 128, 16, 64, 4
REPEATS = 3 if "--quick" in sys.argv else 7


def softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def numpy_mha(x, w_in, b_in, w_out, b_out):
    """Loss and gradients (w_in, b_in, w_out, b_out) of sum(y**2) for self-attention, by hand."""
    L, n, e = x.shape
    d = e // HEADS
    qkv = x @ w_in.T + b_in  # (L, N, 3E)
    heads = qkv.reshape(L, n, 3, HEADS, d).transpose(2, 1, 3, 0, 4)  # (3, N, H, L, d)
    q, k, v = heads[0], heads[1], heads[2]
    c = np.float32(1 / np.sqrt(d))
    p = softmax(c * q @ k.swapaxes(-1, -2))  # (N, H, L, L)
    o = p @ v  # (N, H, L, d)
    concat = o.transpose(2, 0, 1, 3).reshape(L, n, e)
    y = concat @ w_out.T + b_out
    loss = np.sum(y * y)
    gy = 2 * y
    g_w_out = gy.reshape(-1, e).T @ concat.reshape(-1, e)
    g_b_out = gy.sum(axis=(0, 1))
    g_o = (gy @ w_out).reshape(L, n, HEADS, d).transpose(1, 2, 0, 3)
    g_v = p.swapaxes(-1, -2) @ g_o
    g_p = g_o @ v.swapaxes(-1, -2)
    g_z = p * (g_p - np.sum(g_p * p, axis=-1, keepdims=True))
    g_q, g_k = c * g_z @ k, c * g_z.swapaxes(-1, -2) @ q
    g_qkv = np.stack([g_q, g_k, g_v]).transpose(3, 1, 0, 2, 4).reshape(L, n, 3 * e)
    g_w_in = g_qkv.reshape(-1, 3 * e).T @ x.reshape(-1, e)
    g_b_in = g_qkv.sum(axis=(0, 1))
    return loss, (g_w_in, g_b_in, g_w_out, g_b_out)


def setup():
    mg.manual_seed(0)
    mha = mg.nn.MultiheadAttention(E, HEADS).to(np.float32)
    lstm = mg.nn.LSTM(E, E).to(np.float32)
    x_np = np.random.default_rng(0).standard_normal((T, N, E)).astype(np.float32)
    x = mg.tensor(x_np)
    params = [mha.in_proj_weight, mha.in_proj_bias, mha.out_proj.weight, mha.out_proj.bias]
    arrays = [p.data for p in params]

    def run_mha(need_weights):
        def fn():
            mha.zero_grad()
            out, _ = mha(x, x, x, need_weights=need_weights)
            loss = (out * out).sum()
            loss.backward()
            return loss

        return fn

    def run_lstm():
        lstm.zero_grad()
        out, _ = lstm(x)
        (out * out).sum().backward()

    def run_numpy():
        return numpy_mha(x_np, *arrays)

    loss = run_mha(False)()
    ref_loss, ref_grads = run_numpy()
    assert np.isclose(float(loss.item()), ref_loss, rtol=1e-4), (float(loss.item()), ref_loss)
    for p, g in zip(params, ref_grads):
        assert np.allclose(p.grad, g, rtol=2e-3, atol=2e-3 * np.abs(g).max()), "gradients differ"
    return run_mha(False), run_mha(True), run_lstm, run_numpy


def main() -> None:
    fused, composed, lstm, numpy_fn = setup()
    # CPU time, not wall time: on the shared machine a process waits for a core, and wall times then
    # measure the other jobs (bench_rnn.py uses CPU time for its verdicts too)
    t_fused, t_composed, t_lstm, t_numpy = _timing.best_times_alternating(
        [fused, composed, lstm, numpy_fn], repeats=REPEATS, warmup=1, clock=time.process_time)  # fmt: skip
    print(f"T={T}, N={N}, E={E}, {HEADS} heads, float32, forward + backward, best of {REPEATS} (CPU time)")
    print(f"  NumPy by hand                       {t_numpy * 1e3:8.2f} ms")
    print(f"  minigrad MHA, need_weights=False    {t_fused * 1e3:8.2f} ms   {t_fused / t_numpy:5.2f}x NumPy")
    print(f"  minigrad MHA, need_weights=True     {t_composed * 1e3:8.2f} ms   {t_composed / t_numpy:5.2f}x NumPy")
    print(f"  minigrad LSTM(64, 64), same x       {t_lstm * 1e3:8.2f} ms   "
          f"{t_lstm / t_fused:5.2f}x the fused MHA")  # fmt: skip


if __name__ == "__main__":
    main()
