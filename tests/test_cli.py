"""The ``kyc-widgets`` command line, run as a real subprocess."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from kyc_widgets.cli.main import main

CLI = [sys.executable, "-m", "kyc_widgets.cli.main"]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KYC_API_")}
    env.update(extra)
    return env


def _wait_healthy(base_url: str, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(
                f"sandbox exited early: {proc.stderr.read() if proc.stderr else ''}"
            )
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError("sandbox did not become healthy")


def _start(args: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*CLI, "sandbox", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )


def _stop(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    return proc.returncode, out, err


@pytest.fixture
def running(free_port: int, tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    base_url = f"http://127.0.0.1:{free_port}"
    proc = _start(
        [
            "--port",
            str(free_port),
            "--db",
            str(tmp_path / "cli.sqlite3"),
            "--token",
            "cli-token=cli@test",
        ]
    )
    try:
        _wait_healthy(base_url, proc)
        yield base_url, proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def _create(
    base_url: str | None, token: str | None, *args: str
) -> subprocess.CompletedProcess[str]:
    extra = {}
    if base_url:
        extra["KYC_API_BASE_URL"] = base_url
    if token:
        extra["KYC_API_TOKEN"] = token
    return subprocess.run(
        [*CLI, "create", *args],
        capture_output=True,
        text=True,
        env=_env(**extra),
        timeout=60,
        check=False,
    )


def test_sandbox_create_and_sigint(running: tuple[str, subprocess.Popen[str]]) -> None:
    base_url, proc = running
    done = _create(
        base_url, "cli-token", "--field", "kyc_case_id=CLI-0001", "--field", "case_priority=HIGH"
    )
    assert done.returncode == 0, done.stderr
    assert "Created KYC case CLI-0001" in done.stdout
    assert re.search(r"request_id: req_[0-9a-f]{24}", done.stdout)
    assert "created_by: cli@test" in done.stdout
    assert "case_priority: HIGH" in done.stdout
    assert "cli-token" not in done.stdout + done.stderr

    again = _create(base_url, "cli-token", "--field", "kyc_case_id=CLI-0001")
    assert again.returncode == 1
    assert "already exists" in again.stderr
    assert re.search(r"request_id: req_[0-9a-f]{24}", again.stderr)

    denied = _create(base_url, "wrong-token")
    assert denied.returncode == 1
    assert "wrong-token" not in denied.stdout + denied.stderr

    code, out, err = _stop(proc)
    assert code == 0, err
    assert base_url in out
    assert "cli-token" not in out  # configured tokens are never printed


def test_data_survives_a_cli_restart(free_port: int, tmp_path: Path) -> None:
    db = tmp_path / "keep.sqlite3"
    base_url = f"http://127.0.0.1:{free_port}"
    for round_ in range(2):
        proc = _start(["--port", str(free_port), "--db", str(db), "--token", "t=p@test"])
        try:
            _wait_healthy(base_url, proc)
            done = _create(base_url, "t", "--field", "kyc_case_id=CLI-KEEP")
            assert done.returncode == (0 if round_ == 0 else 1), done.stderr
        finally:
            code, _, err = _stop(proc)
        assert code == 0, err


def test_default_start_prints_url_and_a_random_demo_token(free_port: int, tmp_path: Path) -> None:
    proc = _start(["--port", str(free_port), "--db", str(tmp_path / "d.sqlite3")])
    base_url = f"http://127.0.0.1:{free_port}"
    try:
        _wait_healthy(base_url, proc)
    finally:
        code, out, err = _stop(proc)
    assert code == 0, err
    assert f"KYC_API_BASE_URL={base_url}" in out
    token = re.search(r"KYC_API_TOKEN=(\S+)", out)
    assert token and token.group(1).startswith("sbx_")


def test_create_usage_errors_exit_2(free_port: int) -> None:
    assert _create(None, "t").returncode == 2  # no base URL
    assert _create(f"http://127.0.0.1:{free_port}", None).returncode == 2  # no token
    bad = _create(f"http://127.0.0.1:{free_port}", "t", "--field", "current_status=APPROVED")
    assert bad.returncode == 2
    assert "current_status" in bad.stderr
    assert (
        _create(f"http://127.0.0.1:{free_port}", "t", "--field", "no-equals-sign").returncode == 2
    )


def test_create_against_nothing_listening_exits_1(free_port: int) -> None:
    done = _create(f"http://127.0.0.1:{free_port}", "t")
    assert done.returncode == 1
    assert "request_id" in done.stderr


def test_refuses_a_non_loopback_host_without_allow_remote(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["sandbox", "--host", "0.0.0.0", "--port", "0"]) == 2
    assert "--allow-remote" in capsys.readouterr().err


def test_demo_cli_creates_a_synthetic_case(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo-cli"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"Created KYC case KYC-[0-9A-F]{12}", out)
    assert "created_by: analyst@sandbox" in out
    assert "sbx_" not in out  # the embedded sandbox's token is not printed


def test_no_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "sandbox" in capsys.readouterr().err


def test_port_in_use_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code = main(["sandbox", "--port", str(port), "--db", str(tmp_path / "p.sqlite3")])
    assert code == 1
    assert "cannot listen" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["--latency-ms", "-5"],
        ["--rate-limit", "0"],
        ["--fail-rate", "1.5"],
        ["--token", "only-a-token="],
        ["--host", "0.0.0.0"],
    ],
)
def test_sandbox_refuses_bad_flags_with_exit_2(argv: list[str]) -> None:
    from kyc_widgets.cli.main import main

    assert main(["sandbox", "--port", "0", *argv]) == 2


def test_parse_pairs_and_the_exit_code_table() -> None:
    from kyc_widgets.cli.common import ExitCode, parse_pairs

    assert parse_pairs(["A=b", " C =d=e", "A=f"], "--field") == {"A": "f", "C": "d=e"}
    assert parse_pairs(None, "--field") == {}
    assert parse_pairs(["A="], "--field") == {"A": ""}
    for bad, empty_value in ((["A"], True), (["=b"], True), (["A= "], False)):
        with pytest.raises(ValueError, match="--set must look like NAME=VALUE"):
            parse_pairs(bad, "--set", empty_value=empty_value)
    assert [int(code) for code in ExitCode] == [0, 1, 2]
