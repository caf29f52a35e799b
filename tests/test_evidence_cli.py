"""The command line: batch --evidence (--signing-key), batch --dry-run --check-existing,
verify-evidence (strict reading, --head, --public-key, --against-api), evidence-key."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from factories import clean_sheet

from kyc_widgets.batch.evidence import chain_entries
from kyc_widgets.batch.signing import load_signing_key, sign_record
from kyc_widgets.cli.main import main
from kyc_widgets.sandbox import Sandbox


def test_evidence_written_then_verified_then_tampering_exits_1(
    env: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sheet = clean_sheet(tmp_path, prefix="V")
    out = tmp_path / "evidence.json"
    assert main(["batch", str(sheet), "--campaign", "cli", "--quiet", "--evidence", str(out)]) == 0
    printed = capsys.readouterr().out
    record = json.loads(out.read_text(encoding="utf-8"))
    assert f"chain head {record['chain']['head']}" in printed
    assert out.with_suffix(".html").is_file()
    assert record["sheet"]["file_name"] == "clean.csv" and record["counts"]["created"] == 4
    assert "Li" not in json.dumps(record["entries"]) and env.token not in out.read_text()

    assert main(["verify-evidence", str(out), "--head", record["chain"]["head"]]) == 0
    verified = capsys.readouterr().out
    assert verified.startswith("OK: 4 entries")
    assert "Anchored by the chain head given: the record was not rewritten." in verified
    record["entries"][1]["status"] = "exists"
    out.write_text(json.dumps(record), encoding="utf-8")
    assert main(["verify-evidence", str(out)]) == 1
    assert "entry 1 (sheet row 3) was edited" in capsys.readouterr().out
    assert main(["verify-evidence", str(tmp_path / "missing.json")]) == 2


def test_verify_evidence_is_registered_on_the_command(env: Any, tmp_path: Path) -> None:
    out = tmp_path / "e.json"
    assert main(["batch", str(clean_sheet(tmp_path, 2, prefix="V")), "--campaign", "cli", "--quiet",
                 "--evidence", str(out)]) == 0
    done = subprocess.run([sys.executable, "-m", "kyc_widgets", "verify-evidence", str(out)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0 and "OK: 2 entries" in done.stdout


def test_dry_run_check_existing_creates_nothing(
    env: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    sheet = clean_sheet(tmp_path, prefix="V")
    assert main(["batch", str(sheet), "--campaign", "cli", "--quiet"]) == 0
    capsys.readouterr()
    env.reset_counts()
    assert main(["batch", str(sheet), "--campaign", "cli", "--quiet", "--dry-run",
                 "--check-existing"]) == 0
    out = capsys.readouterr().out
    assert "Dry run: 4 rows" in out and "Already existed: 4" in out
    assert env.request_count(method="POST") == 0 and env.case_count() == 4

    assert main(["batch", str(sheet), "--campaign", "other", "--quiet", "--dry-run",
                 "--check-existing"]) == 0
    assert "Would be created (dry run): 4" in capsys.readouterr().out
    assert env.case_count() == 4

    assert main(["batch", str(sheet), "--campaign", "cli", "--check-existing"]) == 2
    monkeypatch.setenv("KYC_API_TOKEN", "wrong-token")
    assert main(["batch", str(sheet), "--campaign", "cli", "--quiet", "--dry-run",
                 "--check-existing"]) == 2  # a refused token stops the check like a real run
    monkeypatch.delenv("KYC_API_TOKEN")
    assert main(["batch", str(sheet), "--campaign", "cli", "--dry-run", "--check-existing"]) == 2


# --------------------------------------------------------------------------- strict reading


def _written(env: Any, tmp_path: Path, *extra: str) -> tuple[Path, dict[str, Any]]:
    out = tmp_path / "evidence.json"
    sheet = clean_sheet(tmp_path, prefix="V")
    assert main(["batch", str(sheet), "--campaign", "cli", "--quiet", "--evidence", str(out),
                 *extra]) == 0
    return out, json.loads(out.read_text(encoding="utf-8"))


def _verify(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["verify-evidence", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_duplicate_and_unknown_keys_are_refused_even_with_the_original_head(
    env: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, record = _written(env, tmp_path)
    head = record["chain"]["head"]
    original = out.read_text(encoding="utf-8")
    # Python's json keeps the last of two keys, other readers the first: one file, two readings.
    doubled = original.replace('"status": "created"', '"status": "created", "status": "invalid"', 1)
    out.write_text(doubled, encoding="utf-8")
    code, printed, err = _verify(capsys, str(out), "--head", head)
    assert code == 1 and err == ""
    assert printed == "NOT OK: the record is malformed: duplicate key 'status' in entry 0: one " \
                      "record, two readings\n"
    done = subprocess.run([sys.executable, "-m", "kyc_widgets", "verify-evidence", str(out)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1 and done.stderr == "" and done.stdout == printed  # the real command
    for edit, where in (
        (lambda r: r["chain"].update(approved_by="auditor"), "chain has an unknown key 'approved_by'"),
        (lambda r: r["entries"][2].update(note="fine"), "entry 2 has an unknown key 'note'"),
        (lambda r: r.update(comment="ok"), "the record has an unknown key 'comment'"),
        (lambda r: r["sheet"].update(owner="x"), "sheet has an unknown key 'owner'"),
    ):
        changed = json.loads(original)
        edit(changed)
        out.write_text(json.dumps(changed), encoding="utf-8")
        code, printed, _ = _verify(capsys, str(out), "--head", head)
        assert code == 1 and printed == f"NOT OK: the record is malformed: {where}\n"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "not valid JSON"),
        ('{"format": "kyc-widgets/campaign-evidence/2", "entries": [', "not valid JSON"),
        ("[1, 2]", "the record is a list, not an evidence record"),
        ('{"format": "something/else"}', "not an evidence record of a known format"),
        ("\udcff", "not UTF-8"),
        (None, "counts is a list, not an object"),
        (None, "entry 1 is a string, not an object"),
        (None, "entry 0.sheet_row is true or false, not a number or null"),
        (None, "NaN is not a JSON value"),
        (None, "chain has no 'head'"),
    ],
)
def test_a_malformed_record_is_one_line_and_exit_1_never_a_traceback(
    env: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str | None, says: str
) -> None:
    out, record = _written(env, tmp_path)
    if text == "\udcff":
        out.write_bytes(b'{"format": "\xff"}')
    elif text is not None:
        out.write_text(text, encoding="utf-8")
    else:
        broken = {
            "counts is a list, not an object": lambda r: r.update(counts=[]),
            "entry 1 is a string, not an object": lambda r: r["entries"].__setitem__(1, "x"),
            "entry 0.sheet_row is true or false, not a number or null":
                lambda r: r["entries"][0].update(sheet_row=True),
            "NaN is not a JSON value": lambda r: r["options"].update(max_rate=float("nan")),
            "chain has no 'head'": lambda r: r["chain"].pop("head"),
        }[says]
        broken(record)
        out.write_text(json.dumps(record), encoding="utf-8")
    code, printed, err = _verify(capsys, str(out))
    assert code == 1 and err == "" and "Traceback" not in printed
    assert printed.startswith("NOT OK: the record is malformed: ") and says in printed
    assert printed.count("\n") == 1


def test_usage_errors_exit_2(env: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out, _ = _written(env, tmp_path)
    code, _, err = _verify(capsys, str(out), "--head", "abc")
    assert code == 2 and "64 hexadecimal digits" in err
    code, _, err = _verify(capsys, str(out), "--public-key", str(tmp_path / "none.pub"))
    assert code == 2 and "no such public key file" in err
    code, _, err = _verify(capsys, str(out), "--public-key", str(out))
    assert code == 2 and "is not a public key" in err
    code, _, err = _verify(capsys, str(tmp_path))
    assert code == 2 and "no such file" in err


# --------------------------------------------------------------------------- signing


def test_a_signed_record_catches_a_rewrite_without_the_head(
    env: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "keys" / "analyst.key"
    key.parent.mkdir()
    assert main(["evidence-key", str(key)]) == 0
    made = capsys.readouterr().out
    key_id = made.split("Key id: ")[1].strip()
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and key_id.startswith("sha256:")
    assert main(["evidence-key", str(key)]) == 2  # a key is never overwritten
    assert "never overwritten" in capsys.readouterr().err

    out, record = _written(env, tmp_path, "--signing-key", str(key))
    assert record["chain"]["signature"]["key_id"] == key_id
    public = f"{key}.pub"
    code, printed, _ = _verify(capsys, str(out), "--public-key", public)
    assert code == 0 and f"Anchored by the signature of key {key_id}" in printed
    code, printed, _ = _verify(capsys, str(out))  # no anchor: said plainly, with the key id
    assert code == 0 and "Not anchored" in printed and key_id in printed

    # Rewritten (an entry changed, the chain recomputed): consistent, but the signature fails.
    entries = [{k: v for k, v in e.items() if k not in ("seq", "prev", "hash")}
               for e in record["entries"]]
    entries[0]["case_id"] = "forged"
    header = {k: v for k, v in record.items() if k not in ("entries", "chain")}
    forged = chain_entries(header, entries)
    out.write_text(json.dumps({**forged, "chain": {**forged["chain"],
                                                   "signature": record["chain"]["signature"]}}))
    assert _verify(capsys, str(out))[0] == 0  # alone it cannot tell...
    code, printed, _ = _verify(capsys, str(out), "--public-key", public)
    assert code == 1 and "the signature does not verify" in printed  # ...the key can
    other = tmp_path / "mallory.key"
    assert main(["evidence-key", str(other)]) == 0
    out.write_text(json.dumps(sign_record(forged, load_signing_key(other))))
    code, printed, _ = _verify(capsys, str(out), "--public-key", public)
    assert code == 1 and "signed (or re-signed) with another key" in printed
    out.write_text(json.dumps(forged))
    code, printed, _ = _verify(capsys, str(out), "--public-key", public)
    assert code == 1 and "the record is not signed" in printed


def test_a_signing_key_others_can_read_is_refused_before_anything_is_sent(
    env: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "analyst.key"
    assert main(["evidence-key", str(key)]) == 0
    key.chmod(0o644)
    sheet = clean_sheet(tmp_path, prefix="K")
    code = main(["batch", str(sheet), "--campaign", "k", "--quiet", "--evidence",
                 str(tmp_path / "e.json"), "--signing-key", str(key)])
    err = capsys.readouterr().err
    assert code == 2 and "can be read by other users" in err and "Nothing was sent" in err
    assert env.request_count() == 0 and env.case_count() == 0
    assert main(["batch", str(sheet), "--campaign", "k", "--quiet",
                 "--signing-key", str(key)]) == 2  # a key without --evidence: nothing to sign
    assert "use it with --evidence" in capsys.readouterr().err


# --------------------------------------------------------------------------- against the API


def test_against_api_reports_a_missing_case_other_values_and_another_creator(
    env: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, record = _written(env, tmp_path)
    code, printed, _ = _verify(capsys, str(out), "--against-api")
    assert code == 0
    assert f"API: the 4 case(s) the record calls created or existing are on {env.base_url}" in printed

    ids = [entry["kyc_case_id"] for entry in record["entries"]]
    with contextlib.closing(sqlite3.connect(env.db_path)) as db, db:
        db.execute("DELETE FROM kyc_cases WHERE kyc_case_id = ?", (ids[0],))
        payload = json.loads(db.execute("SELECT payload FROM kyc_cases WHERE kyc_case_id = ?",
                                        (ids[1],)).fetchone()[0])
        payload["assigned_team"] = "Another team"
        db.execute("UPDATE kyc_cases SET payload = ? WHERE kyc_case_id = ?",
                   (json.dumps(payload), ids[1]))
        db.execute("UPDATE kyc_cases SET created_by = 'mallory@sandbox' WHERE kyc_case_id = ?",
                   (ids[2],))
    code, printed, _ = _verify(capsys, str(out), "--against-api")
    assert code == 1
    assert f"NOT OK against the API ({env.base_url}): 3 problem(s) in 4 case(s) looked up:" in printed
    assert ("- entry 0 (sheet row 2): the record says created, but the API has no case with its "
            "external case id") in printed
    assert "- entry 1 (sheet row 3): the API's case holds other values than the record says " \
           "were sent" in printed
    assert "- entry 2 (sheet row 4): the API's case was created by 'mallory@sandbox', who is " \
           "not among the record's principals" in printed
    assert "entry 3" not in printed
    assert "Another team" not in printed and "Li" not in printed  # verdicts, never values


def test_against_api_needs_the_record_s_api_and_an_accepted_token(
    env: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    out, _ = _written(env, tmp_path)
    with Sandbox(tokens=env.tokens) as other:
        code, _, err = _verify(capsys, str(out), "--against-api", "--base-url", other.base_url)
    assert code == 2 and f"the record was made against {env.base_url}" in err
    monkeypatch.setenv("KYC_API_TOKEN", "wrong-token")
    code, _, err = _verify(capsys, str(out), "--against-api")
    assert code == 2 and "the API refused the token (HTTP 401)" in err
    monkeypatch.delenv("KYC_API_TOKEN")
    code, _, err = _verify(capsys, str(out), "--against-api")
    assert code == 2 and "no token" in err
