"""Train a small MLP on XOR-of-signs with minigrad's PyTorch-named nn and optim."""

import numpy as np

import minigrad
import minigrad.nn.functional as F
from minigrad import nn, optim

minigrad.manual_seed(0)  # initializers and dropout draw from one generator
rng = np.random.default_rng(0)
x = rng.uniform(-1, 1, size=(512, 2))
y = (x[:, 0] * x[:, 1] > 0).astype(np.int64)  # XOR of the signs: not linearly separable

model = nn.Sequential(nn.Linear(2, 32), nn.Tanh(), nn.Linear(32, 2))
opt = optim.Adam(model.parameters(), lr=1e-2)
for step in range(301):
    loss = F.cross_entropy(model(x), y)  # logits + class indices, stable via log_softmax
    opt.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    opt.step()
    if step % 100 == 0:
        print(f"step {step:3d}  loss {loss.item():.3f}")

with minigrad.no_grad():
    accuracy = (model(x).data.argmax(axis=1) == y).mean()
print(f"accuracy {accuracy:.1%}")
