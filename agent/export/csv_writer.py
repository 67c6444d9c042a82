"""CSV: the table as people read it, UTF-8 with a BOM so Excel opens the Chinese correctly."""

from __future__ import annotations

import csv
import io

from agent.export import columns
from agent.export.rows import Report


def render(report: Report) -> bytes:
    """The report's rows under one header line; heading lines would break machine reading."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180, and what Excel writes
    writer.writerow(columns.headers(report.lang))
    for row in report.rows:
        writer.writerow(columns.cells(row, report.lang))
    return out.getvalue().encode("utf-8-sig")
