"""Three tutorial-style PyTorch programs run on minigrad with only their imports changed (issue 24).

``examples/char_mlp_names.py`` (a character-level MLP language model: an embedding table ``C[X]``,
``.view``, ``F.cross_entropy``, SGD by hand, ``multinomial`` sampling with a ``Generator``),
``examples/rnn_from_scratch.py`` (one-hot inputs, a loop over time, global-norm clipping by hand
with ``p.grad[:] *= c``, ``detach_``, perplexity) and ``examples/lstm_classifier.py`` (an
``nn.Module`` with ``nn.LSTM(batch_first=True)``, ``DataLoader``, ``CrossEntropyLoss``, Adam,
``clip_grad_norm_``, ``StepLR``, ``train()``/``eval()``, ``no_grad``, ``out.max(1)[1]``, a state
dict saved and loaded). Their PyTorch twins are in ``tests/fixtures/torch_programs/``, and their
losses, from PyTorch 2.13, in ``tests/fixtures/tutorials_torch.npz`` (``make_tutorial_fixture.py``).
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
PROGRAMS = ["char_mlp_names", "rnn_from_scratch", "lstm_classifier"]


def _is_import(line: str) -> bool:
    return line.startswith(("import ", "from "))


@pytest.mark.parametrize("name", PROGRAMS)
def test_the_minigrad_program_differs_from_pytorchs_only_in_import_lines(name):
    ours = (ROOT / "examples" / f"{name}.py").read_text().splitlines()
    theirs = (FIXTURES / "torch_programs" / f"{name}.py").read_text().splitlines()
    assert len(ours) == len(theirs)
    changed = [(a, b) for a, b in zip(ours, theirs) if a != b]
    assert changed, "the two programs are the same file: the PyTorch one should import torch"
    assert all(_is_import(a) and _is_import(b) for a, b in changed), changed
    assert all("minigrad" in a and "torch" in b and "minigrad" not in b for a, b in changed)


def _losses_of_minigrad_program(name: str) -> tuple[list, str]:
    """Run examples/<name>.py in a fresh process; its ``losses`` list and what it printed."""
    script = (
        "import contextlib, io, json, runpy, sys\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        f"    scope = runpy.run_path({str(ROOT / 'examples' / f'{name}.py')!r}, run_name='__main__')\n"
        "print(json.dumps({'losses': scope['losses'], 'printed': out.getvalue()}))\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    return result["losses"], result["printed"]


@pytest.mark.parametrize("name", PROGRAMS)
def test_the_minigrad_program_gives_pytorchs_losses(name):
    losses, printed = _losses_of_minigrad_program(name)
    expected = np.load(FIXTURES / "tutorials_torch.npz")[name]
    assert len(losses) == len(expected)
    np.testing.assert_allclose(losses, expected, rtol=1e-9, atol=0)
    assert losses[-1] < 0.7 * losses[0]  # and it learned something
    if name == "lstm_classifier":  # out.max(1)[1] is PyTorch's indices: accuracy, not 0
        assert "restored model agrees on 48 of 48 test sequences" in printed
        accuracy = float(printed.splitlines()[-2].split()[-1])
        assert accuracy > 0.9


def test_every_pytorch_name_in_readmes_porting_table_exists_in_minigrad():
    import minigrad

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("### Porting table"):readme.index("### Calls the two libraries")]
    rows = [line.split("|")[1] for line in table.splitlines() if line.startswith("| `")]
    assert len(rows) >= 15
    names = {m for row in rows for m in re.findall(r"`torch\.([A-Za-z_][\w.]*)", row)}
    assert {"randint", "multinomial", "utils.data.TensorDataset", "cuda.is_available", "mm"} <= names
    missing = []
    for dotted in sorted(names):
        obj = minigrad
        for part in dotted.split("."):
            obj = getattr(obj, part, None)
        if obj is None:
            missing.append(dotted)
    assert not missing, f"README's porting table names torch.{missing}, which minigrad lacks"
    methods = {m for row in rows for m in re.findall(r"`(?:x|p\.grad)?\.(\w+)\(", row)}
    assert {"size", "zero_", "long", "double", "detach_", "max", "var", "transpose"} <= methods
    t = minigrad.ones(2, requires_grad=True)
    (t * t).sum().backward()
    assert all(hasattr(t, m) or hasattr(t.grad, m) for m in methods), methods
