r"""Spectral tools: the numbers that say whether $\prod_k J_k$ vanishes or explodes.

The usual analysis bounds the gradient through time by
$\|\partial\mathcal{L}/\partial h_t\| \le \|\partial\mathcal{L}/\partial h_T\|\,\gamma^{T-t}$ and
estimate $\|\prod_k J_k\| \approx \rho(W_{hh})^{T-t}$. This file computes the quantities in
those formulas from a matrix (or a stack of Jacobians):

* $\rho(W) = \max_i |\lambda_i|$ (:func:`spectral_radius`), $\sigma_i(W)$ (:func:`singular_values`),
  $\kappa(W) = \sigma_{\max}/\sigma_{\min}$ (:func:`condition_number`), $\sigma_1$ by
  :func:`power_iteration`;
* the Lyapunov exponent of a sequence of Jacobians (:func:`lyapunov_exponent`);
* the time scales derived from $\rho$: :func:`effective_horizon`, :func:`memory_span`,
  :func:`instability_threshold`.

Everything here reads arrays (or tensors) and returns NumPy values: it never builds a graph.
"""

from __future__ import annotations

import math

import numpy as np

from minigrad.arguments import describe, number_in


def _matrix(W, name: str = "W", square: bool = False) -> np.ndarray:
    """``W`` (a Tensor or array-like) as a float array with at least 2 axes."""
    a = _real_array(W, name)
    if a.ndim < 2:
        raise ValueError(f"{name} must be a matrix (at least 2 axes), got shape {a.shape}")
    if square and a.shape[-1] != a.shape[-2]:
        raise ValueError(f"{name} must be square, got shape {a.shape}")
    return a.astype(np.float64, copy=False)


def _real_array(x, name: str) -> np.ndarray:
    """``x`` (a Tensor or array-like) as a real array; strings, None and complex refused by name."""
    try:
        a = np.asarray(getattr(x, "data", x))
    except ValueError:  # a ragged list
        a = np.asarray(None)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a real numeric array, got {describe(x)}")
    return a


def _positive(x, name: str) -> float:
    """A finite number > 0 (a rate, a norm, a tolerance)."""
    return number_in(x, name, "diagnostics", 0, low_open=True, high_open=True)


def spectral_radius(W):
    r"""$\rho(W) = \max_i |\lambda_i(W)|$; shape ``(..., n, n)`` -> float (or array for stacks)."""
    a = _matrix(W, square=True)
    rho = np.abs(np.linalg.eigvals(a)).max(axis=-1)
    return float(rho) if a.ndim == 2 else rho


def singular_values(W) -> np.ndarray:
    r"""$\sigma_1 \ge \sigma_2 \ge \dots$ of $U\Sigma V^\top$: ``(..., m, n)`` -> ``(..., k)``."""
    return np.linalg.svd(_matrix(W), compute_uv=False)


def condition_number(W):
    r"""$\kappa(W) = \sigma_{\max}/\sigma_{\min}$ (``inf`` if singular); 1 for $\gamma Q$."""
    s = singular_values(W)
    with np.errstate(divide="ignore"):
        smin = s[..., -1]
        kappa = np.where(smin > 0, s[..., 0] / np.where(smin > 0, smin, 1), np.inf)
    return float(kappa) if kappa.ndim == 0 else kappa


def power_iteration(W, n_iter: int = 100, u=None, tol: float = 0.0):
    r"""$\sigma_1(W)$ and its singular vectors by power iteration: ``(sigma, u, v)``.

    Repeats $v \leftarrow W^\top u / \|W^\top u\|$, $u \leftarrow W v / \|W v\|$, then
    $\sigma_1 = u^\top W v$. The error shrinks like $(\sigma_2/\sigma_1)^{2k}$ after $k$
    iterations, so it is fast when the top singular value is well separated. ``u`` is the
    starting vector (length ``m``; default: all ones, deterministic); iteration stops early
    once $\sigma$ changes by less than ``tol`` (relative). ``W`` is 2-D, ``(m, n)``.
    """
    a = _matrix(W)
    if a.ndim != 2:
        raise ValueError(f"power_iteration: W must be 2-D, got shape {a.shape}")
    if isinstance(n_iter, bool) or not isinstance(n_iter, (int, np.integer)) or n_iter < 1:
        raise ValueError(f"power_iteration: n_iter must be an integer >= 1, got {n_iter!r}")
    tol = number_in(tol, "tol", "power_iteration", 0, high_open=True)
    m = a.shape[0]
    u = np.ones(m) if u is None else _real_array(u, "u").astype(np.float64).ravel()
    if u.shape != (m,):
        raise ValueError(f"power_iteration: u must have shape ({m},), got {u.shape}")
    u = u / max(np.linalg.norm(u), 1e-300)
    sigma = 0.0
    v = np.zeros(a.shape[1])
    for _ in range(n_iter):
        v = a.T @ u
        nv = np.linalg.norm(v)
        if nv == 0 and np.any(a):  # an unlucky start, orthogonal to W's range (all ones for [[1, 1], [-1, -1]]):
            u = a[:, np.argmax(np.linalg.norm(a, axis=0))]  # start again from W's longest column, inside it
            u = u / np.linalg.norm(u)
            v = a.T @ u
            nv = np.linalg.norm(v)
        if nv == 0:  # W = 0
            return 0.0, u, v
        v /= nv
        u = a @ v
        u /= np.linalg.norm(u)
        new_sigma = float(u @ a @ v)
        if tol > 0 and abs(new_sigma - sigma) <= tol * abs(new_sigma):
            sigma = new_sigma
            break
        sigma = new_sigma
    return sigma, u, v


def _jacobian_stack(jacobians) -> np.ndarray:
    J = _real_array(jacobians, "jacobians").astype(np.float64)
    if J.ndim not in (3, 4) or J.shape[-1] != J.shape[-2]:
        raise ValueError(
            f"jacobians must have shape (T, S, S) or (T, N, S, S), got {J.shape}"
        )
    if J.shape[0] == 0:
        raise ValueError("jacobians must contain at least one step (T >= 1), got T = 0")
    return J


def lyapunov_exponent(jacobians, method: str = "max", v0=None):
    r"""Lyapunov exponent of $J_0, \dots, J_{T-1}$: ``(T,S,S)`` -> float, ``(T,N,S,S)`` -> ``(N,)``.

    Two definitions, and they differ:

    * ``method="mean_log_norm"`` is the per-step estimate $\lambda_L = \frac1T\sum_t \log\|J_t\|_2$. Because
      $\|\prod_t J_t\| \le \prod_t \|J_t\|$, it is an *upper bound*: it measures how much
      each step *could* stretch a vector, one step at a time.
    * ``method="max"`` is the maximal Lyapunov exponent
      $\lambda_1 = \lim \frac1T \log\|J_{T-1}\cdots J_0\, v_0\|$, computed by repeated
      renormalisation: $w_{t+1} = J_t v_t$, $v_{t+1} = w_{t+1}/\|w_{t+1}\|$,
      $\lambda_1 \approx \frac1T \sum_t \log\|w_{t+1}\|$ (renormalising each step avoids
      overflow and underflow). It measures how much the *product* actually stretches.

    They agree for normal Jacobians such as $\gamma Q$ (both give $\log\gamma$) and differ when
    the $J_t$ are non-normal or rotate into each other: for $J = [[0.5, 10], [0, 0.5]]$ every
    step has norm $\approx 10$, yet $J^T \to 0$ like $0.5^T$, so ``mean_log_norm`` says
    "explodes" ($\log 10$) and ``max`` correctly says "vanishes" ($\to \log 0.5$).
    ``v0`` is the starting direction for ``max`` (default: all ones, normalised).
    """
    J = _jacobian_stack(jacobians)
    T, S = J.shape[0], J.shape[-1]
    if method == "mean_log_norm":
        with np.errstate(divide="ignore"):
            logs = np.log(np.linalg.norm(J, ord=2, axis=(-2, -1)))
        lam = logs.mean(axis=0)
    elif method == "max":
        batch = J.shape[1:-2]
        v0 = np.ones(S) if v0 is None else _real_array(v0, "v0").astype(np.float64)
        v = np.broadcast_to(v0, batch + (S,)).copy()
        v /= np.linalg.norm(v, axis=-1, keepdims=True)
        total = np.zeros(batch)
        for t in range(T):
            w = np.einsum("...ij,...j->...i", J[t], v)
            n = np.linalg.norm(w, axis=-1)
            with np.errstate(divide="ignore"):
                total = total + np.log(n)
            v = w / np.where(n > 0, n, 1.0)[..., None]
        lam = total / T
    else:
        raise ValueError(
            f"lyapunov_exponent: method must be 'max' or 'mean_log_norm', got {method!r}"
        )
    return float(lam) if np.ndim(lam) == 0 else lam


def effective_horizon(rho: float, eps: float = float(np.finfo(np.float32).eps)) -> float:
    r"""$\tau_{\text{eff}} = \log\epsilon / \log\rho$: when $\rho^\tau$ drops below $\epsilon$.

    ``eps`` is the "numerical precision threshold" (default: float32's machine epsilon,
    about 1.2e-7). For $\rho \ge 1$ the gradient never becomes negligible: ``inf``.
    """
    rho = _positive(rho, "rho")
    eps = _positive(eps, "eps")
    if eps >= 1:
        raise ValueError(f"effective_horizon: eps must be in (0, 1), got {eps}")
    if rho >= 1:
        return math.inf
    return math.log(eps) / math.log(rho)


def memory_span(rho: float) -> float:
    r"""$\tau_{\max} = -1/\log\rho$: the e-folding time of $\rho^\tau$ (9.49 for $\rho = 0.9$).

    After $\tau_{\max}$ steps the gradient has shrunk by a factor $e$; ``inf`` for $\rho \ge 1$.
    """
    rho = _positive(rho, "rho")
    if rho >= 1:
        return math.inf
    return -1.0 / math.log(rho)


def instability_threshold(rho: float, grad_norm0: float = 1.0, dtype=np.float32) -> float:
    r"""$\tau_{\text{inst}} = (\log \text{MAX\_FLOAT} - \log\|\nabla\mathcal{L}\|_0)/\log\rho$.

    The number of steps after which $\|\nabla\mathcal{L}\|_0\,\rho^\tau$ overflows ``dtype``
    (float32: about $3.4\times10^{38}$; float64: $1.8\times10^{308}$). ``inf`` for $\rho \le 1$
    (a shrinking or constant gradient never overflows).
    """
    rho = _positive(rho, "rho")
    g0 = _positive(grad_norm0, "grad_norm0")
    if not isinstance(dtype, (type, np.dtype)) or np.dtype(dtype).kind != "f":
        raise TypeError(f"instability_threshold: dtype must be a float dtype (np.float32, ...), got {dtype!r}")
    info = np.finfo(dtype)
    if rho <= 1:
        return math.inf
    return (math.log(float(info.max)) - math.log(g0)) / math.log(rho)
