"""Shared check for the remedy demos' reports: every Markdown table parses (same column count per row)."""

import re
from pathlib import Path


def assert_tables_parse(md: Path) -> int:
    """Every table row of ``md`` has as many cells as its header; returns the number of tables."""
    tables, width = 0, None
    for line in md.read_text().splitlines():
        if not line.startswith("|"):
            width = None
            continue
        cells = len(re.findall(r"(?<!\\)\|", line)) - 1  # unescaped pipes, minus the outer one
        if width is None:
            width, tables = cells, tables + 1
        assert cells == width, f"{md.name}: row has {cells} cells, header {width}: {line}"
    return tables
