"""The journal held as columns (issue 22) reads, claims and confirms what the line-by-line
reading did.

A resume used to hold a :class:`JournalEntry` per journaled id (~425 bytes a
line). It now holds Arrow columns (:class:`JournalEntries`), read a block of
lines at a time by one regular expression, every other line read strictly as
before. The oracle here is that earlier reading: the text file line by line,
each line through the same strict rules (:func:`journal._read_line`), the last
outcome per id in a dict. Hostile journals (ids said twice, later lines
overriding earlier ones, ids the sheet does not have, another campaign's
lines, escapes, torn and foreign lines, carriage returns, bytes that are not
UTF-8) must give the same header, the same count of ignored lines, the same
outcomes in the same order, and the same claimed rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from unittest import mock

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from factories import campaign_frame
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kyc_widgets.batch import batch_create, journal, preflight, resume
from kyc_widgets.batch.columns import ARROW_TEXT, compact_distinct
from kyc_widgets.batch.journal import (
    JOURNAL_FORMAT,
    Journal,
    JournalEntry,
    JournalHeader,
)
from kyc_widgets.batch.status import DONE_STATUSES
from kyc_widgets.sandbox import Sandbox

FIELDS = ("kyc_case_id", "status", "case_id", "request_id", "http_status", "at", "campaign",
          "run", "principal")
DONE = {status.value for status in DONE_STATUSES}


def _line_by_line(path: Path) -> tuple[JournalHeader | None, dict[str, JournalEntry], int]:
    """The reading before the columns: the text file line by line, a dict of entries."""
    state = SimpleNamespace(header=None, ignored=0)
    entries: dict[str, JournalEntry] = {}
    with path.open(encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle):
            line = line.strip()
            if line:
                entry = journal._read_line(line, number, state)  # type: ignore[arg-type]
                if entry is not None:
                    entries[entry.kyc_case_id] = entry
    return state.header, entries, state.ignored


@contextmanager
def _blocks(read_block: int, compact_after: int) -> Iterator[None]:
    """Smaller blocks and earlier dropping of repeated ids than a real journal gets."""
    with mock.patch.object(journal, "READ_BLOCK", read_block), \
            mock.patch.object(journal, "COMPACT_AFTER", compact_after):
        yield


def _assert_read_alike(path: Path) -> journal.JournalContents:
    header, entries, ignored = _line_by_line(path)
    contents = Journal(path).read()
    assert contents.header == header
    assert contents.ignored == ignored
    assert list(contents.entries.items()) == list(entries.items())  # the dict's order too
    assert len(contents.entries) == len(entries) and list(contents.entries) == list(entries)
    for kyc_case_id, entry in list(entries.items())[:5]:
        assert contents.entries[kyc_case_id] == entry
    return contents


def _canonical(**values: Any) -> str:
    """An outcome line as :meth:`Journal.append` writes it (every key, no spaces)."""
    data = {name: values.get(name) for name in FIELDS}
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _hostile_journal(path: Path) -> None:
    """Every kind of line a journal from outside may hold, around canonical ones."""
    header = json.dumps({"journal": JOURNAL_FORMAT, "api_base_url": "http://127.0.0.1:1",
                         "campaign": "c", "principal": "ann@bank", "started_at": "r1"})
    run1 = {"campaign": "c", "run": "2026-01-01T00:00:00.000Z", "principal": "ann@bank",
            "at": "2026-01-01T00:00:01.000+00:00"}
    lines: list[str | bytes] = [header]
    for i in range(40):  # written by a run
        lines.append(_canonical(kyc_case_id=f"ID-{i:03d}", status="created", case_id=f"case-{i}",
                                request_id=f"req-{i}", http_status=201, **run1))
    lines += [
        _canonical(kyc_case_id="ID-001", status="failed", http_status=503, **run1),  # overrides
        _canonical(kyc_case_id="ID-002", status="exists", case_id="case-2b", http_status=409,
                   **{**run1, "run": "2026-02-01T00:00:00.000Z", "principal": "bob@bank"}),
        json.dumps({"kyc_case_id": "ID-003", "status": "failed"}),  # spaced, strict path
        json.dumps({"kyc_case_id": "ID-003", "status": "created", "case_id": "case-3c"}),
        _canonical(kyc_case_id="NOT-IN-SHEET", status="created", case_id="x", **run1),
        _canonical(kyc_case_id="ID-004", status="created", case_id="case-4",
                   **{**run1, "campaign": "other-campaign"}),
        _canonical(kyc_case_id="ID-005", status="outcome_unknown", **run1),
        _canonical(kyc_case_id='ID-"quoted"\\back', status="created", case_id="é€😀", **run1),
        _canonical(kyc_case_id="Ólafsdóttir-🙂", status="created", case_id="ß", **run1),
        _canonical(kyc_case_id="nul\x00in-id", status="created", case_id="c\x7f", **run1),
        _canonical(kyc_case_id="", status="created", case_id="", request_id="", **run1),
        json.dumps({"kyc_case_id": "SURROGATE", "status": "created", "case_id": "\ud800"}),
        _canonical(kyc_case_id="BIG-HTTP", status="created", http_status=99999, **run1),
        _canonical(kyc_case_id="SMALL-HTTP", status="created", http_status=99, **run1),
        _canonical(kyc_case_id="EDGE-HTTP", status="failed", http_status=599, **run1),
        _canonical(kyc_case_id="NEG-HTTP", status="failed", http_status=-201, **run1),
        _canonical(kyc_case_id="BOOL-HTTP", status="created", http_status=True, **run1),
        _canonical(kyc_case_id="FLOAT-HTTP", status="created", **run1).replace(
            '"http_status":null', '"http_status":201.0'),
        _canonical(kyc_case_id="TEXT-HTTP", status="created", http_status="201", **run1),
        _canonical(kyc_case_id="READY", status="ready", **run1),  # not an outcome
        _canonical(kyc_case_id="DONE", status="done", **run1),
        _canonical(kyc_case_id=None, status="created", **run1),
        _canonical(kyc_case_id=7, status="created", **run1),
        _canonical(kyc_case_id="ID-006", status="created", case_id=["a"], **run1),
        '{"kyc_case_id":"DUP","status":"created","status":"failed"}',
        json.dumps({"kyc_case_id": "UNKNOWN", "status": "created", "trusted": True}),
        '[1, 2]', '"text"', "42", "null", "{", "[" * 5000, "\x01" + _canonical(
            kyc_case_id="CTRL", status="created"),
        _canonical(kyc_case_id="raw\x01ctrl", status="created"),  # a raw control character
        "  " + _canonical(kyc_case_id="ID-007", status="failed") + "\t ",
        "\x1c\xa0" + _canonical(kyc_case_id="ID-008", status="failed") + "\u3000",
        "", "   ", header,  # a header after the first line
        _canonical(kyc_case_id="ID-009", status="failed") + "\r",  # CRLF (with the newline)
        _canonical(kyc_case_id="CR-A", status="created") + "\r" + _canonical(
            kyc_case_id="CR-B", status="created"),  # a lone CR ends a line too
        _canonical(kyc_case_id="BAD\xffUTF8", status="created", case_id="c").encode("latin-1"),
        b"\xef\xbb\xbf" + _canonical(kyc_case_id="BOM", status="created").encode(),
        _canonical(kyc_case_id="LONG-" + "x" * 70_000, status="created", case_id="y" * 5000),
        _canonical(kyc_case_id="ID-010", status="created", case_id="case-10b", http_status=201),
    ]
    for i in range(35, 40):  # said again, word for word
        lines.append(_canonical(kyc_case_id=f"ID-{i:03d}", status="created",
                                case_id=f"case-{i}", request_id=f"req-{i}", http_status=201,
                                **run1))
    raw = b"\n".join(line if isinstance(line, bytes) else line.encode("utf-8", "surrogatepass")
                     for line in lines)
    path.write_bytes(raw + b"\n" + b'{"kyc_case_id":"TORN","status":"crea')


@pytest.mark.parametrize(("read_block", "compact_after"), [
    (journal.READ_BLOCK, journal.COMPACT_AFTER), (1, 1), (7, 3), (100, 1000), (4096, 2),
])
def test_the_columns_hold_what_the_line_by_line_reading_held(
    tmp_path: Path, read_block: int, compact_after: int
) -> None:
    path = tmp_path / "hostile.jsonl"
    _hostile_journal(path)
    with _blocks(read_block, compact_after):
        contents = _assert_read_alike(path)
    assert contents.header is not None and contents.header.principal == "ann@bank"
    entries = contents.entries
    assert entries["ID-001"].status == "failed" and entries["ID-002"].case_id == "case-2b"
    assert entries["ID-003"].case_id == "case-3c" and entries["EDGE-HTTP"].http_status == 599
    assert 'ID-"quoted"\\back' in entries and "nul\x00in-id" in entries and "" in entries
    assert "BAD\ufffdUTF8" in entries and "CR-A" in entries and "CR-B" in entries
    for ignored in ("SURROGATE", "BIG-HTTP", "SMALL-HTTP", "NEG-HTTP", "BOOL-HTTP", "FLOAT-HTTP",
                    "TEXT-HTTP", "READY", "DONE", "DUP", "UNKNOWN", "CTRL", "BOM", "TORN"):
        assert ignored not in entries


def test_a_journal_without_header_or_lines_reads_as_before(tmp_path: Path) -> None:
    for text in (b"", b"\n\n", b"garbage", b"\xef\xbb\xbf" + json.dumps(
            {"journal": JOURNAL_FORMAT, "api_base_url": "http://x"}).encode() + b"\n"):
        path = tmp_path / "small.jsonl"
        path.write_bytes(text)
        _assert_read_alike(path)
    assert len(Journal(tmp_path / "absent.jsonl").read().entries) == 0


_TEXTS = st.text(alphabet=st.sampled_from(
    ["a", "Z", "0", "-", " ", '"', "\\", "\n", "\r", "\x00", "\x1f", "\x7f", "é", "€", "😀",
     "\u2028", "\ud800"]), max_size=6)
_VALUES = st.one_of(st.none(), _TEXTS, st.integers(-5, 1200), st.booleans(), st.just(2.5),
                    st.just([1]))
_KEYS = st.sampled_from([*FIELDS, "trusted", "journal"])


@st.composite
def _journal_line(draw: Any) -> bytes:
    kind = draw(st.sampled_from(["canonical", "canonical", "canonical", "dict", "garbage"]))
    if kind == "garbage":
        return draw(st.binary(max_size=12))
    if kind == "canonical":
        data: dict[str, Any] = {name: draw(st.one_of(st.none(), _TEXTS)) for name in FIELDS}
        data["kyc_case_id"] = draw(st.sampled_from(["A", "B", "C", "é", ""]) | _TEXTS)
        data["status"] = draw(st.sampled_from(["created", "exists", "failed", "ready"]))
        data["http_status"] = draw(st.sampled_from([None, 201, 409, 99, 1000]))
    else:
        data = draw(st.dictionaries(_KEYS, _VALUES, max_size=5))
    text = json.dumps(data, ensure_ascii=draw(st.booleans()),
                      separators=draw(st.sampled_from([(",", ":"), (", ", ": ")])))
    raw = text.encode("utf-8", "surrogatepass")
    if draw(st.booleans()):  # a byte that is not UTF-8 somewhere
        at = draw(st.integers(0, len(raw)))
        raw = raw[:at] + b"\xff" + raw[at:]
    return draw(st.sampled_from([b"", b" ", b"\x0c"])) + raw


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lines=st.lists(_journal_line(), max_size=25),
    ends=st.lists(st.sampled_from([b"\n", b"\n", b"\r\n", b"\r"]), min_size=26, max_size=26),
    torn=st.booleans(),
    read_block=st.integers(1, 300),
    compact_after=st.integers(1, 8),
)
def test_any_journal_reads_as_the_line_by_line_reading_did(
    tmp_path_factory: pytest.TempPathFactory, lines: list[bytes], ends: list[bytes], torn: bool,
    read_block: int, compact_after: int,
) -> None:
    header = json.dumps({"journal": JOURNAL_FORMAT, "api_base_url": None}).encode()
    raw = b"".join(line + end for line, end in zip([header, *lines], ends))
    path = tmp_path_factory.mktemp("any") / "journal.jsonl"
    path.write_bytes(raw[:-1] if torn and raw else raw)
    with _blocks(read_block, compact_after):
        _assert_read_alike(path)


def _weak_hashes(texts: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A hash that is each text's length in bytes: most ids share one."""
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    lengths = pc.binary_length(texts.cast(pa.large_binary())).fill_null(0)
    return np.asarray(lengths.to_numpy(zero_copy_only=False), dtype=np.uint64)


def _sheet_ids(values: list[str | None], kind: str) -> Any:
    """A pre-flight's ``kyc_case_id.array`` stand-in, in each form it may take."""
    if kind == "arrow categorical":  # what preflight() makes
        codes, uniques = pd.factorize(pd.Series(values, dtype=object))
        series = compact_distinct(pd.array(list(uniques), dtype=ARROW_TEXT), codes,
                                  pd.RangeIndex(len(values)))
        return series.array
    if kind == "object categorical":
        return pd.Categorical(values)
    if kind == "arrow":
        return pd.array(values, dtype=ARROW_TEXT)
    return pd.Series(values, dtype=object).array


@pytest.mark.parametrize("weak", [False, True], ids=["hashes", "colliding hashes"])
@pytest.mark.parametrize("kind", ["arrow categorical", "object categorical", "arrow", "objects"])
def test_the_claimed_rows_and_their_outcomes_are_the_line_by_line_ones(
    tmp_path: Path, kind: str, weak: bool
) -> None:
    path = tmp_path / "hostile.jsonl"
    _hostile_journal(path)
    header, reference, _ = _line_by_line(path)
    sheet = [f"ID-{i:03d}" for i in range(45)] + [
        "ID-003", None, 'ID-"quoted"\\back', "nul\x00in-id", "", "BAD\ufffdUTF8", "CR-B",
        "SURROGATE", "NOT-ANY", "id-001", "LONG-" + "x" * 70_000,
    ]
    ids = _sheet_ids(sheet, kind)
    ready = np.asarray([p for p in range(len(sheet)) if p % 7 != 3], dtype=np.int64)
    with mock.patch.object(journal, "text_hashes", _weak_hashes if weak else journal.text_hashes):
        contents = Journal(path).read()
        claimed, rows = resume._claimed(ready, ids, contents.entries)
    done = [kyc_case_id for kyc_case_id, entry in reference.items() if entry.status in DONE]
    expected = ready[pd.Index(ids[ready]).isin(done)]  # the line-by-line resume's claim
    assert claimed.tolist() == expected.tolist() and len(claimed) > 25
    assert contents.entries.at(rows) == [reference[sheet[p]] for p in claimed.tolist()]
    for slug in ("c", "other-campaign", None):
        notes = resume._campaign_notes(contents, slug)
        assert notes == _campaign_notes_before(header, reference, slug)
    assert len(resume._campaign_notes(contents, "c")) == 1


def test_ids_that_share_a_hash_are_told_apart_by_their_texts(tmp_path: Path) -> None:
    path = tmp_path / "lengths.jsonl"
    path.write_text("".join(_canonical(kyc_case_id=i, status="created") + "\n"
                            for i in ("a", "bb", "ccc", "dddd")), encoding="utf-8")
    with mock.patch.object(journal, "text_hashes", _weak_hashes):
        entries = Journal(path).read().entries
        for kind in ("arrow categorical", "objects"):
            ids = _sheet_ids(["x", "bb", "yyy", "dddd", "a", "eeeee"], kind)
            found = entries.lookup(ids, np.arange(4))
            assert found.tolist() == [-1, 1, -1, 3, 0, -1]
            assert entries.lookup(ids, np.asarray([3, 1])).tolist() == [-1, 1, -1, 3, -1, -1]


def _campaign_notes_before(
    header: JournalHeader | None, entries: dict[str, JournalEntry], slug: str | None
) -> list[str]:
    """``resume._campaign_notes`` as it was, over a dict of entries."""
    campaigns = {e.campaign for e in entries.values() if e.campaign}
    if header is not None and header.campaign:
        campaigns.add(header.campaign)
    other = sorted(campaigns - {slug})
    if not other or slug is None:
        return []
    return [
        f"The journal was written for campaign {', '.join(repr(c) for c in other)}, this run is "
        f"for {slug!r}: rows whose external id is derived from the campaign name get different "
        "ids, so the journal cannot skip them and the API will not recognise them as the same "
        "cases. If this is a resume, use the earlier campaign name."
    ]


def _earlier_runs_before(entries: list[JournalEntry], current: str) -> list[dict[str, Any]]:
    """``resume._earlier_runs`` as it was, an entry at a time."""
    runs: dict[str | None, dict[str, Any]] = {}
    for entry in entries:
        if entry.run == current:
            continue
        run = runs.setdefault(entry.run, {
            "started_at": entry.run, "finished_at": entry.run, "principals": [],
            "rows_sent": 0, "from_journal": True,
        })
        run["rows_sent"] += 1
        if entry.at is not None:
            at = entry.at.replace("+00:00", "Z")
            run["finished_at"] = max(str(run["finished_at"] or at), at)
        if entry.principal and entry.principal not in run["principals"]:
            run["principals"].append(entry.principal)
    return [{**run, "principals": sorted(run["principals"])} for run in runs.values()]


def test_the_earlier_runs_are_grouped_as_they_were(tmp_path: Path) -> None:
    path = tmp_path / "runs.jsonl"
    lines = []
    for i in range(60):
        lines.append(_canonical(
            kyc_case_id=f"R{i}", status="created",
            run=[None, "", "2026-01-01T00:00:00.000Z", "2026-03-01T00:00:00.000Z", "now",
                 "9999"][i % 6],
            at=[None, "2026-02-01T00:00:00.000+00:00", f"2026-01-{1 + i % 28:02d}T00:00:00Z",
                "2025-12-31T23:59:59.999+00:00"][i % 4],
            principal=[None, "", "ann@bank", "bob@bank", "ann@bank"][i % 5],
        ))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    contents = Journal(path).read()
    rows = np.asarray([59, 3, 4, 5, 0, 1, 2, *range(6, 40, 3)], dtype=np.int64)
    entries = contents.entries.at(rows)
    assert resume._earlier_runs(contents.entries, rows, "now") == _earlier_runs_before(
        entries, "now")
    assert resume._earlier_runs(contents.entries, rows[:0], "now") == []


def test_claims_are_made_a_chunk_at_a_time_in_the_run_s_order(tmp_path: Path) -> None:
    path = tmp_path / "claims.jsonl"
    path.write_text("".join(_canonical(kyc_case_id=f"K{i}", status="created") + "\n"
                            for i in range(100)), encoding="utf-8")
    entries = Journal(path).read().entries
    rows = np.arange(99, -1, -3)
    with mock.patch.object(resume._Claims, "CHUNK", 4):
        claims = resume._Claims(entries, rows)
        assert len(claims) == len(rows) and list(claims) == [f"K{r}" for r in rows.tolist()]
        for row in rows.tolist():
            assert claims[f"K{row}"].kyc_case_id == f"K{row}"
            assert len(claims._held) <= 4 and len(claims._before) <= 4
        assert claims["K1"].kyc_case_id == "K1"  # asked out of order: the whole journal
        with pytest.raises(KeyError):
            claims["nobody"]


def test_a_resume_of_many_rows_confirms_and_skips_the_rows_it_did(
    sandbox: Sandbox, client: Any, tmp_path: Path
) -> None:
    """A journal of many rows, edited by hand, read in small blocks with repeated ids
    dropped as it goes, confirmed in chunks: the rows looked up, confirmed and sent are
    those the line-by-line reading calls done and the API bears out."""
    n = 600
    frame = campaign_frame(n, prefix="M")
    ids = preflight(frame, campaign="many").kyc_case_id.tolist()
    path = tmp_path / "many.jsonl"
    first = batch_create(client, frame.iloc[: n - 100], campaign="many", journal=path,
                         concurrency=8, progress=False)
    assert first.summary()["created"] == n - 100
    lines = path.read_text(encoding="utf-8").splitlines()
    outcomes = [json.loads(line) for line in lines[1:]]
    forged = {o["kyc_case_id"] for o in outcomes[10:40]}
    failed = {o["kyc_case_id"] for o in outcomes[40:60]}
    extra = [json.dumps({**o, "case_id": "forged"}) for o in outcomes[10:40]]
    extra += [json.dumps({**o, "status": "failed", "case_id": None}) for o in outcomes[40:60]]
    extra += [json.dumps({**o, "kyc_case_id": "elsewhere-" + o["kyc_case_id"]})
              for o in outcomes[60:80]]
    extra += [_canonical(**{**o, "campaign": "other"}) for o in outcomes[80:90]]
    extra += lines[100:300]  # said twice
    path.write_text("\n".join([*lines, *extra]) + "\n", encoding="utf-8")
    _, reference, _ = _line_by_line(path)
    claimed = [i for i in ids if i in reference and reference[i].status in DONE]
    confirmed = [i for i in claimed if i not in forged]
    assert len(claimed) == n - 100 - len(failed) and len(confirmed) == len(claimed) - 30
    sandbox.reset_counts()

    with _blocks(4096, 100), mock.patch.object(resume._Claims, "CHUNK", 50):
        report = batch_create(client, frame, campaign="many", journal=path, concurrency=8,
                              progress=False)
    assert sandbox.request_count(method="GET") == len(claimed)
    assert sandbox.request_count(method="POST") == n - len(confirmed)
    results = report.results.astype(object).set_index("kyc_case_id")
    notes = results["note"].fillna("")
    assert set(results.index[notes.str.contains("confirmed on the API")]) == set(confirmed)
    for name in ("case_id", "request_id", "http_status"):
        journaled = [getattr(reference[i], name) for i in confirmed]
        assert results.loc[confirmed, name].tolist() == journaled
    assert set(results.index[results["status"] == "exists"]) == forged | failed
    assert report.summary()["created"] == n - len(forged | failed)
    assert sandbox.case_count() == n
    assert any("campaign 'other'" in warning for warning in report.warnings)
    assert any("does not confirm" in warning for warning in report.warnings)
    earlier = [run for run in report.evidence()["runs"] if run.get("from_journal")]
    assert [run["rows_sent"] for run in earlier] == [len(confirmed)]
    assert earlier[0]["started_at"] == first.runs[-1]["started_at"]
