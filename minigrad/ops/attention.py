r"""Scaled dot-product attention as one op, with its three derivatives in closed form.

For queries $q$ (L, E), keys $k$ (S, E) and values $v$ (S, E_v), per batch element:

$$Z = c\, q k^\top + M, \qquad P = \mathrm{softmax}_{\text{rows}}(Z), \qquad O = (P \odot D)\, v$$

with scale $c$ (default $1/\sqrt{E}$), an additive mask $M$ (0 where a key takes part,
$-\infty$ where it does not) and a dropout multiplier $D$ (0 or $1/(1-p)$; all ones without
dropout). A row whose keys are all masked gets $P = 0$ there, so $O = 0$ and no gradient (PyTorch's
``scaled_dot_product_attention`` does the same).

The one derivative everything else is made of is that of output row $l$ by score $Z_{ls}$:

$$G_{lse} = \frac{\partial O_{le}}{\partial Z_{ls}} = P_{ls}\,(D_{ls} v_{se} - O_{le}).$$

The $-O_{le}$ is the softmax's own Jacobian: raising one score takes weight from every other key.
The textbook "gradient flows to $h_k$ with weight $\alpha_{t,k}$" keeps the first term (the path
through the values) and drops this one. Then $\partial O_{le}/\partial q_{ld} = c \sum_s G_{lse}
k_{sd}$ (with $D = 1$ this is $c$ times the covariance of $v$ and $k$ under the weights $P_l$),
$\partial O_{le}/\partial k_{sd} = c\, G_{lse}\, q_{ld}$ and $\partial O_{le}/\partial v_{se'} =
(P \odot D)_{ls}\, \delta_{ee'}$.
"""

from __future__ import annotations

import numpy as np

from minigrad.ops.base import Op


def masked_softmax(z: np.ndarray) -> np.ndarray:
    """Softmax over the last axis; a row with no finite score (all keys masked) is all zeros."""
    m = np.max(z, axis=-1, keepdims=True, initial=-np.inf)  # -inf also for no keys at all (S = 0)
    m = np.where(np.isfinite(m), m, 0.0)  # an all -inf row: exp(-inf - 0) = 0, not exp(nan)
    with np.errstate(invalid="ignore"):  # +inf in a float mask is NaN, as in PyTorch
        e = np.exp(z - m)
    total = np.sum(e, axis=-1, keepdims=True)
    return np.divide(e, total, out=np.zeros_like(e), where=total > 0)


class ScaledDotProductAttention(Op):
    r"""$O = (\mathrm{softmax}(c\,qk^\top + M) \odot D)\, v$ over the last two axes; batch axes equal.

    ``mask`` is the additive $M$ (broadcastable to (..., L, S)), ``keep`` the dropout multiplier $D$
    (or None); both are fixed parameters of the op, not inputs: no gradient flows to them.
    """

    __slots__ = ("scale", "mask", "keep")

    def __init__(self, scale: float, mask: np.ndarray | None = None, keep: np.ndarray | None = None):
        self.scale, self.mask, self.keep = scale, mask, keep

    def forward(self, q, k, v):
        if q.shape[:-2] != k.shape[:-2] or k.shape[:-1] != v.shape[:-1] or q.shape[-1] != k.shape[-1]:
            raise ValueError("expected q (..., L, E), k (..., S, E) and v (..., S, Ev) with the same batch axes")
        z = self.scale * (q @ np.swapaxes(k, -1, -2))
        if self.mask is not None:
            z = z + self.mask
        p = masked_softmax(z)
        self.save(q, k, v, p)
        return self._weights(p) @ v

    def _weights(self, p):
        """$A = P \\odot D$: the weights the values are actually mixed with."""
        return p if self.keep is None else p * self.keep

    def _score_grad(self, p, grad_a):
        r"""$\partial\mathcal{L}/\partial Z = P \odot (\bar P - \langle \bar P, P\rangle_{\text{row}})$,
        with $\bar P = \bar A \odot D$ (the softmax's VJP, as ``Softmax.vjp``)."""
        grad_p = grad_a if self.keep is None else grad_a * self.keep
        return p * (grad_p - np.sum(grad_p * p, axis=-1, keepdims=True))

    def vjp(self, grad_out):
        r"""$\bar v = A^\top \bar O$; $\bar Z$ from $\bar A = \bar O v^\top$; $\bar q = c \bar Z k$;
        $\bar k = c \bar Z^\top q$."""
        q, k, v, p = self.saved
        grad_z = self._score_grad(p, grad_out @ np.swapaxes(v, -1, -2))
        grad_q = self.scale * (grad_z @ k) if self.needs_grad[0] else None
        grad_k = self.scale * (np.swapaxes(grad_z, -1, -2) @ q) if self.needs_grad[1] else None
        grad_v = np.swapaxes(self._weights(p), -1, -2) @ grad_out if self.needs_grad[2] else None
        return grad_q, grad_k, grad_v

    def jvp(self, tq, tk, tv):
        r"""$\dot Z = c(\dot q k^\top + q \dot k^\top)$, $\dot P = P \odot (\dot Z - \langle P, \dot Z\rangle)$,
        $\dot O = (\dot P \odot D) v + A \dot v$."""
        q, k, v, p = self.saved
        out = np.zeros(self.out_shape, dtype=p.dtype)
        if tq is not None or tk is not None:
            tz = np.zeros(p.shape, dtype=p.dtype)
            if tq is not None:
                tz = tz + tq @ np.swapaxes(k, -1, -2)
            if tk is not None:
                tz = tz + q @ np.swapaxes(tk, -1, -2)
            tz = self.scale * tz
            tp = p * (tz - np.sum(p * tz, axis=-1, keepdims=True))
            out = out + self._weights(tp) @ v
        if tv is not None:
            out = out + self._weights(p) @ tv
        return out

    def jacobian(self, i):
        """Block-diagonal over the batch: each batch element's block from $G$ (module docstring)."""
        q, k, v, p = self.saved
        a = np.broadcast_to(self._weights(p), p.shape)
        d = np.ones(p.shape) if self.keep is None else np.broadcast_to(self.keep, p.shape)
        o = a @ v
        g = p[..., None] * (d[..., None] * v[..., None, :, :] - o[..., :, None, :])  # (..., L, S, Ev)
        batch = int(np.prod(q.shape[:-2]))
        L, S, E, Ev = q.shape[-2], k.shape[-2], q.shape[-1], v.shape[-1]
        g, a = g.reshape(batch, L, S, Ev), a.reshape(batch, L, S)
        q, k = q.reshape(batch, L, E), k.reshape(batch, S, E)
        if i == 0:  # dO[l,e]/dq[l,d] = c sum_s G[l,s,e] k[s,d]: one (Ev, E) block per row l
            blocks = self.scale * np.einsum("blse,bsd->bled", g, k)
            return _block_diagonal(blocks.reshape(batch * L, Ev, E))
        if i == 1:  # dO[l,e]/dk[s,d] = c G[l,s,e] q[l,d]: every row l depends on every key s
            blocks = self.scale * np.einsum("blse,bld->blesd", g, q)
            return _block_diagonal(blocks.reshape(batch, L * Ev, S * E))
        blocks = np.einsum("bls,ef->blesf", a, np.eye(Ev))  # dO[l,e]/dv[s,f] = A[l,s] [e = f]
        return _block_diagonal(blocks.reshape(batch, L * Ev, S * Ev))


def _block_diagonal(blocks: np.ndarray) -> np.ndarray:
    """Place ``blocks`` (n, r, c) along the diagonal of an (n r, n c) matrix."""
    n, r, c = blocks.shape
    out = np.zeros((n * r, n * c))
    for j in range(n):
        out[j * r:(j + 1) * r, j * c:(j + 1) * c] = blocks[j]
    return out
