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

Chromium is Debian's (``.ci/run`` installs it): Playwright cannot download its own
browsers here. Without it the tests are skipped on a developer machine, and fail in CI
(``CI=true``), where a skip would hide that the browser layer was never tested.

Every request that is not for the loopback servers is aborted, so a slow DNS or a
missing network cannot stall the test, and each test then checks that the only ones
aborted were Voila's own optional CDN stylesheets (an icon font it also bundles): a
widget frontend fetched from a CDN would fail the test, as would a widget error in the
browser console.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import axe_playwright_python
import httpx
import pytest
from playwright.sync_api import ConsoleMessage, Route, expect, sync_playwright

from kyc_widgets.cli.app import (
    DEFAULT_NOTEBOOK,
    NOTEBOOKS_DIR,
    ServedApp,
    kernel_environment,
    start_voila,
)

pytestmark = pytest.mark.browser

CHROMIUM = Path(os.environ.get("KYC_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
DOCS = Path(__file__).resolve().parent.parent / "docs"
UPDATE_SCREENSHOTS = os.environ.get("KYC_UPDATE_SCREENSHOTS") == "1"

FIRST_RENDER_MS = 90_000  # Voila starts a kernel and runs the notebook before the widgets show
ACTION_MS = 30_000

EXTERNAL_ID = "BRW-2024-0001"
PERSON = {  # synthetic
    "Legal first name": "Ada",
    "Legal last name": "Example",
    "User internal ID": "000417",
    "Agency name": "Northwind Compliance Services",
    "Regulated provider name": "Example Bank plc",
    "Programme name": "Everyday Current Account",
    "Country of onboarding": "GB",
    "Assigned team": "Periodic Review",
}
CHOICES = {  # dropdown label -> visible option
    "User type": "Individual",
    "Relationship type": "KYC refresh",
    "Case priority": "High",
}

IN_CI = os.environ.get("CI", "").lower() in ("true", "1")

# What Voila's own page templates link from a CDN and can do without: the Font Awesome
# stylesheets (voila/templates/{lab,reveal,classic}/index.html.j2; the icons are bundled
# too) and MathJax, fetched only for a page with math. A blocked request for anything
# else (a widget module from unpkg/jsdelivr, a font, a script) fails the test: the app
# must work offline.
VOILA_OPTIONAL_CDN = re.compile(
    r"^https://cdn\.jsdelivr\.net/npm/"
    r"(@fortawesome/fontawesome-free@[^/]+/css/(all|v4-shims)\.min\.css"
    r"|font-awesome@[\d.]+/css/font-awesome\.min\.css)$"
    r"|^https://cdnjs\.cloudflare\.com/ajax/libs/mathjax/[\d.]+/es5/latest\.min\.js$"
)
# Console errors that name a widget problem: ipywidgets' manager or Voila's renderer could
# not load a widget module, create a model, render a view or open its comm ("Could not
# create a model.", "Class ... not found in module @jupyter-widgets/...", "Error
# displaying widget"...). The blocked CDN stylesheets above log "Failed to load
# resource" errors of their own: those are not widget errors.
WIDGET_ERROR = re.compile(r"widget|\bmodel\b|\bview\b|\bcomm\b", re.IGNORECASE)


# ------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        reason = (
            f"no Chromium at {CHROMIUM}: install Debian's chromium (apt-get install chromium) "
            "or point KYC_CHROMIUM at one"
        )
        if IN_CI:  # CI installs it (.ci/run): a skip there would hide a broken setup
            pytest.fail(f"CI=true but {reason}", pytrace=False)
        pytest.skip(reason)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def api() -> Iterator[Any]:
    """A fresh sandbox KYC API for the app under test (its own throw-away database)."""
    from kyc_widgets.sandbox import Sandbox

    with Sandbox() as sandbox:
        yield sandbox


@pytest.fixture
def page(browser: Any, tmp_path: Path) -> Iterator[Any]:
    """A browser page that can reach the loopback servers only."""
    context = browser.new_context(viewport={"width": 1000, "height": 1800}, device_scale_factor=1)
    page = context.new_page()
    page.set_default_timeout(ACTION_MS)
    page.blocked_requests = []
    page.console_errors = []

    def only_loopback(route: Route) -> None:
        host = re.sub(r"^\w+://([^/:]+).*$", r"\1", route.request.url)
        if host in ("127.0.0.1", "localhost") or route.request.url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            page.blocked_requests.append(route.request.url)
            route.abort()

    def on_console(msg: ConsoleMessage) -> None:
        if msg.type == "error":
            page.console_errors.append(f"{msg.text} [{msg.location.get('url', '')}]")

    page.route("**/*", only_loopback)
    page.on("console", on_console)
    try:
        yield page
    finally:
        context.close()


def serve(notebook: Path, api: Any, tmp_path: Path) -> ServedApp:
    """Voila for ``notebook`` against ``api``, as ``make demo`` starts it."""
    env = kernel_environment(api.base_url, api.token, is_sandbox=True)
    return start_voila(notebook, env=env, log_path=tmp_path / f"voila-{notebook.stem}.log")


@contextlib.contextmanager
def served(notebook: Path, api: Any, page: Any, tmp_path: Path) -> Iterator[ServedApp]:
    """Serve a notebook with Voila for one test; on failure keep a screenshot and the logs."""
    app = serve(notebook, api, tmp_path)
    try:
        yield app
    except Exception:
        page.screenshot(path=str(tmp_path / "failure.png"), full_page=True)
        print("voila log:\n" + voila_log(app))
        print("blocked requests:", page.blocked_requests)
        print("console errors:", page.console_errors[-20:])
        raise
    finally:
        app.stop()


def voila_log(app: ServedApp) -> str:
    if app.log_path is None or not app.log_path.exists():
        return ""
    return app.log_path.read_text(errors="replace")[-4000:]


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


def fill_case_form(creator: Any, *, external_id: str | None) -> None:
    """Fill the case form as a person would: by the visible labels."""
    for label, value in PERSON.items():
        creator.get_by_label(label, exact=False).first.fill(value)
    for label, option in CHOICES.items():
        creator.get_by_label(label, exact=False).first.select_option(label=option)
    if external_id is not None:
        id_input = creator.get_by_label("External case ID", exact=False).last
        if not id_input.is_visible():
            creator.get_by_text("External case ID (optional)").first.click()
        id_input.fill(external_id)


def expect_no_widget_errors(page: Any) -> None:
    body = page.locator("body").inner_text()
    assert "Error displaying widget" not in body
    assert "Traceback" not in body, body[-2000:]
    widget_errors = [e for e in page.console_errors if WIDGET_ERROR.search(e)]
    assert not widget_errors, widget_errors


def expect_only_voila_cdn_blocked(page: Any) -> None:
    """Nothing but Voila's optional CDN assets tried to leave the machine."""
    unexpected = [url for url in page.blocked_requests if not VOILA_OPTIONAL_CDN.match(url)]
    assert not unexpected, f"requests outside loopback: {unexpected}"


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
        expect(create).to_contain_text("Create 35 cases")
        assert api.case_count() == 0  # the preview sends nothing

        create.click()
        expect(panel).to_contain_text("Finished.", timeout=FIRST_RENDER_MS)
        expect(panel).to_contain_text("Created: 35")
        expect(panel).to_contain_text("Invalid: fix the row: 4")
        expect(
            panel.get_by_role("link", name=re.compile("Download", re.IGNORECASE))
        ).to_be_visible()
        assert api.case_count() == 35  # 40 rows: 4 invalid, 1 duplicate in the sheet

        # The per-status filter: the rows to fix, as the analyst would look for them.
        panel.get_by_label("Show").select_option(label="Invalid: fix the row (4)")
        expect(panel.locator("table").last.locator("tbody tr")).to_have_count(4)
        shoot(panel, "batch-report.png", tmp_path, max_height=1250, docs=False)
        expect_no_widget_errors(page)
        expect_only_voila_cdn_blocked(page)


# ------------------------------------------------------------------------------ the analyst app

AXE_SCRIPT = Path(axe_playwright_python.__file__).with_name("axe.min.js")
SAMPLE_CAMPAIGN = "remediation-2024-q4"




def axe_problems(
    page: Any, scope: str = ".kyc-desk", *, exclude: list[str] | None = None
) -> list[str]:
    """axe-core's serious and critical violations inside ``scope`` (our widgets only).

    axe-core comes from the axe-playwright-python package (its bundled ``axe.min.js``),
    injected from disk: nothing is fetched. ``exclude`` leaves known problems out.
    """
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_SCRIPT))
    context = {"include": [[scope]], "exclude": [[sel] for sel in (exclude or [])]}
    results = page.evaluate(
        "context => axe.run(context, {resultTypes: ['violations']})", context
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} -> "
        + "; ".join(" ".join(node["target"]) for node in v["nodes"][:5])
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]


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
        expect(desk).to_contain_text("Signed in as: not known yet")
        assert api.token not in desk.inner_text()
        expect(desk.get_by_role("button", name="Create case")).to_have_count(1)  # one form

        desk.get_by_role("button", name=re.compile("API status")).click()
        expect(desk).to_contain_text("Reachable:")
        assert axe_problems(page) == []  # header, draft

        creator = desk.locator(".kyc-case-creator")
        fill_case_form(creator, external_id=EXTERNAL_ID)
        desk.get_by_role("button", name=re.compile("API status")).click()  # details closed
        shoot(desk, "form.png", tmp_path)
        creator.get_by_role("button", name="Create case").click()
        desk.locator(".kyc-case-workspace-widget").wait_for()
        expect(desk).to_contain_text(f"Signed in as: {api.principal}")
        assert api.client().get_case(EXTERNAL_ID).case.legal_last_name == "Example"
        assert axe_problems(page) == []  # created
        shoot(desk, "workspace.png", tmp_path)

        # Another case: an empty form is refused, then the same external id conflicts.
        creator.get_by_role("button", name="Create another case").click()
        creator.get_by_role("button", name="Create case").click()
        expect(creator).to_contain_text("Nothing was sent")
        assert axe_problems(page) == []  # refused
        fill_case_form(creator, external_id=EXTERNAL_ID)
        creator.get_by_role("button", name="Create case").click()
        creator.get_by_role("button", name="Open the existing case").wait_for()
        expect(creator.get_by_role("button", name="Use a new external ID")).to_be_visible()
        assert api.case_count() == 1
        assert axe_problems(page) == []  # conflict
        shoot(desk, "conflict.png", tmp_path)
        expect_no_widget_errors(page)
        expect_only_voila_cdn_blocked(page)


def test_app_open_a_case_by_id(page: Any, api: Any, tmp_path: Path) -> None:
    api.client().create_case(
        {
            "legal_first_name": "Ada",
            "legal_last_name": "Example",
            "user_internal_id": "000417",
            "user_type": "INDIVIDUAL",
            "relationship_type": "KYC_REFRESH",
            "current_status": "DRAFT",
            "case_priority": "NORMAL",
            "agency_name": "Northwind Compliance Services",
            "regulated_provider_name": "Example Bank plc",
            "programme_name": "Everyday Current Account",
            "country_of_onboarding": "GB",
            "assigned_team": "Periodic Review",
            "kyc_case_id": EXTERNAL_ID,
        }
    )
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
        assert axe_problems(page) == []  # a case
        shoot(desk, "open-case.png", tmp_path)

        box.fill("NO-SUCH-CASE-0000")
        desk.locator(".kyc-desk-open").get_by_role("button", name="Open").click()
        expect(workspace).to_contain_text("No case with this ID was found")
        assert axe_problems(page) == []  # the missing case
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
        create = panel.get_by_role("button", name="Create 35 cases")
        expect(create).to_be_enabled()
        assert api.case_count() == 0
        assert axe_problems(page) == []  # the preview

        create.click()
        expect(panel).to_contain_text("Finished.", timeout=FIRST_RENDER_MS)
        expect(panel).to_contain_text("Created: 35")
        assert api.case_count() == 35
        assert axe_problems(page) == []  # the report
        panel.get_by_label("Show").select_option(label="Invalid: fix the row (4)")
        expect(panel.locator("table").last.locator("tbody tr")).to_have_count(4)
        assert axe_problems(page) == []  # the filtered report
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
