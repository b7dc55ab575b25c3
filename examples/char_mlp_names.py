"""A character-level language model over names, an MLP on learned character embeddings.

Each name is read three characters at a time; the model looks up an embedding for each of the
three (a row of the table ``C``), joins them, passes them through one tanh layer and predicts the
next character, '.' marking the start and the end of a name. Training is plain minibatch SGD
written by hand, then the model invents names by sampling one character at a time.

This file runs on minigrad; tests/fixtures/torch_programs/char_mlp_names.py is the same program
for PyTorch, and the two differ only in their import lines. The starting weights and the
minibatches come from Python's own ``random`` module, so both start from the same numbers, and
tests/test_tutorial_programs.py checks that their losses agree.
"""

import math
import random

import minigrad as torch
import minigrad.nn.functional as F

torch.set_default_dtype(torch.float64)
rng = random.Random(2147483647)  # Python's generator: the same numbers whichever library runs this


def randn(*shape):
    """A tensor of N(0, 1) samples drawn from Python's generator."""
    return torch.tensor([rng.gauss(0.0, 1.0) for _ in range(math.prod(shape))]).view(*shape)


words = """ada alma anna arlo asha bea bo cleo cora dara dex eli ella emil ezra fay finn gus ida ines
iris ivo jade joel juno kai kira lars lea leo lina lou luca mae mara milo mina nell nico nora
otto pia remy rosa ruby sami sara theo tova una vera wren yara zane zoe""".split()
chars = sorted(set("".join(words)))
stoi = {ch: i + 1 for i, ch in enumerate(chars)}
stoi["."] = 0
itos = {i: ch for ch, i in stoi.items()}
vocab_size = len(stoi)

# ----- the dataset: every (three previous characters -> next character) pair --------------------
block_size = 3
X, Y = [], []
for w in words:
    context = [0] * block_size
    for ch in w + ".":
        X.append(context)
        Y.append(stoi[ch])
        context = context[1:] + [stoi[ch]]
X = torch.tensor(X)
Y = torch.tensor(Y)
print(f"{X.size(0)} examples, vocabulary of {vocab_size} characters")

# ----- the model: an embedding table, one hidden layer, an output layer ------------------------
n_embd, n_hidden = 4, 48
C = randn(vocab_size, n_embd)
W1 = randn(block_size * n_embd, n_hidden) * (5 / 3) / (block_size * n_embd) ** 0.5
b1 = randn(n_hidden) * 0.01
W2 = randn(n_hidden, vocab_size) * 0.1
b2 = torch.zeros(vocab_size)
parameters = [C, W1, b1, W2, b2]
for p in parameters:
    p.requires_grad = True
print(f"{sum(p.nelement() for p in parameters)} parameters")

# ----- training: minibatch SGD by hand ----------------------------------------------------------
losses = []
for step in range(300):
    ix = [rng.randrange(X.shape[0]) for _ in range(32)]
    emb = C[X[ix]]  # (32, 3, n_embd): one embedding per context character
    h = torch.tanh(emb.view(-1, block_size * n_embd) @ W1 + b1)
    logits = h @ W2 + b2
    loss = F.cross_entropy(logits, Y[ix])
    for p in parameters:
        p.grad = None
    loss.backward()
    lr = 0.2 if step < 200 else 0.05
    for p in parameters:
        p.data += -lr * p.grad
    losses.append(loss.item())
    if step % 100 == 0:
        print(f"step {step:4d}  loss {loss.item():.4f}")

with torch.no_grad():
    h = torch.tanh(C[X].view(-1, block_size * n_embd) @ W1 + b1)
    full_loss = F.cross_entropy(h @ W2 + b2, Y)
print(f"loss over every example {full_loss.item():.4f}")

# ----- sampling: one character at a time, until '.' ---------------------------------------------
g = torch.Generator().manual_seed(2147483647 + 10)
for _ in range(5):
    out, context = [], [0] * block_size
    while True:
        h = torch.tanh(C[torch.tensor([context])].view(1, -1) @ W1 + b1)
        probs = F.softmax(h @ W2 + b2, dim=1)
        ix = torch.multinomial(probs, num_samples=1, generator=g).item()
        context = context[1:] + [ix]
        if ix == 0 or len(out) == 20:
            break
        out.append(itos[ix])
    print("".join(out))
