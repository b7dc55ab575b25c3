"""help() on a recurrent layer or cell stands alone: its own docstring gives the equations in
Unicode (no raw LaTeX), every parameter's name and shape, and the input and output shapes."""

import inspect

import pytest

from minigrad import nn

G = {"RNN": 1, "GRU": 3, "LSTM": 4}


def gates(n: int, shape: str) -> str:
    return shape if n == 1 else f"{n}·{shape}"


@pytest.mark.parametrize("name", ["RNN", "GRU", "LSTM"])
def test_layer_docstring_names_parameters_and_shapes(name):
    doc = inspect.getdoc(getattr(nn, name))
    g = G[name]
    for needed in [
        f"weight_ih_l{{k}}: ({gates(g, 'H')}, H_in) for k = 0, ({gates(g, 'H')}, D·H) for k > 0",
        f"weight_hh_l{{k}}: ({gates(g, 'H')}, H)",
        f"bias_ih_l{{k}}, bias_hh_l{{k}}: ({gates(g, 'H')},)",
        "_reverse",
        "(L, N, H_in)", "(N, L, H_in) with batch_first", "(L, H_in)",  # batched, batch_first, unbatched input
        "(L, N, D·H)", "(N, L, D·H) with batch_first", "(L, D·H) unbatched",  # the same three outputs
        "(D·num_layers, N, H)", "(D·num_layers, H) unbatched",  # the states
        "h_{t+1} =", "input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout",
        "bidirectional",
    ]:  # fmt: skip
        assert needed in doc, f"{name}'s docstring does not say {needed!r}"


@pytest.mark.parametrize("name", ["RNNCell", "GRUCell", "LSTMCell"])
def test_cell_docstring_names_parameters_and_shapes(name):
    doc = inspect.getdoc(getattr(nn, name))
    g = G[name.removesuffix("Cell")]
    for needed in [f"weight_ih ({gates(g, 'H')}, H_in)", f"weight_hh ({gates(g, 'H')}, H)",
                   f"bias_ih ({gates(g, 'H')},)", f"bias_hh ({gates(g, 'H')},)",
                   "(N, H_in) or (H_in,) unbatched", "h' ="]:  # fmt: skip
        assert needed in doc, f"{name}'s docstring does not say {needed!r}"


@pytest.mark.parametrize("name", ["RNN", "GRU", "LSTM", "RNNCell", "GRUCell", "LSTMCell"])
def test_docstring_stands_alone_in_unicode(name):
    doc = inspect.getdoc(getattr(nn, name))
    assert "$" not in doc and "\\" not in doc, f"{name}: raw LaTeX in help()"
    for elsewhere in ("as ``RNN``", "as ``GRU``", "as `RNN`", "as `GRU`", "see above", "module docstring"):
        assert elsewhere not in doc, f"{name}: help() sends the reader elsewhere ({elsewhere!r})"
