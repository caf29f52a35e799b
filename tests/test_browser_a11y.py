"""Accessibility in a real browser: the case form by keyboard alone, and axe-core on each state.

Voila serves a one-cell notebook holding only a ``CaseCreator`` (written by the test,
so nothing else on the page is judged), started exactly as ``make demo`` starts Voila.
What only a browser can show: the "External case ID (optional)" header is reached by
Tab and opened by Space, focus lands on the new case's heading after Enter on
"Create case", fields in error carry ``aria-invalid``/``aria-describedby`` naming their
message, and axe-core (shipped by the axe-playwright-python package, injected from
disk) reports no serious or critical violation in the draft, refused, conflict and
created states. A ``BatchCreator`` is served the same way for its download: the
"Download the report (CSV)" button is reached by Tab and pressed with Enter, the browser
saves the file, and focus stays on the button, whose status line says what was saved.
"""

# ruff: noqa: F811  (the browser fixtures are imported from browser_helpers and used as arguments)
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from browser_helpers import (  # noqa: F401 - fixtures
    CHOICES,
    FIRST_RENDER_MS,
    PERSON,
    api,
    axe_problems,
    browser,
    expect_no_widget_errors,
    expect_only_voila_cdn_blocked,
    fill_case_form,
    page,
    served,
    wait_for_created_case,
    write_creator_notebook,
    write_one_cell_notebook,
)
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

EXTERNAL_ID = "KBD-2024-0001"
SCOPE = ".kyc-case-creator"

# What the active element is, in words: its label, its role and its text.
ACTIVE = """() => {
  const el = document.activeElement;
  if (!el) return {};
  const label = el.labels && el.labels.length ? el.labels[0].textContent : "";
  return {tag: el.tagName.toLowerCase(), label: label.trim(),
          text: (el.textContent || "").trim().slice(0, 80),
          inCreator: Boolean(el.closest(".kyc-case-creator")),
          inHeading: Boolean(el.closest(".kyc-case-workspace-widget h3"))};
}"""


def open_creator(page: Any, app: Any) -> Any:
    page.goto(app.url)
    creator = page.locator(SCOPE).first
    creator.get_by_role("button", name="Create case").wait_for(timeout=FIRST_RENDER_MS)
    page.wait_for_timeout(500)  # let the a11y bridge apply its first attributes
    expect_no_widget_errors(page)
    return creator


def tab_to(page: Any, wanted: Any, *, limit: int = 80) -> dict[str, Any]:
    """Press Tab until ``wanted(active)`` holds; the active element's description."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        active = page.evaluate(ACTIVE)
        if wanted(active):
            return dict(active)
    raise AssertionError(f"Tab never reached the control; last: {page.evaluate(ACTIVE)}")


def test_create_a_case_with_an_external_id_by_keyboard_alone(
    page: Any, api: Any, tmp_path: Path
) -> None:
    notebook = write_creator_notebook(tmp_path / "creator.ipynb")
    with served(notebook, api, page, tmp_path) as app:
        creator = open_creator(page, app)
        page.locator("body").focus()
        to_type = {**PERSON}
        # dropdowns: typing an option's first letters selects it (the browser's type-ahead)
        to_choose = {label: option for label, option in CHOICES.items()}
        first = tab_to(page, lambda a: a.get("inCreator") and a.get("label"))
        active = first
        for _ in range(60):
            label = active.get("label", "").rstrip(" *")
            if label in to_type:
                page.keyboard.type(to_type.pop(label))
            elif label in to_choose:
                page.keyboard.type(to_choose.pop(label))
            if active.get("text") == "External case ID (optional)":
                break
            page.keyboard.press("Tab")
            active = page.evaluate(ACTIVE)
        assert active.get("tag") == "button", active
        assert not to_type and not to_choose, (to_type, to_choose)
        header = creator.get_by_role("button", name="External case ID (optional)")
        expect(header).to_have_attribute("aria-expanded", "false")
        page.keyboard.press("Space")  # open the disclosure
        expect(header).to_have_attribute("aria-expanded", "true")
        active = tab_to(page, lambda a: a.get("label", "").startswith("External case ID"))
        page.keyboard.type(EXTERNAL_ID)
        tab_to(page, lambda a: a.get("text") == "Create case")
        page.keyboard.press("Enter")

        wait_for_created_case(creator, page, EXTERNAL_ID)
        assert page.evaluate(ACTIVE)["inHeading"]
        created = api.client().get_case(EXTERNAL_ID).case
        assert (created.legal_first_name, str(created.case_priority)) == ("Ada", "HIGH")

        # "Create another case", by keyboard: focus goes to the fresh form's first field
        tab_to(page, lambda a: a.get("text") == "Create another case")
        page.keyboard.press("Enter")
        page.wait_for_function(
            "() => document.activeElement && document.activeElement.labels && "
            "document.activeElement.labels.length && "
            "document.activeElement.labels[0].textContent.startsWith('Legal first name')"
        )
        expect_no_widget_errors(page)
        expect_only_voila_cdn_blocked(page)


def test_each_creator_state_passes_axe_and_ties_errors_to_fields(
    page: Any, api: Any, tmp_path: Path
) -> None:
    page.set_viewport_size({"width": 1280, "height": 1000})  # a laptop screen
    notebook = write_creator_notebook(tmp_path / "creator.ipynb")
    with served(notebook, api, page, tmp_path) as app:
        creator = open_creator(page, app)
        # nothing is announced on page load: live regions appear only when something changes
        expect(creator.locator("[role=alert], [role=status]")).to_have_count(0)
        assert axe_problems(page, SCOPE) == []  # draft

        # refused: nothing typed. Every required field is marked and tied to its message;
        # focus is on the error summary.
        creator.get_by_role("button", name="Create case").click()
        expect(creator).to_contain_text("Please fix")
        last_name = creator.get_by_label("Legal last name", exact=False).first
        expect(last_name).to_have_attribute("aria-invalid", "true")
        described = last_name.get_attribute("aria-describedby") or ""
        message = page.locator(f"[id='{described.split()[-1]}']")
        expect(message).to_contain_text("This field is required")
        page.wait_for_function(
            "() => document.activeElement && "
            "document.activeElement.textContent.includes('Please fix')"
        )
        assert axe_problems(page, SCOPE) == []

        # created
        fill_case_form(creator, external_id=EXTERNAL_ID)
        expect(last_name).not_to_have_attribute("aria-invalid", "true")
        creator.get_by_role("button", name="Create case").click()
        creator.locator(".kyc-case-workspace-widget").wait_for()
        assert axe_problems(page, SCOPE) == []

        # conflict: the message and both actions together, in view, focus on the message;
        # the Create button comes after them, not between the field error and them.
        creator.get_by_role("button", name="Create another case").click()
        creator.get_by_role("button", name="Create case").wait_for()
        fill_case_form(creator, external_id=EXTERNAL_ID)
        creator.get_by_role("button", name="Create case").click()
        open_existing = creator.get_by_role("button", name="Open the existing case")
        new_id = creator.get_by_role("button", name="Use a new external ID")
        expect(open_existing).to_be_visible()
        expect(creator).to_contain_text("this external case ID already exists")
        expect(creator).not_to_contain_text("Please fix")
        page.wait_for_function(
            "() => document.activeElement && "
            "document.activeElement.textContent.startsWith('Conflict:')"
        )
        expect(open_existing).to_be_in_viewport()
        expect(new_id).to_be_in_viewport()
        id_error = creator.get_by_text(re.compile("A case with this external case ID already"))
        tops = [
            loc.bounding_box()["y"]
            for loc in (
                id_error,
                creator.locator("[data-state='conflict']"),
                open_existing,
                creator.get_by_role("button", name="Create case"),
            )
        ]
        assert tops == sorted(tops), tops
        assert axe_problems(page, SCOPE) == []
        assert api.case_count() == 1
        expect_no_widget_errors(page)
        expect_only_voila_cdn_blocked(page)


# ------------------------------------------------------------------------------ the campaign download

BATCH_SOURCE = """\
from kyc_widgets import BatchCreator, KycApiClient
from kyc_widgets.widgets.desk import sample_sheet_path

BatchCreator(KycApiClient.from_env(), sample_sheet_path(), campaign="keyboard-download")
"""


def test_the_report_download_works_by_keyboard(page: Any, api: Any, tmp_path: Path) -> None:
    notebook = write_one_cell_notebook(tmp_path / "batch.ipynb", BATCH_SOURCE)
    with served(notebook, api, page, tmp_path) as app:
        page.goto(app.url)
        panel = page.locator(".kyc-batch-creator").first
        create = panel.get_by_role("button", name=re.compile(r"Create \d+ cases"))
        create.wait_for(timeout=FIRST_RENDER_MS)
        expect_no_widget_errors(page)
        create.click()
        expect(panel).to_contain_text("Finished.", timeout=FIRST_RENDER_MS)
        button = panel.get_by_role("button", name="Download the report (CSV)")
        expect(button).to_be_visible()  # its label is its visible text
        assert axe_problems(page, ".kyc-batch-creator") == []  # the report

        page.locator("body").focus()
        active = tab_to(page, lambda a: a.get("text") == "Download the report (CSV)")
        assert active.get("tag") == "button", active
        with page.expect_download() as event:
            page.keyboard.press("Enter")
        assert event.value.url.startswith("blob:")  # made in the page, not served from disk
        assert event.value.suggested_filename.endswith(".csv")
        expect(button).to_be_focused()
        status = panel.locator(
            ".kyc-transfer", has=page.get_by_role("button", name="Download the report (CSV)")
        ).locator(".kyc-transfer-status")
        expect(status).to_contain_text("Downloaded")  # said next to the button
        assert axe_problems(page, ".kyc-batch-creator") == []  # the report, after the download
        expect_no_widget_errors(page)
        expect_only_voila_cdn_blocked(page)
