"""The ``make demo`` launcher (``python -m kyc_widgets.cli.app``), started as a user starts it.

``--exit-after-start`` brings up the sandbox and Voila, prints the URLs and stops: the
launch path is exercised for real (processes, ports, environment), without a browser.
What the page then shows is the browser test's job.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

import httpx
import pytest

from kyc_widgets.cli.app import (
    DEFAULT_NOTEBOOK,
    NOTEBOOKS_DIR,
    free_port,
    kernel_environment,
    lab_command,
    port_is_free,
    token_environment,
    voila_command,
)

ROOT = Path(__file__).resolve().parent.parent


def _run_app(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kyc_widgets.cli.app", "--port", "0", "--exit-after-start", *args],
        env=env,
        cwd=ROOT,
        check=False,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=180,
    )


def _clean_env() -> dict[str, str]:
    env = dict(os.environ)
    for name in ("KYC_API_BASE_URL", "KYC_API_TOKEN", "KYC_API_IS_SANDBOX"):
        env.pop(name, None)
    return env


def test_demo_starts_sandbox_voila_and_lab_on_loopback_and_prints_the_urls() -> None:
    done = _run_app("--lab", "--lab-port", "0", env=_clean_env())
    assert done.returncode == 0, done.stdout + done.stderr
    app = re.search(r"Open the app:\s+http://127\.0\.0\.1:(\d+)/\?token=[\w-]+", done.stdout)
    lab = re.search(r"JupyterLab:\s+http://127\.0\.0\.1:(\d+)/lab\?token=[\w-]+", done.stdout)
    api = re.search(r"API URL: http://127\.0\.0\.1:(\d+)", done.stdout)
    assert app and lab and api, done.stdout
    assert "sandbox KYC API" in done.stdout
    # Everything was stopped on the way out: the ports are free again.
    for port in (app.group(1), lab.group(1), api.group(1)):
        assert port_is_free(int(port))
    # JupyterLab worked on a copy of the notebooks, outside the repository, now removed.
    copy = re.search(r"works on a copy of notebooks/ in (\S+),", done.stdout)
    assert copy, done.stdout
    assert not Path(copy.group(1)).exists() and ROOT not in Path(copy.group(1)).parents


def test_demo_with_a_configured_api_starts_no_sandbox_and_never_prints_the_token() -> None:
    env = _clean_env()
    env["KYC_API_BASE_URL"] = "http://127.0.0.1:9"
    env["KYC_API_TOKEN"] = "secret-token-not-for-output-123"
    done = _run_app(env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "secret-token-not-for-output-123" not in done.stdout + done.stderr
    assert "KYC_API_BASE_URL" in done.stdout and "KYC_API_TOKEN is set" in done.stdout
    assert "sandbox" not in done.stdout.split("Open the app")[0].lower()


def test_missing_notebook_is_a_usage_error() -> None:
    done = _run_app("--notebook", "no-such.ipynb", env=_clean_env())
    assert done.returncode == 2
    assert "notebook not found" in done.stderr


def test_token_travels_in_the_environment_not_on_the_command_line() -> None:
    env = kernel_environment("http://127.0.0.1:1", "tok-123", is_sandbox=True, base={})
    assert env["KYC_API_TOKEN"] == "tok-123"
    assert env["KYC_API_IS_SANDBOX"] == "1"
    command = voila_command(DEFAULT_NOTEBOOK, port=free_port())
    assert not any("tok-123" in part for part in command)
    assert "--Voila.ip=127.0.0.1" in command
    # The servers' own access tokens are not on their command lines either: a file does it.
    lab = lab_command(ROOT / "notebooks", port=free_port())
    for part in (*command, *lab):
        assert not re.search(r"token=(?!True$)", part, re.IGNORECASE), part
    assert "--Voila.auto_token=True" in command
    without = kernel_environment("https://kyc.example.com", None, base={"KYC_API_TOKEN": "old"})
    assert "KYC_API_TOKEN" not in without and "KYC_API_IS_SANDBOX" not in without


def test_voila_serves_the_notebook_page(tmp_path: Path) -> None:
    """The page itself (no browser): Voila ran a tutorial notebook against this sandbox.

    Voila's own shell (or its error page) says "voila" whatever happens: the checks are
    on what only the executed notebook puts there.
    """
    from kyc_widgets.cli.app import start_voila
    from kyc_widgets.sandbox import Sandbox

    with Sandbox() as sandbox:
        app = start_voila(
            NOTEBOOKS_DIR / "01-create-a-case.ipynb",
            env=kernel_environment(sandbox.base_url, sandbox.token, is_sandbox=True),
            log_path=tmp_path / "voila.log",
        )
        try:
            refused = httpx.get(f"http://127.0.0.1:{app.port}/", timeout=60)
            assert refused.status_code in (302, 401, 403), "Voila must require its access token"
            if refused.status_code == 302:
                assert "login" in refused.headers["location"]
            page = httpx.get(app.url, timeout=120)
            assert page.status_code == 200
            # The first code cell's print, from a kernel that got this sandbox's URL
            # through the environment (the notebook would otherwise start its own).
            assert f"KYC API: {sandbox.base_url} (sandbox)" in page.text, page.text[-3000:]
            # Every cell ran: Voila replaces a failed cell's output by this message.
            assert "There was an error when executing cell" not in page.text
            # ApiStatus, the form, the example workspace, the missing case, the conflict.
            views = page.text.count("application/vnd.jupyter.widget-view+json")
            assert views >= 5, f"{views} widget views in the page"
        finally:
            app.stop()


def test_the_app_page_is_one_widget_with_no_code_and_creates_nothing(tmp_path: Path) -> None:
    """``make demo``'s page: the desk alone, served from a copy that is removed at stop."""
    from kyc_widgets.cli.app import start_voila
    from kyc_widgets.sandbox import Sandbox

    with Sandbox() as sandbox:
        app = start_voila(
            DEFAULT_NOTEBOOK,
            env=kernel_environment(sandbox.base_url, sandbox.token, is_sandbox=True),
            log_path=tmp_path / "voila.log",
        )
        workdir = app.workdir
        try:
            assert workdir is not None and ROOT not in workdir.parents
            page = httpx.get(app.url, timeout=120)
            assert page.status_code == 200
            assert "There was an error when executing cell" not in page.text
            assert "<title>KYC case desk</title>" in page.text
            # One output: the desk (a single widget view), no code, no prose.
            assert page.text.count("application/vnd.jupyter.widget-view+json") == 1
            assert "from kyc_widgets" not in page.text  # Voila strips the sources
            assert sandbox.case_count() == 0  # nothing created on page load
        finally:
            app.stop()
        assert not workdir.exists()
    log = (tmp_path / "voila.log").read_text()
    # Quiet: what is not actionable stays out of the terminal.
    for noise in ("not trusted", "without encryption", "Voilà is running", "websocket_ping"):
        assert noise not in log, log


def test_quiet_lines_drops_only_the_noise() -> None:
    import io

    from kyc_widgets.cli.app import quiet_lines

    source = io.BytesIO(
        b"[Voila] WARNING | Notebook app_page.ipynb is not trusted\n"
        b"[IPKernelApp] WARNING | Kernel is running over TCP without encryption. Use IPC\n"
        b"[Voila] WARNING | WebSocket ping timeout after 90000 ms.\n"
        b"[Voila] WARNING | 403 POST /voila/api/shutdown/0a1b (127.0.0.1): "
        b"'_xsrf' argument missing from POST\n"
        b"/x/traitlets.py:1904: DeprecationWarning: ServerApp.token config is deprecated\n"
        b"  return self._get_trait_default_generator(names[0])(self)\n"
        b"[Voila] ERROR | Exception in kernel: No module named 'kyc_widgets'\n"
        b"[Voila] WARNING | Permission to listen on port 8866 denied\n"
    )
    sink = io.BytesIO()
    assert quiet_lines(source, sink) == 6
    assert sink.getvalue().decode().splitlines() == [
        "[Voila] ERROR | Exception in kernel: No module named 'kyc_widgets'",
        "[Voila] WARNING | Permission to listen on port 8866 denied",
    ]
    source.seek(0)
    everything = io.BytesIO()
    assert quiet_lines(source, everything, verbose=True) == 0
    assert everything.getvalue() == source.getvalue()


def test_voila_culls_idle_kernels_and_stays_quiet() -> None:
    command = voila_command(DEFAULT_NOTEBOOK, port=free_port(), cull_idle_timeout=7, cull_interval=3)
    assert "--MappingKernelManager.cull_idle_timeout=7" in command
    assert "--MappingKernelManager.cull_interval=3" in command
    assert "--MappingKernelManager.cull_connected=False" in command
    assert "--Voila.log_level=WARN" in command


def test_the_access_token_file_is_private_and_replaces_an_inherited_token(tmp_path: Path) -> None:
    env = token_environment({"JUPYTER_TOKEN": "inherited", "PATH": "/bin"}, tmp_path, "tok-abc")
    path = Path(env["JUPYTER_TOKEN_FILE"])
    assert path.read_text() == "tok-abc"  # no newline: jupyter_server reads the file whole
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "JUPYTER_TOKEN" not in env and env["PATH"] == "/bin"


# --------------------------------------------------------------------------- another local user


OTHER_USER = "nobody"


def _as_other_user(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["runuser", "-u", OTHER_USER, "--", *command], capture_output=True,
                          text=True, timeout=60, check=False)


def _lines_until(stream: IO[str], marker: str, timeout: float) -> list[str]:
    """The launcher's output lines up to the one containing ``marker`` (read in a thread)."""
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        for line in stream:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            seen.append(lines.get(timeout=1))
        except queue.Empty:
            continue
        if marker in seen[-1]:
            return seen
    raise AssertionError("the app did not start:\n" + "".join(seen))


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0 or shutil.which("runuser") is None,
    reason="needs root to run commands as another local user (runuser -u nobody)",
)
def test_another_local_user_finds_no_token_in_the_process_table() -> None:
    """``make demo --lab`` running, its page open (a kernel holds the API token): ``nobody``
    reads every process's command line and finds none of the three tokens."""
    env = _clean_env()
    launcher = subprocess.Popen(
        [sys.executable, "-m", "kyc_widgets.cli.app", "--port", "0", "--lab", "--lab-port", "0"],
        env=env, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
    )
    try:
        assert launcher.stdout is not None
        out = "".join(_lines_until(launcher.stdout, "press Ctrl-C to stop", timeout=180))
        app = re.search(r"Open the app:\s+(http://127\.0\.0\.1:(\d+)/\?token=([\w-]+))", out)
        lab = re.search(r"JupyterLab:\s+http://127\.0\.0\.1:(\d+)/lab\?token=([\w-]+)", out)
        api = re.search(r"demo token (\S+)\)", out)
        assert app and lab and api, out
        tokens = {"Voila": app.group(3), "JupyterLab": lab.group(2), "the API": api.group(1)}
        assert httpx.get(app.group(1), timeout=120).status_code == 200  # a kernel now runs
        lab_url = f"http://127.0.0.1:{lab.group(1)}/api/status"
        assert httpx.get(lab_url, timeout=30).status_code == 403
        assert httpx.get(lab_url, headers={"Authorization": f"token {tokens['JupyterLab']}"},
                         timeout=30).status_code == 200

        table = _as_other_user("ps", "-eww", "-o", "pid=,args=")
        assert table.returncode == 0, table.stderr
        assert f"--port={app.group(2)}" in table.stdout  # nobody does see the servers...
        assert f"--ServerApp.port={lab.group(1)}" in table.stdout
        assert "ipykernel" in table.stdout  # ...and the page's kernel
        cmdlines = _as_other_user("sh", "-c", "cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' ' '")
        for name, token in tokens.items():
            assert token not in table.stdout, f"{name}'s token is in the process table"
            assert token not in cmdlines.stdout, f"{name}'s token is in a /proc/PID/cmdline"

        voila_pid = next(line.split()[0] for line in table.stdout.splitlines()
                         if f"--port={app.group(2)}" in line)
        environ = Path(f"/proc/{voila_pid}/environ").read_bytes().split(b"\0")
        token_file = next(item.split(b"=", 1)[1].decode() for item in environ
                          if item.startswith(b"JUPYTER_TOKEN_FILE="))
        assert _as_other_user("cat", f"/proc/{voila_pid}/environ").returncode != 0
        assert _as_other_user("cat", token_file).returncode != 0
        assert Path(token_file).read_text() == tokens["Voila"]
    finally:
        launcher.send_signal(signal.SIGTERM)
        try:
            launcher.wait(timeout=60)
        except subprocess.TimeoutExpired:
            launcher.kill()
            launcher.wait(timeout=10)
    assert launcher.returncode == 0
    assert not Path(token_file).exists()  # removed with the server's folder
