"""What the browser tests share: Chromium, an offline page, Voila serving a notebook, the case form.

Import from tests with ``from browser_helpers import ...`` (pytest puts ``tests/`` on
``sys.path``, as for ``factories``); the fixtures ``browser``, ``page`` and ``api`` are
imported by name into each browser test module, which is how pytest finds them there.

Chromium is Debian's (``.ci/run`` installs it): Playwright cannot download its own
browsers here. Without it the tests are skipped on a developer machine, and fail in CI
(``CI=true``), where a skip would hide that the browser layer was never tested.

Every request that is not for the loopback servers is aborted, so a slow DNS or a
missing network cannot stall a test, and a test can then check that the only ones
aborted were Voila's own optional CDN stylesheets (``expect_only_voila_cdn_blocked``).
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import axe_playwright_python
import nbformat
import pytest
from playwright.sync_api import ConsoleMessage, Route, expect, sync_playwright

from kyc_widgets.cli.app import ServedApp, kernel_environment, start_voila
from kyc_widgets.sandbox import Sandbox

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
FIRST_RENDER_MS = 90_000  # Voila starts a kernel and runs the notebook before the widgets show
ACTION_MS = 30_000

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
def api(sandbox: Sandbox) -> Sandbox:
    """The app's KYC API: the ``sandbox`` fixture (tests/conftest.py), named for what it is here."""
    return sandbox


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


# ------------------------------------------------------------------------------ checks

AXE_SCRIPT = Path(axe_playwright_python.__file__).with_name("axe.min.js")


def axe_problems(page: Any, scope: str, *, exclude: list[str] | None = None) -> list[str]:
    """axe-core's serious and critical violations inside ``scope`` (our widgets only).

    axe-core comes from the axe-playwright-python package (its bundled ``axe.min.js``),
    injected from disk: nothing is fetched. ``exclude`` leaves known problems out.
    """
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_SCRIPT))
    context = {"include": [[scope]], "exclude": [[sel] for sel in (exclude or [])]}
    results = page.evaluate("context => axe.run(context, {resultTypes: ['violations']})", context)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} -> "
        + "; ".join(" ".join(node["target"]) for node in v["nodes"][:5])
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]


# ------------------------------------------------------------------------------ a lone case form

CREATOR_SOURCE = """\
from kyc_widgets import CaseCreator, KycApiClient

CaseCreator(KycApiClient.from_env())  # URL and token from the kernel's environment
"""


def write_creator_notebook(path: Path) -> Path:
    """A one-cell notebook (no outputs) showing only a ``CaseCreator``."""
    return write_one_cell_notebook(path, CREATOR_SOURCE)


def write_one_cell_notebook(path: Path, source: str) -> Path:
    """A notebook (no outputs) of one code cell, ``source``: only what a test judges."""
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source)]
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    nbformat.write(notebook, str(path))
    return path


def wait_for_created_case(creator: Any, page: Any, external_id: str) -> None:
    """After "Create case": the new case's workspace shows ``external_id`` and has focus.

    Focus on the workspace heading is what the accessibility bridge promises a keyboard
    or screen-reader user.
    """
    workspace = creator.locator(".kyc-case-workspace-widget")
    workspace.wait_for()
    expect(workspace).to_contain_text(external_id)
    page.wait_for_function(
        "() => document.activeElement && "
        "document.activeElement.closest('.kyc-case-workspace-widget h3') !== null"
    )
