"""Shared fixtures: a real sandbox KYC API per test, a client for it, and the environment naming it.

(The run's temporary folder is set up by the repository's top-level conftest.py.)
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from kyc_widgets.sandbox import Sandbox

if TYPE_CHECKING:
    from kyc_widgets.api.client import KycApiClient


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """A fresh sandbox (temporary SQLite file) on a free loopback port, stopped after the test."""
    with Sandbox() as sb:
        yield sb


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[KycApiClient]:
    """A :class:`~kyc_widgets.api.client.KycApiClient` for the ``sandbox`` fixture (demo token)."""
    api = sandbox.client()
    try:
        yield api
    finally:
        api.close()


@pytest.fixture
def env(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    """The ``sandbox``, named by ``KYC_API_BASE_URL``/``KYC_API_TOKEN`` as the command line reads it."""
    monkeypatch.setenv("KYC_API_TOKEN", sandbox.token)
    monkeypatch.setenv("KYC_API_BASE_URL", sandbox.base_url)
    return sandbox


@pytest.fixture
def free_port() -> int:
    """A loopback port that was free a moment ago (for subprocess servers)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def closed_port_url(free_port: int) -> str:
    """A loopback URL nothing listens on (``free_port``, unbound again): connection refused."""
    return f"http://127.0.0.1:{free_port}"
