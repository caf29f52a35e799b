"""The campaign in the app (issue 25), below the browser: counts that agree everywhere,
mappings remembered per user, files as browser transfers, the corrected sheet on the
sheet's own lines, suggestions that read the values, and analyst words in every state.

The browser itself (Voila, Chromium: downloads, widths, axe) is tests/test_browser_campaign.py.
"""

from __future__ import annotations

import html
import io
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import ipywidgets as W
import openpyxl
import pandas as pd
import pytest
from factories import CORE_BANKING_CONSTANTS, core_banking_frame

from kyc_widgets.batch import BatchOptions, batch_create, read_campaign
from kyc_widgets.batch.mapping import CONFIDENT, MappingError, suggest_mapping
from kyc_widgets.batch.saved_mappings import (
    DATA_DIR_ENV,
    data_dir,
    headers_fingerprint,
    recall,
    remember,
)
from kyc_widgets.batch.status import ATTENTION_STATUSES, RowStatus
from kyc_widgets.batch.takeaway import corrected_sheet_file, template_file
from kyc_widgets.cli.main import main
from kyc_widgets.sandbox import Sandbox
from kyc_widgets.widgets import transfer
from kyc_widgets.widgets.batch_creator import BatchCreator
from kyc_widgets.widgets.campaign_words import PROGRAMMER_WORDS, analyst_message
from kyc_widgets.widgets.case_creator import CaseCreator

DATA = Path(__file__).parent / "data"
MESSY = DATA / "messy_campaign.csv"


# --------------------------------------------------------------------------- helpers


def visible_texts(widget: W.Widget, out: list[str] | None = None) -> list[str]:
    """Every text a person can see in ``widget``: HTML as text, labels, options, statuses."""
    out = [] if out is None else out
    if getattr(getattr(widget, "layout", None), "display", None) == "none":
        return out
    if isinstance(widget, W.HTML):
        markup = re.sub(r"<style>.*?</style>", "", str(widget.value), flags=re.S)
        out.append(html.unescape(re.sub(r"<[^>]+>", " ", markup)))
    for attr in ("description", "label", "placeholder", "status"):
        value = getattr(widget, attr, None)
        if isinstance(value, str):
            out.append(value)
    if isinstance(widget, (W.Dropdown, W.Select)):
        out.extend(str(label) for label, _ in widget.options)
    if isinstance(widget, W.Accordion):
        out.extend(str(t) for t in widget.titles)
    for child in getattr(widget, "children", ()) or ():
        visible_texts(child, out)
    return out


def programmer_words(widget: W.Widget) -> list[str]:
    return [
        m.group(0) + " in: " + text[max(0, m.start() - 50): m.end() + 30]
        for text in visible_texts(widget) for m in PROGRAMMER_WORDS.finditer(text)
    ]


def export(n: int = 6) -> pd.DataFrame:
    frame = core_banking_frame(n)
    frame.loc[1, "Priority"] = "ASAP"
    return frame


def fill_constants(ui: BatchCreator) -> None:
    step = ui.mapping_step
    assert step is not None and step.constants_form is not None
    for name, value in CORE_BANKING_CONSTANTS.items():
        step.constants_form.fields[name].value = value


def counts_in(text: str) -> dict[str, int]:
    """``Created: 4`` ... and ``Needs attention: 5`` read back from what a person sees."""
    found = {label: int(n) for label, n in re.findall(r"([A-Z][\w ,():-]*?): (\d+)", text)}
    return {
        "created": found.get("Created", 0),
        "exists": found.get("Already existed", 0),
        "attention": found["Needs attention"],
    }


# --------------------------------------------------------------------------- counts


def test_app_command_line_and_report_agree_on_every_count(
    sandbox: Sandbox, client: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Messy sheet: 3 refused rows, 2 customers with one external id, one repeat, one case
    already there. Needs attention = neither created nor already there = 5, everywhere."""
    with Sandbox() as cli_api:
        for api in (sandbox, cli_api):
            with api.client() as each:
                batch_create(each, read_campaign(MESSY).loc[[9]], BatchOptions(progress=False))

        ui = BatchCreator(client, MESSY, campaign="agree")
        ui.create_button.click()
        assert ui.wait(30) and ui.report is not None
        shown = html.unescape(re.sub(r"<[^>]+>", " ", ui.summary.value))
        app = counts_in(shown)
        assert "Needs attention: 5 rows" in html.unescape(ui.fix_step.heading.value)

        monkeypatch.setenv("KYC_API_BASE_URL", cli_api.base_url)
        monkeypatch.setenv("KYC_API_TOKEN", cli_api.token)
        report_path = tmp_path / "report.csv"
        code = main(["batch", str(MESSY), "--campaign", "agree", "--quiet",
                     "--report", str(report_path), "--evidence", str(tmp_path / "ev.json")])
        out = capsys.readouterr().out
    assert code == 1
    cli = counts_in(out)
    assert "5 row(s) need attention" in out
    summary = ui.report.summary()
    report = {"created": summary[RowStatus.CREATED], "exists": summary[RowStatus.EXISTS],
              "attention": ui.report.attention_count}
    written = pd.read_csv(report_path, dtype=str, encoding="utf-8-sig")
    in_file = {
        "created": int((written["status"] == "created").sum()),
        "exists": int((written["status"] == "exists").sum()),
        "attention": int(written["status"].isin([s.value for s in ATTENTION_STATUSES]).sum()),
    }
    evidence = json.loads((tmp_path / "ev.json").read_text(encoding="utf-8"))["counts"]
    assert app == cli == report == in_file == {"created": 4, "exists": 1, "attention": 5}
    assert evidence["created"] == 4 and evidence["exists"] == 1
    assert evidence["duplicate_id"] == 2 and evidence["duplicate_in_sheet"] == 1


# --------------------------------------------------------------------------- remembered mappings


def test_tests_keep_user_data_in_the_run_folder() -> None:
    assert os.environ[DATA_DIR_ENV].startswith(tempfile.gettempdir())
    assert str(data_dir()) == os.environ[DATA_DIR_ENV]


def test_a_mapping_is_remembered_by_its_headers_in_any_order(tmp_path: Path) -> None:
    mapping = suggest_mapping(export()).confirm().with_constants(CORE_BANKING_CONSTANTS)
    headers = list(export().columns)
    assert headers_fingerprint(headers) == headers_fingerprint(
        [f" {h.upper()} " for h in reversed(headers)]
    )
    assert recall(headers, folder=tmp_path) is None
    path = remember(mapping, headers, folder=tmp_path)
    assert path.stat().st_mode & 0o777 == 0o600
    found = recall(reversed(headers), folder=tmp_path)
    assert found is not None and found.mapping.to_dict() == mapping.to_dict()
    assert found.headers == headers and found.saved_at
    assert recall([*headers, "Another column"], folder=tmp_path) is None  # other headers
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(MappingError, match="cannot be read"):
        recall(headers, folder=tmp_path)


def test_saving_once_offers_the_mapping_for_the_next_sheet_with_those_headers(
    sandbox: Sandbox, client: Any, tmp_path: Path
) -> None:
    ui = BatchCreator(client, export(), campaign="remember", remember=tmp_path)
    step = ui.mapping_step
    assert step is not None
    assert "Suggested from the sheet's headers and values" in step.origin.value
    step.confirm()
    fill_constants(ui)
    step.value_dropdowns[("case_priority", "ASAP")].value = "URGENT"
    assert ui.state == "ready"
    saved = step.save_download.click()  # kept for these headers, and downloaded
    assert saved is not None and "Kept for the next sheet" in step.message.value
    assert json.loads(saved.data)["constants"]["agency_name"] == "Agency One"

    again = BatchCreator(client, export(), campaign="remember", remember=tmp_path)  # next month
    step = again.mapping_step
    assert step is not None
    assert "Using the mapping you saved on" in step.origin.value
    assert "Nothing to retype" in step.origin.value
    assert again.state == "ready" and again.create_button.description.startswith("Create 6")
    assert step.constants_form is not None
    assert step.constants_form.fields["assigned_team"].value == "Refresh team"
    assert step.value_dropdowns[("case_priority", "ASAP")].value == "URGENT"
    step.dropdowns["Branch"].value = "assigned_team"  # still changeable
    assert step.constants_form is not None and "assigned_team" not in step.constants_form.fields
    step.suggestions_button.click()  # or start from the suggestions
    assert "Suggested from the sheet's headers" in step.origin.value
    assert again.state == "error"  # the suggestions hold guesses again

    next(tmp_path.glob("mappings/*.json")).write_text("{}", encoding="utf-8")  # damaged
    damaged = BatchCreator(client, export(), campaign="remember", remember=tmp_path)
    assert damaged.mapping_step is not None
    assert "cannot be used" in damaged.mapping_step.message.value
    assert "Suggested from the sheet's headers" in damaged.mapping_step.origin.value


# --------------------------------------------------------------------------- transfers


def test_a_large_download_goes_in_chunks_and_an_upload_comes_back_whole(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(transfer, "CHUNK_BYTES", 4)
    data = b"0123456789"
    download = transfer.Download("Get it", lambda: transfer.File("x.bin", data))
    sent: list[tuple[dict[str, Any], Any]] = []
    monkeypatch.setattr(download, "send", lambda c, buffers=None: sent.append((c, buffers)))
    download._message(download, {"event": "click"}, [])  # the browser's click
    assert sent[0][0] == {"event": "file", "name": "x.bin", "mime": "application/octet-stream",
                          "chunks": 3}
    assert b"".join(bytes(b[1][0]) for b in sent[1:]) == data
    assert download.status == "Downloaded x.bin (10 bytes)." and download.sent == [("x.bin", 10)]
    assert "x.bin" not in json.dumps(download.get_state(), default=str).replace(
        download.status, "")  # no file in the saved state

    got: list[tuple[str, bytes]] = []
    upload = transfer.Upload("Send it", lambda n, d: got.append((n, d)), max_bytes=100)
    upload._message(upload, {"event": "start", "name": "s.csv", "size": 10, "chunks": 3}, [])
    assert upload.busy
    for part in (b"0123", b"4567", b"89"):
        upload._message(upload, {"event": "chunk"}, [memoryview(part)])
    assert got == [("s.csv", data)] and not upload.busy
    upload._message(upload, {"event": "too-large", "name": "big.xlsx", "size": 10**9}, [])
    assert upload.status_is_error and "big.xlsx is larger than 100 bytes" in upload.status

    def refuse(_name: str, _data: bytes) -> None:
        raise ValueError("Line 3: a quote is not closed.")

    upload.on_upload = refuse
    upload.receive("bad.csv", b"x")
    assert upload.status == "Line 3: a quote is not closed." and upload.status_is_error


# --------------------------------------------------------------------------- the corrected sheet


def test_the_corrected_sheet_keeps_every_row_on_its_own_line(
    sandbox: Sandbox, client: Any, tmp_path: Path
) -> None:
    lines = ["Core banking export,,,,,,,", ",,,,,,,"]  # a title row, then a blank one
    body = export(4).to_csv(index=False).splitlines()
    text = "\r\n".join([*lines, body[0], body[1], ",,,,,,,", *body[2:]]) + "\r\n"
    sheet = tmp_path / "export.csv"
    sheet.write_bytes(text.encode("cp1252", errors="replace"))
    frame = read_campaign(sheet)
    assert list(frame.index) == [4, 6, 7, 8]  # header on row 3, a blank row 5
    mapping = suggest_mapping(frame).confirm().with_constants(CORE_BANKING_CONSTANTS)
    report = batch_create(client, frame, BatchOptions(progress=False), mapping=mapping,
                          campaign="lines")
    assert report.summary()[RowStatus.INVALID] == 1  # ASAP, sheet row 6
    report.apply_fixes({6: {"case_priority": "URGENT"}})
    for name in ("export.csv", "export.xlsx"):
        made_name, data, _mime = corrected_sheet_file(report, sheet_name=name)
        again = read_campaign(io.BytesIO(data))
        assert list(again.index) == list(frame.index), made_name  # the report's sheet rows
        assert again.loc[6, "Priority"] == "URGENT"
        assert again.loc[4, "Forename"] == frame.loc[4, "Forename"]
    assert corrected_sheet_file(report, sheet_name="export.xlsx")[0] == "export-corrected.xlsx"


# --------------------------------------------------------------------------- suggestions


def test_suggestions_read_the_values_of_a_column_as_well_as_its_header() -> None:
    frame = pd.DataFrame(
        {
            "Client Ref": ["0007512", "0007513", "0007514", "0001234"],
            "Client Kind": ["Retail individual", "Sole proprietor", "Retail individual",
                            "Retail individual"],
            "Branch": ["Leeds", "Leeds", "York", "Leeds"],
            "Remarks": ["called twice", "", "ok", "see file"],
        }
    )
    before = suggest_mapping(frame, read_values=False)
    assert before.columns["Client Ref"] == "user_type"  # the header alone: the wrong way round
    assert before.columns["Client Kind"] == "user_internal_id"
    after = suggest_mapping(frame)
    assert after.columns["Client Ref"] == "user_internal_id"
    assert after.columns["Client Kind"] == "user_type"
    assert after.confidence["Client Ref"] < CONFIDENT  # an id's shape: confirmed by a person
    assert after.columns["Branch"] is None and after.columns["Remarks"] is None  # free text
    assert after.values["user_type"] == {"Retail individual": "INDIVIDUAL",
                                         "Sole proprietor": "SOLE_TRADER"}


# --------------------------------------------------------------------------- analyst words


def test_every_campaign_state_speaks_in_field_titles_never_names_or_python(
    sandbox: Sandbox, client: Any, tmp_path: Path
) -> None:
    ui = BatchCreator(client, export().drop(columns=["Surname"]), remember=tmp_path)
    seen = [ui.state]
    assert ui.state == "error" and not programmer_words(ui)  # guesses, missing columns
    assert ui.mapping_step is not None
    ui.mapping_step.confirm()
    assert "Legal last name" in ui.preview.value and not programmer_words(ui)
    fill_constants(ui)
    ui.mapping_step.dropdowns["Branch"].value = "legal_last_name"
    ui.mapping_step.dropdowns["Branch"].value = "legal_first_name"  # two columns, one field
    assert "all map to Legal first name" in ui.preview.value and not programmer_words(ui)
    ui.mapping_step.dropdowns["Branch"].value = "legal_last_name"
    seen.append(ui.state)
    assert ui.state == "blocked" and not programmer_words(ui)  # needs a campaign name
    ui.campaign.value = "words"
    ui.check_button.click()
    assert ui.wait(30)
    seen.append(ui.state)
    assert "Checked against the API" in ui.check_result.value and not programmer_words(ui)
    ui.create_button.click()
    assert ui.wait(30)
    seen.append(ui.state)
    assert ui.state == "done" and not programmer_words(ui)
    form = ui.fix(3)
    assert form.field_errors["case_priority"] == (
        "'ASAP' is not a case priority; use Low, Normal, High or Urgent."
    )
    assert not programmer_words(ui)
    ui.save_fix()  # still ASAP: refused, in words
    assert not programmer_words(ui)
    ui.mapping_step.file_upload.receive("bad.json", b'{"columns": {"Forename": "first_name"}}')
    assert seen == ["error", "blocked", "ready", "done"]


def test_messages_from_the_batch_are_put_in_analyst_words() -> None:
    from kyc_widgets.batch.mapping import CampaignColumnsError

    text = analyst_message(CampaignColumnsError(["relationship_type", "agency_name"]))
    assert text.startswith("No column or campaign constant gives Relationship type and Agency name")
    assert not PROGRAMMER_WORDS.search(text)
    unconfirmed = MappingError("The mapping holds guesses nobody confirmed: column 'X' -> "
                               "user_type. Confirm them (mapping.confirm(), or choose the field)")
    assert "mapping.confirm" not in analyst_message(unconfirmed)
    assert analyst_message(ValueError("'agency_name' is both a campaign constant and the "
                                      "column 'Agency'")).startswith("Agency name is both")


# --------------------------------------------------------------------------- small items


def test_the_template_stores_ids_as_text_so_leading_zeros_survive() -> None:
    name, data, _mime = template_file()
    book = openpyxl.load_workbook(io.BytesIO(data))
    cases = book["Cases"]
    headers = [cell.value for cell in cases[1]]
    for title in ("User internal ID *", "External case ID"):
        column = headers.index(title) + 1
        assert cases.cell(row=2, column=column).number_format == "@", title
        assert cases.cell(row=500, column=column).number_format == "@", title
    assert name == "kyc-campaign-template.xlsx"


def test_a_refusal_message_goes_once_every_marked_field_is_corrected(sandbox: Sandbox) -> None:
    creator = CaseCreator(sandbox.client())
    creator.submit_button.click()  # nothing typed: refused
    assert creator.state == "invalid" and "Nothing was sent" in creator.message_text
    values = {
        "legal_first_name": "Ada", "legal_last_name": "Example", "user_internal_id": "000417",
        "agency_name": "A", "regulated_provider_name": "P", "programme_name": "X",
        "country_of_onboarding": "GB", "assigned_team": "T",
    }
    for name, value in values.items():
        creator.form.fields[name].value = value
    for name, label in (("user_type", "Individual"), ("relationship_type", "KYC refresh"),
                        ("case_priority", "High")):
        widget = creator.form.fields[name]
        widget.value = dict(widget.options)[label]
    assert not creator.form.field_errors
    assert creator.state == "draft" and creator.message_text == ""
