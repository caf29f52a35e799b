"""The widgets in JupyterLab 4 and Notebook 7, driven through their own UI by headless Chromium.

Voila is not the only place analysts meet the widgets: notebooks are opened in
JupyterLab and Notebook 7, whose widget managers differ from Voila's. Each test
starts the real server on loopback (its own access token, a temporary root folder
holding a one-cell notebook that builds a ``CaseCreator`` from ``KYC_API_BASE_URL`` /
``KYC_API_TOKEN`` in the kernel's environment, as ``make demo`` passes them), runs the
notebook with the UI's "Run All Cells" menu item, checks that the widgets render (no
"Error displaying widget") and creates a case through the form, counted on the sandbox;
the accessibility helper works there too (``aria-expanded`` set, focus moved to the new
case's heading).
The notebook is a throw-away copy: autosave never touches a tracked file.
"""

# ruff: noqa: F811  (the browser fixtures are imported from browser_helpers and used as arguments)
from __future__ import annotations

import contextlib
import os
import re
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser_helpers import (  # noqa: F401 - fixtures
    FIRST_RENDER_MS,
    api,
    browser,
    fill_case_form,
    page,
    wait_for_created_case,
    write_creator_notebook,
)
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

from kyc_widgets.cli.app import (
    ServedApp,
    free_port,
    kernel_environment,
    stop_process,
    token_environment,
    wait_for_port,
)

pytestmark = pytest.mark.browser

EXTERNAL_ID = "FE-2024-0001"


def jupyter_command(frontend: str, root: Path, port: int) -> list[str]:
    """``jupyter lab`` or ``jupyter notebook`` on loopback, offline, without a browser.

    The access token is not on the command line (another local user could read it there):
    the environment names a 0600 file holding it (``token_environment``), as the app does.
    """
    command = [
        sys.executable, "-m", "jupyter", frontend, "--no-browser",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root}",
        "--LabApp.extension_manager=readonly",  # no PyPI query at start-up (Notebook 7 too)
        "--LabServerApp.open_browser=False",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    return command


@contextlib.contextmanager
def jupyter(frontend: str, api: Any, tmp_path: Path) -> Iterator[ServedApp]:
    """Serve a temporary root folder with ``frontend``; stopped (kernels too) on exit."""
    root = tmp_path / "root"
    root.mkdir()
    write_creator_notebook(root / "creator.ipynb")
    env = kernel_environment(api.base_url, api.token, is_sandbox=True)
    env["JUPYTER_CONFIG_DIR"] = str(tmp_path / "config")  # no user settings leak in
    env["JUPYTER_RUNTIME_DIR"] = str(tmp_path / "runtime")
    port = free_port()
    token = secrets.token_urlsafe(24)
    secret = tmp_path / "secret"
    secret.mkdir(mode=0o700)
    env = token_environment(env, secret, token)
    log_path = tmp_path / f"{frontend}.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            jupyter_command(frontend, root, port),
            env=env, cwd=str(root), stdin=subprocess.DEVNULL, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )
        path = "/lab/tree/creator.ipynb" if frontend == "lab" else "/notebooks/creator.ipynb"
        app = ServedApp(process=process, port=port, token=token, path=path, log_path=log_path)
        try:
            wait_for_port(port, timeout=90, process=process)
            yield app
        except Exception:
            print(f"{frontend} log:\n" + log_path.read_text(errors="replace")[-4000:])
            raise
        finally:
            stop_process(process)


KERNEL_START_S = 240.0  # a kernel's first start on a busy 2-core machine: not a speed test
CLICK_TAKEN_S = 30.0  # a Run All that starts a kernel asks the server for one within this


def kernels(app: ServedApp) -> list[dict[str, Any]]:
    """The server's kernels (``/api/kernels``, the REST API both frontends share)."""
    answer = httpx.get(
        f"http://{app.host}:{app.port}/api/kernels",
        headers={"Authorization": f"token {app.token}"},
        timeout=5,
    )
    return list(answer.json())


def within(seconds: float, condition: Any) -> bool:
    """Poll ``condition()`` until it holds (True) or ``seconds`` pass (False)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.5)
    return False


def run_all_cells(page: Any, app: ServedApp) -> None:
    """The "Run" menu, then "Run All Cells": what a person clicks.

    Both frontends start the kernel on that first run, after a "Select Kernel"
    dialog (answered "Select": the notebook's kernel). A click made while the page
    is still setting up can be dropped (no kernel is asked for), and so can a run
    asked for while the kernel starts (the cell keeps its empty ``[ ]:`` prompt): a
    person would then click again, and so does this, at most three times. A page
    that started kernels but never connected to one (seen once in CI: two kernels
    started 70 ms apart, no connection in 240 s) is reloaded once, as a person would.
    """
    page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=FIRST_RENDER_MS)
    prompt = page.locator(".jp-Cell .jp-InputPrompt").first
    reloaded = False
    for _attempt in range(4):
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
        # Without a running kernel, both ask which one to start: the notebook's own.
        with contextlib.suppress(PlaywrightTimeoutError):
            page.locator(".jp-Dialog").get_by_role("button", name="Select").click(timeout=10_000)
        if not within(CLICK_TAKEN_S, lambda: kernels(app)):
            continue
        up = within(
            KERNEL_START_S,
            lambda: any(
                k["execution_state"] == "idle" and k["connections"] > 0 for k in kernels(app)
            ),
        )
        if not up and not reloaded:
            reloaded = True
            page.reload()
            page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=FIRST_RENDER_MS)
            continue
        assert up, "the kernel never came up"
        try:
            expect(prompt).not_to_have_text(re.compile(r"^\[\s*\]:?$"), timeout=10_000)
            return
        except AssertionError:
            continue
    raise AssertionError("the notebook never ran")


@pytest.mark.timeout(900)  # two servers' and kernels' first starts on a shared machine
@pytest.mark.parametrize("frontend", ["lab", "notebook"])
def test_the_case_creator_runs_in_jupyter(
    frontend: str, page: Any, api: Any, tmp_path: Path
) -> None:
    with jupyter(frontend, api, tmp_path) as app:
        try:
            page.goto(app.url)
            run_all_cells(page, app)
            creator = page.locator(".kyc-case-creator").first
            creator.get_by_role("button", name="Create case").wait_for(timeout=FIRST_RENDER_MS)
            assert "Error displaying widget" not in page.locator("body").inner_text()

            fill_case_form(creator, external_id=EXTERNAL_ID)
            # the a11y bridge (an anywidget) runs in this frontend too: ARIA set, focus moved
            header = creator.get_by_role("button", name="External case ID (optional)")
            expect(header).to_have_attribute("aria-expanded", "true")
            creator.get_by_role("button", name="Create case").click()
            wait_for_created_case(creator, page, EXTERNAL_ID)
            assert api.case_count() == 1
            assert api.client().get_case(EXTERNAL_ID).case.legal_last_name == "Example"
            assert "Error displaying widget" not in page.locator("body").inner_text()
            widget_errors = [e for e in page.console_errors if "widget" in e.lower()]
            assert not widget_errors, widget_errors
        except Exception:
            page.screenshot(path=str(tmp_path / "failure.png"), full_page=True)
            print("console errors:", page.console_errors[-20:])
            raise
