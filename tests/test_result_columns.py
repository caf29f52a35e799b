"""ResultColumns: a run's per-row state held compactly, read back exactly in the report (issue 22).

Statuses are ``int8`` codes, counts small integers, the ids UTF-8 bytes turned into
Arrow text (missing: NaN) when the report is made.
"""

from __future__ import annotations

import dataclasses
import io
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from kyc_widgets.api.client import KycApiClient
from kyc_widgets.batch import batch_create, read_campaign
from kyc_widgets.batch.outcomes import Outcome
from kyc_widgets.batch.report import BatchReport
from kyc_widgets.batch.results import REPORT_TEXT, results_frame
from kyc_widgets.batch.run import ResultColumns, status_codes
from kyc_widgets.batch.status import DONE_STATUSES, STATUSES, RowStatus

DATA = Path(__file__).parent / "data"

TEXTS = ["case-1", "cäse-ß-2-longer-than-the-first", "", "ends-in-nul\0", "mid\0dle", "\0"]


def frame_of(columns: ResultColumns) -> pd.DataFrame:
    """The report's ``results`` for ``columns``, as the sender makes it."""
    index = pd.RangeIndex(columns.n)
    ids = pd.Series(pd.Categorical([f"K{i}" for i in range(columns.n)]), index=index)
    rows = pd.Series(np.arange(2, columns.n + 2), index=index)
    return results_frame(index, rows, ids, columns.for_report())


def test_ids_read_back_exactly_as_arrow_text_missing_as_nan() -> None:
    columns = ResultColumns(len(TEXTS) + 1)
    for position, text in enumerate(TEXTS):
        columns.set(position, Outcome(RowStatus.CREATED, case_id=text, request_id=f"r{position}"))
    columns.set(len(TEXTS), Outcome(RowStatus.FAILED))
    results = frame_of(columns)
    for name in ("case_id", "request_id"):
        assert results[name].dtype == REPORT_TEXT
    case_ids = results["case_id"].tolist()
    assert case_ids[:-1] == TEXTS  # NULs (trailing, inside, alone) and "" come back as they were
    assert isinstance(case_ids[-1], float) and np.isnan(case_ids[-1])
    assert "case-1" in case_ids and "x" not in case_ids  # NaN, not pd.NA: `in` works
    assert results["request_id"].isna().tolist() == [False] * len(TEXTS) + [True]


def test_a_text_arrow_cannot_hold_comes_back_in_an_object_column() -> None:
    """A lone surrogate is not UTF-8: the column is objects (NaN where missing), exact."""
    columns = ResultColumns(3)
    columns.set(0, Outcome(RowStatus.CREATED, case_id="\ud800lone", request_id="r"))
    columns.set(1, Outcome(RowStatus.CREATED, case_id="fine", request_id="q"))
    results = frame_of(columns)
    assert results["case_id"].dtype == object
    assert results["case_id"].tolist()[:2] == ["\ud800lone", "fine"]
    assert pd.isna(results["case_id"].iloc[2])
    assert results["request_id"].dtype == REPORT_TEXT


def test_a_later_run_overwrites_or_clears_an_id() -> None:
    """A row confirmed from the journal, then sent again: its last outcome's ids are the report's."""
    columns = ResultColumns(4)
    for position in range(4):
        columns.set(position, Outcome(RowStatus.EXISTS, case_id=f"old-{position}", request_id="q"))
    columns.set(0, Outcome(RowStatus.CREATED, case_id="new-0", request_id="r"))
    columns.set(1, Outcome(RowStatus.NOT_ATTEMPTED))
    columns.set(2, Outcome(RowStatus.CREATED, case_id="odd\0", request_id="r"))
    columns.set(2, Outcome(RowStatus.CREATED, case_id="plain", request_id="r"))
    columns.set(3, Outcome(RowStatus.CREATED, case_id="a-much-longer-id-than-before-" * 3))
    results = frame_of(columns)
    assert results["case_id"].tolist()[0] == "new-0"
    assert pd.isna(results["case_id"].iloc[1])
    assert results["case_id"].tolist()[2:] == ["plain", "a-much-longer-id-than-before-" * 3]
    assert results["request_id"].tolist()[0::2] == ["r", "r"]
    assert results["request_id"].isna().tolist() == [False, True, False, True]
    assert results["status"].tolist() == [RowStatus.CREATED, RowStatus.NOT_ATTEMPTED,
                                          RowStatus.CREATED, RowStatus.CREATED]


def test_the_ids_are_handed_over_once() -> None:
    columns = ResultColumns(2)
    columns.set(0, Outcome(RowStatus.CREATED, case_id="c", request_id="r"))
    first = columns.for_report()
    assert columns.for_report()["case_id"] is first["case_id"]
    with pytest.raises(RuntimeError):
        columns.set(1, Outcome(RowStatus.CREATED, case_id="late"))


def test_every_status_round_trips_through_its_code() -> None:
    columns = ResultColumns(len(STATUSES) + 2)
    for position, status in enumerate(STATUSES):
        columns.set(position, Outcome(status, http_status=200 + position, attempts=position))
    columns.set_status([len(STATUSES), len(STATUSES) + 1], RowStatus.WOULD_CREATE)
    assert columns.status.dtype == np.int8
    assert [columns.status_at(p) for p in range(len(STATUSES))] == list(STATUSES)
    done = columns.has_status(np.arange(columns.n), DONE_STATUSES)
    assert done.tolist() == [s in DONE_STATUSES for s in STATUSES] + [False, False]
    results = frame_of(columns)
    status = results["status"]
    assert isinstance(status.dtype, pd.CategoricalDtype)
    assert status.cat.categories.dtype == object
    assert list(status.cat.categories) == list(STATUSES)
    assert all(type(s) is RowStatus for s in status.tolist())
    assert status.tolist() == [*STATUSES, RowStatus.WOULD_CREATE, RowStatus.WOULD_CREATE]
    assert (status == "created").sum() == 1 and (status == RowStatus.WOULD_CREATE).sum() == 3
    assert status.value_counts()[RowStatus.WOULD_CREATE] == 3
    assert status.value_counts()["exists"] == 1


def test_counts_are_nullable_integers() -> None:
    columns = ResultColumns(3)
    columns.set(0, Outcome(RowStatus.CREATED, http_status=201, attempts=2))
    columns.set(1, Outcome(RowStatus.OUTCOME_UNKNOWN, http_status=None, attempts=3))
    results = frame_of(columns)
    assert results["http_status"].dtype == "Int64" and results["attempts"].dtype == "Int64"
    assert results["http_status"].tolist()[:1] == [201]
    assert results["http_status"].isna().tolist() == [False, True, True]
    assert results["attempts"].tolist()[:2] == [2, 3] and pd.isna(results["attempts"].iloc[2])


@pytest.mark.parametrize("categorical", [False, True])
def test_planned_columns_take_objects_or_categoricals(categorical: bool) -> None:
    status = pd.Series([RowStatus.READY, RowStatus.INVALID, RowStatus.READY,
                        RowStatus.DUPLICATE_IN_SHEET], dtype=object)
    field = pd.Series([None, "user_type", np.nan, "kyc_case_id"], dtype=object)
    message = pd.Series([None, "not one of the choices", None, "repeats row 2"], dtype=object)
    if categorical:
        status, field, message = (s.astype("category") for s in (status, field, message))
    columns = ResultColumns.planned(status, field, message)
    assert [columns.status_at(p) for p in range(4)] == [
        RowStatus.NOT_ATTEMPTED, RowStatus.INVALID, RowStatus.NOT_ATTEMPTED,
        RowStatus.DUPLICATE_IN_SHEET]
    assert columns.data["error_field"].tolist() == [None, "user_type", None, "kyc_case_id"]
    assert columns.data["error_message"].tolist() == [None, "not one of the choices", None,
                                                      "repeats row 2"]
    assert columns.attempts.tolist() == [0, 0, 0, 0]
    columns.set(0, Outcome(RowStatus.FAILED, error_field="legal_first_name"))
    assert field.tolist()[0] is None or pd.isna(field.tolist()[0])  # the plan's own: untouched


def test_status_codes_of_plain_text() -> None:
    assert status_codes(pd.Series(["ready", "invalid"])).tolist() == [
        STATUSES.index(RowStatus.NOT_ATTEMPTED), STATUSES.index(RowStatus.INVALID)]
    with pytest.raises(ValueError):
        status_codes(pd.Series([RowStatus.READY, None], dtype=object))


def test_messages_few_rows_have_are_text_columns_in_the_report() -> None:
    """The plan's messages, what the run set over them, and NaN where a row has none."""
    field = pd.Series(["user_type", None, None, None], dtype="string")
    message = pd.Series(["not one of the choices", None, None, None], dtype=object)
    columns = ResultColumns.planned(pd.Series(["invalid", "ready", "ready", "ready"]), field, message)
    columns.set(1, Outcome(RowStatus.FAILED, error_code="validation_error",
                           error_field="legal_first_name", error_message="too long"))
    columns.set(2, Outcome(RowStatus.CREATED, case_id="c2"))
    columns.data["note"][3] = "same customer as row 2"
    results = results_frame(pd.RangeIndex(4), pd.Series(range(2, 6)),
                            pd.Series(["a", "b", "c", "d"]), columns.for_report())
    for name in ("error_code", "error_field", "error_message", "note"):
        assert results[name].dtype == REPORT_TEXT
    assert results["note"].fillna("").tolist() == ["", "", "", "same customer as row 2"]
    assert results["error_field"].tolist()[:2] == ["user_type", "legal_first_name"]
    assert pd.isna(results["error_field"].iloc[2]) and "x" not in results["note"].tolist()
    assert results["note"].tolist()[3] == "same customer as row 2"
    assert results["error_code"].tolist()[1] == "validation_error"


def test_columns_no_row_has_share_their_nulls_yet_change_alone() -> None:
    """A clean run's codes, fields, messages and notes are one array of nulls underneath;
    a fix written into one of them leaves the others missing."""
    columns = ResultColumns.planned(pd.Series(["ready"] * 3), pd.Series([None] * 3),
                                    pd.Series([None] * 3))
    columns.set(0, Outcome(RowStatus.CREATED, case_id="c0"))
    results = frame_of(columns)
    buffers = {results[name].array._pa_array.chunk(0).buffers()[1].address
               for name in ("error_code", "error_field", "error_message", "note")}
    assert len(buffers) == 1  # one array of nulls, four columns
    results.loc[1, "note"] = "fixed in the app"
    assert results["note"].tolist()[1] == "fixed in the app"
    for name in ("error_code", "error_field", "error_message"):
        assert results[name].isna().all() and results[name].dtype == REPORT_TEXT


def test_a_message_that_is_not_utf8_comes_back_exactly() -> None:
    columns = ResultColumns(2)
    columns.set(0, Outcome(RowStatus.FAILED, error_message="bad \ud800 text"))
    column = columns.for_report()["error_message"]
    assert column[0] == "bad \ud800 text" and pd.isna(column[1])


def without_compact_ids(report: BatchReport) -> BatchReport:
    """``report`` with its ids as the sender held them before issue 22: objects, None missing."""
    results = report.results.copy()
    for name in ("case_id", "request_id"):
        results[name] = pd.Series(results[name].to_numpy(dtype=object, na_value=None),
                                  index=results.index, dtype=object)
    return dataclasses.replace(report, results=results)


def test_reports_write_missing_ids_as_empty_cells_as_before(
    client: KycApiClient, tmp_path: Path
) -> None:
    sheet = read_campaign(DATA / "messy_campaign.csv")
    report = batch_create(client, sheet, campaign="compact-ids", progress=False)
    ids = report.results["case_id"]
    assert ids.dtype == REPORT_TEXT and ids.isna().any() and ids.notna().any()
    before = without_compact_ids(report)

    report.to_csv(tmp_path / "now.csv")
    before.to_csv(tmp_path / "before.csv")
    assert (tmp_path / "now.csv").read_bytes() == (tmp_path / "before.csv").read_bytes()
    written = pd.read_csv(tmp_path / "now.csv", dtype=str, keep_default_na=False)
    missing = ids.isna().to_numpy()
    assert (written["case_id"].to_numpy()[missing] == "").all()
    assert (written["case_id"].to_numpy()[~missing] != "").all()

    report.to_excel(tmp_path / "now.xlsx")
    before.to_excel(tmp_path / "before.xlsx")
    assert sheet_xml(tmp_path / "now.xlsx") == sheet_xml(tmp_path / "before.xlsx")
    rows = list(openpyxl.load_workbook(tmp_path / "now.xlsx").active.values)
    column = rows[0].index("case_id")
    cells = [row[column] for row in rows[1:]]
    assert [cell is None for cell in cells] == missing.tolist()


def sheet_xml(path: Path) -> bytes:
    """The first worksheet's XML (the workbook's other parts carry the time it was written)."""
    with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as book:
        return book.read("xl/worksheets/sheet1.xml")


def test_ids_held_in_blocks_come_back_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks of 3 positions (a million rows use 65,536): widened, skipped, cleared, odd."""
    from kyc_widgets.batch import run

    monkeypatch.setattr(run, "_BLOCK", 3)
    texts = ["a", None, "longer-than-a", None, None, None, "x\0y", "é" * 5, "", "tail"]
    columns = ResultColumns(len(texts))
    columns.set(4, Outcome(RowStatus.CREATED, case_id="cleared later"))
    for position, text in enumerate(texts):
        columns.set(position, Outcome(RowStatus.CREATED, case_id=text))
    got = columns.for_report()["case_id"]
    assert [None if pd.isna(v) else v for v in got.tolist()] == texts
