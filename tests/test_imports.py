"""Light entry points: what each one loads, checked in a fresh interpreter.

A notebook that only needs the client, the sandbox in a test, and the command
line's ``--help`` must not pay for the notebook stack (ipywidgets) or for pandas;
``--help`` must not even load the server (FastAPI, uvicorn) or the client (httpx).
Each check runs in its own ``python -c`` subprocess, since this test process has
long since imported everything.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

import kyc_widgets

NOTEBOOK_STACK = frozenset({"ipywidgets", "pandas"})
SERVER_AND_CLIENT = frozenset({"fastapi", "uvicorn", "httpx", "pydantic"})

_REPORT = textwrap.dedent(
    """
    import json as _json
    import sys as _sys

    print(_json.dumps(sorted({name.partition(".")[0] for name in _sys.modules})))
    """
)

_RUN_CLI = textwrap.dedent(
    """
    import contextlib, io, runpy, sys

    sys.argv = ["kyc-widgets", *{args!r}]
    shown = io.StringIO()
    try:
        with contextlib.redirect_stdout(shown):
            runpy.run_module("kyc_widgets", run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        assert exc.code == 0, f"exit code {{exc.code}}"
    assert shown.getvalue().startswith("usage: kyc-widgets"), shown.getvalue()
    """
)


def top_level_modules_after(code: str) -> set[str]:
    """The top-level packages in ``sys.modules`` after running ``code`` in a new Python."""
    done = subprocess.run(
        [sys.executable, "-c", code + _REPORT],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.splitlines()[-1]))


@pytest.mark.parametrize(
    "code",
    ["import kyc_widgets.sandbox", "from kyc_widgets import KycApiClient"],
)
def test_the_client_and_the_sandbox_load_no_notebook_stack(code: str) -> None:
    loaded = top_level_modules_after(code)
    assert "kyc_widgets" in loaded
    assert loaded & NOTEBOOK_STACK == set()


@pytest.mark.parametrize(
    "args",
    [("--help",), ("sandbox", "--help"), ("batch", "--help"), ("create", "--help"),
     ("mapping", "--help"), ("template", "--help"), ("verify-evidence", "--help")],
    ids=" ".join,
)
def test_command_line_help_loads_nothing_heavy(args: tuple[str, ...]) -> None:
    """``python -m kyc_widgets ... --help``, run in-process in the subprocess."""
    loaded = top_level_modules_after(_RUN_CLI.format(args=list(args)))
    assert "kyc_widgets" in loaded
    assert loaded & (NOTEBOOK_STACK | SERVER_AND_CLIENT) == set()


def test_every_public_name_resolves() -> None:
    missing = [name for name in kyc_widgets.__all__ if not hasattr(kyc_widgets, name)]
    assert missing == []


def test_all_lists_exactly_the_lazy_exports() -> None:
    assert len(kyc_widgets.__all__) == len(set(kyc_widgets.__all__))
    assert set(kyc_widgets.__all__) == {*kyc_widgets._EXPORTS, "__version__"}
