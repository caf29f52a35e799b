"""Maker-checker in a real browser: Create refuses an unapproved plan, the checker's review
page passes axe-core, and the approved plan sends the campaign.

Voila serves a one-cell notebook, started exactly as ``make demo`` starts Voila, with two
analysts on one page: a campaign panel signed in as the maker (its token comes from the
kernel's environment, never from the notebook) and the desk, signed in as the checker,
whose "Approve a plan" section is the review page. Approval is required
(``KYC_REQUIRE_APPROVAL=1`` in the kernel's environment). What only a browser shows: the
refusals are read on the page (as alerts), the plan files go out as downloads and come
back in through the file inputs, and axe-core finds no serious or critical violation on
the refused panel, the review page before and after approving.
"""

# ruff: noqa: F811  (the browser fixtures are imported from browser_helpers and used as arguments)
from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_helpers import (  # noqa: F401 - fixtures
    FIRST_RENDER_MS,
    axe_problems,
    browser,
    expect_no_widget_errors,
    expect_only_voila_cdn_blocked,
    page,
    served,
    write_one_cell_notebook,
)
from playwright.sync_api import expect

from kyc_widgets.sandbox import Sandbox

pytestmark = pytest.mark.browser

TOKENS = {"checker-token": "checker@sandbox", "maker-token": "maker@sandbox"}
"""The first token is the kernel's ``KYC_API_TOKEN``: the desk is the checker's."""

SOURCE = """\
import os
from IPython.display import display
from kyc_widgets import CaseDesk, KycApiClient
from kyc_widgets.widgets.batch_creator import BatchCreator
from kyc_widgets.widgets.desk import sample_sheet_path

# the maker's campaign panel: the token is read from the kernel's environment
maker = KycApiClient(os.environ["KYC_API_BASE_URL"], token=lambda: os.environ["KYC_MAKER_TOKEN"])
display(BatchCreator(maker, sample_sheet_path(), campaign="browser plans"))
CaseDesk.from_env(check_api=False)  # the checker's desk
"""


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    with Sandbox(tokens=TOKENS) as sandbox:
        monkeypatch.setenv("KYC_MAKER_TOKEN", "maker-token")
        monkeypatch.setenv("KYC_REQUIRE_APPROVAL", "1")
        yield sandbox


def upload(page: Any, where: Any, button: str, path: Path) -> None:
    """Choose ``path`` in the file chooser an upload button opens, as a person would."""
    with page.expect_file_chooser() as chooser:
        where.get_by_role("button", name=button).click()
    chooser.value.set_files(str(path))


def downloaded(link: Any, folder: Path, name: str) -> Path:
    """The file behind a ``data:`` download link, saved as the analyst's browser would."""
    href = link.get_attribute("href") or ""
    assert href.startswith("data:application/json;base64,"), href[:60]
    target = folder / name
    target.write_bytes(base64.b64decode(href.split(",", 1)[1]))
    return target


def test_create_refuses_an_unapproved_plan_and_the_review_page_approves_it(
    page: Any, api: Sandbox, tmp_path: Path
) -> None:
    notebook = write_one_cell_notebook(tmp_path / "plans.ipynb", SOURCE)
    with served(notebook, api, page, tmp_path) as app:
        page.goto(app.url)
        panel = page.locator(".kyc-batch-creator").first
        create = panel.get_by_role("button", name=re.compile(r"Create \d+ cases"))
        create.wait_for(timeout=FIRST_RENDER_MS)
        rows = int(re.findall(r"\d+", create.inner_text())[0])  # the sample's valid rows
        step = panel.locator(".kyc-plan-step")

        # Send with no plan, then with the maker's own plan: refused in words, nothing sent
        create.click()
        expect(step.get_by_role("alert")).to_contain_text(
            "Nothing was sent: this campaign needs an approved plan")
        step.get_by_role("button", name="Make a plan for approval").click()
        expect(step).to_contain_text(f"Plan made: by maker@sandbox, {rows} row(s) to send")
        plan = downloaded(step.get_by_role("link", name="Download the plan for approval (JSON)"),
                          tmp_path, "plan.json")
        upload(page, step, "Upload the approved plan (JSON)", plan)
        expect(step.get_by_role("alert")).to_contain_text(
            "This plan cannot be sent: the plan is not approved")
        create.click()
        expect(step.get_by_role("alert")).to_contain_text("Nothing was sent")
        assert api.request_count(method="POST") == 0 and api.case_count() == 0
        assert axe_problems(page, ".kyc-batch-creator") == []  # the refused panel

        # the checker's review page, in the desk
        desk = page.locator(".kyc-desk").first
        desk.get_by_role("tab", name="Approve a plan").click()
        review = desk.locator(".kyc-plan-review")
        upload(page, review, "Upload a plan (JSON)", plan)
        expect(review).to_contain_text("Ready to approve: you are checker@sandbox")
        expect(review).to_contain_text(f"{rows} row(s) to send")
        expect(review.get_by_role("row", name=re.compile(r"^Made by maker@sandbox at "))) \
            .to_be_visible()
        assert axe_problems(page, ".kyc-plan-review") == []  # the review
        review.get_by_role("button", name="Approve this plan").click()
        expect(review).to_contain_text("Approved: by checker@sandbox")
        assert axe_problems(page, ".kyc-plan-review") == []  # approved
        approved = downloaded(review.get_by_role("link", name="Download the approved plan (JSON)"),
                              tmp_path, "approved.json")

        # back to the maker: the approved plan sends exactly its rows
        upload(page, step, "Upload the approved plan (JSON)", approved)
        expect(step).to_contain_text("Approved plan loaded: made by maker@sandbox, approved by "
                                     "checker@sandbox")
        assert api.request_count(method="POST") == 0
        create.click()
        expect(panel).to_contain_text(f"Created: {rows}", timeout=FIRST_RENDER_MS)
        assert api.case_count() == rows and api.request_count(method="POST") == rows
        expect_no_widget_errors(page)
        expect_only_voila_cdn_blocked(page)
