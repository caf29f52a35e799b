"""The "Needs attention" step of :class:`~.batch_creator.BatchCreator`: fix rows in place.

After a run, the rows the API never stored (``invalid``: refused by the
pre-flight or by the API's 400) are listed by sheet row and first problem.
Choosing one opens a :class:`~kyc_widgets.form.schema_form.SchemaForm` filled
with the row's values, with the report's errors shown under their fields
(:func:`~kyc_widgets.batch.fixes.row_errors`). "Save fix" validates the form
and the fix as the batch will (:meth:`BatchReport.apply_fixes`): on success
the row is marked fixed, otherwise the errors stay on the fields. "Send N
fixed rows" hands the fixed rows to the creator, which sends them like a run
and folds the outcomes into the same report. Rows that were sent cannot be
chosen: their outcome on the API is what the report says.

"Write the corrected sheet" writes the whole input with the fixes, under the
sheet's own headers, next to the notebook and links it. It is the campaign
sheet again, personal data included, so it is a file beside the source and
never a ``data:`` link kept in the notebook.

Widgets change only on the kernel's thread: everything here runs from clicks
or from the creator's report hand-over.
"""

from __future__ import annotations

import functools
import html
from collections.abc import Callable
from pathlib import Path

import ipywidgets as widgets

from kyc_widgets.batch.exports import neutralise_formulas, write_xlsx
from kyc_widgets.batch.fields import field_title
from kyc_widgets.batch.fixes import FixError, row_errors, row_values
from kyc_widgets.batch.report import BatchReport
from kyc_widgets.form.schema_form import SchemaForm
from kyc_widgets.models import KycCaseCreateInput

__all__ = ["FixStep"]


def _field_titles(error_field: object) -> str:
    """"Legal last name, Country of onboarding" for a report's ``error_field`` cell."""
    if not isinstance(error_field, str):
        return "see the message"
    return _titles_of(error_field)


@functools.lru_cache(maxsize=256)
def _titles_of(error_field: str) -> str:
    # Cached: a large report repeats a handful of field lists.
    return ", ".join(str(field_title(name.strip())) for name in error_field.split(","))


class FixStep(widgets.VBox):
    """The list of rows to fix, the fix form, and the buttons to send them and save the sheet."""

    def __init__(self, on_send: Callable[[], object], *, sheet_name: str = "campaign.csv") -> None:
        self.report: BatchReport | None = None
        self.form: SchemaForm[KycCaseCreateInput] | None = None
        self.sheet_row: int | None = None
        self.corrected_path: Path | None = None
        self._id_derived = False
        self.sheet_name = sheet_name
        self._on_send = on_send

        self.heading = widgets.HTML()
        self.rows = widgets.Select(
            options=[], description="Row", rows=6, layout=widgets.Layout(width="40em")
        )
        self.open_button = widgets.Button(description="Fix this row", icon="edit", disabled=True)
        self.form_box = widgets.VBox()
        self.save_button = widgets.Button(
            description="Save fix", button_style="primary", icon="check",
            layout=widgets.Layout(display="none"),
        )
        self.message = widgets.HTML()
        self.send_button = widgets.Button(
            description="Send 0 fixed rows", button_style="primary", icon="upload", disabled=True,
            layout=widgets.Layout(width="auto"),
        )
        self.sheet_button = widgets.Button(
            description="Write the corrected sheet", icon="download", disabled=True,
            layout=widgets.Layout(width="auto"),
        )
        self.sheet_link = widgets.HTML()

        self.rows.observe(lambda _change: self._sync_buttons(), names="value")
        self.open_button.on_click(lambda _b: self.fix(self.rows.value))
        self.save_button.on_click(lambda _b: self.save_fix())
        self.send_button.on_click(lambda _b: self._on_send())
        self.sheet_button.on_click(lambda _b: self.write_corrected_sheet())
        super().__init__(
            [
                self.heading,
                widgets.HBox([self.rows, self.open_button]),
                self.form_box,
                self.save_button,
                self.message,
                widgets.HBox([self.send_button, self.sheet_button]),
                self.sheet_link,
            ],
            layout=widgets.Layout(display="none"),
        )
        self.add_class("kyc-fix-step")

    # -- the list ----------------------------------------------------------------

    def show(self, report: BatchReport) -> None:
        """List ``report``'s fixable rows (after a run, and after the fixes were sent)."""
        self.report = report
        attention = report.needs_attention()
        # Column by column, not iterrows(): a cancelled 100k-row run can list tens of
        # thousands of rows, and a Series per row cost seconds before the report showed.
        options = [
            (
                f"{'Fixed, not sent yet: ' if fixed else ''}sheet row {sheet_row}: "
                f"{_field_titles(error_field)}",
                int(sheet_row),
            )
            for sheet_row, fixed, error_field in zip(
                attention.index, attention["fixed"], attention["error_field"]
            )
        ]
        self.rows.options = options
        self.rows.value = options[0][1] if options and self.rows.value is None else self.rows.value
        count = len(options)
        self.heading.value = (
            f"<h4>Needs attention: {count} row{'s' if count != 1 else ''} the API never stored</h4>"
            "<p>Choose a row, correct the fields marked with an error, save, then send the fixed "
            "rows. Rows that were sent are not listed: their outcome is in the report.</p>"
        )
        self.layout.display = "" if options or report.fixes else "none"
        if self.sheet_row is not None and self.sheet_row not in {v for _, v in options}:
            self._close_form()
        self._sync_buttons()

    def pending(self) -> list[int]:
        """Sheet rows fixed and saved but not sent yet (still ``invalid`` in the report)."""
        if self.report is None:
            return []
        listed = {value for _, value in self.rows.options}
        return sorted(row for row in self.report.fixes if row in listed)

    def _sync_buttons(self) -> None:
        self.open_button.disabled = self.rows.value is None
        pending = len(self.pending())
        self.send_button.description = f"Send {pending} fixed row{'s' if pending != 1 else ''}"
        self.send_button.disabled = pending == 0
        self.sheet_button.disabled = self.report is None or not self.report.fixes

    # -- the form ------------------------------------------------------------------

    def fix(self, sheet_row: int) -> SchemaForm[KycCaseCreateInput]:
        """Open the fix form for ``sheet_row``: its values filled in, its errors on their fields."""
        if self.report is None:
            raise RuntimeError("no report yet: run the batch first")
        listed = {value for _, value in self.rows.options}
        if int(sheet_row) not in listed:
            raise ValueError(
                f"Sheet row {sheet_row} cannot be fixed here: only rows the API never stored "
                "(invalid) can; a sent row's outcome is what the report says."
            )
        values = row_values(self.report, int(sheet_row))
        exclude = ("kyc_case_id",) if values.get("kyc_case_id") is None else ()
        if exclude:
            values.pop("kyc_case_id", None)  # derived from the campaign and the corrected values
        form: SchemaForm[KycCaseCreateInput] = SchemaForm(
            KycCaseCreateInput, values=values, exclude=exclude
        )
        form.set_errors(row_errors(self.report, int(sheet_row)))
        self.form, self.sheet_row = form, int(sheet_row)
        self._id_derived = bool(exclude)
        self.rows.value = int(sheet_row)
        self.form_box.children = (
            widgets.HTML(f"<h5>Sheet row {int(sheet_row)}</h5>"),
            form,
        )
        self.save_button.layout.display = ""
        self.message.value = ""
        return form

    def save_fix(self) -> bool:
        """Validate the open form; on success the row is marked fixed. False: errors stay shown."""
        if self.form is None or self.sheet_row is None or self.report is None:
            return False
        instance = self.form.validate()
        row = self.sheet_row
        if instance is None:
            self._say(f"Sheet row {row} still has problems: see the fields marked with an error.")
            return False
        changes = instance.model_dump(mode="json")
        if self._id_derived:
            changes.pop("kyc_case_id", None)  # derived again from the corrected values
        try:
            self.report.apply_fixes({row: changes})
        except FixError as exc:
            self.form.set_errors(exc.errors.get(row) or [(None, str(exc))])
            self._say(f"Sheet row {row} still has problems: see the fields marked with an error.")
            return False
        self._say(f"Sheet row {row} fixed. It is sent with the 'Send fixed rows' button.")
        self.show(self.report)
        self._close_form()
        return True

    def _close_form(self) -> None:
        self.form, self.sheet_row = None, None
        self.form_box.children = ()
        self.save_button.layout.display = "none"

    def _say(self, text: str) -> None:
        self.message.value = f"<p role='status'>{html.escape(text)}</p>"

    # -- the corrected sheet ---------------------------------------------------------

    def write_corrected_sheet(self, folder: str | Path = ".") -> Path | None:
        """Write the input with the fixes beside the notebook; link it. Returns the path."""
        if self.report is None or not self.report.fixes:
            return None
        stem = Path(self.sheet_name).stem or "campaign"
        excel = Path(self.sheet_name).suffix.lower() in (".xlsx", ".xlsm")
        path = Path(folder) / f"{stem}-corrected{'.xlsx' if excel else '.csv'}"
        frame = neutralise_formulas(self.report.corrected_sheet())
        if excel:
            # write_xlsx: text stays text, and characters a worksheet cannot hold (in the
            # sheet's own columns) become visible escapes instead of failing the write.
            write_xlsx(frame, path, sheet_name="Sheet1")
        else:
            frame.to_csv(path, index=False, encoding="utf-8-sig")
        self.corrected_path = path
        name = html.escape(path.name)
        self.sheet_link.value = (
            f"<a download='{name}' href='{name}' target='_blank'>Download the corrected sheet "
            f"({name})</a> <small>It holds the sheet's personal data: keep it where the sheet "
            "is kept.</small>"
        )
        return path


