"""See the graph: draw any computation with its local Jacobians' shapes and its gradients.

* :func:`to_dot` (``dot.py``): Graphviz DOT text for the graph behind a tensor, no dependency.
* :func:`draw` (``render.py``): the same, rendered to SVG or PNG by Graphviz's ``dot`` when it
  is installed (``minigrad-edu[viz]``), else to SVG by a pure-Python layered layout
  (``layout.py``, ``svg.py``); in a notebook the result displays itself.
* :func:`name` (``names.py``): name a tensor for the drawing.
* :func:`trace_modules` (``modules.py``): record which ops each ``nn.Module`` call made, to
  frame or collapse module calls (an LSTM over 50 steps stays one box per step).
* :func:`retain_grads`: keep every intermediate's gradient, so the drawing shows them all.

>>> import minigrad as mg
>>> from minigrad import viz
>>> x = viz.name(mg.tensor([1.0, 2.0], requires_grad=True), "x")
>>> dot = viz.to_dot((x * x).sum())
>>> for line in dot.splitlines():
...     if "->" in line:
...         print(line.strip())
t0 -> o1 [label="J0: 2×2"];
t0 -> o1 [label="J1: 2×2"];
o1 -> t1;
t1 -> o2 [label="J0: 1×2"];
o2 -> t2;

``x`` is used twice by ``x * x`` (fan-out): two edges, one per argument of the ``Mul``.
"""

from minigrad.viz.dot import graph_tensors, retain_grads, to_dot
from minigrad.viz.modules import Call, ModuleTrace, trace_modules
from minigrad.viz.names import name, name_of
from minigrad.viz.render import SVG, draw

__all__ = ["to_dot", "draw", "SVG", "name", "name_of", "trace_modules", "ModuleTrace", "Call", "retain_grads",
           "graph_tensors"]  # fmt: skip
