"""xlsx: the table formatted for print, as the 绩效 self-evaluation is filed.

Heading rows (unit, period, generation time), a frozen header, the table's
level-1/level-2 cells merged like the printed form, A4 landscape fitted to
the page width with the header repeated on every page, and conditional colour
on the status column (red 未达标, amber 数据不足, grey 未填报) so the fill follows
the value if someone edits it.
"""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from agent.export import columns
from agent.export import format as fmt
from agent.export.rows import Report

HEADER_ROW = 5  # rows 1-3: title, period, generated; row 4 blank
_WIDTHS = {"level1": 10, "level2": 11, "name": 30, "name_en": 32, "target": 22, "actual": 16, "status": 11,
           "coverage": 11, "maintenance": 13, "note": 50}
_THIN = Side(style="thin", color="808080")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
# (text searched in the status cell, fill colour, font colour)
_STATUS_COLOURS = (("未达标", "FFC7CE", "9C0006"), ("数据不足", "FFEB9C", "9C5700"), ("未填报", "E7E6E6", "595959"))


def _literal(text: str) -> str:
    """``text`` quoted for an Excel number format (a quote in it closes, escapes and reopens)."""
    return '"' + text.replace('"', '"\\""') + '"' if text else ""


def number_format(shown: fmt.Figure) -> str:
    """The Excel number format that shows ``shown.number`` as ``str(shown)``: ``0.00%``, ``0.0"TB"``."""
    digits = "0." + "0" * shown.decimals if shown.decimals else "0"
    return digits + ("%" if shown.percent else "") + _literal(shown.suffix)


def _merge_runs(ws, column: int, first: int, values: list[tuple[str, ...]]) -> None:
    """Merge vertical runs of equal group keys in ``column`` (rows ``first``..)."""
    start = 0
    for i in range(1, len(values) + 1):
        if i == len(values) or values[i] != values[start]:
            if i - start > 1:
                ws.merge_cells(start_row=first + start, start_column=column, end_row=first + i - 1, end_column=column)
            start = i


def render(report: Report) -> bytes:
    keys = columns.keys(report.lang)
    wb = Workbook()
    ws = wb.active
    ws.title = f"绩效 {report.period.label}"
    last_col = get_column_letter(len(keys))
    for line, text, size in ((1, columns.title(report), 14), (2, columns.period_line(report), 10),
                             (3, columns.generated_line(report), 10)):
        ws.cell(row=line, column=1, value=text).font = Font(bold=line == 1, size=size)
        ws.merge_cells(f"A{line}:{last_col}{line}")
    header_fill = PatternFill("solid", start_color="DDEBF7", end_color="DDEBF7")
    for col, label in enumerate(columns.headers(report.lang), start=1):
        cell = ws.cell(row=HEADER_ROW, column=col, value=label)
        cell.font = Font(bold=True)
        cell.fill = header_fill
        cell.border = _BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    first = HEADER_ROW + 1
    for r, row in enumerate(report.rows, start=first):
        texts = dict(zip(keys, columns.cells(row, report.lang)))
        numbers = columns.figures(row, report.lang)
        for c, key in enumerate(keys, start=1):
            shown = numbers.get(key)
            # A number, so a reviewer can sort or sum, in a format that reads as the CSV's text.
            cell = ws.cell(row=r, column=c, value=texts[key] if shown is None else shown.number)
            cell.border = _BORDER
            cell.alignment = Alignment(vertical="center", wrap_text=key in ("name", "name_en", "target", "note"))
            if shown is not None:
                cell.number_format = number_format(shown)
    last = first + len(report.rows) - 1
    if report.rows:
        _merge_runs(ws, 1, first, [(r.level1,) for r in report.rows])
        _merge_runs(ws, 2, first, [(r.level1, r.level2) for r in report.rows])
        status_col = get_column_letter(keys.index("status") + 1)
        name_col = get_column_letter(keys.index("name") + 1)  # not the merged group cells: they span several statuses
        for text, fill, font in _STATUS_COLOURS:
            ws.conditional_formatting.add(
                f"{name_col}{first}:{last_col}{last}",
                FormulaRule(formula=[f'ISNUMBER(SEARCH("{text}",${status_col}{first}))'],
                            fill=PatternFill("solid", start_color=fill, end_color=fill), font=Font(color=font)),
            )
    for c, key in enumerate(keys, start=1):
        ws.column_dimensions[get_column_letter(c)].width = _WIDTHS[key]
    ws.freeze_panes = ws.cell(row=first, column=keys.index("target") + 1)  # header and names stay in view
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # as many pages tall as needed
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"
    ws.oddHeader.right.text = f"{report.unit_name} {report.period.label}"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
