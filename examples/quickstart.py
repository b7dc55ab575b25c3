"""A first look at minigrad: a gradient, its Jacobian, and a check against finite differences."""

import numpy as np

import minigrad as mg

x = mg.tensor([0.5, -1.0, 2.0], requires_grad=True)
W = mg.tensor(np.eye(3) * 0.9, requires_grad=True)

h = mg.tanh(W @ x)  # one recurrent step: h = tanh(W x)
loss = (h * h).sum()
loss.backward()
print("loss       =", loss.item())
print("dL/dx      =", x.grad)

# The Jacobian dh/dx = diag(1 - h^2) W in closed form, against the one autograd computes:
J = mg.jacobian(lambda x: mg.tanh(W.detach() @ x), x)
print("dh/dx      =\n", J)
print("closed form matches:", np.allclose(J, np.diag(1 - h.data**2) @ W.data))
print("gradcheck:", mg.gradcheck(lambda x, W: mg.tanh(W @ x), (x, W)))
