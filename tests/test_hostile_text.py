"""Hostile text in every layer: the model, the form, the batch, the sandbox, exports, display.

Control characters (C0, DEL, C1) and bidi embedding/override/isolate characters
are data errors wherever a case is entered; characters scripts need (ZWNJ,
ZWJ, combining marks) are not; text is NFC-normalised; exports never fail on
content; anything hidden that got in anyway is shown, not obeyed.
"""

from __future__ import annotations

import argparse
import csv
import html
import io
import re
import unicodedata
from pathlib import Path
from typing import Any

import httpx
import ipywidgets as W
import pandas as pd
import pytest
from factories import (
    CORE_BANKING_CONSTANTS,
    campaign_frame,
    core_banking_frame,
    lovelace_case_input,
    valid_case_input,
)
from openpyxl import load_workbook
from pydantic import ValidationError

from kyc_widgets import CampaignMapping, suggest_mapping
from kyc_widgets.batch import batch_create, derive_case_id, preflight, read_campaign
from kyc_widgets.batch.validation import validate_rows
from kyc_widgets.cli.batch import add_batch_parser
from kyc_widgets.form.schema_form import SchemaForm
from kyc_widgets.models import CaseEnvelope, KycCaseCreateInput
from kyc_widgets.sandbox import Sandbox
from kyc_widgets.text import FORBIDDEN_CHARACTERS, character_name, reveal
from kyc_widgets.widgets.case_creator import CaseCreator
from kyc_widgets.widgets.case_workspace import CaseWorkspace
from kyc_widgets.widgets.fix_step import FixStep
from kyc_widgets.widgets.report_html import html_table, report_html

CASES = "/api/v1/kyc-cases"

# One character of each class, and the name a message gives it.
FORBIDDEN: list[tuple[str, str]] = [
    ("\x00", "U+0000 NULL"),
    ("\t", "U+0009 CHARACTER TABULATION"),
    ("\n", "U+000A LINE FEED"),
    ("\x0b", "U+000B LINE TABULATION"),
    ("\x1b", "U+001B ESCAPE"),
    ("\x7f", "U+007F DELETE"),
    ("\x85", "U+0085 NEXT LINE"),
    ("\x9b", "U+009B CONTROL CHARACTER"),
    ("\u202a", "U+202A LEFT-TO-RIGHT EMBEDDING"),
    ("\u202c", "U+202C POP DIRECTIONAL FORMATTING"),
    ("\u202e", "U+202E RIGHT-TO-LEFT OVERRIDE"),
    ("\u2066", "U+2066 LEFT-TO-RIGHT ISOLATE"),
    ("\u2069", "U+2069 POP DIRECTIONAL ISOLATE"),
]
FORBIDDEN_IDS = [name.split(" ", 1)[0] for _, name in FORBIDDEN]

TEXT_FIELDS = (
    "legal_first_name",
    "legal_last_name",
    "user_internal_id",
    "agency_name",
    "regulated_provider_name",
    "programme_name",
    "country_of_onboarding",
    "assigned_team",
    "assigned_analyst_name",
    "kyc_case_id",
)

PERSIAN_WITH_ZWNJ = "نیلو\u200cفر"  # a made-up Persian given name; ZWNJ keeps the letters apart
DEVANAGARI_WITH_ZWJ = "क्\u200dष"  # ZWJ asks for the half form
DECOMPOSED = "Ame\u0301lie"  # "e" + COMBINING ACUTE ACCENT
COMPOSED = "Amélie"

VALID: dict[str, Any] = lovelace_case_input()


def problem(char_name: str, position: int) -> str:
    return f"contains {char_name} at position {position}"


def sentence(text: str) -> str:
    """How the form and the API start a message: with a capital letter (the rest as is)."""
    return text[:1].upper() + text[1:]


def visible_text(widget: W.HTML) -> str:
    if widget.layout.display == "none":
        return ""
    return html.unescape(re.sub(r"<[^>]+>", "", widget.value)).strip()


# --------------------------------------------------------------------------- the rule


def test_the_issue_examples_are_refused_with_the_character_and_its_position() -> None:
    for value, expected in [
        ("Ali\u202eecilA", problem("U+202E RIGHT-TO-LEFT OVERRIDE", 4)),
        ("Ana\x0bMaria", problem("U+000B LINE TABULATION", 4)),
        ("\x00nul", problem("U+0000 NULL", 1)),
    ]:
        with pytest.raises(ValidationError) as caught:
            KycCaseCreateInput.model_validate({**VALID, "legal_first_name": value})
        [error] = caught.value.errors()
        assert error["loc"] == ("legal_first_name",)
        assert expected in error["msg"]
        assert value not in error["msg"]  # the message names the character, not the value


@pytest.mark.parametrize("field", TEXT_FIELDS)
def test_every_text_field_refuses_a_bidi_override(field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        KycCaseCreateInput.model_validate({**VALID, field: "AB\u202eCD"})
    [error] = caught.value.errors()
    assert error["loc"] == (field,)
    assert problem("U+202E RIGHT-TO-LEFT OVERRIDE", 3) in error["msg"]


@pytest.mark.parametrize(("char", "name"), FORBIDDEN, ids=FORBIDDEN_IDS)
def test_every_forbidden_class_is_refused_inside_a_value(char: str, name: str) -> None:
    with pytest.raises(ValidationError) as caught:
        KycCaseCreateInput.model_validate({**VALID, "assigned_team": f"Team{char}A"})
    assert problem(name, 5) in caught.value.errors()[0]["msg"]


def test_e_mail_refuses_them_too() -> None:
    for char, _ in FORBIDDEN:
        with pytest.raises(ValidationError):
            KycCaseCreateInput.model_validate(
                {**VALID, "assigned_analyst_email": f"ana{char}lyst@example.org"}
            )


def test_scripts_keep_their_joiners_and_combining_marks() -> None:
    case = KycCaseCreateInput.model_validate(
        {**VALID, "legal_first_name": PERSIAN_WITH_ZWNJ, "legal_last_name": DEVANAGARI_WITH_ZWJ,
         "assigned_analyst_name": "Zoe\u0308 Ng\u0303"}
    )
    assert case.legal_first_name == PERSIAN_WITH_ZWNJ
    assert case.legal_last_name == DEVANAGARI_WITH_ZWJ
    # "ë" is composed; "g" + COMBINING TILDE has no composed form, so the mark stays
    assert case.assigned_analyst_name == "Zo\u00eb Ng\u0303"


def test_text_is_nfc_normalised_so_both_spellings_are_one_value() -> None:
    decomposed = KycCaseCreateInput.model_validate({**VALID, "legal_first_name": DECOMPOSED})
    composed = KycCaseCreateInput.model_validate({**VALID, "legal_first_name": COMPOSED})
    assert decomposed.legal_first_name == COMPOSED == composed.legal_first_name
    assert decomposed.to_request_json() == composed.to_request_json()


def test_derived_ids_hash_the_nfc_form() -> None:
    identity = {
        "regulated_provider_name": "Banque Crédit",
        "programme_name": "Cartes",
        "user_internal_id": "é-1",
        "user_type": "INDIVIDUAL",
        "relationship_type": "KYC_REFRESH",
    }
    decomposed = {k: unicodedata.normalize("NFD", v) for k, v in identity.items()}
    assert decomposed != identity
    assert derive_case_id("Refresh", decomposed) == derive_case_id("Refresh", identity)


def test_surrounding_whitespace_is_still_stripped_not_refused() -> None:
    case = KycCaseCreateInput.model_validate({**VALID, "legal_first_name": "\tAda\r\n"})
    assert case.legal_first_name == "Ada"


def test_every_forbidden_character_has_a_name_and_the_aliases_are_unicodes() -> None:
    for code in [*range(0x00, 0x20), *range(0x7F, 0xA0), *range(0x202A, 0x202F),
                 *range(0x2066, 0x206A)]:
        char = chr(code)
        assert FORBIDDEN_CHARACTERS.fullmatch(char)
        name = character_name(char)
        assert name.startswith(f"U+{code:04X} ")
        alias = name.split(" ", 1)[1]
        if alias != "CONTROL CHARACTER":
            assert unicodedata.lookup(alias) == char  # our alias table agrees with Unicode
    for allowed in ("\u200c", "\u200d", "\u0301", " ", "\u00a0", "é"):
        assert not FORBIDDEN_CHARACTERS.search(allowed)


# --------------------------------------------------------------------------- the form


def fill(form: SchemaForm, values: dict[str, Any]) -> None:
    for name, value in values.items():
        widget = form.fields[name]
        if isinstance(widget, W.Dropdown):
            widget.value = next(v for _, v in widget.options if getattr(v, "value", v) == value)
        else:
            widget.value = value


@pytest.mark.parametrize(("char", "name"), FORBIDDEN, ids=FORBIDDEN_IDS)
def test_form_shows_the_message_under_the_field(char: str, name: str) -> None:
    form = SchemaForm(KycCaseCreateInput)
    fill(form, {**VALID, "legal_last_name": f"Lo{char}ve"})
    assert form.validate() is None
    shown = {n: t for n, w in form.error_widgets.items() if (t := visible_text(w))}
    assert list(shown) == ["legal_last_name"]
    assert "Error:" in shown["legal_last_name"]
    assert sentence(problem(name, 3)) in shown["legal_last_name"]


def test_form_accepts_a_persian_name_and_stores_a_decomposed_accent_composed() -> None:
    form = SchemaForm(KycCaseCreateInput)
    fill(form, {**VALID, "legal_first_name": PERSIAN_WITH_ZWNJ, "legal_last_name": DECOMPOSED})
    case = form.validate()
    assert case is not None
    assert case.legal_first_name == PERSIAN_WITH_ZWNJ and case.legal_last_name == COMPOSED


def test_case_creator_sends_nothing_and_names_the_character(sandbox: Sandbox) -> None:
    creator = CaseCreator(sandbox.client())
    for name, value in {**VALID, "legal_first_name": "Ali\u202eecilA"}.items():
        if name == "current_status":
            continue
        widget = creator.form.fields[name]
        if isinstance(widget, W.Dropdown):
            widget.value = next(v for _, v in widget.options if getattr(v, "value", v) == value)
        else:
            widget.value = value
    creator.submit_button.click()
    assert creator.state == "invalid"
    assert sandbox.request_count("POST", CASES) == 0
    shown = visible_text(creator.form.error_widgets["legal_first_name"])
    assert sentence(problem("U+202E RIGHT-TO-LEFT OVERRIDE", 4)) in shown


# --------------------------------------------------------------------------- the batch


def _sheet() -> pd.DataFrame:
    frame = campaign_frame(len(FORBIDDEN) + 3)
    for i, (char, _) in enumerate(FORBIDDEN):
        column = ("legal_first_name", "assigned_team", "programme_name")[i % 3]
        frame.loc[i, column] = f"Ab{char}cd"
    n = len(FORBIDDEN)
    frame.loc[n, "legal_first_name"] = PERSIAN_WITH_ZWNJ
    frame.loc[n + 1, "legal_first_name"] = DECOMPOSED
    frame.loc[n + 2, "legal_last_name"] = DEVANAGARI_WITH_ZWJ
    return frame


def test_preflight_refuses_each_class_with_the_models_message() -> None:
    frame = _sheet()
    result = preflight(frame, campaign="Hostile")
    titles = {"legal_first_name": "Legal first name", "assigned_team": "Assigned team",
              "programme_name": "Programme name"}
    for i, (_, name) in enumerate(FORBIDDEN):
        column = ("legal_first_name", "assigned_team", "programme_name")[i % 3]
        assert result.status[i] == "invalid"
        assert result.error_field[i] == column
        assert result.error_message[i].startswith(f"{titles[column]}: {problem(name, 3)}")
    n = len(FORBIDDEN)
    assert list(result.status[n:]) == ["ready"] * 3
    assert result.values.loc[n, "legal_first_name"] == PERSIAN_WITH_ZWNJ
    assert result.values.loc[n + 1, "legal_first_name"] == COMPOSED
    assert result.values.loc[n + 2, "legal_last_name"] == DEVANAGARI_WITH_ZWJ


def test_preflight_column_wise_agrees_with_per_row_validation() -> None:
    frame = _sheet()
    result = preflight(frame, campaign="Hostile")
    normalised = result.values.copy()
    for name in ("legal_first_name", "assigned_team", "programme_name"):
        normalised[name] = frame[name].astype(object)
    normalised["legal_last_name"] = frame["legal_last_name"].astype(object)
    _, problems = validate_rows(normalised)
    assert sum(len(table) for table in problems) == len(FORBIDDEN)
    for table in problems:
        for label, message in zip(table.index, table["message"]):
            assert message in result.error_message[label]


def test_preflight_sees_both_spellings_of_one_identity_as_one_case() -> None:
    frame = campaign_frame(2)
    frame["user_internal_id"] = ["é-1", unicodedata.normalize("NFD", "é-1")]
    result = preflight(frame, campaign="NFC")
    assert result.kyc_case_id[0] == result.kyc_case_id[1]
    assert list(result.status) == ["ready", "duplicate_in_sheet"]


# --------------------------------------------------------------------------- the sandbox


@pytest.fixture
def api(sandbox: Sandbox) -> httpx.Client:
    with httpx.Client(
        base_url=sandbox.base_url, headers={"Authorization": f"Bearer {sandbox.token}"}
    ) as client:
        yield client


@pytest.mark.parametrize(("char", "name"), FORBIDDEN, ids=FORBIDDEN_IDS)
def test_sandbox_answers_400_naming_the_field_and_the_character(
    sandbox: Sandbox, api: httpx.Client, char: str, name: str
) -> None:
    response = api.post(CASES, json=valid_case_input(assigned_team=f"Te{char}am"))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_FAILED"
    assert error["details"]["field"] == "assigned_team"
    [entry] = error["details"]["errors"]
    assert entry["field"] == "assigned_team"
    assert sentence(problem(name, 3)) in entry["message"]  # case kept: "U+202E RIGHT-TO-LEFT"
    assert sandbox.case_count() == 0


def test_sandbox_stores_a_persian_name_and_a_composed_accent(
    sandbox: Sandbox, api: httpx.Client
) -> None:
    body = valid_case_input(legal_first_name=PERSIAN_WITH_ZWNJ, legal_last_name=DECOMPOSED,
                            kyc_case_id="NFC-1")
    assert api.post(CASES, json=body).status_code == 201
    stored = api.get(f"{CASES}/NFC-1").json()["case"]
    assert stored["legal_first_name"] == PERSIAN_WITH_ZWNJ
    assert stored["legal_last_name"] == COMPOSED


# --------------------------------------------------------------------------- exports


HOSTILE_NOTES = ["tab\x0bbed", "nul\x00led", "esc\x1b[31mred", "plain", "lone \ud800 surrogate"]


def _report_with_hostile_ignored_columns(client: Any) -> Any:
    frame = campaign_frame(len(HOSTILE_NOTES))
    # object: with pyarrow, pandas 3 would infer Arrow-backed ``str``, which cannot hold the
    # lone surrogate (a column of a frame built in Python can; a sheet read from a file cannot)
    frame["Notes"] = pd.Series(HOSTILE_NOTES, dtype=object)
    frame["Remark\x07"] = ["ok", "=SUM(A1)", "\x01", "", "line\nbreak"]
    frame.loc[0, "legal_first_name"] = "Ana\x0bMaria"  # refused: an invalid row, still exported
    report = batch_create(client, frame, campaign="Export hostile", progress=False)
    assert report.summary()["invalid"] == 1 and report.summary()["created"] == 4
    return report


def test_report_exports_escape_what_a_sheet_cannot_hold_and_read_back(
    sandbox: Sandbox, client: Any, tmp_path: Path
) -> None:
    report = _report_with_hostile_ignored_columns(client)
    # Notes: 4 cells; Remark: header + 1 cell; legal_first_name: 1 cell
    expected_changed = 4 + 2 + 1

    csv_path = tmp_path / "report.csv"
    assert report.to_csv(csv_path) == expected_changed
    with csv_path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    header = rows[0]
    assert "Remark⟨U+0007⟩" in header
    notes = [row[header.index("Notes")] for row in rows[1:]]
    assert notes == ["tab⟨U+000B⟩bed", "nul⟨U+0000⟩led", "esc⟨U+001B⟩[31mred", "plain",
                     "lone ⟨U+D800⟩ surrogate"]
    remarks = [row[header.index("Remark⟨U+0007⟩")] for row in rows[1:]]
    assert remarks == ["ok", "'=SUM(A1)", "⟨U+0001⟩", "", "line\nbreak"]  # LF kept, CSV quotes it
    assert [row[header.index("legal_first_name")] for row in rows[1:2]] == ["Ana⟨U+000B⟩Maria"]

    xlsx_path = tmp_path / "report.xlsx"
    assert report.to_excel(xlsx_path) == expected_changed
    sheet = load_workbook(xlsx_path).active
    table = [[cell.value for cell in row] for row in sheet.iter_rows()]
    xlsx_header = table[0]
    assert [row[xlsx_header.index("Notes")] for row in table[1:]] == notes
    assert [row[xlsx_header.index("Remark⟨U+0007⟩")] or "" for row in table[1:]] == remarks

    # Both read back as a campaign: the ignored columns stay ignored, the rows are the same.
    again = read_campaign(csv_path)
    assert list(again["Notes"]) == notes
    assert list(read_campaign(xlsx_path)["Notes"]) == notes


def test_clean_report_says_nothing_was_changed(sandbox: Sandbox, client: Any,
                                               tmp_path: Path) -> None:
    report = batch_create(client, campaign_frame(2), campaign="Clean", progress=False)
    assert report.to_csv(tmp_path / "r.csv") == 0
    assert report.to_excel(tmp_path / "r.xlsx") == 0


def test_export_without_personal_data_still_escapes(sandbox: Sandbox, client: Any,
                                                    tmp_path: Path) -> None:
    report = _report_with_hostile_ignored_columns(client)
    # Unknown columns and names are left out: nothing hostile remains to escape.
    assert report.to_csv(tmp_path / "safe.csv", include_personal_data=False) == 0
    text = report.to_csv_string()
    assert "\x0b" not in text and "⟨U+000B⟩" in text


# --------------------------------------------------------------------------- display


def test_reveal_shows_hidden_characters_and_keeps_what_scripts_need() -> None:
    assert reveal("Ali\u202eecilA") == "Ali⟨U+202E⟩ecilA"
    assert reveal("a\u200bb\ufeffc\u2028d\x00") == "a⟨U+200B⟩b⟨U+FEFF⟩c⟨U+2028⟩d⟨U+0000⟩"
    assert reveal("a\u200fb\u061c") == "a⟨U+200F⟩b⟨U+061C⟩"  # direction marks too
    for kept in (PERSIAN_WITH_ZWNJ, DEVANAGARI_WITH_ZWJ, DECOMPOSED, "Zoë 李 a\u00a0b"):
        assert reveal(kept) == kept


def test_workspace_reveals_an_override_stored_elsewhere(sandbox: Sandbox) -> None:
    envelope = sandbox.client().create_case(valid_case_input())
    data = envelope.model_dump(mode="json")
    # A case created on another system, before it refused such characters:
    data["case"].update(legal_first_name="Ali\u202eecilA", kyc_case_id="EXT\u2066-1",
                        assigned_team="<b>Team</b>\u200b")
    page = CaseWorkspace(CaseEnvelope.model_validate(data)).to_html()
    assert "\u202e" not in page and "\u2066" not in page and "\u200b" not in page
    assert '<td data-field="legal_first_name">Ali⟨U+202E⟩ecilA</td>' in page
    assert "EXT⟨U+2066⟩-1" in page
    assert "&lt;b&gt;Team&lt;/b&gt;⟨U+200B⟩" in page  # still escaped


def test_report_tables_reveal_hidden_characters(sandbox: Sandbox, client: Any) -> None:
    frame = campaign_frame(2)
    frame["Note\u202e"] = ["a\u202eb", "x"]
    report = batch_create(client, frame, campaign="Display", progress=False)
    page = report_html(report)
    assert "\u202e" not in page and "Note⟨U+202E⟩" in page
    table = html_table(pd.DataFrame({"name\u2067": ["Ali\u202eecilA", None], "n": [1, 2]}))
    assert "\u202e" not in table and "\u2067" not in table
    assert "Ali⟨U+202E⟩ecilA" in table and "name⟨U+2067⟩" in table


def test_messages_from_the_api_are_revealed_in_the_form() -> None:
    form = SchemaForm(KycCaseCreateInput)
    form.set_errors({"legal_first_name": "Bad \u202evalue", None: "Refused \u2066here"})
    widget = form.error_widgets["legal_first_name"]
    assert "\u202e" not in widget.value and "⟨U+202E⟩" in visible_text(widget)
    assert "\u2066" not in form.form_message.value and "⟨U+2066⟩" in form.form_message.value


def test_cli_writes_the_report_and_says_how_many_cells_it_escaped(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("KYC_API_TOKEN", sandbox.token)
    monkeypatch.setenv("KYC_API_BASE_URL", sandbox.base_url)
    sheet = tmp_path / "sheet.csv"
    frame = campaign_frame(3)
    frame["Notes"] = ["mainframe\x0bexport", "ok", "bell\x07"]
    frame.to_csv(sheet, index=False)
    out = tmp_path / "report.xlsx"
    parser = argparse.ArgumentParser(prog="kyc-widgets")
    add_batch_parser(parser.add_subparsers())
    args = parser.parse_args(["batch", str(sheet), "--campaign", "cli", "--quiet",
                              "--report", str(out)])
    assert args.handler(args) == 0
    assert "note: 2 cell(s) held characters a spreadsheet cannot store" in capsys.readouterr().err
    table = [[c.value for c in row] for row in load_workbook(out).active.iter_rows()]
    notes = [row[table[0].index("Notes")] for row in table[1:]]
    assert notes == ["mainframe⟨U+000B⟩export", "ok", "bell⟨U+0007⟩"]


def test_xlsx_report_escapes_the_mapping_sheet_and_ignored_columns_too(
    sandbox: Sandbox, client: Any, tmp_path: Path
) -> None:
    """xlsxwriter would store ``\\x07`` as Excel's ``_x0007_`` (an invisible character once
    opened) and fail on a lone surrogate: every sheet of the workbook gets the escapes."""
    frame = core_banking_frame(3).rename(columns={"Branch": "Branch\x07"})
    frame["Branch\x07"] = pd.Series(["Leeds\x1b", "York", "Hull \ud800"], dtype=object)
    suggested = suggest_mapping(frame)
    assert suggested.columns["Branch\x07"] is None  # a column the API ignores
    mapping = CampaignMapping(
        columns=suggested.columns, constants=CORE_BANKING_CONSTANTS, values=suggested.values
    )
    report = batch_create(client, frame, campaign="Mapped hostile", mapping=mapping, progress=False)
    assert report.summary()["created"] == 3

    # report sheet: the header and two cells; mapping sheet: the header named in its "column" row
    assert report.to_excel(tmp_path / "report.xlsx") == 1 + 2 + 1
    assert report.to_csv(tmp_path / "report.csv") == 1 + 2  # CSV has no mapping sheet
    book = load_workbook(tmp_path / "report.xlsx")
    table = [[cell.value for cell in row] for row in book["report"].iter_rows()]
    column = table[0].index("Branch⟨U+0007⟩")
    assert [row[column] for row in table[1:]] == ["Leeds⟨U+001B⟩", "York", "Hull ⟨U+D800⟩"]
    recorded = [[cell.value for cell in row] for row in book["mapping"].iter_rows()]
    assert ["column", "Branch⟨U+0007⟩", "(ignored)", None] in recorded
    assert not any("_x00" in str(value) for row in table + recorded for value in row)


def test_corrected_xlsx_sheet_is_written_even_when_an_ignored_column_holds_controls(
    sandbox: Sandbox, client: Any, tmp_path: Path
) -> None:
    frame = campaign_frame(2)
    frame["Notes"] = pd.Series(["bell\x07", "lone \ud800"], dtype=object)
    frame.loc[1, "legal_first_name"] = "Ana\x0bMaria"  # refused, then fixed in place
    report = batch_create(client, frame, campaign="Corrected hostile", progress=False)
    assert report.summary()["invalid"] == 1
    report.apply_fixes({3: {"legal_first_name": "Ana Maria"}})  # sheet row 3: the second row
    step = FixStep(lambda: None, sheet_name="hostile.xlsx")
    step.show(report)
    written = step.sheet_download.click()  # a browser download, never a file on the server
    assert written is not None and written.name.endswith(".xlsx")
    corrected = read_campaign(io.BytesIO(written.data))
    assert list(corrected["Notes"]) == ["bell⟨U+0007⟩", "lone ⟨U+D800⟩"]
    assert list(corrected["legal_first_name"])[1] == "Ana Maria"
