"""A recurrent language model written from scratch: one-hot characters, a loop over time steps.

The network is a single tanh RNN layer with its weights held in a plain list: at each step
H = tanh(X W_xh + H W_hh + b_h), and the output layer reads each H to predict the next character.
Training walks the text in consecutive minibatches (the hidden state carries over from one
minibatch to the next, detached from the graph), clips the gradient to a global norm by hand, and
reports perplexity, exp of the mean cross-entropy per character.

This file runs on minigrad; tests/fixtures/torch_programs/rnn_from_scratch.py is the same
program for PyTorch, and the two differ only in their import lines. The weights and the
starting offsets come from Python's own ``random`` module, so both start from the same numbers,
and tests/test_tutorial_programs.py checks that their losses agree.
"""

import math
import random

import minigrad as torch
from minigrad import nn
from minigrad.nn import functional as F

torch.set_default_dtype(torch.float64)
rng = random.Random(0)  # Python's generator: the same numbers whichever library runs this

text = (
    "the river runs past the mill and the mill turns the stone and the stone grinds the grain. "
    "the miller sells the flour in the town and the baker bakes the bread in the morning. "
    "in the evening the children eat the bread by the river and watch the water run past the mill. "
) * 3
vocab = sorted(set(text))
char_to_idx = {ch: i for i, ch in enumerate(vocab)}
corpus = [char_to_idx[ch] for ch in text]
vocab_size = len(vocab)


def seq_data_iter_sequential(corpus, batch_size, num_steps):
    """Minibatches that continue each other: row i of one batch picks up where row i of the last ended."""
    offset = rng.randint(0, num_steps)
    num_tokens = ((len(corpus) - offset - 1) // batch_size) * batch_size
    Xs = torch.tensor(corpus[offset:offset + num_tokens])
    Ys = torch.tensor(corpus[offset + 1:offset + 1 + num_tokens])
    Xs, Ys = Xs.reshape(batch_size, -1), Ys.reshape(batch_size, -1)
    num_batches = Xs.shape[1] // num_steps
    for i in range(0, num_steps * num_batches, num_steps):
        yield Xs[:, i:i + num_steps], Ys[:, i:i + num_steps]


def normal(*shape):
    """Small Gaussian weights drawn from Python's generator."""
    values = [rng.gauss(0.0, 1.0) for _ in range(math.prod(shape))]
    return torch.tensor(values).reshape(shape) * 0.1


def get_params(vocab_size, num_hiddens):
    W_xh = normal(vocab_size, num_hiddens)
    W_hh = normal(num_hiddens, num_hiddens)
    b_h = torch.zeros(num_hiddens)
    W_hq = normal(num_hiddens, vocab_size)
    b_q = torch.zeros(vocab_size)
    params = [W_xh, W_hh, b_h, W_hq, b_q]
    for param in params:
        param.requires_grad_(True)
    return params


def init_rnn_state(batch_size, num_hiddens, device):
    return (torch.zeros((batch_size, num_hiddens), device=device),)


def rnn(inputs, state, params):
    """inputs: (num_steps, batch_size, vocab_size), one step after another."""
    W_xh, W_hh, b_h, W_hq, b_q = params
    (H,) = state
    outputs = []
    for X in inputs:
        H = torch.tanh(torch.mm(X, W_xh) + torch.mm(H, W_hh) + b_h)
        outputs.append(torch.mm(H, W_hq) + b_q)
    return torch.cat(outputs, dim=0), (H,)


class RNNModelScratch:
    """The RNN as a callable: one-hot the token indices, then run ``rnn`` over time."""

    def __init__(self, vocab_size, num_hiddens, device):
        self.vocab_size, self.num_hiddens = vocab_size, num_hiddens
        self.params = get_params(vocab_size, num_hiddens)

    def __call__(self, X, state):
        X = F.one_hot(X.T, self.vocab_size).type(torch.float64)  # (num_steps, batch, vocab)
        return rnn(X, state, self.params)

    def begin_state(self, batch_size, device):
        return init_rnn_state(batch_size, self.num_hiddens, device)


def grad_clipping(params, theta):
    """Scale every gradient by theta / ||g|| when the global norm ||g|| exceeds theta."""
    norm = torch.sqrt(sum(torch.sum(p.grad**2) for p in params))
    if norm > theta:
        for param in params:
            param.grad[:] *= theta / norm


def sgd(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()


def predict(prefix, num_preds, net, device):
    """Continue ``prefix`` greedily, one character at a time."""
    state = net.begin_state(batch_size=1, device=device)
    outputs = [char_to_idx[prefix[0]]]
    for y in prefix[1:]:  # warm up the state on the prefix
        _, state = net(torch.tensor([outputs[-1]], device=device).reshape((1, 1)), state)
        outputs.append(char_to_idx[y])
    for _ in range(num_preds):
        y, state = net(torch.tensor([outputs[-1]], device=device).reshape((1, 1)), state)
        outputs.append(int(y.argmax(dim=1).reshape(1)))
    return "".join(vocab[i] for i in outputs)


device = torch.device("cpu")
batch_size, num_steps, num_hiddens, lr = 4, 12, 32, 1.0
net = RNNModelScratch(vocab_size, num_hiddens, device)
loss = nn.CrossEntropyLoss()
losses = []
for epoch in range(8):
    state, total, count = None, 0.0, 0
    for X, Y in seq_data_iter_sequential(corpus, batch_size, num_steps):
        if state is None:
            state = net.begin_state(batch_size=X.shape[0], device=device)
        else:
            for s in state:
                s.detach_()  # keep the values, cut the graph: backprop stops at this minibatch
        y = Y.T.reshape(-1)
        y_hat, state = net(X, state)
        l = loss(y_hat, y.long()).mean()  # noqa: E741  (the tutorials' name)
        l.backward()
        grad_clipping(net.params, 1)
        sgd(net.params, lr, batch_size=1)  # the loss is already a mean
        losses.append(l.item())
        total, count = total + l.item() * y.numel(), count + y.numel()
    if epoch % 2 == 1:
        print(f"epoch {epoch + 1}  perplexity {math.exp(total / count):.2f}")
print(predict("the ", 30, net, device))
