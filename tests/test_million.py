"""Issue 22 (a million rows): what is done in chunks gives what is done whole, row for row,
and a run killed in the middle resumes creating each row once. Not timed
(``benchmarks/bench_million.py`` measures time and memory)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from factories import campaign_frame

from kyc_widgets.batch import batch_create, exports, run, validation
from kyc_widgets.batch.exports import write_csv, write_xlsx
from kyc_widgets.batch.status import RowStatus
from kyc_widgets.sandbox import Sandbox

HOSTILE = ["=1+1", "ok", None, "-x", "@SUM", "\tx", "-100", "+2.5", " =cmd", "bell\x07",
           "line\nbreak", "Ólafsdóttir", "", "cr\rcell"]


def _hostile_frame(n: int) -> pd.DataFrame:
    frame = campaign_frame(n)
    frame["Notes"] = pd.Series([HOSTILE[i % len(HOSTILE)] for i in range(n)], dtype=object)
    frame["Typed"] = pd.array([HOSTILE[(i * 5) % len(HOSTILE)] for i in range(n)], dtype="string")
    frame["Count"] = range(n)
    frame["Mixed"] = pd.Series([i if i % 3 else f"={i}" for i in range(n)], dtype=object)
    frame["=Header\x0b"] = "x"
    return frame


def test_csv_written_in_chunks_is_the_whole_file_byte_for_byte(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    frame = _hostile_frame(61)
    whole = tmp_path / "whole.csv"
    escaped_whole = write_csv(frame, whole)
    monkeypatch.setattr(exports, "CSV_CHUNK_ROWS", 7)
    chunked = tmp_path / "chunked.csv"
    escaped_chunked = write_csv(frame, chunked)
    assert chunked.read_bytes() == whole.read_bytes()
    assert escaped_chunked == escaped_whole > 0


def test_large_xlsx_through_constant_memory_holds_the_same_cells(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    frame = exports.neutralise_formulas(_hostile_frame(40))
    small = tmp_path / "small.xlsx"
    escaped_small = write_xlsx(frame, small, sheet_name="report")
    monkeypatch.setattr(exports, "CSV_CHUNK_ROWS", 9)  # 40 rows count as large now
    large = tmp_path / "large.xlsx"
    escaped_large = write_xlsx(frame, large, sheet_name="report")
    assert escaped_large == escaped_small
    read = {p: pd.read_excel(p, dtype=object, engine="openpyxl") for p in (small, large)}
    pd.testing.assert_frame_equal(read[small], read[large])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["large.xlsx", "small.xlsx"]  # no temp left


def _journal_lines(path: Path) -> list[tuple[Any, ...]]:
    _header, *lines = [json.loads(line) for line in path.read_text().splitlines()]
    return sorted((x["kyc_case_id"], x["status"], x["http_status"]) for x in lines)


def _run_on_fresh_sandbox(frame: pd.DataFrame, folder: Path) -> dict[str, Any]:
    folder.mkdir()
    with Sandbox() as sandbox, sandbox.client() as client:
        report = batch_create(client, frame, campaign="chunks", journal=folder / "run.journal",
                              progress=False)
        assert sandbox.case_count() == report.summary()[RowStatus.CREATED]
    results = report.results.drop(columns=["case_id", "request_id"])
    entries = [
        {k: e[k] for k in ("seq", "sheet_row", "kyc_case_id", "status", "http_status")}
        for e in report.evidence()["entries"]
    ]
    return {"results": results, "journal": _journal_lines(folder / "run.journal"),
            "evidence": entries, "summary": report.summary()}


def test_a_run_in_small_chunks_equals_a_whole_run_row_for_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    frame = campaign_frame(45)
    frame.loc[[3, 17], "user_type"] = "robot"  # invalid rows: reported, never sent
    frame = pd.concat([frame, frame.iloc[[5]]], ignore_index=True)  # a duplicate in the sheet
    whole = _run_on_fresh_sandbox(frame, tmp_path / "whole")
    monkeypatch.setattr(run._Bodies, "CHUNK", 4)
    monkeypatch.setattr(exports, "CSV_CHUNK_ROWS", 5)
    monkeypatch.setattr(validation, "WINDOW", 6)  # the pre-flight reads the sheet 6 rows at a time
    chunked = _run_on_fresh_sandbox(frame, tmp_path / "chunked")
    assert whole["summary"][RowStatus.CREATED] == 43
    pd.testing.assert_frame_equal(chunked["results"], whole["results"])
    assert chunked["journal"] == whole["journal"]
    assert chunked["evidence"] == whole["evidence"]


def _count_lines(path: Path) -> int:
    try:
        with path.open("rb") as handle:
            return sum(1 for _ in handle)
    except FileNotFoundError:
        return 0


def test_a_run_killed_in_the_middle_resumes_creating_each_row_once(tmp_path: Path) -> None:
    rows = 5_000
    sheet = tmp_path / "big.csv"
    campaign_frame(rows).to_csv(sheet, index=False)
    journal = tmp_path / "run.journal"
    with Sandbox() as sandbox:
        sandbox.settings.latency_ms = 2  # a remote API, a little; the kill lands mid-run
        env = {**os.environ, "KYC_API_BASE_URL": sandbox.base_url, "KYC_API_TOKEN": sandbox.token}
        command = [sys.executable, "-m", "kyc_widgets", "batch", str(sheet), "--campaign", "kill",
                   "--journal", str(journal), "--concurrency", "4", "--quiet"]
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while _count_lines(journal) < rows // 4 and time.monotonic() < deadline:
            assert process.poll() is None, "the run ended before it could be killed"
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
        assert process.wait(30) == -signal.SIGKILL
        created_before = sandbox.case_count()
        assert rows // 4 <= created_before < rows  # killed in the middle

        sandbox.reset_counts()
        again = subprocess.run([*command, "--report", str(tmp_path / "report.csv")], env=env,
                               capture_output=True, text=True, timeout=300)
        assert again.returncode == 0, again.stdout + again.stderr
        assert sandbox.case_count() == rows  # every row once
        posts = sandbox.request_count(method="POST")
        journaled = len(_journal_lines(journal))
        assert posts <= rows - created_before + 8  # journaled rows are looked up, not sent
    report = pd.read_csv(tmp_path / "report.csv", dtype=str, encoding="utf-8-sig")
    assert set(report["status"]) <= {"created", "exists"}
    assert report["kyc_case_id"].is_unique and len(report) == rows
    assert journaled >= rows


def test_ids_derived_per_distinct_identity_equal_the_one_row_rule() -> None:
    from kyc_widgets.batch.identity import derive_case_id, derive_case_ids

    frame = pd.DataFrame(
        {
            "regulated_provider_name": ["A  b", "a B", None, "Ö"] * 5,
            "programme_name": ["x", "x", "y", None] * 5,
            "user_internal_id": [str(i % 7) for i in range(20)],
            "user_type": ["individual"] * 20,
            "relationship_type": [None, "r"] * 10,
        },
        dtype=object,
    )
    for each in (frame, frame.drop(columns=["programme_name"]), frame.iloc[:0]):
        expected = [derive_case_id("Camp 1", row) for row in each.to_dict("records")]
        assert derive_case_ids("Camp 1", each).tolist() == expected
