r"""A vectorized error function, because NumPy has none and SciPy is not a dependency.

$$\mathrm{erf}(x) = \frac{2}{\sqrt\pi}\int_0^x e^{-t^2}\,dt$$

Two classical expansions, each used where it converges fast and loses no digits:

* $|x| < 3$: the series $\mathrm{erf}(x) = \frac{2}{\sqrt\pi} e^{-x^2}
  \sum_{n\ge0} \frac{2^n x^{2n+1}}{1\cdot3\cdots(2n+1)}$. Every term is positive,
  so nothing cancels (the plain Taylor series alternates and loses ~4 digits at 3).
* $|x| \ge 3$: Laplace's continued fraction $\mathrm{erfc}(x) = \frac{e^{-x^2}}{\sqrt\pi}
  \cfrac{1}{x + \cfrac{1/2}{x + \cfrac{1}{x + \cfrac{3/2}{x + \cdots}}}}$,
  evaluated bottom-up, then $\mathrm{erf} = 1 - \mathrm{erfc}$.

Both loops run over *terms*, not elements: the work is a few dozen whole-array operations.
Accuracy: better than 1e-14 absolute against ``math.erf`` (tested on [-10, 10]).
"""

from __future__ import annotations

import numpy as np

_TWO_OVER_SQRT_PI = 2.0 / np.sqrt(np.pi)
_SWITCH = 3.0
_CF_TERMS = 60  # enough for 1e-16 relative accuracy in erfc at x = 3, better beyond


def erf(x) -> np.ndarray:
    """The error function, elementwise; float32 in gives float32 out (computed in float64)."""
    x = np.asarray(x)
    out_dtype = x.dtype if x.dtype in (np.float32, np.float64) else np.float64
    a = np.abs(x.astype(np.float64))
    out = np.empty_like(a)

    small = a < _SWITCH
    xs = a[small]
    x2 = xs * xs
    term = xs.copy()
    total = xs.copy()
    n = 0
    while term.size and np.any(term > 1e-17 * total):
        n += 1
        term = term * (2.0 * x2) / (2 * n + 1)
        total += term
    out[small] = _TWO_OVER_SQRT_PI * np.exp(-x2) * total

    xl = a[~small]
    f = xl.copy()
    for k in range(_CF_TERMS, 0, -1):
        f = xl + (k / 2.0) / f
    with np.errstate(under="ignore"):
        out[~small] = 1.0 - np.exp(-xl * xl) / (np.sqrt(np.pi) * f)

    out = np.where(np.isnan(x), np.nan, np.copysign(out, x))
    return out.astype(out_dtype, copy=False)
