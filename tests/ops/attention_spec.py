"""The gradient factory's spec for ``ScaledDotProductAttention`` (``test_op_gradients.py`` merges it).

Draws batch axes, L, S, E, E_v, a scale, an additive mask (none, a -inf/0 mask with maybe a fully
masked row, or a float mask) and a dropout multiplier; the reference is the NumPy composition.
The last query row always sees at least two keys, undropped: with one key the softmax is constant
and q, k and v would not enter the vjp at all (the saved-arrays test needs them to).
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from minigrad import ops


def _reference(scale, mask, keep):
    def ref(q, k, v):
        z = scale * q @ np.swapaxes(k, -1, -2) + (0.0 if mask is None else mask)
        out = np.zeros(z.shape)
        for idx in np.ndindex(z.shape[:-1]):  # row by row, the way one writes it by hand
            row = z[idx]
            if np.isfinite(row).any():
                e = np.exp(row - row[np.isfinite(row)].max())
                out[idx] = e / e.sum()
        a = out if keep is None else out * keep
        return a @ v

    return ref


@st.composite
def attention_spec(draw):
    from tests.ops.more_specs import _case

    batch = draw(st.sampled_from([(), (1,), (2,), (2, 1)]))
    L, E, Ev = (draw(st.integers(1, 3)) for _ in range(3))
    S = draw(st.integers(2, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    q, k, v = (rng.normal(size=batch + shape) for shape in ((L, E), (S, E), (S, Ev)))
    scale = draw(st.sampled_from([1 / np.sqrt(E), 0.5, 1.3]))
    kind = draw(st.sampled_from(["none", "bool", "causal", "float"]))
    if kind == "causal":  # PyTorch's is_causal mask: row l sees keys 0..l; the last row sees two
        L = max(L, 2)
        q = rng.normal(size=batch + (L, E))
    mask_shape = draw(st.sampled_from([(L, S), batch + (L, S)]))
    mask = None
    if kind == "bool":  # -inf where a key is masked; row 0 may be masked entirely
        allowed = rng.random(mask_shape) < 0.7
        allowed[..., -1, :] = True
        mask = np.where(allowed, 0.0, -np.inf)
    elif kind == "causal":
        mask = np.where(np.tril(np.ones((L, S), dtype=bool)), 0.0, -np.inf)
    elif kind == "float":
        mask = rng.normal(size=mask_shape)
    keep = None
    if draw(st.booleans()):
        kept = rng.random(batch + (L, S)) >= 0.3
        kept[..., -1, :] = True
        keep = kept / 0.7
    return _case(lambda: ops.ScaledDotProductAttention(scale, mask, keep), [q, k, v], _reference(scale, mask, keep))


ATTENTION_SPECS = {ops.ScaledDotProductAttention: attention_spec()}
