r"""What create-graph mode needs from above the ops: minigrad's functions, and the fused steps' replays.

``backward(create_graph=True)`` records each op's VJP as minigrad ops (``Op.recorded_vjp``,
``minigrad/ops/base.py``), written with an array namespace ``xp``: NumPy in the plain pass,
``minigrad.functional`` (NumPy's names, on tensors) here. The engine and the ops sit below the
tensors in the import layers, so this module, imported with minigrad, hands them the namespace.
"""

from __future__ import annotations

from minigrad import engine, functional

engine.GRAPH_MATH = functional  # create_graph's xp: exp, where, sum, ... on tensors
