"""Run the sandbox KYC API in a background thread: ``with Sandbox() as sb: ...``.

Tests, notebooks and the command line all use this one class so the server
they talk to is the same real uvicorn + SQLite stack. The port is bound here
(port 0 picks a free loopback port) before uvicorn starts, so ``base_url`` is
known and nothing races for the port.
"""

from __future__ import annotations

import atexit
import secrets
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import uvicorn

from kyc_widgets.api.paths import is_loopback_host
from kyc_widgets.sandbox.app import SandboxState, create_app
from kyc_widgets.sandbox.faults import FaultSwitches
from kyc_widgets.sandbox.gate import GateSettings
from kyc_widgets.sandbox.store import CaseStore

if TYPE_CHECKING:  # the client is imported lazily: the sandbox must not need it
    from kyc_widgets.api.client import AsyncKycApiClient, KycApiClient

__all__ = ["DEFAULT_PRINCIPAL", "Sandbox", "default_db_path", "is_loopback_host"]

DEFAULT_PRINCIPAL = "analyst@sandbox"
_START_TIMEOUT = 15.0


def _release() -> str:
    try:
        return "sandbox-" + metadata.version("kyc-widgets")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "sandbox-dev"


def default_db_path() -> Path:
    """Where the command-line sandbox keeps its cases between runs."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("kyc-widgets")) / "sandbox.sqlite3"


class Sandbox:
    """A running sandbox KYC API on loopback.

    ``db=None`` keeps cases in a temporary file deleted on :meth:`stop`; give a
    path to keep them across restarts. ``tokens`` maps bearer token to
    principal; by default one random demo token maps to ``analyst@sandbox``.
    ``latency_ms``, ``rate_limit`` (requests per second, one second of burst)
    and ``fail_rate`` (0..1 of API requests answer 503) imitate a remote API.
    ``faults`` holds one-shot test switches; see
    :class:`~kyc_widgets.sandbox.faults.FaultSwitches`.
    """

    def __init__(
        self,
        db: str | Path | None = None,
        tokens: Mapping[str, str] | None = None,
        latency_ms: float = 0,
        rate_limit: float | None = None,
        fail_rate: float = 0.0,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        allow_remote: bool = False,
        access_log: bool = False,
        log_level: str = "warning",
        release: str | None = None,
    ) -> None:
        if not allow_remote and not is_loopback_host(host):
            raise ValueError("the sandbox only listens on loopback unless allow_remote=True")
        if tokens is not None and not tokens:
            raise ValueError("tokens must map at least one token to a principal")
        self._tokens: dict[str, str] = (
            dict(tokens) if tokens else {"sbx_" + secrets.token_urlsafe(24): DEFAULT_PRINCIPAL}
        )
        self.db = Path(db) if db is not None else None
        self.host = host
        self.port = port
        self.release = release or _release()
        self._access_log = access_log
        self._log_level = log_level
        self.faults = FaultSwitches()
        self.settings = GateSettings(
            tokens=self._tokens,
            latency_ms=latency_ms,
            rate_limit=rate_limit,
            fail_rate=fail_rate,
            faults=self.faults,
        )
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self._store: CaseStore | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._tmpdir: str | None = None
        self.db_path: Path | None = None
        self.base_url = ""

    # -- identity ---------------------------------------------------------
    @property
    def token(self) -> str:
        """The demo token (the first configured token)."""
        return next(iter(self._tokens))

    @property
    def principal(self) -> str:
        return self._tokens[self.token]

    @property
    def tokens(self) -> dict[str, str]:
        return dict(self._tokens)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def __repr__(self) -> str:  # never shows the token
        state = "running" if self.running else "stopped"
        return f"Sandbox(base_url={self.base_url!r}, {state})"

    # -- lifecycle --------------------------------------------------------
    def start(self) -> Sandbox:
        """Bind the port, open the store and serve in a background thread."""
        if self.running:
            return self
        if self.db is None:
            self._tmpdir = tempfile.mkdtemp(prefix="kyc-sandbox-")
            self.db_path = Path(self._tmpdir) / "sandbox.sqlite3"
        else:
            self.db_path = self.db
        try:
            self._store = CaseStore(self.db_path)
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="kyc-sandbox-db")
            state = SandboxState(self._store, self.settings, self.release, self._executor)
            family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
            # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on accepted
            # sockets whose proto says TCP; without it every answer waits ~40 ms
            # for a delayed ACK (Nagle), as headers and body are written apart.
            sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.port))
            self._socket = sock
            self.port = sock.getsockname()[1]
            host = f"[{self.host}]" if ":" in self.host else self.host
            self.base_url = f"http://{host}:{self.port}"
            config = uvicorn.Config(
                create_app(state),
                http="h11",
                loop="asyncio",
                lifespan="off",
                log_config=None,
                log_level=self._log_level,
                access_log=self._access_log,
                proxy_headers=False,
                server_header=False,
                timeout_graceful_shutdown=3,
                backlog=512,
            )
            self._server = uvicorn.Server(config)
            self._thread = threading.Thread(
                target=self._server.run,
                kwargs={"sockets": [sock]},
                name=f"kyc-sandbox-{self.port}",
                daemon=True,
            )
            self._thread.start()
            deadline = time.monotonic() + _START_TIMEOUT
            while not self._server.started:
                if not self._thread.is_alive() or time.monotonic() > deadline:
                    raise RuntimeError("the sandbox server did not start")
                time.sleep(0.005)
        except BaseException:
            self.stop()
            raise
        # A sandbox started in a notebook kernel (nbval, Voila) is rarely stopped by hand:
        # stop it at interpreter exit so its temporary database does not pile up in /tmp.
        atexit.register(self.stop)
        return self

    def stop(self) -> None:
        """Stop serving, close the store and remove a temporary database."""
        atexit.unregister(self.stop)
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=15)
            self._thread = None
        self._server = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
        if self._store is not None:
            self._store.close()
            self._store = None
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    def __enter__(self) -> Sandbox:  # noqa: PYI034 - typing.Self needs Python 3.11
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- clients ----------------------------------------------------------
    def client(self, **kwargs: Any) -> KycApiClient:
        """A :class:`~kyc_widgets.api.client.KycApiClient` for this sandbox (demo token)."""
        from kyc_widgets.api.client import KycApiClient

        self._require_running()
        return KycApiClient(self.base_url, kwargs.pop("token", self.token), **kwargs)

    def async_client(self, **kwargs: Any) -> AsyncKycApiClient:
        """An :class:`~kyc_widgets.api.client.AsyncKycApiClient` for this sandbox."""
        from kyc_widgets.api.client import AsyncKycApiClient

        self._require_running()
        return AsyncKycApiClient(self.base_url, kwargs.pop("token", self.token), **kwargs)

    # -- observation (tests) ------------------------------------------------
    def request_count(self, method: str | None = None, path: str | None = None) -> int:
        """Requests the server received (dropped or refused ones included).

        ``path`` matches exactly or as a prefix (``/api/v1/kyc-cases`` also
        counts ``/api/v1/kyc-cases/KYC-1``).
        """
        return self.settings.counter.count(method, path)

    def reset_counts(self) -> None:
        self.settings.counter.reset()

    def case_count(self) -> int:
        """Cases in the store right now."""
        if self._store is None:
            raise RuntimeError("the sandbox is not running")
        return self._store.count()

    def _require_running(self) -> None:
        if not self.running:
            raise RuntimeError("start the sandbox first (use `with Sandbox() as sb:`)")
