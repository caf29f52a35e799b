"""The campaign in the app, in a real browser (issue 25): nothing lost, nothing dropped,
every step done in the browser.

One walk through the Campaign section of ``make demo``'s page (Voila, Chromium), as a
new analyst takes it: a Windows-1252 core-banking export with a title line, its own
headers and vocabulary, uploaded from "this computer" (Playwright's file chooser);
its columns confirmed, the campaign constants typed once, the mapping saved (kept for
these headers, and downloaded); checked against the API, then sent; a bad value, an
empty field and a second customer given the same external case ID fixed in the app and
sent; then the corrected sheet, the report and the evidence record taken away as
**browser downloads** (``page.expect_download()``: nothing is served from the server's
disk) and their content checked. The page is reloaded and the same sheet uploaded
again: the saved mapping is offered, nothing to retype, and nothing is created twice.

At every state on the way (upload, mapping, preview, checked, report, fix form, fixes
sent) the walk checks that the page does not scroll sideways at 1280 px, that no field
name or Python shows in the section's visible text, and, in the mapping, report and
fix states, that axe-core finds no serious or critical violation; the report is also
looked at 800 px wide. One test, to keep the browser suite short.
"""

# ruff: noqa: F811  (the browser fixtures are imported from browser_helpers and used as arguments)
from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from browser_helpers import (  # noqa: F401 - fixtures
    ACTION_MS,
    FIRST_RENDER_MS,
    api,
    axe_problems,
    browser,
    expect_no_widget_errors,
    expect_only_voila_cdn_blocked,
    page,
    served,
)
from playwright.sync_api import expect

from kyc_widgets.batch import read_campaign
from kyc_widgets.cli.app import DEFAULT_NOTEBOOK
from kyc_widgets.widgets.campaign_words import PROGRAMMER_WORDS

pytestmark = pytest.mark.browser

DOCS = Path(__file__).resolve().parent.parent / "docs"
UPDATE_SCREENSHOTS = os.environ.get("KYC_UPDATE_SCREENSHOTS") == "1"

CAMPAIGN = ".kyc-desk-campaign"
CONSTANTS = {
    "Agency name": "Northwind Compliance Services",
    "Regulated provider name": "Example Bank plc",
    "Programme name": "Everyday Current Account",
    "Assigned team": "Periodic Review",
}
HEADERS = ["Case Ref", "Client Ref", "Given Name", "Surname", "Client Kind", "Review Reason",
           "Prio", "Land"]
ROWS = [  # synthetic people; sheet rows 3.. (a title line on row 1, the header on row 2)
    ["KR-001", "0007512", "Zoë", "Müller", "Retail individual", "Periodic review", "P2", "GB"],
    ["KR-002", "0007513", "Søren", "Kierkegård", "Sole proprietor", "Backbook", "ASAP", "DK"],
    ["KR-003", "0007514", "Ólafur", "", "Retail individual", "Periodic review", "P3", "IS"],
    ["KR-004", "0007515", "Jörg", "Weiß", "Retail individual", "Periodic review", "P1", "DE"],
    ["KR-004", "0007516", "André", "Lefèvre", "Sole proprietor", "Backbook", "P2", "FR"],
    ["KR-006", "0007517", "Ann", "Smith", "Retail individual", "Periodic review", "P4", "GB"],
    ["KR-007", "0007518", "Łucja", "Nowak", "Retail individual", "Periodic review", "P3", "PL"],
    ["KR-008", "0007519", "Chloé", "Dubois", "Sole proprietor", "Backbook", "P2", "FR"],
]
SHEET_NAME = "core-banking-export.csv"


def core_banking_export() -> bytes:
    """The export as its system writes it: Windows-1252, a title line, semicolons."""
    text = io.StringIO()
    writer = csv.writer(text, delimiter=";", lineterminator="\r\n")
    writer.writerow(["Core banking export: KYC refresh population", *[""] * 7])
    writer.writerow(HEADERS)
    writer.writerows(ROWS)
    return text.getvalue().replace("Łucja", "Lucja").encode("cp1252")


# ------------------------------------------------------------------------------ checks

OUTSIDE = """(selector) => {
  const root = document.querySelector(selector);
  const edge = root.getBoundingClientRect().right + 1;
  const out = [];
  for (const el of root.querySelectorAll('*')) {
    const inner = el.parentElement && el.parentElement.closest('.kyc-report-scroll, .kyc-compare');
    if (inner || el.tagName === 'OPTION') continue;  // a region that scrolls by itself
    const box = el.getBoundingClientRect();
    if (box.width > 0 && box.right > edge) out.push(`${el.tagName}.${el.className}: ${box.right}`);
  }
  return out.slice(0, 5);
}"""
"""Elements that stick out of the section on the right: a page that does not scroll can
still cut them off (an ancestor's overflow hides them)."""


def check_page(page: Any, state: str, *, axe: bool = False, width: int = 1280) -> None:
    """No sideways scroll at ``width``; no field name or Python in the Campaign section;
    axe-core clean when asked."""
    page.set_viewport_size({"width": width, "height": 1000})
    page.wait_for_timeout(200)  # let the layout settle after a resize or a redraw
    sizes = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert sizes[0] <= sizes[1], f"{state}: the page scrolls sideways at {width} px: {sizes}"
    cut = page.evaluate(OUTSIDE, CAMPAIGN)
    assert not cut, f"{state}: wider than the Campaign section at {width} px (cut off): {cut}"
    text = page.locator(CAMPAIGN).inner_text()
    words = sorted({m.group(0) for m in PROGRAMMER_WORDS.finditer(text)})
    assert not words, f"{state}: programmer words in the Campaign section: {words}"
    if axe:
        problems = axe_problems(page, CAMPAIGN)
        assert problems == [], f"{state}: {problems}"


def shoot(locator: Any, name: str, tmp_path: Path) -> None:
    """A screenshot of ``locator`` for the README's docs/ (``make screenshots``), kept in the
    test's folder otherwise. The viewport is made tall enough for the element first: the
    page scrolls inside Voila's own container, not the window."""
    page = locator.page
    height = int(locator.evaluate("el => el.getBoundingClientRect().height"))
    page.set_viewport_size({"width": 1280, "height": max(1000, min(height + 100, 4000))})
    target = tmp_path / name
    locator.screenshot(path=str(target), animations="disabled")
    page.set_viewport_size({"width": 1280, "height": 1000})
    if UPDATE_SCREENSHOTS:
        DOCS.mkdir(exist_ok=True)
        shutil.copyfile(target, DOCS / name)


def upload(page: Any, section: Any, name: str, data: bytes, label: str) -> None:
    """Choose a file on "this computer" through the browser's own file chooser."""
    with page.expect_file_chooser() as chooser:
        section.get_by_role("button", name=label).click()
    chooser.value.set_files({"name": name, "mimeType": "application/octet-stream", "buffer": data})


def download(page: Any, scope: Any, label: str, tmp_path: Path) -> Path:
    """Press a download button; the browser saves the file (a Blob, not a server URL)."""
    with page.expect_download() as event:
        scope.get_by_role("button", name=label).click()
    got = event.value
    assert got.url.startswith("blob:"), got.url  # made in the page, never fetched from disk
    target = tmp_path / got.suggested_filename
    got.save_as(target)
    return target


def open_campaign(page: Any, url: str) -> Any:
    page.goto(url)
    desk = page.locator(".kyc-desk").first
    desk.get_by_role("button", name="Create case").wait_for(timeout=FIRST_RENDER_MS)
    expect_no_widget_errors(page)
    desk.get_by_role("tab", name="Campaign").click()
    section = page.locator(CAMPAIGN)
    expect(section).to_contain_text("Create one case per row of a spreadsheet", timeout=ACTION_MS)
    return section


def fix_row(page: Any, panel: Any, row: int) -> Any:
    """Choose a row of the Needs-attention list and open its form."""
    fix = panel.locator(".kyc-fix-step")
    rows = fix.get_by_label("Row")
    expect(rows.locator("option").first).to_be_attached()
    labels = rows.locator("option").all_inner_texts()
    chosen = [t for t in labels if f"sheet row {row}:" in t.replace("\xa0", " ")]
    assert chosen, labels
    rows.select_option(label=chosen[0])
    fix.get_by_role("button", name="Fix this row").click()
    expect(fix).to_contain_text(f"Sheet row {row}", timeout=ACTION_MS)
    return fix


# ------------------------------------------------------------------------------ the walk


def test_a_campaign_from_upload_to_downloads_then_the_mapping_remembered(
    page: Any, api: Any, tmp_path: Path
) -> None:
    with served(DEFAULT_NOTEBOOK, api, page, tmp_path) as app:
        section = open_campaign(page, app.url)
        check_page(page, "campaign tab")
        upload_button = section.get_by_role("button", name="Upload a sheet…")
        expect(upload_button).to_be_visible(timeout=ACTION_MS)
        template = download(page, section, "Download the template (XLSX)", tmp_path)
        assert template.read_bytes()[:2] == b"PK"

        # upload: the mapping opens on the guesses; the values settled the ambiguous headers
        upload(page, section, SHEET_NAME, core_banking_export(), "Upload a sheet…")
        panel = section.locator(".kyc-batch-creator")
        expect(panel).to_contain_text(f"{SHEET_NAME} (8 rows)", timeout=ACTION_MS)
        step = panel.locator(".kyc-mapping-step")
        expect(step.get_by_label("Client Kind")).to_have_value("User type *", timeout=ACTION_MS)
        expect(step.get_by_label("Client Ref")).to_have_value(
            "User internal ID *", timeout=ACTION_MS
        )
        check_page(page, "mapping", axe=True)
        step.get_by_role("button", name="Confirm all guesses").click()
        for label, value in CONSTANTS.items():
            box = step.get_by_label(re.compile(f"^{label}"))
            box.fill(value)
            box.press("Tab")
        expect(panel.get_by_role("button", name="Create 4 cases")).to_be_enabled(timeout=ACTION_MS)
        mapping_file = download(page, step, "Save this mapping", tmp_path)
        saved = json.loads(mapping_file.read_text(encoding="utf-8"))
        assert saved["columns"]["Client Ref"] == "user_internal_id"
        assert saved["constants"]["agency_name"] == CONSTANTS["Agency name"]
        expect(step).to_contain_text(
            "Kept for the next sheet with these columns", timeout=ACTION_MS
        )
        shoot(step, "campaign-mapping.png", tmp_path)

        # the preview: two refused rows and two customers with one external case ID
        expect(panel).to_contain_text(
            "'ASAP' is not a case priority; use Low, Normal, High or Urgent", timeout=ACTION_MS
        )
        expect(panel).to_contain_text(
            "share an external case ID with another customer", timeout=ACTION_MS
        )
        check_page(page, "preview")
        panel.get_by_role("button", name="Check against the API").click()
        expect(panel).to_contain_text("Checked against the API (nothing was created)",
                                      timeout=ACTION_MS)
        assert api.case_count() == 0
        check_page(page, "checked")

        panel.get_by_role("button", name="Create 4 cases").click()
        expect(panel).to_contain_text("Finished.", timeout=FIRST_RENDER_MS)
        expect(panel).to_contain_text("Created: 4", timeout=ACTION_MS)
        expect(panel).to_contain_text("Needs attention: 4 rows", timeout=ACTION_MS)
        assert api.case_count() == 4
        check_page(page, "report", axe=True)
        check_page(page, "report at 800 px", width=800)

        # fix: a bad value, an empty field, and the second customer with KR-004
        fix = fix_row(page, panel, 4)
        fix.get_by_label("Case priority").select_option(label="Urgent")
        check_page(page, "fix form", axe=True)
        shoot(fix, "campaign-fix.png", tmp_path)
        fix.get_by_role("button", name="Save fix").click()
        expect(fix).to_contain_text("Sheet row 4 fixed", timeout=ACTION_MS)
        fix = fix_row(page, panel, 5)
        fix.get_by_label("Legal last name").fill("Jónsson")
        fix.get_by_role("button", name="Save fix").click()
        expect(fix).to_contain_text("Sheet row 5 fixed", timeout=ACTION_MS)
        fix = fix_row(page, panel, 7)
        external_id = fix.get_by_label("External case ID", exact=True)
        external_id.fill("KR-005")
        external_id.press("Tab")
        fix.get_by_role("button", name="Save fix").click()
        expect(fix).to_contain_text("Sheet row 7 fixed", timeout=ACTION_MS)
        fix = fix_row(page, panel, 6)
        expect(fix).to_contain_text("no longer shared", timeout=ACTION_MS)
        fix.get_by_role("button", name="Save fix").click()
        fix.get_by_role("button", name="Send 4 fixed rows").click()
        expect(fix).to_contain_text("Sent 4 fixed rows", timeout=ACTION_MS)
        expect(panel).to_contain_text("Created: 8", timeout=ACTION_MS)
        expect(panel).to_contain_text("Needs attention: 0 rows", timeout=ACTION_MS)
        assert api.case_count() == 8
        check_page(page, "fixes sent", axe=True)
        panel.get_by_label("Show").select_option(label="Created (8)")
        shoot(panel.locator(".kyc-report-table"), "campaign-report.png", tmp_path)

        # take it away: browser downloads, checked for the fixed values and the fixed rows noted
        corrected = download(page, fix, "Download the corrected sheet", tmp_path)
        assert corrected.name == "core-banking-export-corrected.csv"
        sheet = read_campaign(corrected)
        assert list(sheet.index) == [3, 4, 5, 6, 7, 8, 9, 10]  # the same sheet rows as the report
        assert sheet.loc[4, "Prio"] == "URGENT" and sheet.loc[5, "Surname"] == "Jónsson"
        assert sheet.loc[7, "Case Ref"] == "KR-005" and sheet.loc[6, "Case Ref"] == "KR-004"
        panel.get_by_label("Include personal data in the report").check()
        report_file = download(page, panel, "Download the report (CSV, with personal data)",
                               tmp_path)
        report = pd.read_csv(report_file, dtype=str, encoding="utf-8-sig").set_index("sheet_row")
        assert report.loc["5", "Surname"] == "Jónsson" and report.loc["5", "status"] == "created"
        assert report.loc["4", "Prio"] == "URGENT"
        assert report.loc["4", "fixed_in_app"] == "Case priority"
        assert report.loc["7", "fixed_in_app"] == "External case ID"
        assert report.loc["7", "kyc_case_id"] == "KR-005"
        assert pd.isna(report.loc["3", "fixed_in_app"])
        evidence = download(page, panel, "Download the evidence record (JSON)", tmp_path)
        record = json.loads(evidence.read_text(encoding="utf-8"))
        fixed = {f["sheet_row"]: f for f in record["fixed_in_notebook"]}
        assert fixed[5]["fields"] == ["legal_last_name"] and fixed[5]["by"] == [api.principal]
        assert "Jónsson" not in evidence.read_text(encoding="utf-8")
        summary = download(page, panel, "Download its summary (HTML)", tmp_path)
        assert record["chain"]["head"] in summary.read_text(encoding="utf-8")

        # next month: the page reloaded, the same sheet uploaded; the mapping is offered
        section = open_campaign(page, app.url)
        upload(page, section, SHEET_NAME, core_banking_export(), "Upload a sheet…")
        panel = section.locator(".kyc-batch-creator")
        step = panel.locator(".kyc-mapping-step")
        expect(step).to_contain_text("Using the mapping you saved on", timeout=ACTION_MS)
        expect(step.get_by_label(re.compile("^Agency name"))).to_have_value(
            CONSTANTS["Agency name"], timeout=ACTION_MS
        )
        create = panel.get_by_role("button", name=re.compile(r"Create \d+ cases"))
        expect(create).to_be_enabled()  # nothing to retype
        create.click()
        expect(panel).to_contain_text("Already existed: 4", timeout=FIRST_RENDER_MS)
        assert api.case_count() == 8  # nothing created twice
        expect_no_widget_errors(page)
        expect_only_voila_cdn_blocked(page)
