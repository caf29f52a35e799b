"""A nested SchemaForm in a real browser, by keyboard alone, and axe-core on it.

Voila serves a one-cell notebook (written by the test) holding a customer form
with an address group and a list of beneficial owners, and a "Check" button
that validates and moves focus to the errors. What only a browser can show:
Tab reaches every input and button in order, Enter on "Add beneficial owner"
puts focus in the new owner's first field, each input's label is tied to it
and the group around it is named ("Beneficial owner 2"), a refused check
marks exactly the second owner's share (``owners.1.share``) with
``aria-invalid`` and names its message in ``aria-describedby``, focus lands on
the summary, and axe-core reports no serious or critical violation.
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

SCOPE = ".kyc-schema-form"

FORM_SOURCE = """\
import ipywidgets as W
from pydantic import BaseModel, Field

from kyc_widgets import SchemaForm


class Address(BaseModel):
    line1: str = Field(min_length=1, title="Address line 1")
    city: str = Field(min_length=1)


class BeneficialOwner(BaseModel):
    name: str = Field(min_length=1)
    share: float = Field(ge=0, le=100, description="Percentage held.")


class Customer(BaseModel):
    name: str = Field(min_length=1)
    address: Address
    owners: list[BeneficialOwner] = Field(min_length=1, max_length=4, title="Beneficial owners")


form = SchemaForm(Customer)
check = W.Button(description="Check")


def _check(_button):
    if form.validate() is None:
        form.focus_errors()


check.on_click(_check)
W.VBox([form, check])
"""

# The active element in words: its label, the group it is in, its text.
ACTIVE = """() => {
  const el = document.activeElement;
  if (!el) return {};
  const label = el.labels && el.labels.length ? el.labels[0].textContent.trim() : "";
  const group = el.closest("[role=group]");
  const named = group && document.getElementById(group.getAttribute("aria-labelledby") || "");
  return {tag: el.tagName.toLowerCase(), label: label, group: named ? named.textContent.trim() : "",
          text: (el.textContent || "").trim().slice(0, 80)};
}"""

# Every input marked invalid: its label, its group, and the texts its aria-describedby names.
INVALID = """() => Array.from(document.querySelectorAll("[aria-invalid=true]")).map(el => {
  const group = el.closest("[role=group]");
  const named = group && document.getElementById(group.getAttribute("aria-labelledby") || "");
  const ids = (el.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
  return {label: el.labels && el.labels.length ? el.labels[0].textContent.trim() : "",
          group: named ? named.textContent.trim() : "",
          described: ids.map(id => (document.getElementById(id) || {}).textContent || "")
                        .map(t => t.trim())};
})"""

TO_TYPE = {  # (group, label) -> what is typed; synthetic
    ("", "Name *"): "Example Holdings Ltd",
    ("Address *", "Address line 1 *"): "1 High Street",
    ("Address *", "City *"): "Exampleton",
    ("Beneficial owner 1", "Name *"): "Ada Example",
    ("Beneficial owner 1", "Share *"): "60",
}


def tab_until(page: Any, wanted: Any, *, limit: int = 40) -> dict[str, Any]:
    """Press Tab, typing TO_TYPE's values on the way, until ``wanted(active)`` holds."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        active = page.evaluate(ACTIVE)
        value = TO_TYPE.pop((active.get("group", ""), active.get("label", "")), None)
        if value is not None:
            page.keyboard.type(value)
        if wanted(active):
            return dict(active)
    raise AssertionError(f"Tab never reached it; last: {page.evaluate(ACTIVE)}")


def test_a_nested_form_with_two_owners_by_keyboard_gets_the_error_at_the_second_owner(
    page: Any, api: Any, tmp_path: Path
) -> None:
    notebook = write_one_cell_notebook(tmp_path / "nested-form.ipynb", FORM_SOURCE)
    with served(notebook, api, page, tmp_path) as app:
        page.goto(app.url)
        form = page.locator(SCOPE).first
        add = form.get_by_role("button", name="Add beneficial owner")
        add.wait_for(timeout=FIRST_RENDER_MS)
        page.wait_for_timeout(500)  # let the a11y bridge apply its first attributes
        expect_no_widget_errors(page)
        expect(form.locator("[role=alert], [role=status]")).to_have_count(0)
        assert axe_problems(page, SCOPE) == []  # the fresh form

        page.locator("body").focus()
        tab_until(page, lambda a: a.get("text") == "Add beneficial owner")
        assert not TO_TYPE, f"not reached by Tab: {TO_TYPE}"
        page.keyboard.press("Enter")  # a second owner; focus goes to its first field
        page.wait_for_function(
            f"() => {{ const a = ({ACTIVE})(); "
            "return a.group === 'Beneficial owner 2' && a.label === 'Name *'; }"
        )
        page.keyboard.type("Bo Example")
        page.keyboard.press("Tab")
        assert page.evaluate(ACTIVE)["label"] == "Share *"
        page.keyboard.type("120")  # more than 100 %: refused at owners.1.share
        tab_until(page, lambda a: a.get("text") == "Check")
        page.keyboard.press("Enter")

        expect(form).to_contain_text("Please fix 1 field: Beneficial owner 2 › Share")
        page.wait_for_function(
            "() => document.activeElement && "
            "document.activeElement.textContent.includes('Please fix')"
        )
        page.wait_for_function("() => document.querySelectorAll('[aria-invalid=true]').length == 1")
        assert page.evaluate(INVALID) == [
            {
                "label": "Share *",
                "group": "Beneficial owner 2",
                "described": ["Percentage held.", "⚠ Error: Enter a number of at most 100."],
            }
        ]
        assert axe_problems(page, SCOPE) == []  # refused, two owners, one error
        expect_no_widget_errors(page)
        expect_only_voila_cdn_blocked(page)
