"""The case form's country picker in a real browser, by keyboard alone, with axe-core.

Voila serves a one-cell notebook holding only a ``CaseCreator`` (as
``tests/test_browser_a11y.py`` does). What only a browser can show: the
"Country of onboarding" input is reached by Tab, its suggestion list holds
"DE — Germany" and every other country for the browser to filter as one
types; an ambiguous name committed with Enter marks the field invalid and its
message names the candidates; a local name becomes "DE — Germany"; the case
is created with the code; axe-core reports no serious or critical violation.
"""

# ruff: noqa: F811  (the browser fixtures are imported from browser_helpers and used as arguments)
from __future__ import annotations

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
    page,
    served,
    write_creator_notebook,
)
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

SCOPE = ".kyc-case-creator"
COUNTRY = "Country of onboarding"
FOCUSED_LABEL = (
    "() => { const el = document.activeElement;"
    " return el && el.labels && el.labels.length ? el.labels[0].textContent.trim() : ''; }"
)


def tab_to_label(page: Any, label: str, *, limit: int = 80) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if str(page.evaluate(FOCUSED_LABEL)).startswith(label):
            return
    raise AssertionError(f"Tab never reached {label!r}")


def test_the_country_picker_in_the_case_form_by_keyboard(page: Any, api: Any, tmp_path: Path) -> None:
    notebook = write_creator_notebook(tmp_path / "creator.ipynb")
    with served(notebook, api, page, tmp_path) as app:
        page.goto(app.url)
        creator = page.locator(SCOPE).first
        creator.get_by_role("button", name="Create case").wait_for(timeout=FIRST_RENDER_MS)
        expect_no_widget_errors(page)
        for label, value in PERSON.items():
            if label != COUNTRY:
                creator.get_by_label(label, exact=False).first.fill(value)
        for label, option in CHOICES.items():
            creator.get_by_label(label, exact=False).first.select_option(label=option)

        page.locator("body").focus()
        tab_to_label(page, COUNTRY)
        box = creator.get_by_label(COUNTRY, exact=False).first
        options = creator.locator(".kyc-country-picker datalist option")
        assert options.count() == 249
        assert creator.locator(".kyc-country-picker datalist option[value='DE \u2014 Germany']").count() == 1

        page.keyboard.type("Korea")
        page.keyboard.press("Enter")
        message = creator.get_by_text("KP (North Korea) or KR (South Korea)")
        expect(message).to_be_visible()
        expect(box).to_have_attribute("aria-invalid", "true")
        assert axe_problems(page, SCOPE) == []

        page.keyboard.press("Control+A")
        page.keyboard.type("Deutschland")
        page.keyboard.press("Enter")
        expect(box).to_have_value("DE \u2014 Germany")
        expect(message).to_be_hidden()
        expect(box).not_to_have_attribute("aria-invalid", "true")
        assert axe_problems(page, SCOPE) == []

        for _ in range(80):  # on to "Create case", by keyboard
            page.keyboard.press("Tab")
            if page.evaluate("() => (document.activeElement.textContent || '').trim()") == "Create case":
                break
        page.keyboard.press("Enter")
        workspace = creator.locator(".kyc-case-workspace-widget")
        workspace.wait_for()
        expect(workspace.locator("td[data-field='country_of_onboarding']")).to_have_text("DE")
        assert api.case_count() == 1
        expect_no_widget_errors(page)
        expect_only_voila_cdn_blocked(page)
