"""Module, Parameter, Sequential, ModuleList: discovery, names, modes, state dicts, repr."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad
from minigrad import nn
from minigrad.nn import Module, ModuleList, Parameter, Sequential


class Block(Module):
    def __init__(self, n_in):
        super().__init__()
        self.fc = nn.Linear(n_in, 4)
        self.norm = nn.LayerNorm(4)
        self.scale = Parameter([2.0])

    def forward(self, x):
        return self.norm(self.fc(x)) * self.scale


class Net(Module):
    def __init__(self):
        super().__init__()
        self.layers = ModuleList([Block(3), Block(4)])
        self.act = nn.Tanh()
        self.head = nn.Linear(4, 2, bias=False)

    def forward(self, x):
        for layer in self.layers:
            x = self.act(layer(x))
        return self.head(x)


# PyTorch's order: a module's own parameters first, then each child's, depth first
NAMES = [
    "layers.0.scale", "layers.0.fc.weight", "layers.0.fc.bias", "layers.0.norm.weight",
    "layers.0.norm.bias", "layers.1.scale", "layers.1.fc.weight", "layers.1.fc.bias",
    "layers.1.norm.weight", "layers.1.norm.bias", "head.weight",
]  # fmt: skip


def test_parameter_is_a_float_leaf_with_a_copy_of_the_data():
    a = np.array([1.0, 2.0], dtype=np.float32)
    p = Parameter(a)
    assert isinstance(p, minigrad.Tensor) and p.requires_grad and p.is_leaf
    assert p.dtype == np.float32
    a[0] = 9.0
    assert p.data[0] == 1.0
    assert Parameter([1, 2]).dtype == np.float64  # Python data: the default dtype
    assert repr(Parameter([1.0])).startswith("Parameter containing:\ntensor([1.]")


def test_named_parameters_are_dotted_and_in_assignment_order():
    net = Net()
    assert [n for n, _ in net.named_parameters()] == NAMES
    assert len(list(net.parameters())) == len(NAMES)
    assert [n for n, _ in net.named_children()] == ["layers", "act", "head"]
    assert [type(m).__name__ for m in net.modules()] == [
        "Net", "ModuleList", "Block", "Linear", "LayerNorm", "Block", "Linear", "LayerNorm",
        "Tanh", "Linear",
    ]  # fmt: skip
    assert list(Sequential(nn.Linear(1, 2), nn.ReLU(), nn.Linear(2, 1)).state_dict()) == [
        "0.weight", "0.bias", "2.weight", "2.bias",
    ]  # fmt: skip


def test_shared_parameter_is_listed_once_but_named_in_the_state_dict_twice():
    lin = nn.Linear(2, 2)
    seq = Sequential(lin, nn.Tanh(), lin)
    assert len(list(seq.parameters())) == 2
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_forward_backward_reaches_every_parameter_and_zero_grad_clears():
    net = Net()
    net(np.ones((5, 3))).sum().backward()
    assert all(p.grad is not None and p.grad.shape == p.shape for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_train_and_eval_reach_every_module():
    net = Net()
    assert net.training and all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    with pytest.raises(TypeError, match="mode must be a bool"):
        net.train("no")


def test_state_dict_is_a_copy():
    net = Net()
    sd = net.state_dict()
    assert list(sd) == NAMES and all(type(v) is np.ndarray for v in sd.values())
    sd["head.weight"][...] = 123.0
    assert not np.any(net.head.weight.data == 123.0)


def test_load_state_dict_copies_and_casts_to_the_parameter_dtype():
    src, dst = Net(), Net().to(np.float32)
    result = dst.load_state_dict(src.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    for (n, a), (_, b) in zip(src.named_parameters(), dst.named_parameters(), strict=True):
        assert b.dtype == np.float32, n
        np.testing.assert_array_equal(b.data, a.data.astype(np.float32))
    x = np.random.default_rng(0).normal(size=(2, 3))
    np.testing.assert_allclose(dst(x.astype(np.float32)).data, src(x).data, rtol=1e-4, atol=1e-5)


def test_strict_load_names_missing_unexpected_and_mismatched_and_changes_nothing():
    net = Net()
    before = net.state_dict()
    sd = net.state_dict()
    del sd["layers.1.scale"]
    sd["extra.weight"] = np.zeros(3)
    sd["head.weight"] = np.zeros((2, 5))
    sd["layers.0.fc.bias"] = np.full(4, 7.0)  # valid, but must not be copied either
    with pytest.raises(ValueError) as info:
        net.load_state_dict(sd)
    msg = str(info.value)
    assert "missing keys: ['layers.1.scale']" in msg
    assert "unexpected keys: ['extra.weight']" in msg
    assert "head.weight: expected shape (2, 4), got (2, 5)" in msg
    for k, v in net.state_dict().items():
        np.testing.assert_array_equal(v, before[k])


def test_non_strict_load_reports_keys_but_still_rejects_shapes():
    net = Net()
    sd = {"head.weight": np.ones((2, 4)), "other": np.ones(1)}
    result = net.load_state_dict(sd, strict=False)
    assert result.unexpected_keys == ["other"] and len(result.missing_keys) == len(NAMES) - 1
    np.testing.assert_array_equal(net.head.weight.data, np.ones((2, 4)))
    with pytest.raises(ValueError, match="size mismatch"):
        net.load_state_dict({"head.weight": np.ones(8)}, strict=False)
    with pytest.raises(TypeError, match="must be a dict"):
        net.load_state_dict([("head.weight", np.ones((2, 4)))])


def test_repr_is_a_tree_like_pytorchs():
    model = Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Dropout(0.1), nn.LayerNorm(3))
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Linear(in_features=2, out_features=3, bias=True)\n"
        "  (1): Tanh()\n"
        "  (2): Dropout(p=0.1)\n"
        "  (3): LayerNorm((3,), eps=1e-05, elementwise_affine=True)\n"
        ")"
    )
    assert repr(Net()).splitlines()[:4] == [
        "Net(", "  (layers): ModuleList(", "    (0): Block(",
        "      (fc): Linear(in_features=3, out_features=4, bias=True)",
    ]  # fmt: skip


def test_sequential_and_module_list_behave_like_lists():
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    seq = Sequential(a, b, c)
    x = np.random.default_rng(1).normal(size=(4, 2))
    np.testing.assert_allclose(seq(x).data, c(b(a(x))).data)
    assert len(seq) == 3 and seq[0] is a and list(seq) == [a, b, c]
    assert isinstance(seq[:2], Sequential) and list(seq[:2]) == [a, b]
    ml = ModuleList().append(a).extend([c])
    assert len(ml) == 2 and ml[1] is c
    with pytest.raises(TypeError, match="expected a Module"):
        ModuleList([a, "not a module"])
    with pytest.raises(NotImplementedError):
        ml(x)


def test_apply_and_to():
    net = Net()
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen[-1] == "Net" and len(seen) == 10
    net.to(np.float32)
    assert all(p.dtype == np.float32 for p in net.parameters())
