"""The files an analyst takes away from a campaign, as bytes (never written on the server).

Why bytes: in the app these files are browser downloads
(:class:`~kyc_widgets.widgets.transfer.Download`), so nothing with personal
data is left on the server's disk; a script writes the same bytes wherever it
likes. Each function returns ``(file name, bytes, media type)``:

- :func:`report_file`: the report joined with the sheet, CSV with a BOM (Excel
  reads accents), with or without the personal-data columns
  (:meth:`~.report.BatchReport.to_frame`); fixed rows that were sent show
  their fixed values and name the fields changed in the app.
- :func:`corrected_sheet_file`: the sheet with the accepted fixes, under its
  own headers, in its own format family (a workbook stays a workbook), and
  laid out so that every row is on the line the report's ``sheet_row`` names:
  the rows above the header and the blank rows the reader skipped are kept as
  blank lines (the title's text is not kept: the reader never held it).
- :func:`mapping_file`: the mapping as a JSON mapping file.
- :func:`evidence_files`: the evidence record (JSON) and its one-page HTML
  summary, with the same chain head.
- :func:`template_file`: the XLSX template that needs no mapping.

Every table goes through the exports' safety (:mod:`.exports`): formulas
neutralised, characters a worksheet cannot hold escaped.
"""

from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from .exports import escape_unwritable, neutralise_formulas
from .sheet import SHEET_ROW_INDEX_NAME

if TYPE_CHECKING:
    from .mapping import CampaignMapping
    from .report import BatchReport

__all__ = [
    "CSV",
    "JSON",
    "XLSX",
    "TakeAway",
    "corrected_sheet_file",
    "evidence_files",
    "mapping_file",
    "report_file",
    "template_file",
]

CSV = "text/csv"
JSON = "application/json"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HTML = "text/html"
TakeAway = tuple[str, bytes, str]
"""``(file name, bytes, media type)``."""

_WORKBOOKS = frozenset({".xlsx", ".xlsm", ".xls", ".ods"})


def _stamp() -> str:
    return time.strftime("%Y%m%d-%H%M%S")


def _stem(sheet_name: str | None, default: str = "campaign") -> str:
    stem = Path(sheet_name or "").stem.strip()
    return "".join(c if c.isalnum() or c in "-_ ." else "_" for c in stem) or default


def report_file(report: BatchReport, *, personal: bool, sheet_name: str | None = None) -> TakeAway:
    """The report as CSV (see the module docstring); ``personal`` keeps the personal columns."""
    text = report.to_csv_string(include_personal_data=personal)
    name = f"{_stem(sheet_name)}-report-{_stamp()}{'-personal' if personal else ''}.csv"
    return name, ("\ufeff" + text).encode("utf-8"), CSV


def corrected_sheet_file(report: BatchReport, *, sheet_name: str | None = None) -> TakeAway:
    """The whole sheet with the accepted fixes (see the module docstring)."""
    frame = neutralise_formulas(report.corrected_sheet())
    frame, _escaped = escape_unwritable(frame)
    lines = _aligned_lines(frame, report.source.attrs)
    suffix = Path(sheet_name or "").suffix.lower()
    stem = f"{_stem(sheet_name)}-corrected"
    if suffix in _WORKBOOKS:
        return f"{stem}.xlsx", _xlsx(lines), XLSX
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows(lines)
    return f"{stem}.csv", ("\ufeff" + buffer.getvalue()).encode("utf-8"), CSV


def _aligned_lines(frame: pd.DataFrame, attrs: dict[str, Any]) -> list[list[Any]]:
    """Header and rows, each data row on the line its sheet row names (blank lines between).

    A frame not read by :func:`~.reading.read_campaign` (its index is not the
    sheet row) is written as it is, header first.
    """
    width = len(frame.columns)
    header = [str(c) for c in frame.columns]
    values = frame.astype(object).where(frame.notna(), None)
    records = [list(r) for r in values.itertuples(index=False, name=None)]
    if frame.index.name != SHEET_ROW_INDEX_NAME or not pd.api.types.is_integer_dtype(frame.index):
        return [header, *records]
    header_row = int(attrs.get("header_row") or 1)
    lines: list[list[Any]] = [[None] * width for _ in range(header_row - 1)]
    lines.append(header)
    line = header_row
    for row, record in sorted(zip(frame.index.tolist(), records), key=lambda item: item[0]):
        while line + 1 < int(row):  # the blank rows the reader skipped
            lines.append([None] * width)
            line += 1
        lines.append(record)
        line += 1
    return lines


def _xlsx(lines: list[list[Any]]) -> bytes:
    """A one-sheet workbook of ``lines``; text always a text cell (as :func:`~.exports.write_xlsx`)."""
    import xlsxwriter

    buffer = io.BytesIO()
    options = {
        "strings_to_formulas": False,
        "strings_to_urls": False,
        "strings_to_numbers": False,
        "nan_inf_to_errors": True,
        "in_memory": True,  # no temporary files of personal data
    }
    with xlsxwriter.Workbook(buffer, options) as book:
        sheet = book.add_worksheet("Sheet1")
        text = book.add_format({"num_format": "@"})
        for row, record in enumerate(lines):
            for column, value in enumerate(record):
                if value is None:
                    continue
                if isinstance(value, str):
                    sheet.write_string(row, column, value, text)
                else:
                    sheet.write(row, column, value)
    return buffer.getvalue()


def mapping_file(mapping: CampaignMapping, *, sheet_name: str | None = None) -> TakeAway:
    """The mapping as a JSON mapping file (``kyc-widgets batch --mapping`` reads it)."""
    text = json.dumps(mapping.to_dict(), indent=2, ensure_ascii=False) + "\n"
    return f"{_stem(sheet_name)}-mapping.json", text.encode("utf-8"), JSON


def evidence_files(
    report: BatchReport, *, sheet_name: str | None = None
) -> tuple[TakeAway, TakeAway]:
    """The evidence record (JSON) and its HTML summary, from one record (one chain head)."""
    from .evidence import summary_html

    record = report.evidence()
    name = f"{_stem(sheet_name)}-evidence-{_stamp()}.json"
    data = (json.dumps(record, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
    page = summary_html(record, name).encode("utf-8")
    return (name, data, JSON), (name.removesuffix(".json") + ".html", page, HTML)


def template_file() -> TakeAway:
    """The campaign template (XLSX, no mapping needed: see :mod:`.template`)."""
    from .template import write_template

    buffer = io.BytesIO()
    write_template(buffer)
    return "kyc-campaign-template.xlsx", buffer.getvalue(), XLSX
