"""The notebooks in notebooks/ run top to bottom headlessly (every claim in them is an assert),
and are committed with their outputs stripped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
NAMES = [p.name for p in NOTEBOOKS]


def test_the_three_notebooks_exist():
    assert NAMES == ["01_first_look.ipynb", "02_vanishing_exploding.ipynb", "03_gated_cells.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=NAMES)
def test_notebook_outputs_are_stripped(path):
    nb = json.loads(path.read_text())
    for k, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, f"{path.name}: cell {k} has output"
    assert "widgets" not in nb["metadata"], f"{path.name}: saved widget state"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=NAMES)
def test_notebook_runs_top_to_bottom(path, monkeypatch):
    reason = "nbclient/nbformat/ipykernel/ipywidgets not installed (pip install -e '.[notebooks]')"
    nbformat = pytest.importorskip("nbformat", reason=reason)
    nbclient = pytest.importorskip("nbclient", reason=reason)
    pytest.importorskip("ipykernel", reason=reason)
    pytest.importorskip("ipywidgets", reason=reason)
    pytest.importorskip("matplotlib", reason=reason)
    nb = nbformat.read(path, as_version=4)
    # The kernel inherits the environment: one BLAS thread, and the inline backend (CI sets MPLBACKEND=Agg,
    # under which plt.show() would draw nothing, so the plotting code would not be exercised).
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.delenv("MPLBACKEND", raising=False)
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(path.parent)}})  # fmt: skip
    client.execute()  # raises CellExecutionError, with the cell and its traceback, if a cell fails
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
