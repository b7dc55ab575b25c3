"""An LSTM sequence classifier built as an nn.Module and trained the way most PyTorch code trains.

Each sequence is 10 noisy readings of one of three shapes (rising, falling, a bump); the model
reads it with nn.LSTM(batch_first=True), takes the last output, and a linear layer scores the
three classes. The loop is the familiar one: DataLoader minibatches, CrossEntropyLoss, Adam,
gradient clipping, a step learning-rate schedule, train()/eval() and no_grad() for evaluation,
then the weights are saved as a state dict and loaded into a fresh model.

This file runs on minigrad; tests/fixtures/torch_programs/lstm_classifier.py is the same
program for PyTorch, and the two differ only in their import lines. The data and the starting
weights come from Python's own ``random`` module, so both start from the same numbers, and
tests/test_tutorial_programs.py checks that their losses agree.
"""

import math
import os
import random
import tempfile

import minigrad as torch
import minigrad.nn as nn
from minigrad.utils.data import DataLoader, TensorDataset

torch.set_default_dtype(torch.float64)
rng = random.Random(7)  # Python's generator: the same numbers whichever library runs this
seq_len, num_classes = 10, 3


def make_sequences(n):
    """n sequences of shape (seq_len, 1) and their labels: 0 rising, 1 falling, 2 a bump."""
    xs, ys = [], []
    for _ in range(n):
        label = rng.randrange(num_classes)
        t = [i / (seq_len - 1) for i in range(seq_len)]
        clean = [u if label == 0 else 1 - u if label == 1 else 1 - abs(2 * u - 1) for u in t]
        xs.append([[v + rng.gauss(0.0, 0.3)] for v in clean])
        ys.append(label)
    return torch.tensor(xs), torch.tensor(ys)


class SequenceClassifier(nn.Module):
    def __init__(self, input_size, hidden_size, num_classes):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size, batch_first=True)
        self.fc = nn.Linear(hidden_size, num_classes)

    def forward(self, x):
        out, (h_n, c_n) = self.lstm(x)  # out: (batch, seq_len, hidden_size)
        return self.fc(out[:, -1, :])


def init_weights(model):
    """Overwrite every parameter with uniform samples from Python's generator (same on any library)."""
    with torch.no_grad():
        for p in model.parameters():
            bound = 1 / math.sqrt(p.shape[-1])
            values = [rng.uniform(-bound, bound) for _ in range(p.numel())]
            p.copy_(torch.tensor(values).view(p.shape))


device = torch.device("cpu")
X_train, y_train = make_sequences(96)
X_test, y_test = make_sequences(48)
train_loader = DataLoader(TensorDataset(X_train, y_train), batch_size=16, shuffle=False)

model = SequenceClassifier(1, 16, num_classes).to(device)
init_weights(model)
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=4, gamma=0.5)

losses = []
for epoch in range(10):
    model.train()
    for xb, yb in train_loader:
        xb, yb = xb.to(device), yb.to(device)
        optimizer.zero_grad()
        loss = criterion(model(xb), yb)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        optimizer.step()
        losses.append(loss.item())
    scheduler.step()
    model.eval()
    with torch.no_grad():
        out = model(X_test)
        accuracy = (out.max(1)[1] == y_test).sum().item() / y_test.size(0)
    if epoch % 3 == 0 or epoch == 9:
        print(f"epoch {epoch + 1:2d}  loss {losses[-1]:.4f}  test accuracy {accuracy:.3f}")

# ----- save the weights, load them into a fresh model, check it predicts the same --------------
path = os.path.join(tempfile.mkdtemp(), "classifier.pt")
torch.save(model.state_dict(), path)
restored = SequenceClassifier(1, 16, num_classes)
restored.load_state_dict(torch.load(path))
restored.eval()
with torch.no_grad():
    _, predicted = torch.max(restored(X_test), 1)
print(f"restored model agrees on {(predicted == out.max(1)[1]).sum().item()} of {y_test.size(0)} test sequences")
