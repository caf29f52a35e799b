"""Hostile and broken files: each one read exactly or refused, in bounded time and memory.

Every file of the corpus (``tests/data/hostile/``, and the big ones
:data:`hostile_corpus.GENERATED` builds at test time) is read the way a
user's file is, in a subprocess whose address space is capped at 1 GiB: a
reader that asks for more fails there (a ``MemoryError``, or the process
killed) instead of taking the test run down, and the test says which file
did it. Each outcome is compared with ``expected.json``: the exact cells, or
the refusal's words and place. No file may crash, hang, take more than 10 s
of processor time or read silently wrong.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

import hostile_corpus as corpus
import pytest

ADDRESS_SPACE = 1 << 30
"""The memory a reading process may map: 1 GiB (the issue's target for a refused file)."""
PER_FILE_SECONDS = 10.0
"""The issue's target, as processor time: what a file costs, however busy the machine is."""
HUNG_SECONDS = 60.0
"""Wall-clock time past which a file counts as hung (a loaded CI runner stays far below)."""
REFUSALS = {"CampaignReadError", "MappingError"}


def _cap_memory() -> None:  # runs in the child, before it starts Python
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def read_in_subprocess(paths: list[Path], timeout: float) -> tuple[dict[str, dict[str, Any]], str]:
    """Each file's outcome from ``hostile_corpus.py read`` under the memory cap, and stderr."""
    env = {**os.environ, "MALLOC_ARENA_MAX": "2", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, str(Path(corpus.__file__)), "read", *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=_cap_memory,
        env=env,
        check=False,
    )
    outcomes = {}
    for line in done.stdout.splitlines():
        outcome = json.loads(line)
        outcomes[outcome["file"]] = outcome
    return outcomes, f"exit {done.returncode}; stderr: {done.stderr[-2000:]}"


def problems_with(name: str, got: dict[str, Any] | None, want: dict[str, Any]) -> list[str]:
    """How ``got`` differs from the expectation ``want`` (empty when it matches)."""
    if got is None:
        return [f"{name}: no outcome (the reading process died or hung on it)"]
    found = []
    if got["outcome"] != want["outcome"]:
        return [f"{name}: {got['outcome']} ({got.get('error')}: {got.get('message')}), expected {want['outcome']}"]
    if got["cpu_seconds"] > PER_FILE_SECONDS or got["seconds"] > HUNG_SECONDS:
        found.append(f"{name}: took {got['cpu_seconds']} s of processor, {got['seconds']} s in all")
    if want["outcome"] == "refused":
        if got["error"] not in REFUSALS:
            found.append(f"{name}: refused with {got['error']}, not a reading error")
        found += [
            f"{name}: the message lacks {fragment!r}: {got['message']}"
            for fragment in want["message"]
            if fragment not in got["message"]
        ]
        found += [
            f"{name}: {key} {got.get(key)!r}, expected {want[key]!r}"
            for key in ("line", "row", "cell")
            if key in want and got.get(key) != want[key]
        ]
        return found
    for key in ("columns", "rows"):
        if key in want and got.get(key) != want[key]:
            found.append(f"{name}: {key} {got.get(key)!r}, expected {want[key]!r}")
    for key, value in want.get("attrs", {}).items():
        if got["attrs"].get(key) != value:
            found.append(f"{name}: attrs[{key!r}] {got['attrs'].get(key)!r}, expected {value!r}")
    for row, lengths in want.get("cell_lengths", {}).items():
        for column, length in lengths.items():
            if len(got["rows"][row][column] or "") != length:
                found.append(f"{name}: cell {column} of row {row} is not {length} characters long")
    return found


def test_the_committed_corpus_is_what_its_writer_writes() -> None:
    """Every committed file has an expectation, and is byte for byte what ``SMALL`` builds."""
    expected = {name: want for name, want in corpus.expected().items() if not name.startswith("_")}
    committed = {p.name for p in corpus.CORPUS.iterdir() if p.name not in ("expected.json", ".gitattributes")}
    assert committed == set(corpus.SMALL)
    assert {name for name, want in expected.items() if not want.get("generated")} == committed
    assert {name for name, want in expected.items() if want.get("generated")} == set(corpus.GENERATED)
    for name, build in corpus.SMALL.items():
        assert (corpus.CORPUS / name).read_bytes() == build(), name


def test_every_committed_file_is_read_exactly_or_refused() -> None:
    names = sorted(corpus.SMALL)
    outcomes, process = read_in_subprocess([corpus.CORPUS / name for name in names], timeout=120)
    expected = corpus.expected()
    found = [p for name in names for p in problems_with(name, outcomes.get(name), expected[name])]
    assert not found, "\n".join([*found, process])


def test_big_generated_files_are_refused_in_bounded_time_and_memory(tmp_path: Path) -> None:
    paths = corpus.generate(tmp_path)
    outcomes, process = read_in_subprocess(paths, timeout=180)
    expected = corpus.expected()
    found = [p for path in paths for p in problems_with(path.name, outcomes.get(path.name), expected[path.name])]
    assert not found, "\n".join([*found, process])


def test_the_memory_cap_is_real() -> None:
    """The harness itself: a process that asks for 2 GiB under the cap gets a MemoryError."""
    done = subprocess.run(
        [sys.executable, "-c", "bytearray(2 << 30)"],
        capture_output=True,
        text=True,
        preexec_fn=_cap_memory,
        check=False,
        timeout=60,
    )
    assert done.returncode != 0 and "MemoryError" in done.stderr


@pytest.mark.parametrize("name", ["windows1252_smart_quotes.csv", "mixed_line_endings.csv"])
def test_corpus_files_read_in_process_as_in_the_subprocess(name: str) -> None:
    """The subprocess reads what a caller of read_campaign gets (no difference from the harness)."""
    from kyc_widgets.batch import read_campaign

    want = corpus.expected()[name]
    frame = read_campaign(corpus.CORPUS / name)
    assert list(frame.columns) == want["columns"]
    assert {str(row): record for row, record in frame.to_dict("index").items()} == want["rows"]
