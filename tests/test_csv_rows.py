"""Issue 22: the report's rows encoded by Arrow are the bytes pandas' ``to_csv`` writes,
and a column Arrow is not trusted with is left to pandas (``csv_rows`` answers None)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kyc_widgets.batch import exports
from kyc_widgets.batch.csv_rows import csv_rows
from kyc_widgets.batch.exports import CSV_LINE_END, write_csv
from kyc_widgets.batch.results import REPORT_TEXT
from kyc_widgets.batch.status import RowStatus

CELLS = ["=1+1", "ok", None, 'say "hi"', "a,b", "\tx", "line\nbreak", "Ólafsdóttir", "",
         "cr\rcell", "  ", '"', "-100", "東京"]


def _rows(frame: pd.DataFrame) -> bytes | None:
    """:func:`csv_rows`' parts as one ``bytes``."""
    parts = csv_rows(frame, line_end=CSV_LINE_END)
    return None if parts is None else b"".join(part.to_pybytes() for part in parts)


def _pandas_rows(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(header=False, index=False, lineterminator=CSV_LINE_END).encode("utf-8")


def _every_kind(n: int) -> pd.DataFrame:
    """A column of each kind a report holds, with cells that need quotes and missing ones."""
    def cells(step: int) -> list[str | None]:
        return [CELLS[(i * step) % len(CELLS)] for i in range(n)]
    return pd.DataFrame({
        "objects": pd.Series(cells(1), dtype=object),
        "string": pd.array(cells(3), dtype="string"),
        "python string": pd.array(cells(5), dtype=pd.StringDtype("python")),
        "arrow string": pd.array(cells(9), dtype=pd.StringDtype("pyarrow")),
        "report text": pd.array(cells(11), dtype=REPORT_TEXT),  # (pandas 3's str: NaN missing)
        "int64": np.arange(n, dtype=np.int64) - n // 2,
        "Int64": pd.array([None if i % 4 == 0 else i * 100 for i in range(n)], dtype="Int64"),
        "categories": pd.Series(cells(7), dtype="category"),
        "statuses": pd.Series([RowStatus.CREATED, RowStatus.INVALID, None] * (n // 3)
                              + [RowStatus.EXISTS] * (n % 3), dtype="category"),
        "status objects": pd.Series([RowStatus.FAILED, None] * (n // 2) + [None] * (n % 2),
                                    dtype=object),
        "nothing": pd.Series([None] * n, dtype=object),
    })


def test_every_kind_of_report_column_is_encoded_as_pandas_writes_it() -> None:
    frame = _every_kind(43)
    rows = _rows(frame)
    assert rows is not None  # (Arrow encoded it: the comparison below is of two writers)
    assert rows == _pandas_rows(frame)
    assert b'"say ""hi"""' in rows and b'"line\nbreak"' in rows and b"\xc3\x93lafs" in rows


def test_a_slice_of_a_frame_is_encoded_from_its_own_rows() -> None:
    frame = _every_kind(60).iloc[17:41]  # (Arrow arrays at an offset into their buffers)
    assert _rows(frame) == _pandas_rows(frame)


@pytest.mark.parametrize("column", [
    pd.Series([1.5, None, 2.0]),
    pd.Series([True, False, True]),
    pd.Series([1, "a", None], dtype=object),
    pd.Series(pd.to_datetime(["2026-01-01", None, "2026-02-03"])),
    pd.Series([1.5, 2.5, 1.5], dtype="category"),
])
def test_a_column_arrow_is_not_trusted_with_is_left_to_pandas(column: pd.Series) -> None:
    frame = pd.DataFrame({"text": ["a", "b", "c"], "other": column})
    assert csv_rows(frame, line_end=CSV_LINE_END) is None


def test_one_column_is_left_to_pandas_which_quotes_a_lone_empty_cell() -> None:
    frame = pd.DataFrame({"only": ["", "x"]})
    assert csv_rows(frame, line_end=CSV_LINE_END) is None
    assert _pandas_rows(frame) == b'""\r\nx\r\n'


def test_lines_ending_in_lf_alone_are_left_to_pandas() -> None:
    frame = pd.DataFrame({"a": ["cr\rcell"], "b": ["x"]})
    assert csv_rows(frame, line_end="\n") is None


def test_a_large_report_written_in_chunks_is_the_whole_file_byte_for_byte(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    frame = _every_kind(50)
    frame["=formula header"] = pd.array(["=SUM(A1)", "bell\x07"] * 25, dtype="string")
    whole = write_csv(frame, tmp_path / "whole.csv")  # (small: pandas writes it whole)
    monkeypatch.setattr(exports, "CSV_CHUNK_ROWS", 8)
    assert write_csv(frame, tmp_path / "chunked.csv") == whole == 25
    assert (tmp_path / "chunked.csv").read_bytes() == (tmp_path / "whole.csv").read_bytes()
    assert (tmp_path / "chunked.csv").read_bytes().startswith(b"\xef\xbb\xbfobjects,string,")


_TEXT = st.one_of(st.none(), st.text(alphabet=st.sampled_from(list(',"\r\n =aé東\t\'')),
                                     max_size=6))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(_TEXT, _TEXT, st.one_of(st.none(), st.integers(-10**12, 10**12))),
                min_size=1, max_size=12))
def test_any_text_is_encoded_as_pandas_writes_it(
    rows: list[tuple[str | None, str | None, int | None]],
) -> None:
    first, second, number = zip(*rows)
    frame = pd.DataFrame({
        "objects": pd.Series(first, dtype=object),
        "string": pd.array(second, dtype="string"),
        "categories": pd.Series(second, dtype="category"),
        "Int64": pd.array(number, dtype="Int64"),
    })
    assert _rows(frame) == _pandas_rows(frame)


def test_a_file_of_chunks_written_by_both_writers_is_the_whole_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    frame = _every_kind(30)
    frame["mixed"] = pd.Series(["text"] * 10 + [7] + ["more, text"] * 19, dtype=object)
    assert csv_rows(frame.iloc[8:16], line_end=CSV_LINE_END) is None  # (the chunk with 7)
    write_csv(frame, tmp_path / "whole.csv")
    monkeypatch.setattr(exports, "CSV_CHUNK_ROWS", 8)  # Arrow, pandas, Arrow, Arrow
    write_csv(frame, tmp_path / "chunked.csv")
    assert (tmp_path / "chunked.csv").read_bytes() == (tmp_path / "whole.csv").read_bytes()
