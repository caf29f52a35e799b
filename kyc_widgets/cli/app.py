"""The analyst's app: one command from a fresh checkout to a case form in the browser.

``python -m kyc_widgets.cli.app`` (what ``make demo`` runs) starts the sandbox KYC API in
this process, then serves ``notebooks/01-create-a-case.ipynb`` as a Voila app (and,
with ``--lab``, JupyterLab on the notebooks folder), bound to 127.0.0.1, and prints the
URL to open. With ``KYC_API_BASE_URL`` set it starts no sandbox and the app talks to
that API instead, with the token taken from ``KYC_API_TOKEN``.

Why this shape:

- The notebook finds the API through ``KYC_API_BASE_URL`` / ``KYC_API_TOKEN`` in its
  kernel's environment, which Voila and JupyterLab pass down from this process. The
  token therefore never goes into the notebook file, a widget value or a URL.
- Voila and JupyterLab each get a random access token of their own: they run code with
  the analyst's API token, so another local user must not be able to drive them.
- Both run as subprocesses of the same Python (``sys.executable -m voila``), so the
  widget frontends come from the installed ``jupyterlab_widgets`` / Voila bundles and
  the app works offline.

The helpers (``free_port``, ``voila_command``, ``start_voila``, ``wait_for_port``) are
also what the browser test uses, so the test exercises the very launch path of
``make demo``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULT_NOTEBOOK",
    "NOTEBOOKS_DIR",
    "ServedApp",
    "free_port",
    "kernel_environment",
    "lab_command",
    "main",
    "port_is_free",
    "start_lab",
    "start_voila",
    "stop_process",
    "voila_command",
    "wait_for_port",
]

LOOPBACK = "127.0.0.1"
DEFAULT_VOILA_PORT = 8866
DEFAULT_LAB_PORT = 8888

NOTEBOOKS_DIR = Path(__file__).resolve().parents[2] / "notebooks"
"""The repository's notebooks folder (the package is installed editable from the checkout)."""

DEFAULT_NOTEBOOK = NOTEBOOKS_DIR / "01-create-a-case.ipynb"


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int, host: str = LOOPBACK) -> bool:
    """True when ``port`` can be bound on ``host``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def wait_for_port(
    port: int,
    *,
    host: str = LOOPBACK,
    timeout: float = 60.0,
    process: subprocess.Popen[Any] | None = None,
) -> None:
    """Block until something accepts TCP connections on ``host:port``.

    A TCP probe rather than an HTTP GET: requesting Voila's page would start a kernel
    and run the notebook just to learn that the server is up. Fails early, with the
    exit code, when ``process`` dies first.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(
                f"server process exited with code {process.returncode} before listening"
            )
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1.0):
            return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listening on {host}:{port} after {timeout:.0f}s")


def voila_command(
    notebook: Path,
    *,
    port: int,
    token: str,
    host: str = LOOPBACK,
    show_tracebacks: bool = False,
) -> list[str]:
    """The Voila command line serving one notebook on ``host:port``.

    ``port_retries=0``: a busy port is an error, never a silent move to another port
    that the printed URL (or a test) would not know about. Notebook 7's JupyterLab
    extension (installed with ``notebook``) is not loaded: it needs JupyterLab's
    document registry, which Voila does not have, and would only log an error.
    """
    return [
        sys.executable,
        "-m",
        "voila",
        str(notebook),
        "--no-browser",
        f"--port={port}",
        f"--Voila.ip={host}",
        "--Voila.port_retries=0",
        f"--Voila.token={token}",
        f"--show_tracebacks={show_tracebacks}",
        "--VoilaConfiguration.extension_denylist=@jupyter-notebook/lab-extension",
    ]


def lab_command(root_dir: Path, *, port: int, token: str, host: str = LOOPBACK) -> list[str]:
    """The JupyterLab command line for the notebooks folder on ``host:port``.

    The extension manager is read-only so that Lab does not query PyPI at start-up
    (the app works offline); ``--allow-root`` only where we already run as root
    (containers, CI), where JupyterLab would otherwise refuse to start.
    """
    command = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        "--no-browser",
        f"--ServerApp.ip={host}",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root_dir}",
        f"--IdentityProvider.token={token}",
        "--LabApp.extension_manager=readonly",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    return command


def kernel_environment(
    base_url: str,
    api_token: str | None,
    *,
    is_sandbox: bool = False,
    base: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment the servers (and so the notebook kernels) run with.

    The API token travels only here, never on a command line (``ps`` shows those).
    ``KYC_API_IS_SANDBOX=1`` tells the notebooks that they may create example cases:
    they never do so on a real API.
    """
    env = dict(os.environ if base is None else base)
    env["KYC_API_BASE_URL"] = base_url
    if api_token:
        env["KYC_API_TOKEN"] = api_token
    else:
        env.pop("KYC_API_TOKEN", None)
    if is_sandbox:
        env["KYC_API_IS_SANDBOX"] = "1"
    else:
        env.pop("KYC_API_IS_SANDBOX", None)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


@dataclass
class ServedApp:
    """A running server subprocess and the URL (with its access token) to open it."""

    process: subprocess.Popen[bytes]
    port: int
    token: str
    host: str = LOOPBACK
    path: str = "/"
    log_path: Path | None = None
    _log: Any = field(default=None, repr=False)

    @property
    def url(self) -> str:
        """The URL to open, access token included."""
        return f"http://{self.host}:{self.port}{self.path}?token={self.token}"

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL) and close its log."""
        stop_process(self.process)
        if self._log is not None:
            self._log.close()
            self._log = None

    def __repr__(self) -> str:  # the access token stays out of reprs and logs
        return f"ServedApp(port={self.port}, pid={self.process.pid})"


def _spawn(
    command: Sequence[str], *, env: Mapping[str, str], cwd: Path, log_path: Path | None
) -> tuple[subprocess.Popen[bytes], Any]:
    log = open(log_path, "ab") if log_path is not None else None  # noqa: SIM115 - owned by ServedApp
    process = subprocess.Popen(
        list(command),
        env=dict(env),
        cwd=str(cwd),
        stdin=subprocess.DEVNULL,
        stdout=log if log is not None else None,
        stderr=subprocess.STDOUT if log is not None else None,
        # Own process group: Ctrl-C in the terminal reaches us, and we stop the servers
        # in order instead of every process racing to shut down at once.
        start_new_session=True,
    )
    return process, log


def start_voila(
    notebook: Path,
    *,
    env: Mapping[str, str],
    port: int | None = None,
    token: str | None = None,
    host: str = LOOPBACK,
    log_path: Path | None = None,
    show_tracebacks: bool = False,
    timeout: float = 90.0,
) -> ServedApp:
    """Start Voila for ``notebook`` and wait until it listens.

    ``env`` must carry ``KYC_API_BASE_URL`` (and ``KYC_API_TOKEN``): the notebook's
    kernel inherits it. Output goes to ``log_path`` when given (tests), else to ours.
    """
    port = port or free_port(host)
    token = token or secrets.token_urlsafe(24)
    command = voila_command(
        notebook, port=port, token=token, host=host, show_tracebacks=show_tracebacks
    )
    process, log = _spawn(command, env=env, cwd=notebook.parent, log_path=log_path)
    app = ServedApp(process=process, port=port, token=token, host=host, log_path=log_path, _log=log)
    return _listening(app, timeout)


def _listening(app: ServedApp, timeout: float) -> ServedApp:
    """Wait until ``app`` listens; stop it (no orphan process) if it never does."""
    try:
        wait_for_port(app.port, host=app.host, timeout=timeout, process=app.process)
    except BaseException:
        app.stop()
        raise
    return app


def start_lab(
    root_dir: Path,
    *,
    env: Mapping[str, str],
    port: int | None = None,
    host: str = LOOPBACK,
    timeout: float = 90.0,
) -> ServedApp:
    """Start JupyterLab on ``root_dir`` and wait until it listens."""
    port = port or free_port(host)
    token = secrets.token_urlsafe(24)
    process, log = _spawn(
        lab_command(root_dir, port=port, token=token, host=host),
        env=env,
        cwd=root_dir,
        log_path=None,
    )
    app = ServedApp(process=process, port=port, token=token, host=host, path="/lab", _log=log)
    return _listening(app, timeout)


def stop_process(process: subprocess.Popen[Any], *, grace: float = 10.0) -> None:
    """Ask a server to stop (SIGTERM), then insist (SIGKILL).

    SIGTERM rather than SIGINT: a Jupyter server answers its first SIGINT with a
    "shut down? (y/n)" prompt, while SIGTERM makes it shut down its kernels and exit.
    """
    if process.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(sig)
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _pick_port(requested: int, default: int) -> int:
    """``0`` -> any free port; the default port when it is busy -> any free port."""
    if requested == 0:
        return free_port()
    if requested == default and not port_is_free(requested):
        return free_port()
    return requested


@contextlib.contextmanager
def _api_endpoint(args: argparse.Namespace) -> Iterator[tuple[str, str | None, bool, str]]:
    """Yield ``(base_url, token, is_sandbox, description)``: the configured API, else a sandbox."""
    configured = os.environ.get("KYC_API_BASE_URL", "").strip()
    if configured and not args.sandbox:
        token = os.environ.get("KYC_API_TOKEN") or None
        note = (
            "KYC_API_TOKEN is set"
            if token
            else "KYC_API_TOKEN is NOT set: the app will report 'not signed in'"
        )
        yield configured, token, False, f"the KYC API from KYC_API_BASE_URL ({note})"
        return

    from kyc_widgets.sandbox import Sandbox  # the [sandbox] extra; imported only when needed

    kwargs: dict[str, Any] = {"port": args.sandbox_port, "latency_ms": args.latency_ms}
    if args.db is not None:
        kwargs["db"] = args.db
    with Sandbox(**kwargs) as sandbox:
        where = f"database {args.db}" if args.db is not None else "throw-away database"
        yield (
            sandbox.base_url,
            sandbox.token,
            True,
            f"the sandbox KYC API ({where}, demo token {sandbox.token})",
        )


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m kyc_widgets.cli.app",
        description=(
            "Serve the case-creation notebook as a Voila app on 127.0.0.1, against the sandbox "
            "KYC API (default) or the API named by KYC_API_BASE_URL / KYC_API_TOKEN."
        ),
    )
    parser.add_argument("--notebook", type=Path, default=DEFAULT_NOTEBOOK, help="notebook to serve")
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_VOILA_PORT,
        help="Voila port (0 = any free port; default 8866)",
    )
    parser.add_argument(
        "--lab", action="store_true", help="also start JupyterLab on the notebooks folder"
    )
    parser.add_argument(
        "--lab-port", type=int, default=DEFAULT_LAB_PORT, help="JupyterLab port (default 8888)"
    )
    parser.add_argument(
        "--sandbox",
        action="store_true",
        help="use a local sandbox even when KYC_API_BASE_URL is set",
    )
    parser.add_argument(
        "--sandbox-port", type=int, default=0, help="sandbox port (default: any free port)"
    )
    parser.add_argument(
        "--db", type=Path, default=None, help="sandbox SQLite file (default: throw-away)"
    )
    parser.add_argument(
        "--latency-ms",
        type=int,
        default=0,
        help="sandbox delay per answer, to imitate a remote API",
    )
    parser.add_argument("--debug", action="store_true", help="show Python tracebacks in the app")
    parser.add_argument(
        "--exit-after-start",
        action="store_true",
        help="start everything, print the URLs, then stop (a smoke test of the launcher)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the app until Ctrl-C; returns the exit code."""
    args = _build_parser().parse_args(argv)
    notebook: Path = args.notebook.resolve()
    if not notebook.is_file():
        print(f"error: notebook not found: {notebook}", file=sys.stderr)
        return 2

    stop_requested = False

    def _on_sigterm(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _on_sigterm)
    servers: list[ServedApp] = []
    try:
        with _api_endpoint(args) as (base_url, api_token, is_sandbox, description):
            env = kernel_environment(base_url, api_token, is_sandbox=is_sandbox)
            voila_port = _pick_port(args.port, DEFAULT_VOILA_PORT)
            print(f"kyc-widgets: API: {description}", flush=True)
            print(f"kyc-widgets: API URL: {base_url}", flush=True)
            print("kyc-widgets: starting Voila...", flush=True)
            servers.append(
                start_voila(notebook, env=env, port=voila_port, show_tracebacks=args.debug)
            )
            if args.lab:
                lab_port = _pick_port(args.lab_port, DEFAULT_LAB_PORT)
                servers.append(start_lab(notebook.parent, env=env, port=lab_port))
            print(flush=True)
            print(f"  Open the app:    {servers[0].url}", flush=True)
            if args.lab:
                print(f"  JupyterLab:      {servers[1].url}", flush=True)
            print(flush=True)
            if args.exit_after_start:
                return 0
            print("kyc-widgets: press Ctrl-C to stop.", flush=True)
            while all(s.process.poll() is None for s in servers):
                time.sleep(0.5)
            dead = next(s for s in servers if s.process.poll() is not None)
            print(
                f"kyc-widgets: a server stopped (exit code {dead.process.returncode}).",
                file=sys.stderr,
            )
            return 1
    except KeyboardInterrupt:
        stop_requested = True
        print("\nkyc-widgets: stopping...", flush=True)
        return 0
    finally:
        for server in reversed(servers):
            server.stop()
        if stop_requested:
            print("kyc-widgets: stopped.", flush=True)


if __name__ == "__main__":
    sys.exit(main())
