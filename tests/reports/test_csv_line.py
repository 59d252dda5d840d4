"""The one CSV writer: every cell quoted, formulas defused, plain numbers left as numbers."""

from __future__ import annotations

import csv
import io

import pytest

from core.reports.tabular import csv_line

CELLS = [
    ("=HYPERLINK(1)", "'=HYPERLINK(1)"),
    ("+1+1", "'+1+1"),
    ("-2+3", "'-2+3"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("\tcmd", "'\tcmd"),
    ("\rcmd", "'\rcmd"),
    ("-12.50", "-12.50"),
    ("+1", "+1"),
    ('say "hi", then\r\nleave', 'say "hi", then\r\nleave'),
    (None, ""),
    (["a", 2], "a;2"),
    (7, "7"),
]


@pytest.mark.parametrize(("cell", "read"), CELLS, ids=[repr(c) for c, _ in CELLS])
def test_a_cell_reads_back_defused(cell: object, read: str) -> None:
    line = csv_line(["key", cell])
    assert line.endswith("\r\n")
    (row,) = csv.reader(io.StringIO(line, newline=""))
    assert row == ["key", read]


def test_defusing_twice_changes_nothing() -> None:
    once = csv_line(["=1"])
    (row,) = csv.reader(io.StringIO(once, newline=""))
    assert csv_line(row) == once
