"""docs/THEORY.md T9-T15: formulas the usual account of vanishing gradients gets wrong, each measured.

Every number THEORY quotes for them is computed here (float64, fixed seeds, no BLAS-kernel dependence
at the precision quoted) and checked. Run with ``-s`` to print them.
"""

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.nn.recurrent_init import chrono_init_


def _norm2(J: np.ndarray) -> float:
    return float(np.linalg.norm(J, 2))


def _tanh_rnn_weights(rng: np.random.Generator, n_in: int, hidden: int):
    """PyTorch's RNN init, U(-1/sqrt(H), 1/sqrt(H)), for W_ih, W_hh and the bias."""
    k = 1 / math.sqrt(hidden)
    return rng.uniform(-k, k, (hidden, n_in)), rng.uniform(-k, k, (hidden, hidden)), rng.uniform(-k, k, hidden)


# ----- T9: a stacked RNN's Jacobian across layers and time --------------------------------------------------------
LAYERS, HIDDEN, STEPS = 3, 16, 15


def _stacked(seed: int = 0):
    rng = np.random.default_rng(seed)
    weights = [_tanh_rnn_weights(rng, HIDDEN, HIDDEN) for _ in range(LAYERS)]  # layer 1 reads x (width HIDDEN too)
    x = rng.normal(size=(STEPS + 1, HIDDEN))
    return weights, x


def _run_stack(weights, x, h1_at_0=None):
    """h_t^(l) = tanh(W_ih^(l) h_t^(l-1) + W_hh^(l) h_{t-1}^(l) + b^(l)), h_t^(0) = x_t, t = 0..T; h_{-1} = 0.
    ``h1_at_0`` replaces layer 1's state at t = 0 (the input of the Jacobian). Returns every state."""
    prev = [mg.tensor(np.zeros(HIDDEN)) for _ in range(LAYERS)]
    states = []
    for t in range(x.shape[0]):
        below = mg.tensor(x[t])
        row = []
        for l, (W_ih, W_hh, b) in enumerate(weights):
            h = mg.tanh(mg.tensor(W_ih) @ below + mg.tensor(W_hh) @ prev[l] + mg.tensor(b))
            if t == 0 and l == 0 and h1_at_0 is not None:
                h = h1_at_0
            row.append(h)
            below = h
        states.append(row)
        prev = row
    return states


def test_stacked_rnn_jacobian_is_not_a_double_product_of_recurrent_jacobians():
    weights, x = _stacked()
    h1_0 = _run_stack(weights, x)[0][0].data
    # the true Jacobian d h_T^(3) / d h_0^(1), by autograd through the whole stack
    true = mg.jacobian(lambda h: _run_stack(weights, x, h1_at_0=h)[-1][-1], h1_0)
    # the textbook's "compound Jacobian": prod over k = 1..T and l = 1..L of J_k^(l) = diag(1 - h_k^(l)^2) W_hh^(l)
    states = [[s.data for s in row] for row in _run_stack(weights, x)]
    compound = np.eye(HIDDEN)
    for k in range(STEPS, 0, -1):
        for l in range(LAYERS - 1, -1, -1):
            compound = compound @ (np.diag(1 - states[k][l] ** 2) @ weights[l][1])
    # the same Jacobian as a sum over paths: along layer 1 to time a, up to layer 2 there (W_ih^(2)), along
    # layer 2 to time b >= a, up to layer 3 (W_ih^(3)), along layer 3 to T
    def along(l, start, end):  # d h_end^(l) / d h_start^(l), through layer l's recurrence
        J = np.eye(HIDDEN)
        for k in range(start + 1, end + 1):
            J = np.diag(1 - states[k][l] ** 2) @ weights[l][1] @ J
        return J

    def up(l, t):  # d h_t^(l) / d h_t^(l-1): the input weights between the layers
        return np.diag(1 - states[t][l] ** 2) @ weights[l][0]

    paths = sum(along(2, b, STEPS) @ up(2, b) @ along(1, a, b) @ up(1, a) @ along(0, 0, a)
                for a in range(STEPS + 1) for b in range(a, STEPS + 1))
    t_norm, c_norm = _norm2(true), _norm2(compound)
    print(f"T9: ||dh_T^(3)/dh_0^(1)||_2 = {t_norm:.3g} (autograd), compound product {c_norm:.3g}, "
          f"{LAYERS * STEPS} factors; sum over {(STEPS + 1) * (STEPS + 2) // 2} paths matches to "
          f"{_norm2(paths - true) / t_norm:.1e}")
    np.testing.assert_allclose(paths, true, rtol=1e-9, atol=1e-15 * t_norm)
    # THEORY T9: "3 layers, hidden 16, 15 steps: 1.0e-3 ... the double product gives 3.6e-13"
    assert f"{t_norm:.1e}" == "1.0e-03" and f"{c_norm:.1e}" == "3.6e-13"
    assert t_norm > 1e6 * c_norm


# ----- T10: the attention gradient has a softmax term ---------------------------------------------------------------
def _attention(H):
    """Causal self-attention over a sequence of states, H: (T, d). h'_t = sum_{k<=t} alpha_tk h_k with
    alpha_t = softmax_k(h_t . h_k / sqrt(d)): composed from minigrad's matmul, where, softmax."""
    T, d = H.shape
    scores = (H @ H.T) / math.sqrt(d)
    causal = np.tril(np.ones((T, T), dtype=bool))
    alpha = mg.softmax(mg.where(causal, scores, -np.inf), axis=-1)
    return alpha @ H, alpha


def test_attention_gradient_needs_the_softmax_term():
    rng = np.random.default_rng(0)
    T, d = 8, 4
    H = mg.tensor(rng.normal(size=(T, d)), requires_grad=True)
    r = rng.normal(size=(T, d))  # L = sum_t r_t . h'_t, so dL/dh'_t = r_t
    out, alpha = _attention(H)
    (out * r).sum().backward()
    true = H.grad
    textbook = alpha.data.T @ r  # dL/dh_k = sum_t alpha_tk dL/dh'_t: the alphas held fixed
    off = float(np.linalg.norm(textbook - true) / np.linalg.norm(true))
    print(f"T10: the textbook attention gradient is off by {off:.0%} (relative, T = {T}, d = {d})")
    # autograd's gradient is the true one: against central differences
    assert mg.gradcheck(lambda h: (_attention(h)[0] * r).sum(), (mg.tensor(H.data, requires_grad=True),))
    # with the scores detached (alpha a constant) autograd gives the textbook formula exactly
    Hd = mg.tensor(H.data, requires_grad=True)
    a_const = mg.tensor(alpha.data)
    ((a_const @ Hd) * r).sum().backward()
    np.testing.assert_allclose(Hd.grad, textbook, rtol=1e-12)
    assert off > 0.1
    assert f"{off:.2f}" == "0.46"  # THEORY T10: "46 % off"


# ----- T11: a "gradient-aware" learning rate that shrinks vanishing steps ---------------------------------------------
def textbook_gradient_aware_lr(eta: float, g: float, eps_min: float, eps_max: float) -> float:
    """The rule as usually written: eta * eps_max/||g|| above eps_max, eta * ||g||/eps_min below eps_min."""
    if g > eps_max:
        return eta * eps_max / g
    if g < eps_min:
        return eta * g / eps_min
    return eta


def test_gradient_aware_learning_rate_shrinks_the_step_when_gradients_vanish():
    eta, eps_min, eps_max = 0.1, 1e-4, 1e3
    # a vanishing gradient, measured: a 20-layer sigmoid chain's first-layer gradient
    mg.manual_seed(0)
    layers = [nn.Linear(16, 16) for _ in range(20)]
    x = mg.tensor(np.random.default_rng(0).normal(size=(8, 16)))
    h = x
    for layer in layers:
        h = mg.sigmoid(layer(h))
    h.sum().backward()
    g = float(np.linalg.norm(layers[0].weight.grad))
    rule = textbook_gradient_aware_lr(eta, g, eps_min, eps_max)
    print(f"T11: layer-1 gradient {g:.2g}: the rule's lr {rule:.2g} is {eta / rule:.3g}x smaller than lr {eta}; "
          f"step {rule * g:.2g} instead of {eta * g:.2g}")
    assert g < eps_min and rule < eta  # the rule shrinks the step where the gradient already vanishes
    assert eta / rule == pytest.approx(eps_min / g)
    # THEORY T11: "100x smaller at ||g|| = 1e-6 (eps_min = 1e-4)"; "4.3e-16 ... divides the learning rate by 2.3e11"
    assert textbook_gradient_aware_lr(eta, 1e-6, eps_min, eps_max) == pytest.approx(eta / 100)
    assert f"{g:.1e}" == "4.3e-16" and f"{eta / rule:.1e}" == "2.3e+11"


# ----- T12: plotting gradient_norms[::-1] against "distance from the loss" ------------------------------------------
def test_reversed_gradient_norm_plot_rises_with_distance():
    # the common snippet: tanh RNN, weights U(-0.1, 0.1), for each t the gradient of outputs[t].sum() w.r.t. x_0
    T, H = 50, 32
    rng = np.random.default_rng(0)
    mg.manual_seed(0)
    rnn = nn.RNN(H, H)
    for p in rnn.parameters():
        p.data[...] = rng.uniform(-0.1, 0.1, p.shape)
    x = mg.tensor(rng.normal(size=(T, 1, H)), requires_grad=True)
    out, _ = rnn(x)
    norms = []
    for t in range(T):  # outputs[t] is t steps after x_0: gradient_norms[t] is at distance t
        x.grad = None
        out[t].sum().backward(retain_graph=True)
        norms.append(float(np.linalg.norm(x.grad[0])))
    norms = np.array(norms)
    reversed_ = norms[::-1]  # what the snippet plots against "distance" 0..T-1
    print(f"T12: ||d out_t/d x_0|| falls from {norms[0]:.3g} (distance 0) to {norms[-1]:.2g} (distance {T - 1}); "
          f"the reversed curve rises {reversed_[-1] / reversed_[0]:.2g}x over the same axis")
    assert np.all(np.diff(norms) < 0)  # the gradient vanishes with distance ...
    assert np.all(np.diff(reversed_) > 0)  # ... and the reversed plot shows it growing
    assert f"{norms[-1] / norms[0]:.1e}" == "2.7e-26"  # THEORY T12: "falls by a factor 2.7e-26 over 49 steps"


# ----- T13: a skip from x_t to the output adds no path through time -------------------------------------------------
def test_input_projection_skip_adds_no_path_through_time():
    T, H = 50, 16
    mg.manual_seed(0)
    rnn, proj = nn.RNN(H, H), nn.Linear(H, H)
    x0 = np.random.default_rng(1).normal(size=(T, 1, H))

    def grad_out_last_wrt_x0(skip: bool) -> float:
        x = mg.tensor(x0, requires_grad=True)
        out, _ = rnn(x)
        if skip:  # the "residual RNN": rnn_out + W x_t
            out = out + proj(x)
        out[-1].sum().backward()
        return float(np.linalg.norm(x.grad[0]))

    plain, skipped = grad_out_last_wrt_x0(False), grad_out_last_wrt_x0(True)
    print(f"T13: ||d out_49/d x_0|| = {plain:.3g} without the skip, {skipped:.3g} with it")
    assert plain == skipped  # identical, bit for bit: W x_t reaches out_t only
    assert plain < 1e-10  # and it has vanished
    assert f"{plain:.1e}" == "2.9e-19"  # THEORY T13: "2.9e-19 with and without it"


# ----- T14: chrono initialization ---------------------------------------------------------------------------------
def test_chrono_init_is_log_uniform_not_normal_around_log_tau():
    T_max, H = 50, 512
    # the published rule (minigrad's chrono_init_): b_f = log u, u ~ U[1, T_max - 1], so each unit's forget gate
    # keeps memory for 1/(1 - sigma(b_f)) = 1 + u steps: every unit in [2, T_max]
    mg.manual_seed(0)
    lstm = chrono_init_(nn.LSTM(1, H), T_max)
    b_f = lstm.bias_ih_l0.data[H:2 * H] + lstm.bias_hh_l0.data[H:2 * H]
    published = 1 / (1 - 1 / (1 + np.exp(-b_f)))
    np.testing.assert_allclose(lstm.bias_ih_l0.data[:H], -b_f)  # b_i = -b_f
    # the loose version: b_f ~ N(log tau, 1), tau in [1, T_max] (drawn uniformly here)
    rng = np.random.default_rng(0)
    b = rng.normal(np.log(rng.uniform(1, T_max, 100_000)), 1.0)
    loose = 1 + np.exp(b)
    above, below = float(np.mean(loose > T_max)), float(np.mean(loose < 2))
    print(f"T14: published: time constants {published.min():.3g}..{published.max():.3g}; N(log tau, 1): "
          f"{above:.1%} above T_max = {T_max} (up to {loose.max():.2g}), {below:.1%} below 2 steps")
    assert published.min() >= 2 and published.max() <= T_max
    assert f"{above:.0%}" == "25%" and f"{below:.1%}" == "1.9%" and f"{loose.max():.1e}" == "2.5e+03"  # THEORY T14


# ----- T15: Pascanu's sufficient condition is on sigma_1, not rho ---------------------------------------------------
# W = [[a, b], [-b, -a]] with b = 1.23, a = sqrt(b^2 - 0.245^2): eigenvalues +-0.245i, so rho(W) = 0.245 < 1/gamma = 1
# (tanh: gamma = 1), but sigma_1(W) = a + b > 1.
B_PASCANU = 1.23
A_PASCANU = math.sqrt(B_PASCANU**2 - 0.245**2)
W_PASCANU = np.array([[A_PASCANU, B_PASCANU], [-B_PASCANU, -A_PASCANU]])


def test_rho_below_one_does_not_make_gradients_vanish_sigma1_below_one_does():
    W = W_PASCANU
    rho, sigma1 = max(abs(np.linalg.eigvals(W))), np.linalg.norm(W, 2)
    # a tanh RNN h_{t+1} = tanh(W h_t + u_t) whose inputs switch which unit is saturated: at even t unit 1 gets
    # u = +8 (tanh' ~ 5e-7), unit 0 gets the input that cancels its pre-activation (tanh' = 1); odd t: swapped
    T = 60
    h = np.zeros(2)
    product = np.eye(2)
    for t in range(T):
        linear, saturated = t % 2, 1 - t % 2
        u = np.zeros(2)
        u[saturated] = 8.0
        u[linear] = -(W @ h)[linear]
        J = mg.jacobian(lambda s, u=u: mg.tanh(mg.tensor(W) @ s + mg.tensor(u)), h)  # dh_{t+1}/dh_t
        np.testing.assert_allclose(J, np.diag(1 - np.tanh(W @ h + u) ** 2) @ W, rtol=1e-12)
        h = np.tanh(W @ h + u)
        product = J @ product
    growth = np.linalg.norm(product, 2) ** (1 / T)
    print(f"T15: rho(W) = {rho:.3f}, sigma_1(W) = {sigma1:.2f}; switched inputs: ||dh_T/dh_0|| grows "
          f"{growth:.3f}x per step ({np.linalg.norm(product, 2):.2g} after {T} steps)")
    assert round(rho, 3) == 0.245 and growth > 1  # rho < 1/gamma, yet the gradient explodes
    # the switching limit (tanh' exactly 0 or 1): rho(diag(1,0) W diag(0,1) W) = b^2 per two steps, 1.23 per step
    two_step = np.diag([1.0, 0.0]) @ W @ np.diag([0.0, 1.0]) @ W
    assert max(abs(np.linalg.eigvals(two_step))) ** 0.5 == pytest.approx(B_PASCANU)
    assert f"{growth:.2f}" == "1.24" and f"{sigma1:.2f}" == "2.44"  # THEORY T15: "1.24 per step over 60 steps"
    # sigma_1 < 1/gamma is sufficient: W scaled to sigma_1 = 0.99 cannot grow under any tanh' in [0, 1]
    W_small = W * 0.99 / sigma1
    rng = np.random.default_rng(0)
    for _ in range(200):
        P = np.eye(2)
        for _ in range(T):
            P = np.diag(rng.uniform(0, 1, 2)) @ W_small @ P
        assert np.linalg.norm(P, 2) <= 0.99**T * (1 + 1e-12)
