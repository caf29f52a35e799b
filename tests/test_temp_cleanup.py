"""A test run leaves nothing in the temporary folder, even when a kernel is killed.

A notebook kernel (nbval, Voila) that starts a sandbox keeps its SQLite file in a
``kyc-sandbox-*`` folder which the sandbox removes when it stops or at interpreter exit;
a killed kernel does neither. The run's own temporary folder (the top-level conftest.py)
catches those: the inner test below kills such a process, and the outer one checks that a
whole pytest run around it left nothing behind.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
INNER = "KYC_TEMP_CLEANUP_INNER"

KERNEL_LIKE = """
import sys, time
from kyc_widgets.sandbox import Sandbox
sandbox = Sandbox().start()
print(sandbox.db_path, flush=True)
time.sleep(120)
"""


@pytest.mark.skipif(os.environ.get(INNER) != "1", reason="run by the test below, in its own run")
def test_inner_a_killed_process_leaves_its_sandbox_folder() -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", KERNEL_LIKE], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        db_path = Path(process.stdout.readline().strip())
        assert db_path.exists() and db_path.parent.name.startswith("kyc-sandbox-")
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert db_path.exists()  # nobody cleaned up: the process was killed


def test_a_test_run_leaves_nothing_in_the_temp_folder(tmp_path: Path) -> None:
    outer = tmp_path / "outer-tmp"
    outer.mkdir()
    env = {**os.environ, "TMPDIR": str(outer), INNER: "1"}
    done = subprocess.run(
        [
            sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
            f"{Path(__file__).relative_to(ROOT)}::test_inner_a_killed_process_leaves_its_sandbox_folder",
        ],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=240, check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
    assert sorted(p.name for p in outer.iterdir()) == []
