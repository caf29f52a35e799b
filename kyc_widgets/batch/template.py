"""``write_template``: an XLSX campaign sheet that needs no mapping to be read back.

One column per field of :class:`~kyc_widgets.models.KycCaseCreateInput`,
in the form's order, headed by the field's title (the words the form and the
report use); required columns end in `` *`` (the header matching of
:mod:`.preflight` ignores that marker) and a note says so in words, because
the marker must not depend on colour. Enum columns get a dropdown (data
validation) of their members in words (``KYC refresh``), which the
pre-flight reads back as the member; the status column offers only the
statuses a case may be created in. Id columns are formatted as text so
Excel keeps leading zeros. A ``Help`` sheet lists each column's
description, whether it is required and its allowed values.
"""

from __future__ import annotations

import os
from enum import Enum
from pathlib import Path
from typing import IO

from kyc_widgets.labels import words
from kyc_widgets.models import KycCaseCreateInput

from .preflight import ENUM_FIELDS, FIELDS, REQUIRED_COLUMNS

__all__ = ["REQUIRED_MARK", "TEMPLATE_ROWS", "template_headers", "write_template"]

REQUIRED_MARK = " *"
"""Appended to a required column's title."""

TEMPLATE_ROWS = 10_000
"""Rows below the header that get the dropdowns."""

_TEXT_COLUMNS = frozenset({"user_internal_id", "kyc_case_id", "country_of_onboarding"})
_SHEET = "Cases"


def template_headers() -> dict[str, str]:
    """Field -> header text in the template (title, `` *`` when required)."""
    out = {}
    for name in FIELDS:
        title = KycCaseCreateInput.model_fields[name].title or name
        out[name] = title + (REQUIRED_MARK if name in REQUIRED_COLUMNS else "")
    return out


def _choices(enum: type[Enum]) -> list[str]:
    return [words(member.value) for member in enum]


def write_template(path: str | os.PathLike[str] | IO[bytes]) -> Path | IO[bytes]:
    """Write the template XLSX to ``path`` (overwritten) and return it; an open binary file
    (a ``BytesIO``: the app's download) is written to and returned as is."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter, quote_sheetname
    from openpyxl.worksheet.datavalidation import DataValidation

    target = Path(path) if isinstance(path, (str, os.PathLike)) else path
    book = Workbook()
    cases = book.active
    cases.title = _SHEET
    headers = template_headers()
    lists = book.create_sheet("Lists")
    list_count = 0
    for position, name in enumerate(FIELDS, start=1):
        letter = get_column_letter(position)
        info = KycCaseCreateInput.model_fields[name]
        cell = cases.cell(row=1, column=position, value=headers[name])
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        if info.description:
            cell.comment = Comment(
                info.description + (" Required." if name in REQUIRED_COLUMNS else " Optional."),
                "kyc-widgets",
            )
        cases.column_dimensions[letter].width = max(14, len(headers[name]) + 4)
        if name in _TEXT_COLUMNS:
            # Text format on the column and on each row's cell: a column style alone is
            # not what Excel shows for the cells below (they read "General" and lose the
            # leading zeros of an id typed there).
            cases.column_dimensions[letter].number_format = "@"
            for row in range(2, TEMPLATE_ROWS + 2):
                cases.cell(row=row, column=position).number_format = "@"
        enum = ENUM_FIELDS.get(name)
        if enum is None:
            continue
        # the dropdown's values live on a sheet: a list typed into the rule is capped at 255 characters
        options = _choices(enum)
        list_count += 1
        list_column = get_column_letter(list_count)
        for row, option in enumerate(options, start=1):
            lists[f"{list_column}{row}"] = option
        rule = DataValidation(
            type="list",
            formula1=f"{quote_sheetname('Lists')}!${list_column}$1:${list_column}${len(options)}",
            allow_blank=True,
            showErrorMessage=True,
            errorTitle=info.title,
            error=f"{info.title}: choose one of " + ", ".join(options),
            promptTitle=info.title,
            prompt="Choose from the list.",
        )
        rule.add(f"{letter}2:{letter}{TEMPLATE_ROWS + 1}")
        cases.add_data_validation(rule)
    lists.sheet_state = "hidden"
    cases.freeze_panes = "A2"

    help_sheet = book.create_sheet("Help")
    help_sheet.append(["Column", "Required", "What to enter", "Allowed values"])
    for cell in help_sheet[1]:
        cell.font = Font(bold=True)
    for name in FIELDS:
        info = KycCaseCreateInput.model_fields[name]
        enum = ENUM_FIELDS.get(name)
        required = "Yes" if name in REQUIRED_COLUMNS else "No"
        if name == "current_status":
            required = "No (empty means Draft)"
        help_sheet.append([
            headers[name],
            required,
            info.description or "",
            ", ".join(_choices(enum)) if enum is not None else "",
        ])
    help_sheet.append([])
    help_sheet.append([f"Columns whose header ends in{REQUIRED_MARK} are required."])
    help_sheet.append(["Rows without an external case ID get a stable one from the campaign name."])
    for letter, width in zip("ABCD", (30, 22, 70, 60)):
        help_sheet.column_dimensions[letter].width = width
    book.move_sheet("Lists", offset=1)
    book.save(target)
    return target
