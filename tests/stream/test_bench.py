"""stream.bench's table (the benchmark itself is a tool, not a test)."""

from __future__ import annotations

from stream.bench import BenchRow, render_table


def test_table_rows_have_a_cell_per_column():
    row = BenchRow("720p", 240, 700.0, 80.0, 5.0, 7.5, 400.0, 60.0, 50.0, 130.0)
    header, rule, line = render_table([row]).splitlines()[1:]
    assert header.count("|") == rule.count("|") == line.count("|")
    assert "| 5.0 + 7.5 |" in line and "| 0.46 | 0.38 |" in line
