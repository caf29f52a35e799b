"""The country picker in a real browser, by keyboard alone, and axe-core on it.

Voila serves a one-cell notebook holding only a ``CountryPicker`` and a line
that shows the code the kernel holds (so the test reads what Python received,
not only what the box shows). What only a browser can show: the picker is
reached by Tab, a local name typed and committed with Enter becomes "DE —
Germany" in the box and "DE" in the kernel, the suggestion list holds the
labels a browser filters as one types, an ambiguous name names its candidates,
and axe-core reports no serious or critical violation.
"""

# ruff: noqa: F811  (the browser fixtures are imported from browser_helpers and used as arguments)
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from browser_helpers import (  # noqa: F401 - fixtures
    FIRST_RENDER_MS,
    api,
    axe_problems,
    browser,
    expect_no_widget_errors,
    expect_only_voila_cdn_blocked,
    page,
    served,
    write_one_cell_notebook,
)
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

PICKER_SOURCE = """\
import ipywidgets as W
from kyc_widgets.form.country_picker import CountryPicker

picker = CountryPicker(description="Country of onboarding")
held = W.HTML("<p>Kernel holds: nothing</p>")
picker.observe(lambda _c: setattr(held, "value", f"<p>Kernel holds: {picker.value}</p>"), names="value")
W.VBox([picker, held])
"""


def _focused_label(page: Any) -> str:
    return str(page.evaluate(
        "() => { const el = document.activeElement;"
        " return el && el.labels && el.labels.length ? el.labels[0].textContent.trim() : ''; }"
    ))


def test_the_country_picker_by_keyboard_alone(page: Any, api: Any, tmp_path: Path) -> None:
    notebook = write_one_cell_notebook(tmp_path / "picker.ipynb", PICKER_SOURCE)
    with served(notebook, api, page, tmp_path) as app:
        page.goto(app.url)
        box = page.get_by_label("Country of onboarding")
        box.wait_for(timeout=FIRST_RENDER_MS)
        expect_no_widget_errors(page)

        for _ in range(40):  # Tab from the top of the page to the picker
            page.keyboard.press("Tab")
            if _focused_label(page) == "Country of onboarding":
                break
        else:
            raise AssertionError("Tab never reached the country picker")

        # the list the browser filters as one types: "DE — Germany", every country
        suggestions = page.locator(".kyc-country-picker datalist option")
        assert suggestions.count() == 249
        assert page.locator(".kyc-country-picker datalist option[value='DE \u2014 Germany']").count() == 1

        page.keyboard.type("Deutschland")
        page.keyboard.press("Enter")
        expect(box).to_have_value("DE \u2014 Germany")
        expect(page.get_by_text("Kernel holds: DE")).to_be_visible()

        page.keyboard.press("Control+A")
        page.keyboard.type("Korea")
        page.keyboard.press("Enter")
        note = page.locator(".kyc-country-picker").get_by_text("KP (North Korea) or KR (South Korea)")
        expect(note).to_be_visible()
        expect(page.get_by_text("Kernel holds: Korea")).to_be_visible()
        assert axe_problems(page, ".kyc-country-picker") == []

        page.keyboard.press("Control+A")
        page.keyboard.type("kr")
        page.keyboard.press("Tab")  # leaving the box commits it too
        expect(box).to_have_value("KR \u2014 South Korea")
        expect(page.get_by_text("Kernel holds: KR")).to_be_visible()
        expect(note).to_be_hidden()
        assert axe_problems(page, ".kyc-country-picker") == []
        expect_no_widget_errors(page)
        expect_only_voila_cdn_blocked(page)
