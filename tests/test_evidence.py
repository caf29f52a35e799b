"""The campaign's evidence record: written, verified, and every kind of tampering detected."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from factories import campaign_frame

from kyc_widgets import verify_evidence
from kyc_widgets.batch import BatchProgress, batch_create, read_campaign
from kyc_widgets.batch.evidence import chain_entries
from kyc_widgets.sandbox import Sandbox

DATA = Path(__file__).parent / "data"
SHEET = DATA / "messy_campaign.csv"
NAMES = ("Zoë", "Müller", "Jónsson", "Ólafur", "李", "王", "Existing", "HYPERLINK", "Kim", "Lee")
EMAILS = ("analyst@example.org",)
USER_IDS = ("00123", "00456", "00789", "01000", "02000", "03000", "04000", "04001", "05000")


@pytest.fixture
def written(sandbox: Sandbox, client: Any, tmp_path: Path) -> Path:
    report = batch_create(client, read_campaign(SHEET), campaign="audit", progress=False)
    path = tmp_path / "evidence.json"
    report.to_evidence(path)
    return path


@contextlib.contextmanager
def editing(path: Path) -> Iterator[dict[str, Any]]:
    """The record as JSON, written back when the block ends: an edit made by hand."""
    record = json.loads(path.read_text(encoding="utf-8"))
    yield record
    path.write_text(json.dumps(record), encoding="utf-8")


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in [str(k), *_strings(v)]]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []


def test_written_and_verified_with_the_facts_an_auditor_asks_for(
    written: Path, sandbox: Sandbox
) -> None:
    record = json.loads(written.read_text(encoding="utf-8"))
    check = verify_evidence(written)
    assert check.ok and bool(check) and not check.problems
    assert check.head == record["chain"]["head"] and check.entries == 11
    assert record["sheet"]["file_name"] == "messy_campaign.csv" and record["sheet"]["rows"] == 11
    assert len(record["sheet"]["sha256"]) == 64 and record["sheet"]["hashed"] == "when read"
    assert record["api_base_url"] == sandbox.base_url
    assert record["principals"] == [sandbox.principal]
    assert record["started_at"].endswith("Z") and record["finished_at"] >= record["started_at"]
    assert record["mapping"]["columns"]["Assigned analyst e-mail"] == "assigned_analyst_email"
    assert record["options"]["campaign"] == "audit"
    created = [e for e in record["entries"] if e["status"] == "created"]
    # How the messy sheet's rows are classified is test_batch_sending's; here: counts = entries.
    assert record["counts"]["created"] == len(created) >= 5 and record["counts"]["invalid"] == 3
    assert all(e["case_id"] and e["request_id"] and e["http_status"] == 201 for e in created)
    assert [e["sheet_row"] for e in record["entries"]] == [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13]
    summary = written.with_suffix(".html").read_text(encoding="utf-8")
    assert record["chain"]["head"] in summary and "messy_campaign.csv" in summary


def test_no_personal_data_in_the_record_or_its_summary(written: Path) -> None:
    for path in (written, written.with_suffix(".html")):
        text = path.read_text(encoding="utf-8")
        for value in (*NAMES, *EMAILS):
            assert value not in text
    strings = _strings(json.loads(written.read_text(encoding="utf-8")))
    for user_id in USER_IDS:
        assert user_id not in strings  # hex digests may contain the digits by chance; no value is one
        assert f'"{user_id}"' not in written.read_text(encoding="utf-8")


def test_one_changed_byte_in_one_entry_is_detected(written: Path) -> None:
    record = json.loads(written.read_text(encoding="utf-8"))
    request_id = record["entries"][4]["request_id"] or record["entries"][0]["request_id"]
    data = written.read_bytes()
    at = data.index(request_id.encode()) + len(request_id) - 1
    changed = bytes([data[at] ^ 0x01])  # one byte, still valid JSON text
    written.write_bytes(data[:at] + changed + data[at + 1:])
    check = verify_evidence(written)
    assert not check.ok
    assert any("was edited" in problem for problem in check.problems)


def test_a_removed_entry_is_detected(written: Path) -> None:
    with editing(written) as record:
        del record["entries"][3]
    check = verify_evidence(written)
    assert not check.ok
    assert any("removed" in problem for problem in check.problems)


def test_a_removed_last_entry_is_detected(written: Path) -> None:
    with editing(written) as record:
        record["entries"].pop()
    assert not verify_evidence(written).ok


def test_two_swapped_entries_are_detected(written: Path) -> None:
    with editing(written) as record:
        entries = record["entries"]
        entries[2], entries[5] = entries[5], entries[2]
    check = verify_evidence(written)
    assert not check.ok
    assert any("reordered" in problem for problem in check.problems)


def test_an_edited_header_is_detected(written: Path) -> None:
    with editing(written) as record:
        record["sheet"]["file_name"] = "another.csv"
    assert any("header" in p for p in verify_evidence(written).problems)


def test_a_rewritten_chain_is_caught_by_the_head_kept_elsewhere(written: Path) -> None:
    record = json.loads(written.read_text(encoding="utf-8"))
    head = record["chain"]["head"]
    entries = [
        {k: v for k, v in e.items() if k not in ("seq", "prev", "hash")} for e in record["entries"]
    ]
    entries[0]["case_id"] = "forged"
    header = {k: v for k, v in record.items() if k not in ("entries", "chain")}
    written.write_text(json.dumps(chain_entries(header, entries)), encoding="utf-8")
    alone = verify_evidence(written)
    assert alone.ok and not alone.anchors  # consistent in itself, and it says that is all...
    assert "Not anchored: the file is consistent in itself" in str(alone)
    assert not verify_evidence(written, expected_head=head).ok  # ...but not the recorded head


def test_duplicate_and_unknown_keys_are_refused_with_the_original_head(written: Path) -> None:
    head = json.loads(written.read_text(encoding="utf-8"))["chain"]["head"]
    text = written.read_text(encoding="utf-8")
    written.write_text(text.replace('"status": "created"', '"status": "created", "status": "exists"', 1))
    check = verify_evidence(written, expected_head=head)
    assert not check.ok and check.malformed and len(check.problems) == 1
    assert str(check).startswith("NOT OK: the record is malformed: duplicate key 'status'")
    record = json.loads(text)
    record["chain"]["note"] = "checked by the auditor"  # covered by no hash: refused
    check = verify_evidence(record, expected_head=head)
    assert check.malformed and check.problems == ["the record is malformed: chain has an unknown key 'note'"]


def test_created_rows_carry_a_salted_hash_of_their_sent_values(written: Path, client: Any) -> None:
    from kyc_widgets.batch.evidence import sent_values_digest

    record = json.loads(written.read_text(encoding="utf-8"))
    sent = record["sent_values"]
    assert "current_status" not in sent["fields"] and "legal_last_name" in sent["fields"]
    assert len(sent["salt"]) == 32
    for entry in record["entries"]:
        assert ("values_sha256" in entry) == (entry["status"] == "created")
        if entry["status"] == "created":  # what the API holds hashes to what was sent
            stored = client.get_case(entry["kyc_case_id"]).case.model_dump(mode="json")
            assert sent_values_digest(sent["salt"], stored, sent["fields"]) == entry["values_sha256"]


def test_a_signed_record_verifies_with_the_key_file(
    sandbox: Sandbox, client: Any, tmp_path: Path
) -> None:
    from kyc_widgets.batch.evidence import write_evidence
    from kyc_widgets.batch.signing import generate_key, load_signing_key

    keys = generate_key(tmp_path / "analyst.key")
    report = batch_create(client, campaign_frame(2, prefix="S"), campaign="signed", progress=False)
    path = tmp_path / "signed.json"
    write_evidence(report.evidence(), path, signing_key=load_signing_key(keys.private))
    check = verify_evidence(path, public_key=keys.public)
    assert check.ok and check.key_id == keys.key_id
    assert check.anchors == (f"the signature of key {keys.key_id}",)
    assert keys.key_id in path.with_suffix(".html").read_text(encoding="utf-8")


def test_a_resumed_campaign_covers_all_its_runs(
    sandbox: Sandbox, client: Any, tmp_path: Path
) -> None:
    sandbox.settings.latency_ms = 20
    journal = tmp_path / "run.jsonl"
    frame = campaign_frame(20, prefix="E")
    cancel = threading.Event()

    def on_progress(progress: BatchProgress) -> None:
        cancel.set()

    first = batch_create(client, frame, campaign="resume", concurrency=2, journal=journal,
                         cancel=cancel, on_progress=on_progress, progress=False)
    assert first.summary()["not_attempted"] > 0
    second = batch_create(client, frame, campaign="resume", concurrency=4, journal=journal,
                          progress=False)
    record = second.evidence()
    assert verify_evidence(record).ok
    assert len(record["runs"]) == 2
    assert record["runs"][0]["started_at"] == first.runs[0]["started_at"]
    assert record["runs"][0]["rows_sent"] == first.summary()["created"]
    assert record["started_at"] == first.runs[0]["started_at"]
    assert record["principals"] == [sandbox.principal]
    assert record["counts"]["created"] == 20 == sandbox.case_count()
    assert all(e["case_id"] and e["request_id"] for e in record["entries"])


def test_the_api_url_in_the_record_carries_no_credentials() -> None:
    from kyc_widgets.batch.evidence import public_url

    url = "https://user:secret@kyc.example.com:8443/base?access_token=abc#frag"
    assert public_url(url) == "https://kyc.example.com:8443/base"
    assert public_url("http://[::1]:8765") == "http://[::1]:8765"
