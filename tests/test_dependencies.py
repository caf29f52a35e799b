"""Every package ``kyc_widgets`` imports is one ``pyproject.toml`` declares.

A module that is only installed because something else pulls it in (numpy via
pandas, typing_extensions via pydantic) works on a developer's machine and
breaks the day that other package stops depending on it. So every import in
``kyc_widgets/`` is read with :mod:`ast` and its top-level module is mapped
to the distribution that provides it (``importlib.metadata``); that
distribution must be declared.

The ``sandbox`` extra is optional: its packages may be imported at module
level only under ``kyc_widgets/sandbox/``; anywhere else they (and
``kyc_widgets.sandbox`` itself) must be imported inside a function, so the
client, the widgets and the batch work without the extra installed.
"""

from __future__ import annotations

import ast
import functools
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # stdlib from Python 3.11

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "kyc_widgets"
SANDBOX_DIR = PACKAGE / "sandbox"
OWN = "kyc_widgets"


def normalise(name: str) -> str:
    """PEP 503: ``typing_extensions`` and ``Typing-Extensions`` are the same project."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(spec: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", spec)
    assert match, f"cannot read a project name from {spec!r}"
    return normalise(match.group(1))


def declared() -> tuple[set[str], dict[str, set[str]]]:
    """(required distributions, {extra: distributions}) from pyproject.toml."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    required = {requirement_name(r) for r in project["dependencies"]}
    extras = {
        extra: {requirement_name(r) for r in specs}
        for extra, specs in project.get("optional-dependencies", {}).items()
    }
    return required, extras


@dataclass(frozen=True)
class Import:
    path: Path
    line: int
    module: str  # the full dotted name, e.g. "fastapi.exceptions"
    lazy: bool  # inside a function or an ``if TYPE_CHECKING:`` block

    @property
    def top(self) -> str:
        return self.module.split(".")[0]

    def __str__(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line} imports {self.module}"


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(path: Path, node: ast.AST, lazy: bool = False) -> Iterator[Import]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Import):
            for alias in child.names:
                yield Import(path, child.lineno, alias.name, lazy)
        elif isinstance(child, ast.ImportFrom):
            if child.level == 0 and child.module:
                yield Import(path, child.lineno, child.module, lazy)
            elif child.level > 0:  # relative: always our own package
                yield Import(path, child.lineno, OWN, lazy)
        elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            yield from _imports(path, child, lazy=True)
        elif isinstance(child, ast.If) and _is_type_checking(child.test):
            for stmt in child.body:
                yield from _imports(path, ast.Module(body=[stmt], type_ignores=[]), lazy=True)
            for stmt in child.orelse:
                yield from _imports(path, ast.Module(body=[stmt], type_ignores=[]), lazy)
        else:
            yield from _imports(path, child, lazy)


def all_imports() -> list[Import]:
    found: list[Import] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        found.extend(_imports(path, ast.parse(path.read_text(encoding="utf-8"), str(path))))
    return found


def third_party(imports: list[Import]) -> list[Import]:
    return [
        imp
        for imp in imports
        if imp.top != OWN and imp.top not in sys.stdlib_module_names and imp.top != "__future__"
    ]


@functools.cache
def _providers() -> dict[str, list[str]]:
    return packages_distributions()  # scans every installed distribution: read once


def distributions_of(module: str) -> set[str]:
    return {normalise(d) for d in _providers().get(module, [])}


def test_the_walker_sees_imports_in_every_form() -> None:
    source = (
        "import a.b\nfrom c import d\nfrom . import e\n"
        "if TYPE_CHECKING:\n    import f\n"
        "def g():\n    import h\n"
        "try:\n    import i\nexcept ImportError:\n    pass\n"
    )
    found = {(i.module, i.lazy) for i in _imports(PACKAGE, ast.parse(source))}
    assert found == {
        ("a.b", False), ("c", False), (OWN, False), ("f", True), ("h", True), ("i", False)
    }


def test_every_third_party_import_is_a_declared_dependency() -> None:
    required, extras = declared()
    anywhere = required | set().union(*extras.values())
    imports = third_party(all_imports())
    assert imports, "the walker found no third-party imports at all"
    problems = []
    for imp in imports:
        dists = distributions_of(imp.top)
        if not dists:
            problems.append(f"{imp}: no installed distribution provides {imp.top!r}")
        elif not dists & anywhere:
            problems.append(f"{imp}: provided by {sorted(dists)}, which pyproject.toml does not declare")
    assert not problems, "\n".join(problems)


def test_sandbox_extra_is_imported_only_by_the_sandbox_or_lazily() -> None:
    required, extras = declared()
    only_sandbox = extras["sandbox"] - required
    assert {"fastapi", "uvicorn"} <= only_sandbox
    problems = []
    for imp in all_imports():
        if imp.lazy or imp.path.is_relative_to(SANDBOX_DIR):
            continue
        if imp.module == f"{OWN}.sandbox" or imp.module.startswith(f"{OWN}.sandbox."):
            problems.append(f"{imp}: import the sandbox inside the function that needs it")
        elif imp.top != OWN and distributions_of(imp.top) & only_sandbox:
            problems.append(f"{imp}: the [sandbox] extra may be missing here")
    assert not problems, "\n".join(problems)


def test_base_dependencies_do_not_come_from_an_extra() -> None:
    """A module the core imports at module level must be a base dependency, not extra-only."""
    required, extras = declared()
    extra_only = set().union(*extras.values()) - required - {"kyc-widgets"}
    problems = [
        str(imp)
        for imp in third_party(all_imports())
        if not imp.lazy
        and not imp.path.is_relative_to(SANDBOX_DIR)
        and distributions_of(imp.top) & extra_only
        and not distributions_of(imp.top) & required
    ]
    assert not problems, "\n".join(problems)
