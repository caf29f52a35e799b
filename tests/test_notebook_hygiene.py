"""Notebooks in git carry no outputs and no widget state: those hold personal data.

A created case's workspace (names, internal id, team) is HTML in a cell output and in the
saved widget state; Jupyter's autosave writes both into the file. ``.gitattributes`` sends
every notebook through the nbstripout filter that ``make`` configures; this test catches a
notebook committed without it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def committed_notebooks() -> list[Path]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        return sorted(ROOT.glob("**/*.ipynb"))
    listed = subprocess.run(
        ["git", "ls-files", "*.ipynb"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    return [ROOT / name for name in listed]


def problems(notebook: dict) -> list[str]:
    found = []
    if "widgets" in notebook.get("metadata", {}):
        found.append("notebook metadata holds widget state")
    for number, cell in enumerate(notebook.get("cells", []), 1):
        if cell.get("outputs"):
            found.append(f"cell {number} has outputs")
        if cell.get("execution_count") is not None:
            found.append(f"cell {number} has an execution count")
        if "widgets" in cell.get("metadata", {}):
            found.append(f"cell {number} metadata holds widget state")
    return found


def test_the_repository_has_notebooks_to_check() -> None:
    names = {path.name for path in committed_notebooks()}
    assert {"app_page.ipynb", "01-create-a-case.ipynb"} <= names


@pytest.mark.parametrize(
    "path", committed_notebooks(), ids=lambda p: str(p.relative_to(ROOT))
)
def test_committed_notebook_has_no_outputs_or_widget_state(path: Path) -> None:
    assert problems(json.loads(path.read_text(encoding="utf-8"))) == []


def test_the_checks_see_outputs_and_widget_state() -> None:
    dirty = {
        "metadata": {"widgets": {"application/vnd.jupyter.widget-state+json": {}}},
        "cells": [{"cell_type": "code", "execution_count": 2, "metadata": {},
                   "outputs": [{"output_type": "stream", "name": "stdout", "text": "Ada"}]}],
    }
    assert len(problems(dirty)) == 3


def test_the_git_filter_strips_a_notebook_and_keeps_its_cell_ids() -> None:
    """What ``git add`` runs (the command ``make`` configures) cleans what autosave wrote."""
    assert "*.ipynb filter=nbstripout" in (ROOT / ".gitattributes").read_text()
    source = ROOT / "notebooks" / "01-create-a-case.ipynb"
    notebook = json.loads(source.read_text(encoding="utf-8"))
    notebook["metadata"]["widgets"] = {"application/vnd.jupyter.widget-state+json": {}}
    code = next(cell for cell in notebook["cells"] if cell["cell_type"] == "code")
    code["execution_count"] = 1
    code["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "Ada Example\n"}]
    cleaned = subprocess.run(
        [sys.executable, "-m", "nbstripout", "--keep-id"],
        input=json.dumps(notebook, indent=1),
        capture_output=True, text=True, check=True,
    ).stdout
    assert problems(json.loads(cleaned)) == []
    assert "Ada Example" not in cleaned
    # An untouched notebook passes through unchanged: no churn in git diffs.
    clean = subprocess.run(
        [sys.executable, "-m", "nbstripout", "--keep-id"],
        input=source.read_text(encoding="utf-8"),
        capture_output=True, text=True, check=True,
    ).stdout
    assert clean == source.read_text(encoding="utf-8")
