"""Maker-checker in the app, driven as the two analysts would: the plan step of a campaign
panel (make a plan, load the approved one, Create) and the checker's review page.

Against the real sandbox with two tokens; what is asserted is what each analyst reads.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from factories import clean_sheet

from kyc_widgets.batch.plan import approve_plan
from kyc_widgets.batch.plan_file import read_plan
from kyc_widgets.batch.status import RowStatus
from kyc_widgets.sandbox import Sandbox
from kyc_widgets.widgets.batch_creator import BatchCreator
from kyc_widgets.widgets.desk import SECTIONS, CaseDesk
from kyc_widgets.widgets.plan_review import PlanReview

TOKENS = {"maker-token": "maker@sandbox", "checker-token": "checker@sandbox"}


def visible_text(markup: str) -> str:
    markup = re.sub(r"<style>.*?</style>", "", markup, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


def linked_plan(link_html: str) -> bytes:
    """The bytes behind a plan's download link."""
    found = re.search(r"href='data:application/json;base64,([^']+)'", link_html)
    assert found, link_html
    return base64.b64decode(found.group(1))


@pytest.fixture
def api() -> Iterator[Sandbox]:
    with Sandbox(tokens=TOKENS) as sandbox:
        yield sandbox


@pytest.fixture
def maker(api: Sandbox) -> Iterator[Any]:
    with api.client(token="maker-token") as client:
        yield client


@pytest.fixture
def checker(api: Sandbox) -> Iterator[Any]:
    with api.client(token="checker-token") as client:
        yield client


def test_create_refuses_without_an_approved_plan_then_sends_exactly_it(
    api: Sandbox, maker: Any, checker: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KYC_REQUIRE_APPROVAL", "1")
    ui = BatchCreator(maker, clean_sheet(tmp_path), campaign="widget plans")
    step = ui.plan_step
    assert ui.state == "ready" and not step.make_button.disabled

    ui.create_button.click()  # approval is required and there is no plan
    assert ui.state == "ready"
    shown = visible_text(step.message.value)
    assert "Nothing was sent: this campaign needs an approved plan" in shown
    assert "role='alert'" in step.message.value

    step.make_button.click()
    assert "Plan made: by maker@sandbox, 4 row(s) to send" in visible_text(step.message.value)
    made = linked_plan(step.download.value)
    assert "Download the plan for approval (JSON)" in step.download.value
    assert step.load_approved(made) is False  # the maker's own, not approved
    assert "This plan cannot be sent: the plan is not approved" in visible_text(
        step.message.value)
    ui.create_button.click()
    assert ui.state == "ready" and api.request_count(method="POST") == 0

    approved = approve_plan(checker, read_plan(made))
    assert step.load_approved(approved.to_json().encode("utf-8"))
    assert ("Approved plan loaded: made by maker@sandbox, approved by checker@sandbox"
            in visible_text(step.message.value))
    ui.create_button.click()
    assert ui.wait(30) and ui.state == "done"
    assert ui.report is not None and ui.report.summary()[RowStatus.CREATED] == 4
    assert ui.report.plan is not None and ui.report.plan["checker"] == "checker@sandbox"
    assert api.request_count(method="POST") == 4
    assert step.layout.display == "none"  # the report is shown: no more plans here


def test_the_review_page_shows_the_plan_and_approves_with_the_checkers_token(
    api: Sandbox, maker: Any, checker: Any, tmp_path: Path
) -> None:
    from kyc_widgets.batch.plan import make_plan

    sheet = clean_sheet(tmp_path)
    plan = make_plan(maker, sheet, campaign="widget plans")
    data = plan.to_json().encode("utf-8")

    own = PlanReview(maker, data)  # the maker cannot approve
    assert own.approve_button.disabled
    assert ("This plan cannot be approved: you made this plan (maker@sandbox)"
            in visible_text(own.message.value))

    page = PlanReview(checker)
    assert page.approve_button.disabled and page.content.value == ""
    page.load(data)
    shown = visible_text(page.content.value)
    for words in ("Campaign widget plans", "Made by maker@sandbox", "Not approved yet".lower(),
                  "4 row(s) to send", "Would be created (dry run) 4", "Legal first name",
                  "Rows whose case exists with other values: none"):
        assert words.lower() in shown.lower(), words
    assert "Ready to approve: you are checker@sandbox, not the maker" in visible_text(
        page.message.value)
    assert not page.approve_button.disabled

    page.approve_button.click()
    assert page.approved is not None and page.approved.checker == "checker@sandbox"
    assert "Approved: by checker@sandbox" in visible_text(page.message.value)
    assert read_plan(linked_plan(page.download.value)).checker == "checker@sandbox"
    assert page.approve_button.disabled
    assert api.request_count(method="POST") == 0

    page.load(page.approved.to_json().encode("utf-8"))  # twice is refused
    assert "approved already (by checker@sandbox" in visible_text(page.message.value)
    page.load(b"{not a plan")
    assert "This plan cannot be approved: the plan is malformed" in visible_text(
        page.message.value)


def test_the_desk_has_an_approve_a_plan_section(checker: Any) -> None:
    desk = CaseDesk(checker, check_api=False)
    assert SECTIONS[-1] == "Approve a plan"
    assert desk.sections.get_title(len(SECTIONS) - 1) == "Approve a plan"
    assert isinstance(desk.plan_review, PlanReview)
    assert desk.sections.children[-1] is desk.plan_review
