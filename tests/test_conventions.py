"""One index convention, checked: step t reads x_t and maps s_t to s_{t+1}, its pre-activation is
z_{t+1}, and J_t = ∂s_{t+1}/∂s_t (docs/ARCHITECTURE.md). The package, docs, demos and examples
must not fall back to the other common form (J_t = ∂h_t/∂h_{t-1}, σ'(z_t), h_t = f(h_{t-1})),
and claims are described by their content, never by where an earlier draft found them.
"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEARCHED = ["minigrad", "docs", "demos", "examples", "course", "README.md"]

# each: (what it is, pattern); the patterns read LaTeX (\partial, \mathrm{diag}) and Unicode (∂, diag)
OLD_FORMS = [
    ("a derivative at z_t (the step's pre-activation is z_{t+1})", r"'\((?:z|a)_t\)"),
    ("the ReLU mask at z_t (it is [z_{t+1} > 0])", r"\[z_t > 0\]"),
    ("∂x_t/∂x_{t-1} (J_t is ∂s_{t+1}/∂s_t)", r"(?:∂|\\partial\s*)([hcs])_t\s*/\s*(?:∂|\\partial\s*)\1_\{t-1\}"),
    ("diag(1 − h_t²) as J_t's factor (it is 1 − h_{t+1}²)", r"diag\}?\(1\s*-\s*h_t\^2\)"),
    ("a recurrence x_t = f(x_{t-1}) (step t maps s_t to s_{t+1})", r"\b([hcs])_t\s*=\s*[^$\n]*\b\1_\{t-1\}"),
]
UNEXPLAINED_SOURCES = r"seed texts?\b|\bthe seed's\b|\bseeds' "


def searched_files():
    for name in SEARCHED:
        path = ROOT / name
        files = [path] if path.is_file() else sorted(path.rglob("*"))
        yield from (f for f in files if f.suffix in (".py", ".md", ".toml") and f.is_file())


def hits(pattern: str, files) -> list[str]:
    found = []
    for f in files:
        for number, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(pattern, line):
                found.append(f"{f.relative_to(ROOT)}:{number}: {line.strip()}")
    return found


@pytest.mark.parametrize("what, pattern", OLD_FORMS, ids=[w for w, _ in OLD_FORMS])
def test_one_index_convention(what, pattern):
    assert hits(pattern, searched_files()) == [], f"the old form: {what}"


def test_old_forms_are_found_where_they_occur():
    """Each pattern catches the form it names (a pattern that matches nothing guards nothing)."""
    samples = [r"J_t = \mathrm{diag}(\sigma'(z_t)) W", r"\mathrm{diag}([z_t > 0])", "∂h_t/∂h_{t-1}",
               r"\mathrm{diag}(1-h_t^2)\,W_{hh}", r"$h_t = \tanh(w h_{t-1} + x_t)$"]  # fmt: skip
    for (what, pattern), sample in zip(OLD_FORMS, samples, strict=True):
        assert re.search(pattern, sample), what
    new = [r"\mathrm{diag}(\sigma'(z_{t+1})) W", "∂h_{t+1}/∂h_t", r"$h_{t+1} = \tanh(w h_t + x_t)$",
           r"\theta_t = \alpha\theta_{t-1}"]  # fmt: skip
    for line in new:
        assert not any(re.search(p, line) for _, p in OLD_FORMS), line


def test_no_unexplained_sources():
    """Claims are described by content: no "seed texts" / "the seed's" in the code, demos, examples or tests."""
    files = [f for f in searched_files() if f.parts[len(ROOT.parts)] != "docs"]
    files += [f for f in sorted((ROOT / "tests").rglob("*.py")) if f.name != "test_conventions.py"]
    assert hits(UNEXPLAINED_SOURCES, files) == []
