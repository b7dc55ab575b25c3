"""No hangs: a module tree with back-references (cycles) is walked once, like PyTorch's named_modules.

Every walk (parameters, state_dict, modules, repr, train, apply, to, zero_grad, load_state_dict)
runs under an alarm, so a regression fails in seconds instead of hanging the suite.
"""

from __future__ import annotations

import signal

import numpy as np
import pytest

from minigrad import nn


@pytest.fixture
def alarm():
    def _timeout(signum, frame):
        raise TimeoutError("walking the module tree did not finish in 5 s")

    old = signal.signal(signal.SIGALRM, _timeout)
    signal.alarm(5)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(2, 3)
        self.head = nn.Sequential(nn.Tanh(), nn.Linear(3, 1))


def _cyclic_nets():
    a = Net()
    a.encoder.parent = a  # child -> parent
    b = Net()
    b.head.append(b)  # a ModuleList holding its own parent
    c = Net()
    c.me = c  # a module holding itself
    d = Net()
    d.head[1].root, d.encoder.me = d, d.encoder  # two back-references at different depths
    return {"child.parent": a, "list holds parent": b, "self": c, "two": d}


NAMES = ["encoder.weight", "encoder.bias", "head.1.weight", "head.1.bias"]


@pytest.mark.parametrize("kind", list(_cyclic_nets()))
def test_back_references_do_not_hang_any_walk(alarm, kind):
    net = _cyclic_nets()[kind]
    plain = Net()
    assert [n for n, _ in net.named_parameters()] == NAMES
    assert len(list(net.parameters())) == 4
    assert len(list(net.modules())) == len(list(plain.modules()))
    sd = net.state_dict()
    assert list(sd) == NAMES
    assert net.load_state_dict(sd) == ([], [])
    assert "back-reference to Net" in repr(net)
    net.eval()
    assert not any(m.training for m in net.modules())
    net.apply(lambda m: None)
    net.to(np.float32)
    assert all(p.dtype == np.float32 for p in net.parameters())
    net.zero_grad()


def test_a_shared_module_is_still_named_under_each_of_its_names(alarm):
    """A module reached twice but not from inside itself is shared, not a cycle (PyTorch's state_dict)."""
    shared = nn.Linear(2, 2)
    seq = nn.Sequential(shared, nn.Tanh(), shared)
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert len(list(seq.parameters())) == 2


def test_repr_of_a_cycle_names_the_back_reference(alarm):
    net = _cyclic_nets()["child.parent"]
    text = repr(net)
    assert "(parent): <back-reference to Net>" in text
    assert text.count("Linear(") == 2
