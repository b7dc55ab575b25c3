"""Central differences on a raw op, shared by the public checks of the course.

The checks call an op's ``vjp``/``jacobian`` directly instead of going through
``backward()``, so that a stubbed engine task does not fail every other task. Central
differences agree with a correct piece to about 1e-6 here; the hidden graded tests ask for
1e-12, which only an exact derivation meets.
"""

import numpy as np

EPS = 1e-6


def numeric_jacobian(make_op, inputs, i):
    """Central differences of ``make_op()(*inputs)`` w.r.t. input ``i``: (out.size, in.size)."""
    out = make_op()(*inputs)
    J = np.zeros((out.size, inputs[i].size))
    for j in range(inputs[i].size):
        values = []
        for step in (EPS, -EPS):
            shifted = [x.copy() for x in inputs]
            shifted[i].flat[j] += step
            values.append(make_op()(*shifted).ravel())
        J[:, j] = (values[0] - values[1]) / (2 * EPS)
    return J
