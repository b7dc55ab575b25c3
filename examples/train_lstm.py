"""Train a small LSTM to output the mean of a sequence of 15 numbers."""

import numpy as np

import minigrad as mg
from minigrad import nn
from minigrad.nn import functional as F

mg.manual_seed(0)
rng = np.random.default_rng(0)


class Averager(nn.Module):
    """Read a sequence of 15 numbers, output their mean."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(input_size=1, hidden_size=16, batch_first=True)
        self.head = nn.Linear(16, 1)

    def forward(self, x):  # x: (N, L, 1)
        output, (h_n, c_n) = self.lstm(x)  # output (N, L, 16); h_n, c_n (1, N, 16)
        return self.head(h_n[0])  # (N, 1)


model = Averager()
opt = mg.optim.Adam(model.parameters(), lr=1e-2)
for step in range(301):
    x = rng.uniform(-1, 1, size=(32, 15, 1))
    loss = F.mse_loss(model(mg.tensor(x)), mg.tensor(x.mean(axis=1)))
    opt.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    opt.step()
    if step % 100 == 0:
        print(f"step {step:3d}  loss {loss.item():.4f}")
