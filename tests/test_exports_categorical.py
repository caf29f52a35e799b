"""A categorical column (the report's statuses and ids) is made safe category by category,
and writes the same bytes as the same column of plain objects (issue 22)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from kyc_widgets.batch import exports
from kyc_widgets.batch.exports import write_csv, write_xlsx
from kyc_widgets.batch.status import RowStatus

CELLS = ["=1+1", "ok", None, "bell\x07", "=1+1", "-100", " @SUM", "ok", "'=1", "=1", "\tx"]


def _frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    statuses = [RowStatus.CREATED, RowStatus.INVALID] * (len(CELLS) // 2) + [RowStatus.EXISTS]
    plain = pd.DataFrame({"text": pd.Series(CELLS, dtype=object),
                          "status": pd.Series(statuses, dtype=object)})
    plain["ids"] = plain["text"]
    categorical = plain.astype({"text": "category", "status": "category"})
    arrow = pd.CategoricalDtype(pd.Index(pd.array(pd.unique(plain["ids"].dropna()),
                                                  dtype=pd.StringDtype("pyarrow"))))
    categorical["ids"] = plain["ids"].astype(arrow)  # as the report holds its ids: in Arrow
    return plain, categorical


@pytest.mark.parametrize("chunk", [3, 100_000])
def test_a_categorical_column_writes_the_bytes_its_objects_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    monkeypatch.setattr(exports, "CSV_CHUNK_ROWS", chunk)
    plain, categorical = _frames()
    escaped = write_csv(plain, tmp_path / "plain.csv")
    assert write_csv(categorical, tmp_path / "categorical.csv") == escaped == 2
    assert (tmp_path / "categorical.csv").read_bytes() == (tmp_path / "plain.csv").read_bytes()
    text = (tmp_path / "plain.csv").read_text(encoding="utf-8-sig")
    assert "'=1+1" in text and "''=1" not in text and "created" in text


def test_two_categories_that_become_one_are_made_safe_cell_by_cell() -> None:
    column = pd.Series(["=1", "'=1", "=1"], dtype="category")  # '=1 is what =1 becomes
    safe = exports.neutralise_formulas(column.to_frame("c"))["c"]
    assert safe.astype(object).tolist() == ["'=1", "'=1", "'=1"]


def test_an_xlsx_of_categorical_columns_holds_the_cells_of_plain_ones(tmp_path: Path) -> None:
    plain, categorical = _frames()
    written = [write_xlsx(exports.neutralise_formulas(frame), tmp_path / name, sheet_name="r")
               for frame, name in ((plain, "p.xlsx"), (categorical, "c.xlsx"))]
    assert written[0] == written[1] == 2
    read = [pd.read_excel(tmp_path / n, dtype=object, engine="openpyxl") for n in ("p.xlsx", "c.xlsx")]
    pd.testing.assert_frame_equal(read[0], read[1])
