"""Every pytest run here (tests/ and the notebooks) keeps its temporary files in one folder.

Every temporary file of the run (pytest's ``tmp_path``, sandbox databases, Voila's and
the notebook kernels' files, those of any subprocess, which inherit ``TMPDIR``) goes into
a ``kyc-tests-*`` folder that is removed when the run ends, even when a kernel was killed
before it could clean up after itself (tests/test_temp_cleanup.py). To keep the files of a
failed run, pass ``--basetemp=DIR``: pytest then writes ``tmp_path`` there.

The per-user data folder (remembered mappings: ``KYC_WIDGETS_DATA_DIR``) is a folder
inside it too, for the tests, the notebooks and the apps they start: a test never writes
into the real user's folder.
"""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

RUN_TMPDIR_PREFIX = "kyc-tests-"
DATA_DIR_ENV = "KYC_WIDGETS_DATA_DIR"  # kyc_widgets.batch.saved_mappings.DATA_DIR_ENV


def pytest_configure(config: pytest.Config) -> None:
    folder = tempfile.mkdtemp(prefix=RUN_TMPDIR_PREFIX)
    config.stash[_RUN_TMP] = (folder, os.environ.get("TMPDIR"), tempfile.tempdir)
    config.stash[_DATA_DIR] = os.environ.get(DATA_DIR_ENV)
    os.environ["TMPDIR"] = folder
    os.environ[DATA_DIR_ENV] = os.path.join(folder, "user-data")
    tempfile.tempdir = folder


def pytest_unconfigure(config: pytest.Config) -> None:
    saved = config.stash.get(_RUN_TMP, None)
    if saved is None:
        return
    folder, old_env, old_tempdir = saved
    shutil.rmtree(folder, ignore_errors=True)
    old_data = config.stash.get(_DATA_DIR, None)
    if old_data is None:
        os.environ.pop(DATA_DIR_ENV, None)
    else:
        os.environ[DATA_DIR_ENV] = old_data
    if old_env is None:
        os.environ.pop("TMPDIR", None)
    else:
        os.environ["TMPDIR"] = old_env
    tempfile.tempdir = old_tempdir


_RUN_TMP = pytest.StashKey[tuple[str, "str | None", "str | None"]]()
_DATA_DIR = pytest.StashKey["str | None"]()
