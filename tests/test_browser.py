"""End to end in a real browser: the Voila app of ``make demo``, driven by headless Chromium.

Two groups: the analyst app itself (``CaseDesk``: a case created, a case opened by id, the
sample campaign run, each state checked with axe-core, and the kernels of closed tabs
counted until culled), and the tutorial notebooks served the same way.

What it proves that the widget tests cannot: the widget frontends load from the
installed bundles (no CDN), the form's labels are real ``<label for>`` elements a
person (and a screen reader) can use, the kernel round trip works, and the states
the analyst sees (form, workspace, conflict, batch report) render. The screenshots
it takes are the ones in the README: ``make screenshots`` (``KYC_UPDATE_SCREENSHOTS=1``)
copies them into ``docs/``.

Chromium, the offline page and Voila come from ``tests/browser_helpers.py``. Each test
checks that the only requests aborted were Voila's own optional CDN stylesheets (an icon
font it also bundles): a widget frontend fetched from a CDN would fail the test, as would
a widget error in the browser console.
"""

# ruff: noqa: F811  (the browser fixtures are imported from browser_helpers and used as arguments)
from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser_helpers import (  # noqa: F401 - fixtures
    FIRST_RENDER_MS,
    api,
    axe_problems,
    browser,
    expect_no_widget_errors,
    expect_only_voila_cdn_blocked,
    fill_case_form,
    page,
    served,
    voila_log,
)
from factories import ADA_EXAMPLE
from playwright.sync_api import expect

from kyc_widgets.cli.app import (
    DEFAULT_NOTEBOOK,
    NOTEBOOKS_DIR,
    ServedApp,
    kernel_environment,
    start_voila,
)

pytestmark = pytest.mark.browser

DOCS = Path(__file__).resolve().parent.parent / "docs"
UPDATE_SCREENSHOTS = os.environ.get("KYC_UPDATE_SCREENSHOTS") == "1"

EXTERNAL_ID = "BRW-2024-0001"


def shoot(
    locator: Any, name: str, tmp_path: Path, *, max_height: int = 1700, docs: bool = True
) -> Path:
    """Screenshot ``locator`` into the test's folder (and into docs/ when asked to).

    At most ``max_height`` pixels from its top: the README wants the gist, not 50 rows.
    ``docs=False``: never copied to docs/ (the README shows the app's own screenshots).
    """
    target = tmp_path / name
    locator.scroll_into_view_if_needed()
    box = locator.bounding_box()
    assert box is not None, f"{name}: nothing to photograph"
    clip = {**box, "height": min(box["height"], max_height)}
    locator.page.screenshot(path=str(target), clip=clip, full_page=True, animations="disabled")
    assert target.stat().st_size > 2_000, f"{name} looks empty"
    if UPDATE_SCREENSHOTS and docs:
        DOCS.mkdir(exist_ok=True)
        shutil.copyfile(target, DOCS / name)
    return target


# ------------------------------------------------------------------------------ tests


def test_create_a_case_then_the_conflict_and_both_recoveries(
    page: Any, api: Any, tmp_path: Path
) -> None:
    with served(NOTEBOOKS_DIR / "01-create-a-case.ipynb", api, page, tmp_path) as app:
        page.goto(app.url)
        creator = page.locator(".kyc-case-creator").first
        creator.get_by_role("button", name="Create case").wait_for(timeout=FIRST_RENDER_MS)
        expect_no_widget_errors(page)
        cases_before = api.case_count()  # the notebook opened its own example case

        # Draft -> created, with an external id typed into the disclosure.
        fill_case_form(creator, external_id=EXTERNAL_ID)
        shoot(creator, "form.png", tmp_path, docs=False)
        creator.get_by_role("button", name="Create case").click()
        workspace = creator.locator(".kyc-case-workspace-widget")
        workspace.wait_for()
        creator.get_by_role("button", name="Create another case").wait_for()
        assert EXTERNAL_ID in workspace.inner_text()
        assert api.client().get_case(EXTERNAL_ID).case.legal_last_name == "Example"
        shoot(creator, "workspace.png", tmp_path, docs=False)

        # Same external id again -> conflict, with its two recovery actions.
        creator.get_by_role("button", name="Create another case").click()
        creator.get_by_role("button", name="Create case").wait_for()
        fill_case_form(creator, external_id=EXTERNAL_ID)
        creator.get_by_role("button", name="Create case").click()
        open_existing = creator.get_by_role("button", name="Open the existing case")
        new_id = creator.get_by_role("button", name="Use a new external ID")
        open_existing.wait_for()
        expect(new_id).to_be_visible()
        expect(creator).to_contain_text("Conflict")
        expect(creator).to_contain_text(EXTERNAL_ID)
        shoot(creator, "conflict.png", tmp_path, docs=False)

        # Recovery 1: a new external id -> the id is cleared, every other value kept;
        # left empty, the API generates one, which the page then shows.
        new_id.click()
        expect(creator.get_by_label("External case ID", exact=False).last).to_have_value("")
        expect(creator.get_by_label("Legal first name", exact=False).first).to_have_value("Ada")
        expect(open_existing).to_be_hidden()
        creator.get_by_role("button", name="Create case").click()
        creator.get_by_role("button", name="Create another case").wait_for()
        text = creator.locator(".kyc-case-workspace-widget").inner_text()
        generated = re.search(r"KYC case ID\s*:?\s*(\S+)", text)
        assert generated, text
        new_case_id = generated.group(1)
        assert new_case_id != EXTERNAL_ID
        assert api.client().get_case(new_case_id).case.legal_first_name == "Ada"

        # Recovery 2: the conflict again, then open the case that holds the id.
        creator.get_by_role("button", name="Create another case").click()
        creator.get_by_role("button", name="Create case").wait_for()
        fill_case_form(creator, external_id=EXTERNAL_ID)
        creator.get_by_role("button", name="Create case").click()
        creator.get_by_role("button", name="Open the existing case").click()
        creator.locator(".kyc-case-workspace-widget").wait_for()
        creator.get_by_role("button", name="Create another case").wait_for()
        assert EXTERNAL_ID in creator.locator(".kyc-case-workspace-widget").inner_text()

        assert api.case_count() == cases_before + 2  # the conflicts created nothing
        expect_no_widget_errors(page)
        expect_only_voila_cdn_blocked(page)


def test_campaign_app_creates_the_sheet_and_shows_the_report(
    page: Any, api: Any, tmp_path: Path
) -> None:
    with served(NOTEBOOKS_DIR / "03-campaign-app.ipynb", api, page, tmp_path) as app:
        page.goto(app.url)
        create = page.get_by_role("button", name=re.compile(r"Create \d+ cases?"))
        create.wait_for(timeout=FIRST_RENDER_MS)
        expect_no_widget_errors(page)
        # The panel: the notebook output holding the preview.
        panel = page.locator(".kyc-batch-creator").first
        expect(panel).to_contain_text("40 rows")
        expect(panel).to_contain_text("4 invalid")
        expect(create).to_contain_text("Create 34 cases")  # rows 22, 23: one ID, two customers
        assert api.case_count() == 0  # the preview sends nothing

        create.click()
        expect(panel).to_contain_text("Finished.", timeout=FIRST_RENDER_MS)
        expect(panel).to_contain_text("Created: 34")
        expect(panel).to_contain_text("Invalid: fix the row: 4")
        expect(panel.get_by_role("button", name="Download the report (CSV)")).to_be_visible()
        assert api.case_count() == 34  # 40 rows: 4 invalid, 2 with one ID for two customers

        # The per-status filter: the rows to fix, as the analyst would look for them.
        panel.get_by_label("Show").select_option(label="Invalid: fix the row (4)")
        expect(panel.locator("table").last.locator("tbody tr")).to_have_count(4)
        shoot(panel, "batch-report.png", tmp_path, max_height=1250, docs=False)
        expect_no_widget_errors(page)
        expect_only_voila_cdn_blocked(page)


# ------------------------------------------------------------------------------ the analyst app

SAMPLE_CAMPAIGN = "remediation-2024-q4"
DESK = ".kyc-desk"




def open_desk(page: Any, app: ServedApp) -> Any:
    """Load the app and wait for the desk: its header, sections and the case form."""
    page.goto(app.url)
    desk = page.locator(".kyc-desk").first
    desk.get_by_role("button", name="Create case").wait_for(timeout=FIRST_RENDER_MS)
    expect(desk.get_by_role("button", name=re.compile("API status: OK"))).to_be_visible()
    expect_no_widget_errors(page)
    return desk


def section(desk: Any, name: str) -> None:
    desk.get_by_role("tab", name=name).click()


def test_app_new_case(page: Any, api: Any, tmp_path: Path) -> None:
    with served(DEFAULT_NOTEBOOK, api, page, tmp_path) as app:
        desk = open_desk(page, app)
        assert api.case_count() == 0  # nothing created on page load
        expect(desk).to_contain_text("KYC case desk")
        expect(desk).to_contain_text(f"API: Sandbox ({api.base_url})")
        expect(desk).to_contain_text("Signed in as: yes (the API names the account")
        assert api.token not in desk.inner_text()
        expect(desk.get_by_role("button", name="Create case")).to_have_count(1)  # one form

        desk.get_by_role("button", name=re.compile("API status")).click()
        expect(desk).to_contain_text("Reachable:")
        assert axe_problems(page, DESK) == []  # header, draft

        creator = desk.locator(".kyc-case-creator")
        fill_case_form(creator, external_id=EXTERNAL_ID)
        desk.get_by_role("button", name=re.compile("API status")).click()  # details closed
        shoot(desk, "form.png", tmp_path)
        creator.get_by_role("button", name="Create case").click()
        desk.locator(".kyc-case-workspace-widget").wait_for()
        expect(desk).to_contain_text(f"Signed in as: {api.principal}")
        assert api.client().get_case(EXTERNAL_ID).case.legal_last_name == "Example"
        assert axe_problems(page, DESK) == []  # created
        shoot(desk, "workspace.png", tmp_path)

        # Another case: an empty form is refused, then the same external id conflicts.
        creator.get_by_role("button", name="Create another case").click()
        creator.get_by_role("button", name="Create case").click()
        expect(creator).to_contain_text("Nothing was sent")
        assert axe_problems(page, DESK) == []  # refused
        fill_case_form(creator, external_id=EXTERNAL_ID)
        creator.get_by_role("button", name="Create case").click()
        creator.get_by_role("button", name="Open the existing case").wait_for()
        expect(creator.get_by_role("button", name="Use a new external ID")).to_be_visible()
        assert api.case_count() == 1
        assert axe_problems(page, DESK) == []  # conflict
        shoot(desk, "conflict.png", tmp_path)
        expect_no_widget_errors(page)
        expect_only_voila_cdn_blocked(page)


def test_app_open_a_case_by_id(page: Any, api: Any, tmp_path: Path) -> None:
    api.client().create_case({**ADA_EXAMPLE, "kyc_case_id": EXTERNAL_ID})
    with served(DEFAULT_NOTEBOOK, api, page, tmp_path) as app:
        desk = open_desk(page, app)
        section(desk, "Open a case")
        box = desk.locator(".kyc-desk-open").get_by_label("External case ID", exact=True)
        box.fill(EXTERNAL_ID)
        box.press("Enter")
        workspace = desk.locator(".kyc-case-workspace-widget")
        expect(workspace).to_contain_text(EXTERNAL_ID)
        expect(workspace).to_contain_text("Example")
        expect(desk).to_contain_text(f"Signed in as: {api.principal}")
        assert axe_problems(page, DESK) == []  # a case
        shoot(desk, "open-case.png", tmp_path)

        box.fill("NO-SUCH-CASE-0000")
        desk.locator(".kyc-desk-open").get_by_role("button", name="Open").click()
        expect(workspace).to_contain_text("No case with this ID was found")
        assert axe_problems(page, DESK) == []  # the missing case
        expect_no_widget_errors(page)


def test_app_runs_the_sample_campaign(page: Any, api: Any, tmp_path: Path) -> None:
    with served(DEFAULT_NOTEBOOK, api, page, tmp_path) as app:
        desk = open_desk(page, app)
        # By keyboard alone: to the section tabs, Right twice, Enter; Tab to the sample.
        desk.get_by_role("tab", name="New case").focus()
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowRight")
        page.keyboard.press("Enter")
        expect(desk.get_by_role("tab", name="Campaign")).to_have_attribute(
            "aria-selected", "true"
        )
        page.keyboard.press("Tab")  # the upload button
        page.keyboard.press("Tab")
        expect(desk.get_by_role("button", name="Use the sample sheet")).to_be_focused()
        page.keyboard.press("Enter")
        panel = desk.locator(".kyc-batch-creator")
        expect(panel).to_contain_text("40 rows")
        panel.get_by_label("Campaign", exact=True).fill(SAMPLE_CAMPAIGN)
        panel.get_by_label("Campaign", exact=True).press("Enter")
        create = panel.get_by_role("button", name="Create 34 cases")
        expect(create).to_be_enabled()
        assert api.case_count() == 0
        assert axe_problems(page, DESK) == []  # the preview

        create.click()
        expect(panel).to_contain_text("Finished.", timeout=FIRST_RENDER_MS)
        expect(panel).to_contain_text("Created: 34")
        assert api.case_count() == 34
        assert axe_problems(page, DESK) == []  # the report
        panel.get_by_label("Show").select_option(label="Invalid: fix the row (4)")
        expect(panel.locator("table").last.locator("tbody tr")).to_have_count(4)
        assert axe_problems(page, DESK) == []  # the filtered report
        shoot(panel, "batch-report.png", tmp_path, max_height=1900)
        expect_no_widget_errors(page)


def test_app_case_form_meets_axe(page: Any, api: Any, tmp_path: Path) -> None:
    with served(DEFAULT_NOTEBOOK, api, page, tmp_path) as app:
        open_desk(page, app)
        assert axe_problems(page, ".kyc-case-creator") == []


def kernel_processes(app: ServedApp) -> int:
    """How many kernel processes the server runs right now."""
    import psutil

    children = psutil.Process(app.process.pid).children(recursive=True)
    return sum(1 for child in children if "ipykernel" in " ".join(child.cmdline()))


def test_app_kernels_of_closed_tabs_are_culled(browser: Any, api: Any, tmp_path: Path) -> None:
    """Open and close the app three times: the kernels left behind are shut down.

    Voila's own shutdown call on page unload is refused (no XSRF token), so every
    closed tab leaves its kernel running until the culler (short settings here) stops
    it. Kernels are counted through the server's own API (``/api/kernels/<id>`` with the
    access token) and as processes.
    """
    env = kernel_environment(api.base_url, api.token, is_sandbox=True)
    app = start_voila(
        DEFAULT_NOTEBOOK,
        env=env,
        log_path=tmp_path / "voila-cull.log",
        cull_idle_timeout=15,  # longer than a page load, so closed tabs' kernels pile up first
        cull_interval=1,
    )

    def alive(kernel_ids: list[str]) -> list[str]:
        return [
            kernel_id
            for kernel_id in kernel_ids
            if httpx.get(
                f"http://{app.host}:{app.port}/api/kernels/{kernel_id}",
                params={"token": app.token},
                timeout=10,
            ).status_code
            == 200
        ]

    try:
        kernel_ids: list[str] = []
        counts = []
        for _ in range(3):
            context = browser.new_context()
            page = context.new_page()
            page.route(
                "**/*",
                lambda route: route.continue_()
                if route.request.url.startswith(f"http://{app.host}:")
                else route.abort(),
            )
            page.goto(app.url)
            page.get_by_role("button", name="Create case").wait_for(timeout=FIRST_RENDER_MS)
            kernel_ids.append(
                page.evaluate(
                    "JSON.parse(document.getElementById('jupyter-config-data').textContent)"
                    ".kernelId"
                )
            )
            context.close()
            counts.append(kernel_processes(app))
        assert alive(kernel_ids), "the last closed tab's kernel should still run until culled"
        print(f"kernel processes after each open/close: {counts}")

        remaining = alive(kernel_ids)
        for _ in range(120):  # a bounded wait: the culler runs every second here
            if not remaining and kernel_processes(app) <= 1:
                break
            time.sleep(1)
            remaining = alive(kernel_ids)
        print(f"kernel processes after culling: {kernel_processes(app)}")
        assert remaining == [], voila_log(app)
        assert kernel_processes(app) <= 1
    finally:
        app.stop()
