"""Every public callable checks its arguments: a walk over the public API with bad values.

The walk finds the callables itself (as the op factory walks ``ALL_OPS``): every name in a
public module's ``__all__`` (or, without one, every public name defined in it), following
submodules, so a new public function is walked without anyone adding it here. Each parameter
has a *kind* in ``KINDS`` (a parameter without one fails the walk); each kind has its bad
values in ``BAD``. The callable is called with good values for everything (``good_value``,
``CALLS``) but one bad argument, and must raise ``TypeError`` or ``ValueError`` whose message
names the argument and the value, with no raw internals and no warning.
"""

from __future__ import annotations

import inspect
import math
import warnings

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn

# ----- the public API, found by walking modules ----------------------------------------------


def _public_names(module):
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n, o in vars(module).items() if not n.startswith("_") and _public_in(o, module)]
    return names


# Modules whose functions a module without __all__ imports for its own use, not to offer them:
# argument checkers, the Tensor machinery, the generator, and ops (not walked, see NOT_WALKED).
_INTERNAL = ("minigrad.arguments", "minigrad.tensor_arguments", "minigrad.nn.arguments", "minigrad.tensor",
             "minigrad.random", "minigrad.ops")  # fmt: skip


def _public_in(obj, module) -> bool:
    """A public name of a module without ``__all__``: a submodule, a function or class defined in it,
    or one re-exported from a minigrad module that is not internal (``F.scaled_dot_product_attention``
    lives in ``nn/functional_attention.py``; the walk does not reach that module by itself)."""
    if inspect.ismodule(obj):
        return obj.__name__.startswith(module.__name__ + ".")  # a submodule, not an import
    home = getattr(obj, "__module__", None) or ""
    if home == module.__name__:
        return True
    return callable(obj) and home.startswith("minigrad.") and not home.startswith(_INTERNAL)


def public_callables() -> dict[str, object]:
    found, modules = {}, [("mg", mg)]
    walked = set()
    while modules:
        prefix, module = modules.pop(0)
        for name in _public_names(module):
            obj = getattr(module, name)
            if inspect.ismodule(obj):
                if obj.__name__.startswith("minigrad") and obj.__name__ not in walked and obj is not mg.ops:
                    walked.add(obj.__name__)
                    modules.append((f"{prefix}.{name}", obj))
            elif callable(obj) and not (inspect.isclass(obj) and issubclass(obj, BaseException)):
                if all(o is not obj for o in found.values()):
                    found[f"{prefix}.{name}"] = obj
    return found


PUBLIC = public_callables()

# Callables the walk cannot call meaningfully, each with its reason.
NOT_WALKED = {
    "mg.ops": "Op classes: their arguments are checked by the functions that build them (walked)",
    "mg.optim.Optimizer": "a base class: subclasses pass `defaults`; SGD, Adam, ... are walked",
    "mg.optim.lr_scheduler.LRScheduler": "a base class; StepLR, ExponentialLR, ... are walked",
    "mg.bptt.BPTTResult": "a result record built by bptt, not by users",
    "mg.bptt.TBPTTResult": "a result record built by truncated_bptt, not by users",
    "mg.bptt.Trajectory": "a result record built by unroll, not by users",
    "mg.diagnostics.Flag": "a result record built by GradientMonitor, not by users",
    "mg.nn.Module": "takes no arguments",
}

# ----- kinds of arguments and their bad values -----------------------------------------------
# Each bad value comes with what the message must show of it.
_COMPLEX = np.ones((3, 3), dtype=complex)
BAD = {
    "tensor": [(None, "None"), ("abc", "'abc'"), (_COMPLEX, "complex")],
    "optional tensor": [("abc", "'abc'"), (_COMPLEX, "complex")],  # None is allowed
    "size": [(None, "None"), ("3", "'3'"), (2.5, "2.5"), (-1, "-1"), (True, "True")],  # int > 0
    "count": [(None, "None"), ("3", "'3'"), (2.5, "2.5"), (-1, "-1")],  # int >= 0
    "int": [(None, "None"), ("3", "'3'"), (2.5, "2.5")],
    "positive": [(None, "None"), ("0.1", "'0.1'"), (math.nan, "nan"), (math.inf, "inf"), (-1.0, "-1"), (1j, "1j")],
    "nonnegative": [(None, "None"), ("0.1", "'0.1'"), (math.nan, "nan"), (math.inf, "inf"), (-1.0, "-1"), (1j, "1j")],
    "threshold": [(None, "None"), ("0.1", "'0.1'"), (math.nan, "nan"), (-1.0, "-1"), (1j, "1j")],  # inf: none
    "probability": [(None, "None"), ("0.5", "'0.5'"), (math.nan, "nan"), (-0.1, "-0.1"), (1.5, "1.5"), (1j, "1j")],
    "real": [(None, "None"), ("1", "'1'"), (math.nan, "nan"), (math.inf, "inf"), (1j, "1j")],  # finite
    "number": [(None, "None"), ("1", "'1'"), (1j, "1j")],  # NaN and inf allowed (a fill value)
    "flag": [(None, "None"), ("no", "'no'"), (2, "2")],
    "axis": [("1", "'1'"), (1.5, "1.5"), (7, "7")],  # None (every axis) is allowed where it is the default
    "layer axis": [("1", "'1'"), (1.5, "1.5")],  # a layer learns the input's rank only when called
    "choice": [("bogus", "'bogus'"), (None, "None"), (3, "3")],
    "dtype": [("bogus", "'bogus'"), (3, "3")],
    "parameters": [(None, "None"), (3, "3"), ("abc", "'abc'"), (nn.Linear(2, 2), "Linear")],  # SGD(model)
    "module": [(None, "None"), (3, "3"), ("abc", "'abc'")],
    "callable": [(None, "None"), (3, "3"), ("abc", "'abc'")],
    "shape": [(None, "None"), ("3", "'3'"), (2.5, "2.5"), (-1, "-1")],
    "new shape": [(None, "None"), ("3", "'3'"), (2.5, "2.5")],  # -1 is allowed: "the rest"
    "index": [(None, "None"), ("1", "'1'"), (1.5, "1.5")],  # an int, or None where None is the default
    "seed": [(None, "None"), ("abc", "'abc'"), (2.5, "2.5"), (-1, "-1")],
    "path": [(None, "None"), (3, "3")],
    "device": [("cuda", "'cuda'"), (3, "3")],  # the CPU is the only device
    "generator": [(3, "3"), ("abc", "'abc'")],  # None: minigrad's global generator
    "dataset": [(None, "None"), (3, "3")],
    "any": [],  # accepts anything (e.g. the ``value`` of a result record); nothing to refuse
}

# The kind of each parameter, by its name; KIND_OF_ARGUMENT overrides it for one callable.
KINDS = {
    # tensors and arrays
    **dict.fromkeys(["mat2", "tensors", "query", "key", "input", "x", "a", "x1", "x2", "W", "tensor", "ary",
                     "array", "y", "target",
                     "data", "condition", "grad", "jacobians", "adjoints", "grads", "outputs", "inputs",
                     "arrays", "state_dict"], "tensor"),
    **dict.fromkeys(["weight", "bias", "pos_weight", "like", "u", "v", "v0", "state0", "grad_outputs",
                     "a_min", "a_max", "attn_mask"], "optional tensor"),
    # sizes and counts
    **dict.fromkeys(["input_size", "hidden_size", "in_features", "out_features", "num_layers", "n_iter",
                     "num_embeddings", "embedding_dim", "step_size", "T_max", "steps", "n", "k", "embed_dim",
                     "num_heads", "kdim", "vdim", "d_model", "nhead", "dim_feedforward", "max_len", "length",
                     "num_samples", "batch_size"], "size"),
    **dict.fromkeys(["ddof", "patience", "cooldown", "correction"], "count"),
    **dict.fromkeys(["last_epoch", "low", "high"], "int"),
    # hyper-parameters
    **dict.fromkeys(["eps", "lr", "gain", "eps_min", "eps_max", "growth", "rho", "factor",
                     "grad_norm0", "atol", "rtol", "layer_norm_eps"], "positive"),
    **dict.fromkeys(["weight_decay", "std", "lr_decay", "initial_accumulator_value", "eta_min", "min_lr",
                     "tol", "gamma", "threshold", "dampening", "momentum", "alpha"], "nonnegative"),
    **dict.fromkeys(["max_norm", "clip_value"], "threshold"),
    **dict.fromkeys(["p", "dropout", "label_smoothing", "dropout_p"], "probability"),
    **dict.fromkeys(["scale", "mean", "b", "negative_slope", "transform_bias", "param", "start", "end", "step"],
                    "real"),
    **dict.fromkeys(["val", "fill_value"], "number"),
    **dict.fromkeys(["requires_grad", "keepdims", "keepdim", "training", "batch_first", "bidirectional",
                     "elementwise_affine", "amsgrad", "nesterov", "centered", "normalize", "raise_exception",
                     "error_if_nonfinite", "reset_after", "retain_graph", "add_bias_kv", "add_zero_attn",
                     "norm_first", "create_graph", "allow_unused", "materialize_grads", "strict",
                     "vectorize", "unbiased", "is_causal", "replacement", "shuffle", "drop_last"], "flag"),
    **dict.fromkeys(["dim", "axis", "axis_or_dim"], "axis"),
    **dict.fromkeys(["reduction", "nonlinearity", "mode", "approximate", "strategy", "threshold_mode",
                     "method", "activation", "outer_jacobian_strategy"], "choice"),
    "dtype": "dtype",
    **dict.fromkeys(["params", "parameters"], "parameters"),
    **dict.fromkeys(["optimizer", "cell", "model", "lstm", "cell_or_layer", "block"], "module"),
    **dict.fromkeys(["f", "fn", "loss_fn", "lr_lambda"], "callable"),
    **dict.fromkeys(["size", "normalized_shape", "newshape", "shape", "dims", "axes"], "shape"),
    **dict.fromkeys(["ignore_index", "padding_idx", "indices_or_sections"], "index"),
    "seed": "seed",
    "path": "path",
    "device": "device",
    "generator": "generator",
    "dataset": "dataset",
    **dict.fromkeys(["name", "file", "value", "kind", "modules", "defaults", "betas", "max_norms", "clip_values",
                     "m", "param_grads", "contributions", "input_grads", "states", "losses", "state"], "any"),
}
KIND_OF_ARGUMENT = {
    "mg.nn.Linear.bias": "flag", "mg.nn.RNNCell.bias": "flag", "mg.nn.LSTMCell.bias": "flag",
    "mg.nn.GRUCell.bias": "flag", "mg.nn.RNN.bias": "flag", "mg.nn.LSTM.bias": "flag", "mg.nn.GRU.bias": "flag",
    "mg.nn.functional.linear.weight": "tensor", "mg.nn.functional.embedding.weight": "tensor",
    "mg.nn.init.uniform_.a": "real", "mg.nn.init.kaiming_uniform_.a": "real",
    "mg.nn.init.kaiming_normal_.a": "real",
    "mg.nn.regularizers.frobenius_penalty.weight": "nonnegative",
    "mg.nn.regularizers.spectral_radius_penalty.weight": "nonnegative",
    "mg.nn.regularizers.nuclear_norm_penalty.weight": "nonnegative",
    "mg.nn.regularizers.spectral_radius_penalty.target": "nonnegative",
    "mg.nn.recurrent_init.scaled_orthogonal_.gamma": "positive", "mg.nn.recurrent_init.identity_.gamma": "real",
    "mg.optim.lr_scheduler.StepLR.gamma": "positive", "mg.optim.lr_scheduler.ExponentialLR.gamma": "positive",
    "mg.nn.recurrent_init.retention_logit.p": "probability",
    "mg.bptt.truncated_bptt.optimizer": "module", "mg.arange.end": "any", "mg.arange.step": "real",
    "mg.nn.RecurrentDropout.p": "probability", "mg.set_grad_enabled.mode": "flag",
    "mg.reshape.newshape": "new shape", "mg.nn.Softmax.dim": "layer axis", "mg.nn.LogSoftmax.dim": "layer axis",
    "mg.nn.utils.clip_grad_norm_.norm_type": "threshold", "mg.device.type": "device",
    "mg.nn.functional.one_hot.num_classes": "index", "mg.nn.recurrent_init.chrono_init_.T_max": "positive",
}  # fmt: skip

# ----- good values: every argument but the bad one -------------------------------------------


def _square():
    return mg.Tensor(np.eye(3) * 0.5, requires_grad=True)


def _rnn_input():
    return mg.Tensor(np.ones((4, 2, 3)))  # (T, N, input_size=3)


def _lstm():
    return nn.LSTM(3, 4)


def _model():
    model = nn.Linear(3, 3)
    (model(mg.ones((2, 3))) ** 2).sum().backward()
    return model


def _optimizer():
    return mg.optim.SGD(nn.Linear(3, 3).parameters(), lr=0.1)


GOOD = {  # by parameter name: a function making a good value
    "tensor": lambda: _square(), "input": _square, "mat2": _square,
    "x": _square, "a": _square, "x1": _square, "x2": _square,
    "W": _square, "ary": _square, "array": _square, "y": _square, "data": lambda: np.ones(3),
    "condition": lambda: np.eye(3) > 0, "grad": lambda: np.ones(3), "target": _square,
    "jacobians": lambda: np.stack([np.eye(3)] * 4), "adjoints": lambda: np.ones((4, 2, 3)),
    "grads": lambda: np.ones((4, 3)), "arrays": lambda: [_square(), _square()],
    "input_size": lambda: 3, "hidden_size": lambda: 4, "in_features": lambda: 3, "out_features": lambda: 2,
    "num_embeddings": lambda: 5, "embedding_dim": lambda: 2, "step_size": lambda: 2, "T_max": lambda: 5,
    "steps": lambda: 5, "n": lambda: 3, "k": lambda: 2, "size": lambda: (2, 3), "normalized_shape": lambda: 3,
    "newshape": lambda: (9,), "shape": lambda: (2, 3, 3), "dims": lambda: (1, 0), "gamma": lambda: 0.5,
    "p": lambda: 0.5, "rho": lambda: 0.9, "val": lambda: 0.5, "fill_value": lambda: 0.5, "start": lambda: 0.0,
    "end": lambda: 1.0, "indices_or_sections": lambda: 3, "nonlinearity": lambda: "tanh", "seed": lambda: 0,
    "params": lambda: nn.Linear(3, 3).parameters(), "parameters": lambda: _model().parameters(),
    "max_norm": lambda: 1.0, "clip_value": lambda: 1.0, "optimizer": _optimizer, "model": _model,
    "cell": lambda: nn.RNNCell(3, 4), "cell_or_layer": lambda: nn.RNNCell(3, 4), "lstm": _lstm,
    "block": lambda: nn.Linear(3, 3), "f": lambda: (lambda t: (t * t).sum()), "inputs": _square,
    "lr_lambda": lambda: (lambda epoch: 0.5), "path": lambda: "unused.npz", "state_dict": lambda: {"w": np.ones(2)},
    "modules": lambda: [nn.Linear(3, 3)], "name": lambda: "clip", "max_norms": lambda: [1.0, 1.0],
    "clip_values": lambda: [1.0, 1.0], "dtype": lambda: np.float64, "mode": lambda: "min",
    "embed_dim": lambda: 4, "num_heads": lambda: 2, "d_model": lambda: 4, "nhead": lambda: 2, "length": lambda: 3,
}  # fmt: skip
CALLS = {  # good arguments where the name alone does not say
    "mg.nn.functional.scaled_dot_product_attention": lambda: dict(query=_square(), key=_square(), value=_square()),
    "mg.randint": lambda: dict(low=0, high=5, size=(3,)),
    "mg.multinomial": lambda: dict(input=np.array([0.2, 0.3, 0.5]), num_samples=2),
    "mg.nn.functional.one_hot": lambda: dict(tensor=np.array([0, 2, 1])),
    "mg.utils.data.TensorDataset": lambda: dict(tensors=(_square(), _square())),
    "mg.utils.data.DataLoader": lambda: dict(dataset=mg.utils.data.TensorDataset(_square(), _square())),
    "mg.device": lambda: dict(type="cpu"),
    "mg.split": lambda: dict(ary=_square(), indices_or_sections=3, axis=0),  # split(x, 3) alone is ambiguous
    "mg.var": lambda: dict(a=_square(), ddof=0),  # var(a) alone is ambiguous (NumPy's ddof or PyTorch's?)
    "mg.nn.functional.cross_entropy": lambda: dict(input=_square(), target=np.array([0, 1, 2])),
    "mg.nn.functional.nll_loss": lambda: dict(input=_square(), target=np.array([0, 1, 2])),
    "mg.nn.functional.embedding": lambda: dict(input=np.array([0, 1]), weight=_square()),
    "mg.nn.functional.linear": lambda: dict(input=_square(), weight=_square()),
    "mg.nn.functional.layer_norm": lambda: dict(input=_square(), normalized_shape=3),
    "mg.bptt.unroll": lambda: dict(cell_or_layer=nn.RNNCell(3, 4), x=_rnn_input()),
    "mg.bptt.truncated_bptt": lambda: dict(cell=nn.RNNCell(3, 4), x=_rnn_input(), k=2,
                                           loss_fn=lambda states, t0: (states[-1] ** 2).sum(), optimizer=_optimizer()),
    "mg.nn.recurrent_init.forget_gate_bias_": lambda: dict(lstm=_lstm(), p=0.9),
    "mg.grad": lambda: (lambda w: dict(outputs=(w * w).sum(), inputs=w))(_square()),
    "mg.vjp": lambda: dict(f=lambda t: t * 2, inputs=_square(), v=np.ones((3, 3))),
    "mg.jvp": lambda: dict(f=lambda t: t * 2, inputs=_square(), v=np.ones((3, 3))),
    "mg.jacobian": lambda: dict(f=lambda t: t * 2, inputs=_square()),
    "mg.hvp": lambda: dict(f=lambda t: (t * t * t).sum(), inputs=_square(), v=np.ones((3, 3))),
    "mg.vhp": lambda: dict(f=lambda t: (t * t * t).sum(), inputs=_square(), v=np.ones((3, 3))),
    "mg.eye": lambda: dict(n=3),
    "mg.arange": lambda: dict(start=0.0, end=3.0),
    "mg.save": lambda: dict(state_dict={"w": np.ones(2)}, path="unused.npz"),
    "mg.nn.Sequential": lambda: dict(modules=nn.Linear(3, 3)),
    "mg.clip": lambda: dict(a=_square(), a_min=0.0),
    "mg.load": lambda: (mg.save({"w": np.ones(2)}, "saved.npz"), dict(path="saved.npz"))[1],
    "mg.set_grad_enabled": lambda: dict(mode=True),
    "mg.nn.init.calculate_gain": lambda: dict(nonlinearity="leaky_relu"),
}  # fmt: skip

# ----- the walk ------------------------------------------------------------------------------
RAW_INTERNALS = ["is not iterable", "not subscriptable", "has no attribute", "unsupported operand",
                 "cannot be interpreted as", "must be real number, not", "can't multiply", "could not convert",
                 "invalid literal", "not supported between instances", "takes no arguments"]  # fmt: skip
ALIASES = {"axis_or_dim": ("axis", "dim"),
           "axis": ("axis", "dim"), "dim": ("dim", "axis"), "keepdim": ("keepdim", "keepdims")}


def _walked():
    for qualname, fn in sorted(PUBLIC.items()):
        if qualname not in NOT_WALKED:
            yield qualname, fn


def _kind(qualname: str, param: str) -> str | None:
    return KIND_OF_ARGUMENT.get(f"{qualname}.{param}", KINDS.get(param))


def _parameters(fn):
    return [p for p in inspect.signature(fn).parameters.values() if p.kind != p.VAR_KEYWORD]


def _good_call(qualname: str, fn) -> dict:
    if qualname in CALLS:
        return CALLS[qualname]()
    required = [p.name for p in _parameters(fn) if p.default is p.empty]
    missing = [name for name in required if name not in GOOD]
    assert not missing, f"{qualname}: add a good value for {missing} to GOOD or CALLS"
    return {name: GOOD[name]() for name in required}


def _call(fn, kwargs: dict):
    """``fn(**kwargs)``; arguments up to a ``*args`` parameter are passed by position."""
    params = _parameters(fn)
    if not any(p.kind == p.VAR_POSITIONAL for p in params):
        return fn(**kwargs)
    args = []
    for p in params:
        if p.kind == p.VAR_POSITIONAL:
            value = kwargs.pop(p.name, ())
            args.extend(value if isinstance(value, tuple) else (value,))
            break
        args.append(kwargs.pop(p.name))
    return fn(*args, **kwargs)


def _cases():
    for qualname, fn in _walked():
        for p in _parameters(fn):
            for value, shown in BAD.get(_kind(qualname, p.name), []):
                if p.default is not p.empty and value is None and p.default is None:
                    continue  # None is this argument's default: allowed
                yield pytest.param(qualname, p.name, value, shown, id=f"{qualname[3:]}-{p.name}={shown}")


def test_the_walk_finds_the_public_api():
    names = set(PUBLIC)
    for expected in ["mg.exp", "mg.split", "mg.transpose", "mg.nn.Linear", "mg.nn.functional.layer_norm",
                     "mg.nn.init.normal_", "mg.optim.SGD", "mg.optim.lr_scheduler.StepLR", "mg.bptt.unroll",
                     "mg.diagnostics.lyapunov_exponent", "mg.jvp", "mg.nn.extra_cells.HighwayRNNCell",
                     "mg.nn.functional.scaled_dot_product_attention"]:  # fmt: skip
        assert expected in names
    assert not [n for n in NOT_WALKED if n not in PUBLIC and n != "mg.ops"], "NOT_WALKED names a callable that is gone"


@pytest.mark.parametrize("qualname, fn", list(_walked()), ids=[q for q, _ in _walked()])
def test_every_argument_has_a_kind_and_the_good_call_works(qualname, fn, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    unknown = [p.name for p in _parameters(fn) if _kind(qualname, p.name) is None]
    assert not unknown, f"{qualname}: give {unknown} a kind in KINDS (or KIND_OF_ARGUMENT)"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _call(fn, _good_call(qualname, fn))


@pytest.mark.parametrize("qualname, param, value, shown", list(_cases()))
def test_a_bad_argument_is_refused_by_name_and_value(qualname, param, value, shown, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    fn = PUBLIC[qualname]
    kwargs = {**_good_call(qualname, fn), param: value}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a leaked NumPy warning (ComplexWarning, ...) is a failure
        try:
            _call(fn, kwargs)
        except (TypeError, ValueError) as e:
            message = str(e)
        else:
            pytest.fail(f"{qualname}({param}={value!r}) was accepted")
    names = ALIASES.get(param, (param,))
    assert any(name in message for name in names), f"the message does not name {param}: {message}"
    assert shown in message, f"the message does not show the value {shown}: {message}"
    assert not [raw for raw in RAW_INTERNALS if raw in message], f"raw internals: {message}"


# ----- the issue's examples, by name ---------------------------------------------------------
_w = mg.Tensor(np.ones((3, 3)))
EXAMPLES = [  # (call, exception, what the message must say)
    (lambda: nn.init.constant_(_w, None), TypeError, r"constant_: val must be a real number, got None"),
    (lambda: nn.init.normal_(_w, std=math.nan), ValueError, r"normal_: std must be .*got nan"),
    (lambda: nn.extra_cells.HighwayRNNCell(2.5, 3), ValueError, r"input_size must be a positive integer, got 2.5"),
    (lambda: nn.CrossEntropyLoss(ignore_index=None), TypeError, r"ignore_index must be an int, got None"),
    (lambda: nn.functional.layer_norm(_w, 3, eps=-1), ValueError, r"layer_norm: eps must be .*got -1"),
    (lambda: mg.split(_w, "3", axis=0), TypeError, r"split: indices_or_sections must be a sequence of ints, got '3'"),
    (lambda: nn.init.xavier_uniform_(_w, gain=math.nan), ValueError, r"xavier_uniform_: gain must be .*got nan"),
    (lambda: mg.optim.SGD(nn.Linear(2, 2)), TypeError, r"SGD: params must be an iterable of Tensors.*Linear"),
    (lambda: mg.bptt.unroll(None, np.ones((2, 1, 3))), TypeError, r"unroll: cell_or_layer must be .*got None"),
    (lambda: mg.transpose(_w, 5), TypeError, r"transpose: axes must be a sequence of ints, got 5"),
    (lambda: nn.functional.cross_entropy(_w, np.array([0, 1, 2]), weight=np.ones(3, complex)), TypeError,
     r"cross_entropy: weight must be .*complex"),
    (lambda: mg.jvp(lambda t: t * 2, np.ones(3), np.ones(3, complex)), TypeError, r"jvp: v must be .*complex"),
    (lambda: mg.vjp(lambda t: t * 2, np.ones(3), np.ones(3, complex)), TypeError, r"vjp: v must be .*complex"),
    (lambda: nn.init.orthogonal_(_w, gain=1j), TypeError, r"orthogonal_: gain must be a real number, got 1j"),
    (lambda: mg.clip(_w, 1j, 1), TypeError, r"clip: a_min must be a real number, got 1j"),
    (lambda: mg.gradcheck(lambda t: t.sum(), _w, eps=math.nan), ValueError, r"gradcheck: eps must be .*got nan"),
]  # fmt: skip


@pytest.mark.parametrize("call, exc, pattern", EXAMPLES, ids=[e[2][:40] for e in EXAMPLES])
def test_the_issues_examples_are_refused_without_warnings(call, exc, pattern):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(exc, match=pattern):
            call()
