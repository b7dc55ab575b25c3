r"""Matrix multiplication, with NumPy's ``@`` semantics (1-D operands and batches)."""

from __future__ import annotations

import numpy as np

from minigrad.ops.base import Op


class MatMul(Op):
    r"""$Y = AB$;  $\partial\mathcal{L}/\partial A = G B^\top$, $\partial\mathcal{L}/\partial B = A^\top G$.

    Closed-form Jacobians for 2-D operands (row-major flattening):
    $\partial\,\mathrm{vec}(Y)/\partial\,\mathrm{vec}(A) = I_m \otimes B^\top$ and
    $\partial\,\mathrm{vec}(Y)/\partial\,\mathrm{vec}(B) = A \otimes I_p$.
    A 1-D operand is treated as a row (left) or column (right) vector and the
    added axis removed again, exactly as NumPy does; batch axes broadcast.
    """

    __slots__ = ()

    def forward(self, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError(f"matmul: operands must be at least 1-D, got shapes {a.shape} and {b.shape}")
        k_a = a.shape[-1]
        k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
        if k_a != k_b:
            raise ValueError(
                f"matmul: shapes {a.shape} and {b.shape} are not aligned: "
                f"a.shape[-1] = {k_a} but b's contracted axis has size {k_b}"
            )
        self.save(a, b)
        return a @ b

    def vjp(self, grad_out):
        a, b = self.saved
        # Give 1-D operands (and the matching axes of grad_out) their implicit axis back.
        a2 = a[np.newaxis, :] if a.ndim == 1 else a
        b2 = b[:, np.newaxis] if b.ndim == 1 else b
        g = grad_out
        if b.ndim == 1:  # first: for vector @ vector, grad_out is 0-d and has no axis -2 yet
            g = np.expand_dims(g, -1)
        if a.ndim == 1:
            g = np.expand_dims(g, -2)
        grad_a = grad_b = None
        if self.needs_grad[0]:
            grad_a = g @ np.swapaxes(b2, -1, -2)
            if a.ndim == 1:
                grad_a = grad_a[..., 0, :]
        if self.needs_grad[1]:
            grad_b = np.swapaxes(a2, -1, -2) @ g
            if b.ndim == 1:
                grad_b = grad_b[..., :, 0]
        return grad_a, grad_b

    def recorded_vjp(self, grad_out, xp):
        """``vjp`` on tensors: $\bar A = G B^\top$, $\bar B = A^\top G$ (1-D operands given their axis)."""
        a, b = self.inputs
        a2 = xp.reshape(a, (1, -1)) if a.ndim == 1 else a
        b2 = xp.reshape(b, (-1, 1)) if b.ndim == 1 else b
        g = grad_out
        if b.ndim == 1:
            g = xp.reshape(g, (*g.shape, 1))
        if a.ndim == 1:
            g = xp.reshape(g, (*g.shape[:-1], 1, g.shape[-1]))
        grad_a = grad_b = None
        if self.needs_grad[0]:
            grad_a = xp.matmul(g, _swap_last(b2, xp))
            if a.ndim == 1:
                grad_a = grad_a[..., 0, :]
        if self.needs_grad[1]:
            grad_b = xp.matmul(_swap_last(a2, xp), g)
            if b.ndim == 1:
                grad_b = grad_b[..., :, 0]
        return grad_a, grad_b

    def jvp(self, ta, tb):
        r"""$\dot Y = \dot A B + A \dot B$."""
        a, b = self.saved
        out = None if ta is None else ta @ b
        if tb is not None:
            out = a @ tb if out is None else out + a @ tb
        return np.broadcast_to(out, self.out_shape)

    def jacobian(self, i):
        a, b = self.saved
        if a.ndim != 2 or b.ndim != 2:
            return super().jacobian(i)
        m, p = a.shape[0], b.shape[1]
        if i == 0:
            return np.kron(np.eye(m), b.T)
        return np.kron(a, np.eye(p))


def _swap_last(t, xp):
    """``np.swapaxes(t, -1, -2)`` for a tensor."""
    axes = list(range(t.ndim))
    axes[-1], axes[-2] = axes[-2], axes[-1]
    return xp.transpose(t, tuple(axes))
