"""The analyst's app: one command from a fresh checkout to a case form in the browser.

``python -m kyc_widgets.cli.app`` (what ``make demo`` runs) starts the sandbox KYC API in
this process, then serves the analyst app (``app_page.ipynb`` beside this module: one cell
that displays :class:`~kyc_widgets.widgets.desk.CaseDesk`) as a Voila app (and, with
``--lab``, JupyterLab on a copy of the notebooks folder), bound to 127.0.0.1, and prints
the URL to open. With ``KYC_API_BASE_URL`` set it starts no sandbox and the app talks to
that API instead, with the token taken from ``KYC_API_TOKEN``.

Why this shape:

- The notebook finds the API through ``KYC_API_BASE_URL`` / ``KYC_API_TOKEN`` in its
  kernel's environment, which Voila and JupyterLab pass down from this process. The
  token therefore never goes into the notebook file, a widget value or a URL.
- Voila and JupyterLab each get a random access token of their own: they run code with
  the analyst's API token, so another local user must not be able to drive them. The
  access token never goes on their command line either (any local user reads those with
  ``ps`` or ``/proc/PID/cmdline``): it is written to a file readable by the user alone
  (mode 0600, in the server's private 0700 folder) and the server reads it from there,
  through jupyter_server's ``JUPYTER_TOKEN_FILE`` (:func:`token_environment`). A process's
  environment (``/proc/PID/environ``) is readable by its user alone, like that file.
  ``tests/test_app.py`` starts the app and reads the process table as ``nobody``.
- Both run as subprocesses of the same Python (``sys.executable -m voila``), so the
  widget frontends come from the installed ``jupyterlab_widgets`` / Voila bundles and
  the app works offline.

- Every server works on a copy of its notebooks in a private temporary folder outside
  the repository, removed when the server stops, and its kernels get that folder's
  ``tmp`` as ``TMPDIR``: nothing a kernel or an autosave writes (a created case's names
  in a saved output, a sandbox database) can land in a tracked file or outlive the app,
  even when a kernel is killed.
- A closed or reloaded tab leaves its kernel behind (Voila's own shutdown call on page
  unload is refused for want of an XSRF token), so Voila culls kernels that have had no
  connection and no activity for ``cull_idle_timeout`` seconds.
- The servers' output goes through :func:`quiet_lines`: warnings nobody can act on (an
  untrusted notebook, unencrypted kernel TCP on loopback, websocket pings, the refused
  unload call) are dropped, the rest is passed on. ``--verbose`` shows everything.

The helpers (``free_port``, ``voila_command``, ``start_voila``, ``wait_for_port``) are
also what the browser test uses, so the test exercises the very launch path of
``make demo``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

__all__ = [
    "DEFAULT_CULL_IDLE_SECONDS",
    "DEFAULT_CULL_INTERVAL_SECONDS",
    "DEFAULT_NOTEBOOK",
    "NOISE",
    "NOTEBOOKS_DIR",
    "ServedApp",
    "free_port",
    "kernel_environment",
    "lab_command",
    "main",
    "port_is_free",
    "quiet_lines",
    "serving_copy",
    "start_lab",
    "token_environment",
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

DEFAULT_NOTEBOOK = Path(__file__).resolve().parent / "app_page.ipynb"
"""The analyst app: a notebook of one cell that displays the whole desk (no code shown)."""

DEFAULT_CULL_IDLE_SECONDS = 300
"""A kernel with no open page and no activity for this long is shut down."""
DEFAULT_CULL_INTERVAL_SECONDS = 60

NOISE: tuple[re.Pattern[bytes], ...] = (
    # Voila renders the notebook whatever its trust; the analyst cannot and need not sign it.
    re.compile(rb"Notebook .* is not trusted"),
    # Kernels talk to Voila over loopback TCP only; nothing to configure for the analyst.
    re.compile(rb"Kernel is running over TCP without encryption"),
    # A tab put to sleep or closed; the kernel culler deals with what is left behind.
    re.compile(rb"WebSocket ping timeout"),
    re.compile(rb"websocket_ping_timeout"),  # Voila's defaults, corrected by the server
    # Python's deprecation warnings (the line after one, its source, goes with it): they
    # speak to the authors of Jupyter packages, not to an analyst.
    re.compile(rb"DeprecationWarning: "),
    # Voila's unload call, refused without an XSRF token: the culler stops those kernels.
    re.compile(rb"_xsrf' argument missing"),
    re.compile(rb"\b403 POST /voila/api/shutdown/"),
    # JupyterLab acknowledging the SIGTERM this launcher sends it on the way out.
    re.compile(rb"received signal 15, stopping"),
)
"""Server log lines that are not actionable (dropped by :func:`quiet_lines`)."""


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
    host: str = LOOPBACK,
    show_tracebacks: bool = False,
    cull_idle_timeout: int = DEFAULT_CULL_IDLE_SECONDS,
    cull_interval: int = DEFAULT_CULL_INTERVAL_SECONDS,
    verbose: bool = False,
) -> list[str]:
    """The Voila command line serving one notebook on ``host:port``.

    ``port_retries=0``: a busy port is an error, never a silent move to another port
    that the printed URL (or a test) would not know about. Kernels are culled once
    idle and without a connection (``cull_connected=False``: an open page keeps its
    kernel however long the analyst reads it). Voila's own log is at WARN level unless
    ``verbose``: its start-up lines and "kernel started" on every page load say nothing
    an analyst acts on. Notebook 7's JupyterLab
    extension (installed with ``notebook``) is not loaded: it needs JupyterLab's
    document registry, which Voila does not have, and would only log an error.

    No access token on this command line: ``Voila.auto_token`` makes Voila's identity
    provider take its token from the environment's ``JUPYTER_TOKEN_FILE``
    (:func:`token_environment`); without that variable it would make up a token of its
    own (Voila alone would serve *no* token unless one is configured or ``auto_token`` set).
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
        "--Voila.auto_token=True",
        f"--show_tracebacks={show_tracebacks}",
        f"--MappingKernelManager.cull_idle_timeout={cull_idle_timeout}",
        f"--MappingKernelManager.cull_interval={cull_interval}",
        "--MappingKernelManager.cull_connected=False",
        "--MappingKernelManager.cull_busy=False",
        f"--Voila.log_level={'INFO' if verbose else 'WARN'}",
        # Notebook 7's JupyterLab extension (installed for the notebooks) fails to load
        # outside Notebook and says so in the browser console; the app has no use for it.
        "--VoilaConfiguration.extension_denylist=@jupyter-notebook/lab-extension",
    ]


def lab_command(
    root_dir: Path, *, port: int, host: str = LOOPBACK, verbose: bool = False
) -> list[str]:
    """The JupyterLab command line for the notebooks folder on ``host:port``.

    The extension manager is read-only so that Lab does not query PyPI at start-up
    (the app works offline); ``--allow-root`` only where we already run as root
    (containers, CI), where JupyterLab would otherwise refuse to start. Its log is at
    WARN level unless ``verbose``: we print the URL ourselves. The access token comes
    from ``JUPYTER_TOKEN_FILE`` (:func:`token_environment`), never from this command line.
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
        "--LabApp.extension_manager=readonly",
        f"--ServerApp.log_level={'INFO' if verbose else 'WARN'}",
        f"--LabApp.log_level={'INFO' if verbose else 'WARN'}",
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


def quiet_lines(source: IO[bytes], sink: IO[bytes], *, verbose: bool = False) -> int:
    """Copy a server's output line by line, leaving out the :data:`NOISE` lines.

    Indented lines right after a left-out line (a warning's source line or details) are
    left out with it. Returns how many lines were left out. Runs until ``source`` closes
    (the server exited); a ``sink`` that fails (a closed terminal) stops the copying,
    never the server.
    """
    hidden = 0
    skipping = False
    for line in iter(source.readline, b""):
        continuation = skipping and line[:1] in (b" ", b"\t")
        if not verbose and (continuation or any(p.search(line) for p in NOISE)):
            hidden += 1
            skipping = True
            continue
        skipping = False
        try:
            sink.write(line)
            sink.flush()
        except (OSError, ValueError):
            break
    return hidden


def serving_copy(source: Path, folder: Path) -> Path:
    """Copy what a server will serve into ``folder``; returns the copy's path.

    A notebook is copied with the ``data`` folder beside it, if any (the tutorials read
    their sample sheet from there); a folder is copied whole, without checkpoints. The
    server then never opens, runs or autosaves a tracked file.
    """
    folder.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__")
    if source.is_dir():
        target = folder / source.name
        shutil.copytree(source, target, ignore=ignore)
        return target
    target = folder / source.name
    shutil.copy2(source, target)
    data = source.parent / "data"
    if data.is_dir():
        shutil.copytree(data, folder / "data", ignore=ignore, dirs_exist_ok=True)
    return target


@dataclass
class ServedApp:
    """A running server subprocess and the URL (with its access token) to open it.

    ``workdir`` is the private temporary folder the server works in (its copy of the
    notebooks, its kernels' ``TMPDIR``): :meth:`stop` removes it.
    """

    process: subprocess.Popen[bytes]
    port: int
    token: str
    host: str = LOOPBACK
    path: str = "/"
    log_path: Path | None = None
    workdir: Path | None = None
    _log: Any = field(default=None, repr=False)
    _pump: threading.Thread | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        """The URL to open, access token included."""
        return f"http://{self.host}:{self.port}{self.path}?token={self.token}"

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL), close its log, remove its folder."""
        stop_process(self.process)
        if self._pump is not None:
            self._pump.join(timeout=5)
            self._pump = None
        if self._log is not None:
            self._log.close()
            self._log = None
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    def __repr__(self) -> str:  # the access token stays out of reprs and logs
        return f"ServedApp(port={self.port}, pid={self.process.pid})"


def _workdir() -> Path:
    """A private folder for one server, in the system temp folder (outside the repository).

    ``mkdtemp`` makes it mode 0700: no other user lists or reads what is in it (the
    notebooks' copy, the kernels' temporary files, the access token's file).
    """
    return Path(tempfile.mkdtemp(prefix="kyc-app-"))


def _server_env(env: Mapping[str, str], workdir: Path, token: str) -> dict[str, str]:
    """``env`` with ``TMPDIR`` inside ``workdir`` (kernels' temporary files go with it) and
    the access token's file (:func:`token_environment`)."""
    tmp = workdir / "tmp"
    tmp.mkdir(exist_ok=True)
    return {**token_environment(env, workdir, token), "TMPDIR": str(tmp)}


TOKEN_FILE_NAME = "access-token"


def token_environment(env: Mapping[str, str], folder: Path, token: str) -> dict[str, str]:
    """``env`` for a Jupyter server that reads its access ``token`` from a file in ``folder``.

    The file is created with mode 0600 (never readable by another user, not even for a
    moment) and holds the token without a newline: jupyter_server reads it whole.
    ``JUPYTER_TOKEN_FILE`` names it; a ``JUPYTER_TOKEN`` inherited from the caller's
    environment is removed, since jupyter_server would prefer it to the file. ``folder``
    should be private (:func:`_workdir` is 0700).
    """
    path = folder / TOKEN_FILE_NAME
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(token)
    out = {name: value for name, value in env.items() if name != "JUPYTER_TOKEN"}
    out["JUPYTER_TOKEN_FILE"] = str(path)
    return out


def _spawn(
    command: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Path,
    log_path: Path | None,
    verbose: bool = False,
) -> tuple[subprocess.Popen[bytes], Any, threading.Thread]:
    log = open(log_path, "ab") if log_path is not None else None  # noqa: SIM115 - owned by ServedApp
    process = subprocess.Popen(
        list(command),
        env=dict(env),
        cwd=str(cwd),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        # Own process group: Ctrl-C in the terminal reaches us, and we stop the servers
        # in order instead of every process racing to shut down at once.
        start_new_session=True,
    )
    sink = log if log is not None else sys.stdout.buffer
    assert process.stdout is not None
    pump = threading.Thread(
        target=quiet_lines,
        args=(process.stdout, sink),
        kwargs={"verbose": verbose},
        name=f"kyc-app-log-{process.pid}",
        daemon=True,
    )
    pump.start()
    return process, log, pump


def start_voila(
    notebook: Path,
    *,
    env: Mapping[str, str],
    port: int | None = None,
    token: str | None = None,
    host: str = LOOPBACK,
    log_path: Path | None = None,
    show_tracebacks: bool = False,
    cull_idle_timeout: int = DEFAULT_CULL_IDLE_SECONDS,
    cull_interval: int = DEFAULT_CULL_INTERVAL_SECONDS,
    verbose: bool = False,
    timeout: float = 90.0,
) -> ServedApp:
    """Start Voila for a copy of ``notebook`` and wait until it listens.

    ``env`` must carry ``KYC_API_BASE_URL`` (and ``KYC_API_TOKEN``): the notebook's
    kernel inherits it. Output goes to ``log_path`` when given (tests), else to ours,
    without the :data:`NOISE` lines unless ``verbose``.
    """
    listen_port = port or free_port(host)
    access_token = token or secrets.token_urlsafe(24)

    def prepare(workdir: Path) -> tuple[list[str], Path]:
        served = serving_copy(notebook, workdir / "app")
        command = voila_command(
            served,
            port=listen_port,
            host=host,
            show_tracebacks=show_tracebacks,
            cull_idle_timeout=cull_idle_timeout,
            cull_interval=cull_interval,
            verbose=verbose,
        )
        return command, served.parent

    return _start(
        prepare, env=env, port=listen_port, token=access_token, host=host, log_path=log_path,
        verbose=verbose, timeout=timeout,
    )


def _start(
    prepare: Callable[[Path], tuple[list[str], Path]],
    *,
    env: Mapping[str, str],
    port: int,
    token: str,
    host: str,
    log_path: Path | None,
    verbose: bool,
    timeout: float,
    path: str = "/",
) -> ServedApp:
    """Start one server in its own :func:`_workdir` and wait until it listens.

    ``prepare(workdir)`` copies what is served into the folder and gives the command
    and the folder it runs in. Whatever fails, nothing is left behind: the folder is
    removed if the server never started, and the server stopped if it never listens.
    """
    workdir = _workdir()
    try:
        command, cwd = prepare(workdir)
        process, log, pump = _spawn(
            command, env=_server_env(env, workdir, token), cwd=cwd, log_path=log_path,
            verbose=verbose,
        )
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    app = ServedApp(
        process=process, port=port, token=token, host=host, path=path, log_path=log_path,
        workdir=workdir, _log=log, _pump=pump,
    )
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
    verbose: bool = False,
    timeout: float = 90.0,
) -> ServedApp:
    """Start JupyterLab on a copy of ``root_dir`` and wait until it listens.

    The copy (see :func:`serving_copy`) is removed when Lab stops: what is typed there
    is for trying things out, and its autosaves never reach the tracked tutorials.
    """
    listen_port = port or free_port(host)
    access_token = secrets.token_urlsafe(24)

    def prepare(workdir: Path) -> tuple[list[str], Path]:
        root = serving_copy(root_dir, workdir)
        command = lab_command(root, port=listen_port, host=host, verbose=verbose)
        return command, root

    return _start(
        prepare, env=env, port=listen_port, token=access_token, host=host, log_path=None,
        verbose=verbose, timeout=timeout, path="/lab",
    )



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
        from kyc_widgets.api.auth import token_from_env

        token = token_from_env()
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
            "Serve the analyst app (Voila) on 127.0.0.1, against the sandbox "
            "KYC API (default) or the API named by KYC_API_BASE_URL / KYC_API_TOKEN."
        ),
    )
    parser.add_argument(
        "--notebook",
        type=Path,
        default=DEFAULT_NOTEBOOK,
        help="notebook to serve instead of the app (a copy of it is served)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_VOILA_PORT,
        help="Voila port (0 = any free port; default 8866)",
    )
    parser.add_argument(
        "--lab",
        action="store_true",
        help="also start JupyterLab on a copy of the notebooks folder (removed at exit)",
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
        "--verbose",
        action="store_true",
        help="show every server log line (by default warnings nobody can act on are hidden)",
    )
    parser.add_argument(
        "--cull-idle-seconds",
        type=int,
        default=DEFAULT_CULL_IDLE_SECONDS,
        help=(
            "shut down a kernel whose page was closed after this many idle seconds "
            f"(default {DEFAULT_CULL_IDLE_SECONDS})"
        ),
    )
    parser.add_argument(
        "--cull-interval-seconds",
        type=int,
        default=DEFAULT_CULL_INTERVAL_SECONDS,
        help=f"how often to look for such kernels (default {DEFAULT_CULL_INTERVAL_SECONDS})",
    )
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
                start_voila(
                    notebook,
                    env=env,
                    port=voila_port,
                    show_tracebacks=args.debug,
                    cull_idle_timeout=args.cull_idle_seconds,
                    cull_interval=args.cull_interval_seconds,
                    verbose=args.verbose,
                )
            )
            if args.lab:
                lab_port = _pick_port(args.lab_port, DEFAULT_LAB_PORT)
                servers.append(
                    start_lab(NOTEBOOKS_DIR, env=env, port=lab_port, verbose=args.verbose)
                )
            print(flush=True)
            print(f"  Open the app:    {servers[0].url}", flush=True)
            if args.lab:
                print(f"  JupyterLab:      {servers[1].url}", flush=True)
                print(
                    f"  (JupyterLab works on a copy of {NOTEBOOKS_DIR.name}/ in "
                    f"{servers[1].workdir}, removed when this stops)",
                    flush=True,
                )
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
