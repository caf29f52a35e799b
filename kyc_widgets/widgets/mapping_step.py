"""``MappingStep``: say how a sheet from another system maps to the API, before the preview.

One dropdown per sheet header (a field, or "Ignore this column"),
pre-filled from :func:`~kyc_widgets.batch.mapping.suggest_mapping` with how
sure the suggestion is, in words. A guess below
:data:`~kyc_widgets.batch.mapping.CONFIDENT` is shown with a "Confirm"
button and is not applied until a person confirms it or chooses a field
(the pre-flight refuses a mapping with unconfirmed guesses, so the Create
button stays disabled). Below: the required fields no column gives yet;
a :class:`~kyc_widgets.form.schema_form.SchemaForm` of the fields no column
gives, whose filled inputs become campaign constants (the start status is not
among them: an empty status means Draft); a value-map editor with
one dropdown per distinct value of each enum column, and one country picker
(:class:`~kyc_widgets.form.country_picker.CountryPicker`) per distinct value of
a country column that is not already a code (names, alpha-3 codes: each with
its suggested code and how sure; an ambiguous name such as "Korea" names its
candidates and stays unmapped until a person picks one); and the mapping file:
"Save this mapping" keeps it for the next sheet with the same headers
(:mod:`~kyc_widgets.batch.saved_mappings`, when the step is given a
``remember`` folder) and downloads it to the analyst's computer (a browser
download: nothing on the server's disk), and "Use a mapping file" reads one
from there. A step started from a remembered mapping says so at its top, with
a button back to the suggestions.

Every input is an ipywidgets control with a visible label (its
``description``), so it is reachable and named for keyboard and
screen-reader users; status is written in words, never colour alone. Every
text is an analyst's: field titles, never field names
(:mod:`~kyc_widgets.widgets.campaign_words`).
"""

from __future__ import annotations

import html
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Any

import ipywidgets as W
import pandas as pd

from kyc_widgets.batch.fields import (
    COUNTRY_FIELDS,
    ENUM_FIELDS,
    FIELD_TITLES,
    FIELDS,
    HEADER_ALIASES,
    REQUIRED_COLUMNS,
    enum_member,
    normalise_header,
    recognised_value,
)
from kyc_widgets.batch.mapping import (
    CONFIDENT,
    MAX_DISTINCT_COUNTRIES,
    MAX_DISTINCT_VALUES,
    PER_ROW_FIELDS,
    CampaignMapping,
    MappingError,
    suggest_mapping,
)
from kyc_widgets.batch.mapping_file import parse_mapping_bytes
from kyc_widgets.batch.saved_mappings import remember as remember_mapping
from kyc_widgets.batch.takeaway import mapping_file
from kyc_widgets.countries import match_country
from kyc_widgets.form.country_picker import CountryPicker
from kyc_widgets.form.schema_form import SchemaForm
from kyc_widgets.labels import words
from kyc_widgets.models import KycCaseCreateInput
from kyc_widgets.text import reveal_html
from kyc_widgets.widgets.campaign_words import analyst_message
from kyc_widgets.widgets.transfer import Download, File, Upload

__all__ = ["IGNORE", "MappingStep"]

IGNORE = ""
"""The dropdown value of "Ignore this column" (and of "Not mapped" for values)."""

NOT_CONSTANTS: frozenset[str] = PER_ROW_FIELDS | {"current_status"}
"""Fields never offered as campaign constants: per-person ones, and the start status
(an empty status means Draft; a sheet that wants another gives it in a column)."""

MAPPING_FILE_BYTES = 1_000_000
"""Largest mapping file accepted from the browser (a mapping is a few kilobytes)."""

_LABEL_WIDTH = "16em"
_ERROR_STYLE = "color:#b00020"  # 6.6:1 on white; the text says "error" too


class MappingStep(W.VBox):
    """The mapping of one sheet; :meth:`build` returns it as a :class:`CampaignMapping`.

    ``mapping`` starts the step from a saved mapping instead of a suggestion;
    ``origin`` says where it came from, at the top ("the mapping saved on ...
    for sheets with these columns"), with a button back to the suggestions.
    ``on_change`` is called (no arguments) after every change a person makes.
    ``remember``: the folder where "Save this mapping" keeps it for the next
    sheet with these headers (None: only the download). ``sheet_name`` names the
    downloaded file.
    """

    def __init__(
        self,
        frame: pd.DataFrame,
        mapping: CampaignMapping | None = None,
        *,
        on_change: Callable[[], None] | None = None,
        origin: str | None = None,
        remember: Path | None = None,
        sheet_name: str | None = None,
    ) -> None:
        self.frame = frame
        self.remember = remember
        self.sheet_name = sheet_name
        self._confirmed_headers: set[str] = set()
        self._originals = {str(c): c for c in frame.columns}
        self.headers = list(self._originals)
        self._on_change = on_change
        self._quiet = 0
        self._confidence: dict[str, float] = {}
        self._value_confidence: dict[tuple[str, str], float] = {}
        self._value_choices: dict[tuple[str, str], str] = {}
        self._constants: dict[str, str] = {}
        self._source: str | None = None

        rows = self._build_column_rows()
        self.origin = W.HTML()
        self.suggestions_button = W.Button(
            description="Start from the suggestions instead", icon="undo",
            layout=W.Layout(display="none", width="auto"),
        )
        self.suggestions_button.on_click(lambda _b: self.use_suggestions())
        self.uncovered = W.HTML()
        self.confirm_all = W.Button(
            description="Confirm all guesses", icon="check",
            layout=W.Layout(display="none", width="auto"),
        )
        self.confirm_all.on_click(lambda _b: self.confirm())
        self.constants_box = W.VBox()
        self.constants_form: SchemaForm[KycCaseCreateInput] | None = None
        self.values_box = W.VBox()
        self.value_dropdowns: dict[tuple[str, str], W.Dropdown] = {}
        self.value_pickers: dict[tuple[str, str], CountryPicker] = {}
        self.value_notes: dict[tuple[str, str], W.HTML] = {}
        self._values_shown: tuple[tuple[str, str], ...] | None = None
        file_row = self._build_file_row()

        super().__init__(
            [
                W.HBox([self.origin, self.suggestions_button], layout=_wrap()),
                W.HTML("<h4>Columns: what each column of the sheet means</h4>"),
                *rows,
                self.confirm_all,
                self.uncovered,
                W.HTML(
                    "<h4>Campaign constants</h4><p>Fields no column gives: a value entered "
                    "here is used for every row. Cases start as Draft unless a column gives "
                    "their status.</p>"
                ),
                self.constants_box,
                W.HTML("<h4>Values</h4>"),
                self.values_box,
                W.HTML("<h4>The mapping file</h4>"),
                file_row,
                self.message,
            ]
        )
        self.add_class("kyc-mapping-step")
        self._apply(mapping if mapping is not None else suggest_mapping(frame), confirmed=mapping is not None)
        self.show_origin(origin)

    def _build_column_rows(self) -> list[W.HBox]:
        """One row per sheet header: its field dropdown, a "Confirm" button for a guess, a note."""
        options = [("Ignore this column", IGNORE)] + [
            (FIELD_TITLES[name] + (" *" if name in REQUIRED_COLUMNS else ""), name) for name in FIELDS
        ]
        self.dropdowns: dict[str, W.Dropdown] = {}
        self.notes: dict[str, W.HTML] = {}
        self.confirm_buttons: dict[str, W.Button] = {}
        rows: list[W.HBox] = []
        for header in self.headers:
            dropdown = W.Dropdown(
                description=header,
                options=options,
                value=IGNORE,
                style={"description_width": _LABEL_WIDTH},
                layout=W.Layout(width=f"calc({_LABEL_WIDTH} + 20em)"),
            )
            note = W.HTML()
            confirm = W.Button(
                description="Confirm",
                tooltip=f"Use the suggested field for the column {header}",
                layout=W.Layout(display="none", width="7em"),
            )
            dropdown.observe(self._chosen, names="value")
            confirm.on_click(lambda _b, h=header: self.confirm(h))
            self.dropdowns[header] = dropdown
            self.notes[header] = note
            self.confirm_buttons[header] = confirm
            rows.append(W.HBox([dropdown, confirm, note], layout=_wrap()))
        return rows

    def _build_file_row(self) -> W.HBox:
        """"Save this mapping" (kept for these headers, and downloaded) and "Use a mapping file"."""
        self.message = W.HTML()
        self.save_download = Download(
            "Save this mapping", self._save_file,
            tooltip="Keep it for the next sheet with these columns, and download it",
        )
        self.file_upload = Upload(
            "Use a mapping file…", self.load_file, accept=".json,.yaml,.yml",
            max_bytes=MAPPING_FILE_BYTES,
            tooltip="A mapping file saved from this app or the command line",
        )
        return W.HBox([self.save_download, self.file_upload], layout=_wrap())

    # -- state -> widgets --------------------------------------------------------

    def _apply(self, mapping: CampaignMapping, *, confirmed: bool) -> None:
        """Show ``mapping`` (a suggestion, or a saved mapping: ``confirmed``)."""
        self._quiet += 1
        try:
            self._confidence = {} if confirmed else dict(mapping.confidence)
            self._chosen_headers: set[str] = set()
            self._confirmed_headers = set()
            self._loaded = confirmed
            self._value_confidence = {}
            if not confirmed:
                for name, scores in mapping.value_confidence.items():
                    for value, score in scores.items():
                        self._value_confidence[(name, value)] = score
            for header in self.headers:
                if header in mapping.columns:
                    field_name = mapping.columns[header]
                else:  # not named by the mapping: matched as the pre-flight matches it
                    field_name = HEADER_ALIASES.get(normalise_header(header))
                self.dropdowns[header].value = field_name or IGNORE
            self._constants = dict(mapping.constants)
            self._value_choices = {
                (name, value): target
                for name, table in mapping.values.items()
                for value, target in table.items()
            }
            self._source = mapping.source
            self.constants_form = None  # rebuilt with the mapping's constants
            self._values_shown = None
        finally:
            self._quiet -= 1
        self._refresh()

    def _refresh(self) -> None:
        self._quiet += 1
        try:
            for header in self.headers:
                self._show_note(header)
            covered = self._covered_by_columns()
            self._rebuild_constants(covered)
            self._rebuild_values()
            self._show_value_notes()
            missing = [FIELD_TITLES[n] for n in self.missing()]
            self.uncovered.value = (
                "<p><strong>Required fields not yet covered:</strong> "
                + html.escape(", ".join(missing))
                + " (choose a column for them, or enter a campaign constant below).</p>"
                if missing
                else "<p>Every required field is covered.</p>"
            )
            self.confirm_all.layout.display = "" if self.unconfirmed() else "none"
        finally:
            self._quiet -= 1

    def _show_note(self, header: str) -> None:
        name = self.dropdowns[header].value
        score = self._confidence.get(header)
        confirm = self.confirm_buttons[header]
        confirm.layout.display = "none"
        if name == IGNORE:
            text = "Ignored."
        elif header in self._chosen_headers:
            text = "Chosen."
        elif header in self._confirmed_headers:
            text = "Confirmed."
        elif score is None:
            text = "From the saved mapping." if self._loaded else "Matched by name."
        elif score >= 1.0:
            text = "Matched by name."
        elif score >= CONFIDENT:
            text = f"Suggested, {score:.0%} sure."
        else:
            text = f"<strong>Guess, {score:.0%} sure: check it and confirm.</strong>"
            confirm.layout.display = ""
        self.notes[header].value = text

    def _covered_by_columns(self) -> set[str]:
        return {d.value for d in self.dropdowns.values() if d.value != IGNORE}

    def _rebuild_constants(self, covered: set[str]) -> None:
        shown = [n for n in FIELDS if n not in covered and n not in NOT_CONSTANTS]
        if self.constants_form is not None and list(self.constants_form.specs) == shown:
            return
        for name in list(self._constants):
            if name in covered:
                del self._constants[name]  # a column gives it now
        form: SchemaForm[KycCaseCreateInput] = SchemaForm(
            KycCaseCreateInput,
            exclude=[n for n in FIELDS if n not in shown],
            values={n: v for n, v in self._constants.items() if n in shown},
        )
        form.legend.value = ""  # its "* required" legend would read as if every box were needed
        form.on_change(self._constant_changed)
        self.constants_form = form
        self.constants_box.children = [form]

    def _rebuild_values(self) -> None:
        """One input per distinct value of each enum or country column (rebuilt only when those change)."""
        shown = tuple(
            (h, self.dropdowns[h].value)
            for h in self.headers
            if self.dropdowns[h].value in ENUM_FIELDS or self.dropdowns[h].value in COUNTRY_FIELDS
        )
        if shown == self._values_shown:
            return
        self._values_shown = shown
        self.value_dropdowns = {}
        self.value_pickers = {}
        self.value_notes = {}
        sections: list[W.Widget] = []
        for header, name in shown:
            distinct = self.frame[self._originals[header]].dropna().astype(str).str.strip().unique().tolist()
            title = W.HTML(f"<p>{reveal_html(header)} ({html.escape(FIELD_TITLES[name])}):</p>")
            if name in COUNTRY_FIELDS:
                sections.append(W.VBox([title, *self._country_rows(name, distinct)]))
            else:
                sections.append(W.VBox([title, *self._enum_rows(name, distinct)]))
        if not sections:
            sections = [W.HTML("<p>No column with a fixed list of values is mapped.</p>")]
        self.values_box.children = sections

    def _enum_rows(self, name: str, distinct: list[str]) -> list[W.Widget]:
        """A dropdown of the enum's members per distinct value."""
        options = [("Not mapped", IGNORE)] + [(words(m.value), m.value) for m in ENUM_FIELDS[name]]
        rows: list[W.Widget] = []
        for value in [v for v in distinct if v][:MAX_DISTINCT_VALUES]:
            key = (name, value)
            dropdown = W.Dropdown(
                description=value,
                options=options,
                value=self._value_choices.get(key) or enum_member(name, value) or IGNORE,
                style={"description_width": _LABEL_WIDTH},
                layout=W.Layout(width=f"calc({_LABEL_WIDTH} + 20em)"),
            )
            dropdown.observe(lambda change, k=key: self._value_chosen(k, change), names="value")
            self.value_dropdowns[key] = dropdown
            self.value_notes[key] = W.HTML()
            rows.append(W.HBox([dropdown, self.value_notes[key]], layout=_wrap()))
        return rows

    def _country_rows(self, name: str, distinct: list[str]) -> list[W.Widget]:
        """A country picker per distinct value that is not already a code; codes are counted.

        An ambiguous name starts in its picker as typed, so the picker's list
        opens on its candidates; an unknown one starts empty.
        """
        values = [v for v in distinct if v][:MAX_DISTINCT_COUNTRIES]
        codes = [v for v in values if recognised_value(name, v) is not None]
        rows: list[W.Widget] = [
            W.HTML(f"<p>{len(codes)} value(s) are already country codes.</p>")
        ] if codes else []
        for value in values:
            if value in codes:
                continue
            key = (name, value)
            match = match_country(value)
            picker = CountryPicker(
                self._value_choices.get(key) or (value if match.ambiguous else None),
                description=value,
                show_note=False,
                label_width=_LABEL_WIDTH,
            )
            picker.observe(lambda change, k=key: self._country_chosen(k, change), names="value")
            self.value_pickers[key] = picker
            self.value_notes[key] = W.HTML()
            rows.append(W.HBox([picker, self.value_notes[key]], layout=_wrap()))
        return rows

    def _show_value_notes(self) -> None:
        for key, dropdown in self.value_dropdowns.items():
            score = self._value_confidence.get(key)
            if dropdown.value == IGNORE:
                note = "<strong>Not mapped: rows with this value will be invalid.</strong>"
            elif key not in self._value_choices and dropdown.value == enum_member(*key):
                note = "Recognised."
            elif score is not None and score < CONFIDENT:
                note = f"<strong>Guess, {score:.0%} sure: choose to confirm.</strong>"
            else:
                note = "Mapped."
            self.value_notes[key].value = note
        for key, picker in self.value_pickers.items():
            self.value_notes[key].value = self._country_note(key, picker)

    def _country_note(self, key: tuple[str, str], picker: CountryPicker) -> str:
        """How a country value is mapped, in words; an unmapped one says why and what it does."""
        if picker.code is None:
            match = match_country(key[1])
            if match.ambiguous:
                why = html.escape(str(match.error()))
                return f"<strong>Not mapped: {why} Choose one; until then its rows are invalid.</strong>"
            return "<strong>Not a country we know: rows with this value will be invalid.</strong>"
        score = self._value_confidence.get(key)
        if score is not None and score < CONFIDENT:
            return f"<strong>Guess, {score:.0%} sure: check it and confirm.</strong>"
        if score is not None:
            return f"Suggested, {score:.0%} sure."
        return "Mapped."

    # -- widgets -> state --------------------------------------------------------

    def _chosen(self, change: dict[str, Any]) -> None:
        if self._quiet:
            return
        header = next(h for h, d in self.dropdowns.items() if d is change["owner"])
        self._confidence.pop(header, None)  # a person chose: no longer a guess
        self._chosen_headers.add(header)
        self._changed()

    def _constant_changed(self, name: str, value: Any) -> None:
        if self._quiet:
            return
        text = value.value if isinstance(value, Enum) else value
        if text is None or (isinstance(text, str) and not text.strip()):
            self._constants.pop(name, None)
        else:
            self._constants[name] = str(text)
        self._changed()

    def _value_chosen(self, key: tuple[str, str], change: dict[str, Any]) -> None:
        if self._quiet:
            return
        self._value_choices[key] = change["new"]
        self._value_confidence.pop(key, None)
        self._changed()

    def _country_chosen(self, key: tuple[str, str], change: dict[str, Any]) -> None:
        if self._quiet:
            return
        code = change["owner"].code
        self._value_choices[key] = code or IGNORE
        self._value_confidence.pop(key, None)
        self._changed()

    def _changed(self) -> None:
        self.message.value = ""
        self._refresh()
        if self._on_change is not None:
            self._on_change()

    # -- public -------------------------------------------------------------------

    def missing(self) -> list[str]:
        """Required fields neither a column nor a constant gives yet."""
        covered = self._covered_by_columns()
        return [n for n in REQUIRED_COLUMNS if n not in covered and n not in self._constants]

    def unconfirmed(self) -> list[str]:
        """Headers (and ``field: value`` pairs) whose guess nobody confirmed yet."""
        headers = [
            h for h, s in self._confidence.items()
            if s < CONFIDENT and self.dropdowns[h].value != IGNORE
        ]
        values = [
            f"{n}: {v}" for (n, v), s in self._value_confidence.items()
            if s < CONFIDENT and self._value_choices.get((n, v))
        ]
        return headers + values

    def confirm(self, header: str | None = None) -> None:
        """Accept the guess for ``header`` (every guess, values included, when None)."""
        if header is None:
            self._confirmed_headers |= {
                h for h, score in self._confidence.items() if score < CONFIDENT
            }
            self._confidence = {h: 1.0 for h in self._confidence}
            self._value_confidence = {}
        else:
            if self._confidence.get(header, 1.0) < CONFIDENT:
                self._confirmed_headers.add(header)
            self._confidence[header] = 1.0
        self._changed()

    def build(self) -> CampaignMapping:
        """The mapping shown; :class:`MappingError` when it cannot be one (the message says why)."""
        columns = {h: (d.value or None) for h, d in self.dropdowns.items()}
        values: dict[str, dict[str, str]] = {}
        value_confidence: dict[str, dict[str, float]] = {}
        for (name, value), target in self._value_choices.items():
            if not target or self.dropdowns_for(name) == [] or target == recognised_value(name, value):
                continue
            values.setdefault(name, {})[value] = target
            score = self._value_confidence.get((name, value))
            if score is not None:
                value_confidence.setdefault(name, {})[value] = score
        mapping = CampaignMapping.from_data(
            {"columns": columns, "constants": dict(self._constants), "values": values},
            name="The mapping",
        )
        mapping.confidence = {h: s for h, s in self._confidence.items() if columns.get(h)}
        mapping.value_confidence = value_confidence
        mapping._source = self._source
        return mapping

    def dropdowns_for(self, name: str) -> list[str]:
        """The headers mapped to field ``name``."""
        return [h for h, d in self.dropdowns.items() if d.value == name]

    def _save_file(self) -> File | None:
        """The "Save this mapping" click: keep it for these headers, then hand it to the browser."""
        try:
            mapping = self.build()
        except MappingError as exc:
            self._say(f"Not saved: {analyst_message(exc)}", error=True)
            return None
        kept = ""
        if self.remember is not None:
            try:
                remember_mapping(mapping, self.headers, folder=self.remember)
            except OSError as exc:
                self._say(f"Not kept for the next sheet: {exc.strerror or exc}", error=True)
            else:
                kept = "Kept for the next sheet with these columns, and downloaded. "
        name, data, mime = mapping_file(mapping, sheet_name=self.sheet_name)
        self._source = name
        self._say(kept + "Open the file with “Use a mapping file…” on another computer, "
                  "or give it to the command line.")
        return File(name, data, mime)

    def save(self, path: str | Path) -> bool:
        """Save the mapping to a file at ``path`` (a script's way; the app downloads it)."""
        try:
            written = self.build().save(path)
        except (MappingError, OSError) as exc:
            return self._say(f"Not saved: {analyst_message(exc)}", error=True)
        self._source = written.name
        return self._say(f"Saved the mapping to {written.name}.")

    def load(self, path: str | Path) -> bool:
        """Load the mapping saved at ``path`` into the step (a script's way; it counts as confirmed)."""
        try:
            mapping = CampaignMapping.load(path)
        except (MappingError, OSError) as exc:
            return self._say(f"Not loaded: {analyst_message(exc)}", error=True)
        return self._use(mapping, f"the mapping file {Path(path).name}")

    def load_file(self, name: str, data: bytes) -> bool:
        """A mapping file chosen in the browser (JSON or YAML): apply it, confirmed."""
        try:
            mapping = _parse_mapping(name, data)
        except MappingError as exc:
            return self._say(f"Not used: {analyst_message(exc)}", error=True)
        mapping._source = Path(name).name
        return self._use(mapping, f"the mapping file {Path(name).name}")

    def _use(self, mapping: CampaignMapping, origin: str) -> bool:
        self._apply(mapping, confirmed=True)
        self.show_origin(origin)
        self._say(f"Using {origin}: check it, and change what this sheet needs.")
        if self._on_change is not None:
            self._on_change()
        return True

    def show_origin(self, origin: str | None) -> None:
        """Say at the top where the mapping shown came from (None: the suggestions)."""
        if origin is None:
            self.origin.value = (
                "<p>Suggested from the sheet's headers and values: check the guesses.</p>"
            )
            self.suggestions_button.layout.display = "none"
            return
        self.origin.value = (
            f"<p role='status'><strong>Using {html.escape(origin)}.</strong> Nothing to retype: "
            "check it, and change what this sheet needs.</p>"
        )
        self.suggestions_button.layout.display = ""

    def use_suggestions(self) -> None:
        """Forget the mapping shown and start from the suggestions for this sheet."""
        self._apply(suggest_mapping(self.frame), confirmed=False)
        self.show_origin(None)
        self._changed()

    def say(self, text: str, *, error: bool = False) -> bool:
        """A message under the mapping file's buttons (False for an error)."""
        return self._say(text, error=error)

    def _say(self, text: str, *, error: bool = False) -> bool:
        body = html.escape(text)
        self.message.value = (
            f"<p role='alert' style='{_ERROR_STYLE}'>Error: {body}</p>" if error
            else f"<p role='status'>{body}</p>"
        )
        return not error

    @property
    def disabled(self) -> bool:
        return bool(self.file_upload.disabled)

    @disabled.setter
    def disabled(self, value: bool) -> None:
        for widget in [*self.dropdowns.values(), *self.confirm_buttons.values(),
                       *self.value_dropdowns.values(), *self.value_pickers.values(),
                       self.confirm_all, self.file_upload, self.suggestions_button]:
            widget.disabled = value
        if self.constants_form is not None:
            self.constants_form.disabled = value


def _wrap() -> W.Layout:
    """A row of controls that wraps on a narrow page instead of scrolling it sideways."""
    return W.Layout(flex_flow="row wrap", align_items="center", max_width="100%")


def _parse_mapping(name: str, data: bytes) -> CampaignMapping:
    """A mapping file's bytes (JSON, or YAML by its ending), read as strictly as a file
    (:func:`~kyc_widgets.batch.mapping_file.parse_mapping_bytes`); MappingError if not one."""
    parsed = parse_mapping_bytes(name, data)
    return CampaignMapping.from_data(parsed, name=Path(name).name)
