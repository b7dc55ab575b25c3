"""Attention beyond the PyTorch fixtures: edge values, argument errors, dropout, float32, both
MultiheadAttention paths, the positional encoding. The op's derivatives are checked by the
gradient factory (tests/ops/attention_spec.py); parity with PyTorch by test_attention_torch_parity.py.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad import nn
from minigrad.nn import functional as F
from minigrad.ops.attention import ScaledDotProductAttention
from minigrad.tensor import Tensor

FINITE_EDGE = [0.0, -0.0, 1.0, -1.0, 2.0, 0.5, 1000.0, -1000.0]


def _composed(q, k, v, mask, scale):
    """The same attention from primitive ops (matmul, softmax, matmul)."""
    z = (q @ k.transpose((0, 2, 1))) * scale
    return F.softmax(z if mask is None else z + Tensor(mask), dim=-1) @ v


@settings(max_examples=60)
@given(data=st.data())
def test_op_at_finite_edge_values_matches_its_composition_without_warnings(data):
    """Zeros, ties and huge scores (1000² in a score): value and gradient as the composition."""
    L, S, E = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3)), data.draw(st.integers(1, 2))
    xs = [data.draw(st.lists(st.sampled_from(FINITE_EDGE), min_size=n, max_size=n)) for n in (L * E, S * E, S * 2)]
    arrays = [np.array(x).reshape(1, -1, c) for x, c in zip(xs, (E, E, 2))]
    causal = data.draw(st.booleans()) and L <= S
    mask = np.where(np.tril(np.ones((L, S), bool)), 0.0, -np.inf) if causal else None
    fused = [mg.tensor(a, requires_grad=True) for a in arrays]
    plain = [mg.tensor(a, requires_grad=True) for a in arrays]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = F.scaled_dot_product_attention(*fused, is_causal=causal)
        r = _composed(*plain, mask, 1 / np.sqrt(E))
        g = np.arange(1.0, y.size + 1).reshape(y.shape)
        y.backward(g)
        r.backward(g)
    np.testing.assert_allclose(y.data, r.data, rtol=1e-12, atol=1e-12)
    for a, b in zip(fused, plain):
        np.testing.assert_allclose(a.grad, b.grad, rtol=1e-9, atol=1e-9)


def test_a_query_with_every_key_masked_gets_zero_output_and_zero_gradient():
    rng = np.random.default_rng(0)
    q, k, v = (mg.tensor(rng.normal(size=s), requires_grad=True) for s in ((3, 2), (4, 2), (4, 5)))
    mask = np.ones((3, 4), dtype=bool)
    mask[1] = False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        y.sum().backward()
    assert np.all(y.data[1] == 0) and np.all(np.isfinite(y.data))
    assert np.all(q.grad[1] == 0) and np.all(np.isfinite(k.grad)) and np.all(np.isfinite(v.grad))


def test_jacobian_by_query_is_the_covariance_of_values_and_keys_under_the_weights():
    """The module docstring's formula, for one query: ∂O/∂q = c (E_P[v kᵀ] − E_P[v] E_P[k]ᵀ)."""
    rng = np.random.default_rng(1)
    q, k, v = rng.normal(size=(1, 1, 3)), rng.normal(size=(1, 5, 3)), rng.normal(size=(1, 5, 2))
    op = ScaledDotProductAttention(0.7)
    op(q, k, v)
    p = op.saved[3][0, 0]
    cov = (v[0].T * p) @ k[0] - np.outer(p @ v[0], p @ k[0])
    np.testing.assert_allclose(op.jacobian(0), 0.7 * cov, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"query": np.ones((2, 3, 4)), "key": np.ones((2, 5, 3))}, ValueError, "query .* key"),
        ({"value": np.ones((2, 4, 4))}, ValueError, "value"),
        ({"attn_mask": np.ones((3, 5), bool), "is_causal": True}, ValueError, "not both"),
        ({"attn_mask": np.ones((2, 5), bool)}, ValueError, "attn_mask"),
        ({"attn_mask": np.ones((3, 5), int)}, TypeError, "boolean or float"),
        ({"dropout_p": 1.5}, ValueError, "dropout_p"),
        ({"scale": "big"}, TypeError, "scale"),
        ({"query": np.ones((2, 3, 4), np.float32)}, TypeError, "dtype"),
        ({"query": np.ones((2, 3, 4), int)}, TypeError, "query must be a float"),
        ({"query": np.ones((3, 3, 4))}, ValueError, "batch axes"),
    ],
)
def test_function_refuses_bad_arguments_naming_them(kwargs, error, match):
    args = {"query": np.ones((2, 3, 4)), "key": np.ones((2, 5, 4)), "value": np.ones((2, 5, 6))} | kwargs
    with pytest.raises(error, match=match):
        F.scaled_dot_product_attention(**args)


def test_dropout_draws_from_minigrads_generator_and_rescales():
    rng = np.random.default_rng(2)
    q, k = mg.tensor(rng.normal(size=(200, 4))), mg.tensor(rng.normal(size=(50, 4)))
    v = mg.tensor(np.ones((50, 1)))
    mg.manual_seed(7)
    a = F.scaled_dot_product_attention(q, k, v, dropout_p=0.25)
    mg.manual_seed(7)
    b = F.scaled_dot_product_attention(q, k, v, dropout_p=0.25)
    np.testing.assert_array_equal(a.data, b.data)
    # v = 1: each output is Σ_s P_s D_s, mean 1 over the dropout draws
    assert abs(a.data.mean() - 1.0) < 0.05 and a.data.std() > 0.05
    assert np.all(F.scaled_dot_product_attention(q, k, v, dropout_p=1.0).data == 0)


def test_float32_stays_float32():
    x = mg.tensor(np.random.default_rng(3).normal(size=(4, 2, 8)).astype(np.float32), requires_grad=True)
    y = F.scaled_dot_product_attention(x, x, x, is_causal=True)
    y.sum().backward()
    assert y.dtype == np.float32 and x.grad.dtype == np.float32
    m = nn.MultiheadAttention(8, 2, dtype=np.float32)
    out, w = m(x, x, x)
    assert out.dtype == np.float32 and w.dtype == np.float32
    with pytest.raises(TypeError, match="dtype"):
        m(mg.tensor(x.data.astype(np.float64)), x, x)


@pytest.mark.parametrize("masks", ["none", "kpm", "both"])
def test_both_multihead_paths_agree_and_average_the_per_head_weights(masks):
    """need_weights=True (plain ops) and False (the fused op) give the same output and gradients."""
    rng = np.random.default_rng(4)
    mg.manual_seed(0)
    m = nn.MultiheadAttention(8, 4, batch_first=True)
    x = rng.normal(size=(3, 5, 8))
    kw = {}
    if masks != "none":
        kpm = rng.random((3, 5)) < 0.3
        kpm[:, 0] = False
        kw["key_padding_mask"] = kpm
    if masks == "both":
        kw["attn_mask"] = rng.normal(size=(5, 5))
    results = []
    for need in (True, False):
        m.zero_grad()
        xt = mg.tensor(x, requires_grad=True)
        out, w = m(xt, xt, xt, need_weights=need, **kw)
        out.sum().backward()
        results.append((out.data, xt.grad, m.in_proj_weight.grad))
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    _, per_head = m(mg.tensor(x), mg.tensor(x), mg.tensor(x), average_attn_weights=False, **kw)
    _, avg = m(mg.tensor(x), mg.tensor(x), mg.tensor(x), **kw)
    assert per_head.shape == (3, 4, 5, 5) and avg.shape == (3, 5, 5)
    np.testing.assert_allclose(per_head.data.mean(axis=1), avg.data, rtol=1e-12)
    np.testing.assert_allclose(avg.data.sum(axis=-1), 1.0, rtol=1e-12)


def test_multihead_initialisation_is_pytorchs():
    mg.manual_seed(0)
    m = nn.MultiheadAttention(64, 4, add_bias_kv=True)
    bound = np.sqrt(6 / (64 + 3 * 64))  # xavier_uniform_ on the (3E, E) stacked weight
    assert np.abs(m.in_proj_weight.data).max() <= bound and np.abs(m.in_proj_weight.data).max() > 0.95 * bound
    assert np.all(m.in_proj_bias.data == 0) and np.all(m.out_proj.bias.data == 0)
    assert m.bias_k.shape == (1, 1, 64) and m.bias_k.data.std() > 0


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: nn.MultiheadAttention(10, 3), "divisible"),
        (lambda: nn.MultiheadAttention(8, 2, dropout=2.0), "dropout"),
        (lambda: nn.TransformerEncoderLayer(8, 2, activation="tanh"), "activation"),
    ],
)
def test_constructors_refuse_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_multihead_forward_refuses_bad_shapes_and_masks():
    m = nn.MultiheadAttention(8, 2)
    x = mg.tensor(np.zeros((4, 3, 8)))
    with pytest.raises(ValueError, match="key_padding_mask must have shape"):
        m(x, x, x, key_padding_mask=np.zeros((4, 3), bool))
    with pytest.raises(ValueError, match="attn_mask must have shape"):
        m(x, x, x, attn_mask=np.zeros((3, 3)))
    with pytest.raises(ValueError, match="8 features"):
        m(mg.tensor(np.zeros((4, 3, 7))), x, x)
    with pytest.raises(ValueError, match="all 2-d"):
        m(x, mg.tensor(np.zeros((4, 8))), x)
    with pytest.raises(ValueError, match="is_causal"):
        m(x, x, x, is_causal=True)


def test_encoder_layer_dropout_only_in_training_mode():
    mg.manual_seed(0)
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.5)
    x = mg.tensor(np.random.default_rng(5).normal(size=(4, 2, 8)))
    layer.eval()
    a, b = layer(x).data, layer(x).data
    np.testing.assert_array_equal(a, b)
    layer.train()
    assert not np.allclose(layer(x).data, a)


def test_pre_norm_keeps_an_identity_path_from_output_to_input():
    """Pre-norm: y = x + SA(LN x) + FF(...). With every sublayer's output weight zero, y = x, ∂y/∂x = I."""
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, norm_first=True)
    for p in (layer.self_attn.out_proj.weight, layer.self_attn.out_proj.bias, layer.linear2.weight, layer.linear2.bias):
        p.data[...] = 0
    x = mg.tensor(np.random.default_rng(6).normal(size=(4, 2, 8)), requires_grad=True)
    y = layer(x)
    y.sum().backward()
    np.testing.assert_array_equal(y.data, x.data)
    np.testing.assert_array_equal(x.grad, np.ones(x.shape))


def test_sinusoidal_encoding_formula_and_relative_shift():
    pe = nn.sinusoidal_positional_encoding(50, 6)
    t = 7  # columns 4, 5: frequency 1 / 10000^(4/6)
    w = 10000 ** (-4 / 6)
    assert pe[t, 4] == pytest.approx(np.sin(t * w), abs=1e-15) and pe[t, 5] == pytest.approx(np.cos(t * w))
    # PE[t + Δ] = R(Δ) PE[t] for every t: one fixed rotation per column pair
    delta = 3
    for col in range(0, 6, 2):
        f = 10000 ** (-col / 6)
        R = np.array([[np.cos(delta * f), -np.sin(delta * f)], [np.sin(delta * f), np.cos(delta * f)]])
        np.testing.assert_allclose(pe[delta:, col:col + 2], pe[:-delta, col:col + 2] @ R, atol=1e-12)
    assert nn.sinusoidal_positional_encoding(4, 5).shape == (4, 5)  # odd width: the last column is a sine


def test_positional_encoding_module_adds_the_table_along_the_sequence_axis():
    enc = nn.SinusoidalPositionalEncoding(6, max_len=10, batch_first=True)
    x = mg.tensor(np.zeros((2, 4, 6)), requires_grad=True)
    y = enc(x)
    np.testing.assert_array_equal(y.data[1], nn.sinusoidal_positional_encoding(4, 6))
    assert enc.state_dict() == {}
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, np.ones(x.shape))
    seq_first = nn.SinusoidalPositionalEncoding(6, max_len=10)
    np.testing.assert_array_equal(seq_first(mg.tensor(np.zeros((4, 2, 6)))).data[:, 1], y.data[1])
    with pytest.raises(ValueError, match="max_len"):
        enc(mg.tensor(np.zeros((1, 11, 6))))


def _attention_input_gradients(scale: float, seed: int, L: int = 10, E: int = 8):
    """One causal self-attention layer out_t = sum_k alpha_tk x_k (q = W_q x, k = W_k x, v = x), and
    <g, out>: (autograd's dL/dx, the textbook sum_t alpha_tk g_t, the full closed form)."""
    rng = np.random.default_rng(seed)
    x, g = rng.normal(size=(L, E)), rng.normal(size=(L, E))
    Wq, Wk = (rng.normal(size=(E, E)) * scale / np.sqrt(E) for _ in range(2))
    xt = mg.tensor(x, requires_grad=True)
    out = F.scaled_dot_product_attention(xt @ mg.tensor(Wq.T), xt @ mg.tensor(Wk.T), xt, is_causal=True)
    (out * mg.tensor(g)).sum().backward()
    c, q, k = 1 / np.sqrt(E), x @ Wq.T, x @ Wk.T
    z = np.where(np.tril(np.ones((L, L), bool)), c * q @ k.T, -np.inf)
    a = np.exp(z - z.max(axis=1, keepdims=True))
    a /= a.sum(axis=1, keepdims=True)
    textbook = a.T @ g  # "dL/dh_k = sum_t alpha_tk dL/dh_t": the value path only
    grad_a = g @ x.T
    grad_z = a * (grad_a - np.sum(grad_a * a, axis=1, keepdims=True))  # the softmax Jacobian's term
    full = textbook + (c * grad_z @ k) @ Wq + (c * grad_z.T @ q) @ Wk
    return xt.grad, textbook, full


def test_the_textbook_attention_gradient_misses_the_softmax_term():
    """The value-path formula sum_t alpha_tk g_t drops how x_k moves the weights themselves (through
    its query and its key). With it added, the closed form equals autograd; without it the error is
    small only while attention is near uniform."""
    errors = {}
    for scale in (0.1, 1.0, 2.0):  # W_q, W_k ~ N(0, scale^2 / E): larger scale, more peaked attention
        errors[scale] = []
        for seed in range(5):
            auto, textbook, full = _attention_input_gradients(scale, seed)
            assert np.abs(full - auto).max() < 1e-10 * np.abs(auto).max()
            errors[scale].append(np.linalg.norm(textbook - auto) / np.linalg.norm(auto))
    print({s: [round(float(e), 3) for e in v] for s, v in errors.items()})
    assert max(errors[0.1]) < 0.03  # near-uniform weights: the missing term is small (0.6%-2.8%)
    assert 0.5 < min(errors[1.0]) and max(errors[1.0]) < 0.75  # 0.56-0.68 of the gradient's norm
    assert min(errors[2.0]) > 0.85  # 0.90-0.93


def test_multihead_dropout_returns_the_weights_the_values_were_mixed_with():
    """As PyTorch: with dropout, the returned (per-head) weights are the dropped ones, rows no longer
    summing to 1, and output = out_proj(weights @ v)."""
    mg.manual_seed(3)
    m = nn.MultiheadAttention(8, 2, dropout=0.5, bias=False)
    m.out_proj.weight.data[...] = np.eye(8)
    x = mg.tensor(np.random.default_rng(7).normal(size=(5, 1, 8)))
    out, w = m(x, x, x, average_attn_weights=False)
    v = (x.data[:, 0] @ m.in_proj_weight.data[16:].T).reshape(5, 2, 4).transpose(1, 0, 2)  # (H, S, d)
    np.testing.assert_allclose(out.data[:, 0], (w.data[0] @ v).transpose(1, 0, 2).reshape(5, 8), rtol=1e-12)
    assert np.any(np.abs(w.data.sum(axis=-1) - 1) > 0.1) and np.any(w.data == 0)
    m.eval()
    _, w_eval = m(x, x, x)
    np.testing.assert_allclose(w_eval.data.sum(axis=-1), 1.0, rtol=1e-12)


@pytest.mark.parametrize("L, S", [(0, 3), (3, 0), (0, 0)])
def test_empty_queries_or_keys(L, S):
    """No keys: every query attends to nothing, output 0 (as a fully masked row); no queries: empty."""
    q, k, v = (mg.tensor(np.ones(s), requires_grad=True) for s in ((2, L, 4), (2, S, 4), (2, S, 5)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = F.scaled_dot_product_attention(q, k, v)
        y.sum().backward()
    assert y.shape == (2, L, 5) and np.all(y.data == 0)
    assert q.grad.shape == q.shape and k.grad.shape == k.shape and v.grad.shape == v.shape
