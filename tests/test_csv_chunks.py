"""A CSV sheet is split a chunk of rows at a time: the same frame, the same refusals.

Why: :func:`~kyc_widgets.batch.read_campaign` turns each chunk of split rows
into Arrow columns before the next is split (issue 22: a million rows kept as
Python lists cost over a gigabyte). Whatever a chunk boundary falls on (a
header below title rows, a header given far down, blank rows, trailing
separators, a quoted cell over several lines, rows of the wrong width in
several chunks, a limit crossed), the sheet reads as when it is split at once.
"""

from __future__ import annotations

import tracemalloc
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from kyc_widgets.batch import CampaignReadError, ReadLimits, delimited, read_campaign

DATA = Path(__file__).parent / "data"
CSV_FILES = sorted(
    [DATA / "messy_campaign.csv", *(DATA / "hostile").glob("*.csv")], key=lambda path: path.name
)


def _outcome(path: Path, **options: Any) -> tuple[str, Any]:
    """What reading ``path`` gives: the frame (cells, index, attrs) or the refusal."""
    try:
        frame = read_campaign(path, **options)
    except CampaignReadError as exc:
        return "refused", (str(exc), exc.line, exc.row)
    attrs = {key: value for key, value in frame.attrs.items() if key != "kyc_sheet"}
    return "read", (frame.astype(object).to_dict("split"), list(frame.index), attrs)


CUTS = [(1, 1), (2, 5), (3, 64), (7, 1 << 16)]
"""Rows a chunk holds, and characters a slab of text is cut into lines at (at least)."""


@pytest.mark.parametrize("path", CSV_FILES, ids=lambda path: path.name)
@pytest.mark.parametrize(("chunk", "slab"), CUTS)
def test_every_csv_reads_the_same_whatever_the_chunk(
    path: Path, chunk: int, slab: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = _outcome(path)
    monkeypatch.setattr(delimited, "_CHUNK", chunk)
    monkeypatch.setattr(delimited, "_SLAB", slab)
    assert _outcome(path) == whole


@pytest.mark.parametrize(("chunk", "slab"), CUTS)
def test_the_first_thing_wrong_is_named_whatever_the_chunk(
    tmp_path: Path, chunk: int, slab: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [f"{n},N{n},T" for n in range(1, 30)]
    rows[11] = "12," + ",".join(["x"] * 9)  # line 13: too many cells for max_columns=6
    rows[20] = '21,"never closed,T'  # line 22
    path = _sheet(tmp_path, "id,name,team\r\n" + "\r\n".join(rows) + "\r\n")
    limits = ReadLimits(max_columns=6)
    monkeypatch.setattr(delimited, "_CHUNK", chunk)
    monkeypatch.setattr(delimited, "_SLAB", slab)
    assert _outcome(path, limits=limits) == (
        "refused",
        ("Line 13: more than 6 cells on one line (ReadLimits.max_columns); "
         "a campaign sheet has one column per field.", 13, None),
    )
    rows[11] = "12,N12,T"
    path = _sheet(tmp_path, "id,name,team\r\n" + "\r\n".join(rows) + "\r\n")
    kind, (message, line, row) = _outcome(path, limits=limits)
    assert (kind, line, row) == ("refused", 22, 22) and "never closed" in message


def _sheet(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sheet.csv"
    path.write_text(text, encoding="utf-8", newline="")
    return path


def test_columns_are_arrow_backed_text_and_empty_cells_missing(tmp_path: Path) -> None:
    path = _sheet(tmp_path, "id,name,note\n001,Zoë,\n\n002,,x\n,,\n003,Lee,\n")
    frame = read_campaign(path)
    assert all(dtype == pd.StringDtype("pyarrow") for dtype in frame.dtypes)
    assert frame.index.dtype == "int64" and frame.index.name == "sheet_row"
    assert list(frame.index) == [2, 4, 6]  # rows 3 and 5 are blank
    assert frame.loc[2, "id"] == "001"
    assert pd.isna(frame.loc[4, "name"]) and pd.isna(frame.loc[2, "note"])
    assert frame["note"].isna().sum() == 2  # never the text ""


@pytest.mark.parametrize("chunk", [2, 5, 10_000])
def test_a_header_given_far_down_lists_the_rows_above_it(
    tmp_path: Path, chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    above = ["Export of 2026-12-01", "", "Confidential", ",", "", "By: desk", "", "x", "", ""]
    path = _sheet(tmp_path, "\n".join([*above, "id,name", "1,A", "", "2,B"]) + "\n")
    monkeypatch.setattr(delimited, "_CHUNK", chunk)
    frame = read_campaign(path, header_row=11)
    assert frame.attrs["header_row"] == 11
    assert frame.attrs["rows_above_header"] == [1, 3, 6, 8]
    assert list(frame.index) == [12, 14]
    assert list(frame["name"]) == ["A", "B"]
    with pytest.raises(CampaignReadError, match="header_row 16 is below the last row of the file"):
        read_campaign(path, header_row=16)


@pytest.mark.parametrize("chunk", [1, 3, 10_000])
def test_rows_of_the_wrong_width_are_listed_across_chunks(
    tmp_path: Path, chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = ["id,name,team"] + [f"{n},N{n},T" if n % 4 else f"{n};N{n};T" for n in range(1, 40)]
    path = _sheet(tmp_path, "\n".join(lines) + "\n")
    monkeypatch.setattr(delimited, "_CHUNK", chunk)
    with pytest.raises(CampaignReadError) as refused:
        read_campaign(path)
    assert (refused.value.line, refused.value.row) == (5, 5)
    assert "this row is separated by semicolons, the header by commas" in str(refused.value)
    assert "Other rows like it start on line(s) 9, 13, 17, 21, 25 and 3 more." in str(refused.value)


@pytest.mark.parametrize("chunk", [2, 10_000])
def test_limits_name_the_same_row_whatever_the_chunk(
    tmp_path: Path, chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _sheet(tmp_path, "id,name\n" + "".join(f"{n},N{n}\n" for n in range(1, 10)))
    monkeypatch.setattr(delimited, "_CHUNK", chunk)
    with pytest.raises(CampaignReadError, match="more than 7 rows") as refused:
        read_campaign(path, limits=ReadLimits(max_rows=7))
    assert (refused.value.line, refused.value.row) == (8, 8)
    with pytest.raises(CampaignReadError, match="more than 13 cells") as refused:
        read_campaign(path, limits=ReadLimits(max_cells=13))
    assert (refused.value.line, refused.value.row) == (7, 7)


def test_the_rows_are_not_all_kept_as_python_lists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """30,000 rows of eight cells as Python lists of ``str`` are about 20 MB, eight times
    the text; the reader holds the text (decoding it costs three times that for a moment)
    and one chunk of lists (here 1,000 rows) at a time. (Arrow's memory is not Python's:
    tracemalloc leaves it out.)"""
    row = "U{0:07d},Zoë,Ó Briain,individual,kyc refresh,normal,GB,analyst{0}@example.org\n"
    path = _sheet(tmp_path, "id,a,b,c,d,e,f,g\n" + "".join(row.format(n) for n in range(30_000)))
    monkeypatch.setattr(delimited, "_CHUNK", 1_000)
    tracemalloc.start()
    try:
        frame = read_campaign(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(frame) == 30_000 and frame.iloc[-1, 0] == "U0029999"
    assert peak < path.stat().st_size * 5, f"{peak:,} bytes for {path.stat().st_size:,}"
