"""The journal is bound to its API and never taken on its word: counted on the sandbox.

A resumed run skips a row only when the API holds the case the journal names
(:mod:`kyc_widgets.batch.resume`); a journal written against another API is
refused before anything is sent. Every test ends by counting on the sandbox:
no row is reported created unless the API has it.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from factories import campaign_frame, clean_sheet

from kyc_widgets.batch import BatchProgress, batch_create, preflight
from kyc_widgets.batch.journal import (
    JOURNAL_FORMAT,
    Journal,
    JournalEntry,
    JournalHeader,
    JournalMismatchError,
)
from kyc_widgets.batch.report import BatchReport
from kyc_widgets.cli.main import main
from kyc_widgets.sandbox import Sandbox


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _held_by(sandbox: Sandbox, report: BatchReport) -> None:
    """Every row reported created or existing is a case the sandbox holds (and no more)."""
    done = report.results[report.results["status"].isin(["created", "exists"])]
    with sandbox.client() as api:
        for kyc_case_id, case_id in zip(done["kyc_case_id"], done["case_id"]):
            found = api.get_case(kyc_case_id)
            assert pd.isna(case_id) or found.case.id == case_id
    assert report.summary()["created"] <= sandbox.case_count()


def _ids(frame: pd.DataFrame, campaign: str) -> list[str]:
    return preflight(frame, campaign=campaign).kyc_case_id.tolist()


def test_the_header_names_the_api_campaign_and_first_principal(
    sandbox: Sandbox, client: Any, tmp_path: Path
) -> None:
    journal = tmp_path / "run.jsonl"
    report = batch_create(client, campaign_frame(3), campaign="Q1 bound", journal=journal,
                          progress=False)
    header, *outcomes = _lines(journal)
    assert header == {"journal": JOURNAL_FORMAT, "api_base_url": sandbox.base_url,
                      "campaign": "q1-bound", "principal": sandbox.principal,
                      "started_at": report.runs[-1]["started_at"]}
    assert len(outcomes) == 3 and {o["principal"] for o in outcomes} == {sandbox.principal}
    # The principal is known only once the API has answered: a refused first request says null.
    refused = tmp_path / "refused.jsonl"
    with sandbox.client(token="expired-token") as api:
        batch_create(api, campaign_frame(2, prefix="R"), campaign="r", journal=refused,
                     concurrency=1, progress=False)
    assert _lines(refused)[0]["principal"] is None


def test_hand_forged_lines_never_count_as_created(
    sandbox: Sandbox, client: Any, tmp_path: Path
) -> None:
    frame = campaign_frame(5, prefix="F")
    ids = _ids(frame, "forged")
    batch_create(client, frame.iloc[:2], campaign="forged", progress=False)  # rows 0, 1 exist
    held = client.get_case(ids[1]).case
    journal = tmp_path / "forged.jsonl"
    with Journal(journal, JournalHeader(sandbox.base_url, "forged", sandbox.principal)) as j:
        for kyc_case_id in ids[2:]:  # "created", says the file; the API has never seen them
            j.append(JournalEntry(kyc_case_id, "created", case_id="forged-id",
                                  principal=sandbox.principal, campaign="forged"))
        j.append(JournalEntry(ids[0], "created", case_id="wrong-id", principal=sandbox.principal))
        j.append(JournalEntry(ids[1], "created", case_id=held.id, principal="someone@else"))
    sandbox.reset_counts()

    report = batch_create(client, frame, campaign="forged", journal=journal, progress=False)
    status = report.results["status"].tolist()
    assert status == ["exists", "exists", "created", "created", "created"]
    assert sandbox.case_count() == 5  # the three "created" rows exist now because they were sent
    assert sandbox.request_count(method="POST") == 5 and sandbox.request_count(method="GET") == 5
    assert "forged-id" not in report.results["case_id"].tolist()
    assert report.results["note"].str.contains("the API has no such case").sum() == 3
    assert any("does not confirm" in warning for warning in report.warnings)
    _held_by(sandbox, report)
    record = report.evidence()
    assert [run.get("from_journal") for run in record["runs"]] == [None]  # nothing confirmed


def test_a_journal_from_another_sandbox_is_refused_before_anything_is_sent(
    sandbox: Sandbox, client: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sheet = clean_sheet(tmp_path, prefix="J")
    journal = tmp_path / "elsewhere.jsonl"
    with Sandbox(db=tmp_path / "elsewhere.sqlite3", tokens=sandbox.tokens) as elsewhere:
        monkeypatch.setenv("KYC_API_BASE_URL", elsewhere.base_url)
        monkeypatch.setenv("KYC_API_TOKEN", elsewhere.token)
        assert main(["batch", str(sheet), "--campaign", "j", "--quiet", "--journal", str(journal)]) == 0
        assert elsewhere.case_count() == 4
        elsewhere_url = elsewhere.base_url
    capsys.readouterr()
    monkeypatch.setenv("KYC_API_BASE_URL", sandbox.base_url)
    monkeypatch.setenv("KYC_API_TOKEN", sandbox.token)
    assert main(["batch", str(sheet), "--campaign", "j", "--quiet", "--journal", str(journal)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"was written against the API at {elsewhere_url}" in err and "Nothing was sent" in err
    assert sandbox.request_count() == 0 and sandbox.case_count() == 0
    with pytest.raises(JournalMismatchError):
        batch_create(client, pd.read_csv(sheet, dtype=str), campaign="j", journal=journal,
                     progress=False)
    assert sandbox.request_count() == 0


def test_another_sandbox_s_lines_under_this_api_s_header_are_looked_up_and_sent(
    sandbox: Sandbox, client: Any, tmp_path: Path
) -> None:
    """The header stripped or rewritten to name this API: its lines are still not believed."""
    frame = campaign_frame(4, prefix="H")
    journal = tmp_path / "copied.jsonl"
    with Sandbox(db=tmp_path / "other.sqlite3", tokens=sandbox.tokens) as other, other.client() as api:
        assert batch_create(api, frame, campaign="h", journal=journal,
                            progress=False).summary()["created"] == 4
    lines = _lines(journal)
    assert lines[0]["api_base_url"] == other.base_url
    for header in ([], [{**lines[0], "api_base_url": sandbox.base_url}]):
        journal.write_text("".join(json.dumps(line) + "\n" for line in [*header, *lines[1:]]))
        report = batch_create(client, frame, campaign="h", journal=journal, progress=False)
        assert report.summary()["created"] + report.summary()["exists"] == 4
        assert sandbox.case_count() == 4
        _held_by(sandbox, report)
    assert sandbox.request_count(method="POST") == 8  # 4 created, then 4 refused with 409


def test_a_resumed_run_looks_up_what_the_journal_says_landed(
    sandbox: Sandbox, client: Any, tmp_path: Path
) -> None:
    sandbox.settings.latency_ms = 20
    journal = tmp_path / "resume.jsonl"
    frame = campaign_frame(12, prefix="Z")
    cancel = threading.Event()

    def on_progress(progress: BatchProgress) -> None:
        cancel.set()

    first = batch_create(client, frame, campaign="z", concurrency=2, journal=journal,
                         cancel=cancel, on_progress=on_progress, progress=False)
    landed = first.summary()["created"]
    assert 0 < landed < 12
    sandbox.reset_counts()
    second = batch_create(client, frame, campaign="z", journal=journal, progress=False)
    assert second.summary()["created"] == 12 == sandbox.case_count()
    assert sandbox.request_count(method="GET") == landed  # one lookup per journaled row
    assert sandbox.request_count(method="POST") == 12 - landed  # nothing created twice
    confirmed = second.results["note"].str.contains("confirmed on the API", na=False)
    assert confirmed.sum() == landed and not second.warnings
    assert [o["principal"] for o in _lines(journal)[1:]] == [sandbox.principal] * 12


def test_a_colleague_resumes_and_the_record_names_both(tmp_path: Path) -> None:
    tokens = {"tok-ann": "ann@bank", "tok-bob": "bob@bank"}
    journal = tmp_path / "shared.jsonl"
    frame = campaign_frame(6, prefix="C")
    with Sandbox(tokens=tokens) as sandbox:
        with sandbox.client(token="tok-ann") as ann:
            batch_create(ann, frame.iloc[:3], campaign="c", journal=journal, progress=False)
        with sandbox.client(token="tok-bob") as bob:
            report = batch_create(bob, frame, campaign="c", journal=journal, progress=False)
        assert report.summary()["created"] == 6 == sandbox.case_count()
        assert sandbox.request_count(method="POST") == 6
    assert any("started by principal 'ann@bank'" in w for w in report.warnings)
    record = report.evidence()
    assert record["principals"] == ["ann@bank", "bob@bank"]
    assert [run["principals"] for run in record["runs"]] == [["ann@bank"], ["bob@bank"]]
    assert _lines(journal)[0]["principal"] == "ann@bank"


def test_lines_that_are_not_the_journal_s_own_are_ignored(tmp_path: Path) -> None:
    path = tmp_path / "odd.jsonl"
    good = {"kyc_case_id": "A", "status": "created", "case_id": "1"}
    path.write_text("\n".join([
        json.dumps({"journal": JOURNAL_FORMAT, "api_base_url": "http://127.0.0.1:1",
                    "campaign": "c", "principal": None, "started_at": None}),
        json.dumps(good),
        '{"kyc_case_id": "B", "status": "created", "status": "failed"}',  # two readings
        json.dumps({**good, "kyc_case_id": "C", "trusted": True}),  # unknown key
        json.dumps({**good, "kyc_case_id": "D", "status": "done"}),  # not a status
        json.dumps({"journal": JOURNAL_FORMAT, "api_base_url": "http://elsewhere"}),  # not first
        json.dumps({**good, "kyc_case_id": "E", "http_status": "201"}),  # wrong type
        json.dumps({**good, "kyc_case_id": "F", "http_status": 99999}),  # not an HTTP status
        json.dumps({**good, "kyc_case_id": "G", "case_id": "\ud800"}),  # not text: \ud800
        json.dumps({**good, "kyc_case_id": "H", "status": ["created"]}),  # not a word
        "[" * 100_000,  # deeper than the JSON reader goes
    ]) + "\n")
    contents = Journal(path).read()
    assert contents.header is not None and contents.header.api_base_url == "http://127.0.0.1:1"
    assert sorted(contents.entries) == ["A"] and contents.ignored == 9


def test_a_dry_run_does_not_take_the_journal_s_word(
    sandbox: Sandbox, client: Any, tmp_path: Path
) -> None:
    journal = tmp_path / "dry.jsonl"
    frame = campaign_frame(3, prefix="D")
    batch_create(client, frame, campaign="d", journal=journal, progress=False)
    report = batch_create(client, frame, campaign="d", journal=journal, mode="check_rows",
                          progress=False)
    assert report.summary()["would_create"] == 3
    assert any("a real run looks each one up" in w for w in report.warnings)
