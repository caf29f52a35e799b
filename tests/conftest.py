"""Shared fixtures: a real sandbox KYC API per test, and a client for it.

And one temporary folder per test run: every temporary file of the run (pytest's
``tmp_path``, sandbox databases, Voila's and the notebook kernels' files, those of any
subprocess, which inherit ``TMPDIR``) goes into it, and it is removed when the run ends,
even when a kernel was killed before it could clean up after itself. To keep the files of
a failed run, pass ``--basetemp=DIR``: pytest then writes ``tmp_path`` there.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from kyc_widgets.sandbox import Sandbox

if TYPE_CHECKING:
    from kyc_widgets.api.client import KycApiClient


RUN_TMPDIR_PREFIX = "kyc-tests-"


def pytest_configure(config: pytest.Config) -> None:
    folder = tempfile.mkdtemp(prefix=RUN_TMPDIR_PREFIX)
    config.stash[_RUN_TMP] = (folder, os.environ.get("TMPDIR"), tempfile.tempdir)
    os.environ["TMPDIR"] = folder
    tempfile.tempdir = folder


def pytest_unconfigure(config: pytest.Config) -> None:
    saved = config.stash.get(_RUN_TMP, None)
    if saved is None:
        return
    folder, old_env, old_tempdir = saved
    shutil.rmtree(folder, ignore_errors=True)
    if old_env is None:
        os.environ.pop("TMPDIR", None)
    else:
        os.environ["TMPDIR"] = old_env
    tempfile.tempdir = old_tempdir


_RUN_TMP = pytest.StashKey[tuple[str, "str | None", "str | None"]]()


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
def free_port() -> int:
    """A loopback port that was free a moment ago (for subprocess servers)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
