"""The "Needs attention" step of :class:`~.batch_creator.BatchCreator`: fix rows in place.

After a run, the rows that need attention and were never sent can be fixed
here: ``invalid`` ones (refused by the pre-flight or by the API's 400) and
``duplicate_id`` ones (two customers' rows with one external case ID: neither
was sent). They are listed by sheet row and the fields to fix. Choosing one
opens a :class:`~kyc_widgets.form.schema_form.SchemaForm` filled with the
row's values, with the report's errors shown under their fields, each naming
the refused value (:func:`~kyc_widgets.batch.fixes.row_errors`). "Save fix"
validates the form and the fix as the batch will
(:meth:`BatchReport.apply_fixes`): on success the row is marked fixed,
otherwise the errors stay on the fields. "Send N fixed rows" hands the fixed
rows to the creator, which sends them like a run and folds the outcomes into
the same report. Rows that were sent cannot be chosen: their outcome on the
API is what the report says. The heading counts every row that needs
attention, as the summary, the command line and the report do.

"Download the corrected sheet" is the whole input with the fixes, under the
sheet's own headers, each row on the line its sheet row names
(:func:`~kyc_widgets.batch.takeaway.corrected_sheet_file`): a browser download,
never a file on the server, because it holds the sheet's personal data.

Messages sit under the buttons that caused them and are replaced when their
cause is gone (a row saved, the fixed rows sent).

Widgets change only on the kernel's thread: everything here runs from clicks
or from the creator's report hand-over.
"""

from __future__ import annotations

import functools
import html
from collections.abc import Callable

import ipywidgets as widgets

from kyc_widgets.batch.fields import field_title
from kyc_widgets.batch.fixes import FixError, row_errors, row_values, shares_id
from kyc_widgets.batch.report import BatchReport
from kyc_widgets.batch.status import RowStatus
from kyc_widgets.batch.takeaway import corrected_sheet_file
from kyc_widgets.form.schema_form import SchemaForm
from kyc_widgets.models import KycCaseCreateInput
from kyc_widgets.text import reveal_html
from kyc_widgets.widgets.campaign_words import in_titles
from kyc_widgets.widgets.transfer import Download, File

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
    """The list of rows to fix, the fix form, and the buttons to send them and take the sheet."""

    def __init__(self, on_send: Callable[[], object], *, sheet_name: str = "campaign.csv") -> None:
        self.report: BatchReport | None = None
        self.form: SchemaForm[KycCaseCreateInput] | None = None
        self.sheet_row: int | None = None
        self._id_derived = False
        self.sheet_name = sheet_name
        self._on_send = on_send

        self.heading = widgets.HTML()
        self.rows = widgets.Select(
            options=[], description="Row", rows=6,
            layout=widgets.Layout(width="40em", max_width="100%"),
        )
        self.open_button = widgets.Button(description="Fix this row", icon="edit", disabled=True)
        self.form_box = widgets.VBox()
        self.form_note = widgets.HTML()
        self.save_button = widgets.Button(
            description="Save fix", button_style="primary", icon="check",
            layout=widgets.Layout(display="none"),
        )
        self.save_message = widgets.HTML()
        """What "Save fix" did, right under it."""
        self.send_button = widgets.Button(
            description="Send 0 fixed rows", button_style="primary", icon="upload", disabled=True,
            layout=widgets.Layout(width="auto"),
        )
        self.message = widgets.HTML()
        """What "Send N fixed rows" did, right under it."""
        self.sheet_download = Download(
            "Download the corrected sheet", self._corrected_sheet,
            nothing="No row was fixed yet: the sheet is unchanged.", disabled=True,
            tooltip="The whole sheet with the fixes, under its own headers",
        )
        self.sheet_note = widgets.HTML(
            "<small>It holds the sheet's personal data: keep it where the sheet is kept."
            "</small>"
        )

        self.rows.observe(lambda _change: self._sync_buttons(), names="value")
        self.open_button.on_click(lambda _b: self.fix(self.rows.value))
        self.save_button.on_click(lambda _b: self.save_fix())
        self.send_button.on_click(lambda _b: self._on_send())
        row = widgets.Layout(flex_flow="row wrap", align_items="center")
        super().__init__(
            [
                self.heading,
                widgets.HBox([self.rows, self.open_button], layout=row),
                self.form_box,
                self.form_note,
                self.save_button,
                self.save_message,
                widgets.HBox([self.send_button], layout=row),
                self.message,
                widgets.HBox([self.sheet_download, self.sheet_note], layout=row),
            ],
            layout=widgets.Layout(display="none"),
        )
        self.add_class("kyc-fix-step")

    # -- the list ----------------------------------------------------------------

    def show(self, report: BatchReport, *, sent: int = 0) -> None:
        """List ``report``'s fixable rows (after a run, and after the fixes were sent:
        ``sent`` of them, whose outcome the report now shows)."""
        self.report = report
        attention = report.needs_attention()
        # Column by column, not iterrows(): a cancelled 100k-row run can list tens of
        # thousands of rows, and a Series per row cost seconds before the report showed.
        options = [
            (
                f"{'Fixed, not sent yet: ' if fixed else ''}sheet row {sheet_row}: "
                f"{_field_titles(error_field)}"
                + (" (shared with another customer)" if status == RowStatus.DUPLICATE_ID else ""),
                int(sheet_row),
            )
            for sheet_row, fixed, error_field, status in zip(
                attention.index, attention["fixed"], attention["error_field"], attention["status"]
            )
        ]
        self.rows.options = options
        listed = {value for _, value in options}
        if self.rows.value not in listed:
            self.rows.value = options[0][1] if options else None
        self.heading.value = _heading(report.attention_count, len(options))
        self.layout.display = "" if options or report.fixes or report.attention_count else "none"
        if self.sheet_row is not None and self.sheet_row not in listed:
            self._close_form()
        if sent:
            self.save_message.value = ""
            self.say(
                f"Sent {sent} fixed row{'s' if sent != 1 else ''}: "
                "their outcome is in the report above."
            )
        self._sync_buttons()

    def pending(self) -> list[int]:
        """Sheet rows fixed and saved but not sent yet (still listed here)."""
        if self.report is None:
            return []
        listed = {value for _, value in self.rows.options}
        return sorted(row for row in self.report.fixes if row in listed)

    def _sync_buttons(self) -> None:
        self.open_button.disabled = self.rows.value is None
        pending = len(self.pending())
        self.send_button.description = f"Send {pending} fixed row{'s' if pending != 1 else ''}"
        self.send_button.disabled = pending == 0
        self.sheet_download.disabled = self.report is None or not self.report.fixes

    # -- the form ------------------------------------------------------------------

    def fix(self, sheet_row: int) -> SchemaForm[KycCaseCreateInput]:
        """Open the fix form for ``sheet_row``: its values filled in, its errors on their fields."""
        if self.report is None:
            raise RuntimeError("no report yet: run the batch first")
        row = int(sheet_row)
        listed = {value for _, value in self.rows.options}
        if row not in listed:
            raise ValueError(
                f"Sheet row {row} cannot be fixed here: only rows that were never sent can; "
                "a sent row's outcome is what the report says."
            )
        values = row_values(self.report, row)
        exclude = ("kyc_case_id",) if values.get("kyc_case_id") is None else ()
        if exclude:
            values.pop("kyc_case_id", None)  # derived from the campaign and the corrected values
        form: SchemaForm[KycCaseCreateInput] = SchemaForm(
            KycCaseCreateInput, values=values, exclude=exclude
        )
        form.set_errors(row_errors(self.report, row))
        self.form, self.sheet_row = form, row
        self._id_derived = bool(exclude)
        self.rows.value = row
        self.form_box.children = (widgets.HTML(f"<h5>Sheet row {row}</h5>"), form)
        self.form_note.value = self._shared_note(row)
        self.save_button.layout.display = ""
        self.save_message.value = ""
        return form

    def _shared_note(self, row: int) -> str:
        """For a row that shared its external ID: with whom it still does, or that it no longer does."""
        report = self.report
        if report is None or report.results.loc[
            report.results["sheet_row"] == row, "status"
        ].iloc[0] != RowStatus.DUPLICATE_ID:
            return ""
        others = shares_id(report, row)
        if others:
            rows = ", ".join(str(r) for r in others)
            return (
                f"<p>This row's external case ID is also sheet row {rows}'s, for another "
                "customer or reason. Give one of them its own external case ID; then save "
                "each of them to send it.</p>"
            )
        return (
            "<p>Its external case ID is no longer shared (the other row was fixed): save it "
            "to send it as it is.</p>"
        )

    def save_fix(self) -> bool:
        """Validate the open form; on success the row is marked fixed. False: errors stay shown."""
        if self.form is None or self.sheet_row is None or self.report is None:
            return False
        instance = self.form.validate()
        row = self.sheet_row
        if instance is None:
            self._say_saved(f"Sheet row {row} still has problems: see the fields marked.", True)
            return False
        changes = instance.model_dump(mode="json")
        if self._id_derived:
            changes.pop("kyc_case_id", None)  # derived again from the corrected values
        try:
            self.report.apply_fixes({row: changes})
        except FixError as exc:
            self.form.set_errors(exc.errors.get(row) or [(None, in_titles(str(exc)))])
            self._say_saved(f"Sheet row {row} still has problems: see the fields marked.", True)
            return False
        self.message.value = ""  # an earlier send's result no longer describes the list
        self._close_form()
        self.show(self.report)
        self._say_saved(
            f"Sheet row {row} fixed. It is sent with the “Send fixed rows” button below."
        )
        return True

    def _close_form(self) -> None:
        self.form, self.sheet_row = None, None
        self.form_box.children = ()
        self.form_note.value = ""
        self.save_button.layout.display = "none"

    def _say_saved(self, text: str, error: bool = False) -> None:
        self.save_message.value = _message_html(text, "Not saved:" if error else None)

    def say(self, text: str, *, error: bool = False) -> None:
        """A message under "Send N fixed rows" (what sending did, or why it did not)."""
        self.message.value = _message_html(text, "Not sent:" if error else None)

    # -- the corrected sheet ---------------------------------------------------------

    def _corrected_sheet(self) -> File | None:
        if self.report is None or not self.report.fixes:
            return None
        return File(*corrected_sheet_file(self.report, sheet_name=self.sheet_name))


def _heading(attention: int, fixable: int) -> str:
    """The step's heading: every row that needs attention, and what can be done here."""
    rows = f"{attention} row{'s' if attention != 1 else ''}"
    if not fixable:
        what = (
            "None of them can be fixed here: they were sent and not created (see their status "
            "in the report). Send the sheet again to retry them: nothing is created twice."
            if attention else "Every row was created, already existed or repeats another row."
        )
    else:
        what = (
            f"{fixable} can be fixed here (refused, or sharing an external case ID with another "
            "customer). Choose a row, correct the fields marked, save, then send the fixed rows."
        )
    return f"<h4>Needs attention: {rows}</h4><p>{html.escape(what)}</p>"


def _message_html(text: str, error_title: str | None) -> str:
    """A message in words: an alert with its title word for a failure, else a polite status."""
    if not text:
        return ""
    if error_title:
        return (
            f"<p role='alert' style='color:#b00020'><strong>{html.escape(error_title)}</strong> "
            f"{reveal_html(text)}</p>"
        )
    return f"<p role='status'>{reveal_html(text)}</p>"
