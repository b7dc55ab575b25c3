"""index.md renders: every table in every demo's fragment (and run_all's own table) parses as a
Markdown table, with the same number of cells in every row; run_all prints progress."""

import re
import shutil
import subprocess

import pytest
import run_all
from _common import DEFAULT_OUT, REPO, escape_cell, markdown_table

_PIPE = re.compile(r"(?<!\\)\|")  # a cell separator: a "|" not written "\|"


def tables(text: str) -> list[list[str]]:
    """The Markdown tables in ``text``: runs of consecutive lines that start with "|"."""
    found, current = [], []
    for line in text.splitlines() + [""]:
        if line.startswith("|"):
            current.append(line)
        elif current:
            found.append(current)
            current = []
    return found


def check_table(lines: list[str]) -> None:
    counts = [len(_PIPE.split(line.strip())) - 2 for line in lines]
    assert all(line.strip().endswith("|") for line in lines), lines
    assert len(set(counts)) == 1, (counts, lines)
    assert re.fullmatch(r"\|(\s*:?-+:?\s*\|)+", lines[1].strip()), lines[1]  # the delimiter row


def test_cells_with_pipes_are_escaped():
    text = markdown_table(["init", "||W||_2"], [["naive", 22.1], ["a|b", 1]])
    lines = text.splitlines()
    check_table(lines)
    assert r"\|\|W\|\|_2" in lines[0] and r"a\|b" in lines[3]
    assert escape_cell(r"a\|b") == r"a\|b"  # already escaped: not escaped twice


def test_check_table_fails_on_a_bare_pipe():
    with pytest.raises(AssertionError):
        check_table(["| a | ||W|| |", "|--:|--:|", "| 1 | 2 |"])


def test_run_all_header_table():
    text = run_all.index_header("full", 0, 12.3, [("scalar_chain", 1.0, "0", "ok"),
                                                  ("long_range", 9.9, "0, 1, 2, 3, 4", "ok")])
    (table,) = tables(text)
    check_table(table)
    assert len(table) == 4


@pytest.mark.parametrize("name", run_all.DEMOS)
def test_every_table_of_every_demo_renders(demo_run, name):
    out, _ = demo_run(name)
    found = tables((out / f"{name}.md").read_text())
    assert found, name
    for table in found:
        check_table(table)


def test_run_all_prints_progress_and_writes_a_rendering_index(tmp_path, capsys):
    assert run_all.main(["--quick", "--only", "scalar_chain", "--out", str(tmp_path)]) == 0
    err = capsys.readouterr().err
    assert "[1/1] scalar_chain: starting (quick mode" in err
    assert re.search(r"\[1/1\] scalar_chain: done in [\d.]+ s, seeds 0 \([\d.]+ s elapsed\)", err), err
    for table in tables((tmp_path / "index.md").read_text()):
        check_table(table)


# ----- the demo command leaves a clone clean: it writes demos/out only; docs/figures on --docs ----------------------
def test_run_all_writes_docs_figures_only_when_asked(tmp_path, monkeypatch):
    docs = tmp_path / "docs_figures"
    monkeypatch.setattr(run_all, "DOCS_FIGURES", docs)
    assert run_all.main(["--quick", "--only", "scalar_chain", "--out", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "scalar_chain_gradients.png").exists() and not docs.exists()
    assert run_all.main(["--docs", "--only", "scalar_chain", "--out", str(tmp_path / "full")]) == 0
    assert sorted(f.name for f in docs.iterdir()) == ["scalar_chain_gradients.png"]


def test_docs_figures_come_from_a_full_run_only(capsys):
    with pytest.raises(SystemExit) as e:
        run_all.main(["--docs", "--quick"])
    assert e.value.code == 2 and "drop --quick" in capsys.readouterr().err


@pytest.mark.skipif(shutil.which("git") is None or not (REPO / ".git").exists(), reason="needs a git checkout")
def test_default_output_folder_is_ignored_by_git():
    probe = DEFAULT_OUT.relative_to(REPO) / "scalar_chain_gradients.png"
    done = subprocess.run(["git", "check-ignore", "-q", str(probe)], cwd=REPO)
    assert done.returncode == 0, f"{probe} is not ignored by git: the demo command would dirty the clone"
