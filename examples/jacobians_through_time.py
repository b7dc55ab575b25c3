"""The product of step Jacobians J_t = ds_{t+1}/ds_t, computed: how fast does dL/dh_t shrink with distance?"""

import numpy as np

import minigrad as mg
from minigrad import bptt, diagnostics, nn

mg.manual_seed(0)
rnn = nn.RNN(input_size=4, hidden_size=32)
x = mg.tensor(np.random.default_rng(0).standard_normal((50, 1, 4)))  # (T, N, H_in)

traj = bptt.unroll(rnn, x)[0]        # one Trajectory per layer and direction
J = traj.jacobians()                 # (T, N, S, S): J_t = dh_{t+1}/dh_t = diag(1 - h^2) W_hh
print("J shape:", J.shape)
h = traj.states[-1].data[0]
W_hh = rnn.weight_hh_l0.data
print("closed form:", np.allclose(J[-1, 0], np.diag(1 - h**2) @ W_hh))
norms = traj.product_norms()[:, 0]   # ||dh_T/dh_k|| for every k, in one backward sweep
for k in (49, 40, 30, 20, 10, 0):
    print(f"||dh_T/dh_{k:<2d}|| = {norms[k]:.3e}")
rho = diagnostics.spectral_radius(W_hh)
print(f"spectral radius {rho:.3f}, memory span -1/log(rho) = {diagnostics.memory_span(rho):.2f} steps")
