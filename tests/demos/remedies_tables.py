"""Shared checks for the demo tests: every Markdown table of a report parses (same column count per
row), and a measured number matches the text that quotes it."""

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


def quoted(x: float, text: str) -> bool:
    """``x`` written at the precision of ``text`` ("6.18e3": two decimals of the mantissa; "0.0018": 4 decimals)."""
    if "e" in text:
        mantissa, exponent = text.split("e")
        digits = len(mantissa.split(".")[1]) if "." in mantissa else 0
        return f"{x:.{digits}e}" == f"{mantissa}e{int(exponent):+03d}"
    digits = len(text.split(".")[1]) if "." in text else 0
    return f"{x:.{digits}f}" == text
