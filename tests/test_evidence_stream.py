"""Issue 22: the evidence record written as its entries are made is the record built whole
(same bytes once parsed, same head, signature verifies), a chunk of entries at a time."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pandas as pd
import pytest
from factories import campaign_frame

from kyc_widgets.batch import batch_create, evidence
from kyc_widgets.batch.signing import (
    generate_key,
    load_public_key,
    load_signing_key,
    public_key_path,
)
from kyc_widgets.batch.status import RowStatus
from kyc_widgets.sandbox import Sandbox


@pytest.fixture(scope="module")
def report():  # type: ignore[no-untyped-def]
    frame = campaign_frame(23)
    frame.loc[[3, 17], "user_type"] = "robot"  # invalid: problems in the entries
    frame = pd.concat([frame, frame.iloc[[5]]], ignore_index=True)  # a duplicate in the sheet
    with Sandbox() as sandbox, sandbox.client() as client:
        made = batch_create(client, frame, campaign="stream", progress=False)
    assert made.summary()[RowStatus.CREATED] == 21
    return made


def test_a_record_written_in_chunks_is_the_record_built_whole(
    report, tmp_path: Path, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.setattr(secrets, "token_hex", lambda n: "5a" * n)  # one salt for both
    whole = evidence.build_evidence(report)
    monkeypatch.setattr(evidence, "_CHUNK", 4)  # 24 rows in 6 chunks
    path = tmp_path / "evidence.json"
    written = evidence.write_report_evidence(report, path)
    assert json.loads(path.read_text(encoding="utf-8")) == whole
    assert written.head == whole["chain"]["head"]
    assert any("problems" in e for e in whole["entries"])
    assert sum("values_sha256" in e for e in whole["entries"]) == 21
    assert written.summary.read_text(encoding="utf-8").count(written.head) == 1
    assert evidence.verify_evidence(path, expected_head=written.head)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["evidence.html", "evidence.json"]


def test_a_signed_record_written_in_chunks_verifies_with_the_public_key(
    report, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    key_path = tmp_path / "keys" / "analyst.key"
    key_path.parent.mkdir()
    generate_key(key_path)
    path = tmp_path / "evidence.json"
    report.to_evidence(path, signing_key=load_signing_key(key_path))
    public = load_public_key(public_key_path(key_path))
    assert evidence.verify_evidence(path, public_key=public)
    record = json.loads(path.read_text(encoding="utf-8"))
    record["entries"][2]["sheet_row"] += 100  # rewritten: the chain and signature catch it
    path.write_text(json.dumps(record), encoding="utf-8")
    assert not evidence.verify_evidence(path, public_key=public)
