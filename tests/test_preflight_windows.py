"""The pre-flight read a few rows at a time finds what it finds read whole (issue 22).

:func:`~kyc_widgets.batch.preflight` reads a sheet :data:`~kyc_widgets.batch.validation.WINDOW`
rows at a time and keeps no values; repeated ids and the same subject twice are
found across windows from ids and subject hashes. Here the window is a few rows,
and every row's status, id, problems, notes and values must equal those of the
sheet read in one window.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from factories import campaign_frame

from kyc_widgets.batch import plain_records, preflight, validation
from kyc_widgets.batch.preflight import Preflight
from kyc_widgets.batch.subjects import subject_keys


def _messy_sheet() -> pd.DataFrame:
    """Rows that only agree with each other across windows: repeats, clashes, invalid cells."""
    frame = campaign_frame(40)
    frame["kyc_case_id"] = None
    frame.loc[[2, 31], "kyc_case_id"] = "EXT-1"  # one id, two customers: neither is sent
    frame.loc[[5, 29], "kyc_case_id"] = "EXT-2"  # one id, one customer typed twice
    frame.loc[29, "user_internal_id"] = frame.loc[5, "user_internal_id"]
    frame.loc[9, "user_type"] = "robot"  # invalid
    frame.loc[13, "legal_first_name"] = " "  # missing
    frame.loc[[4, 22, 37], "user_internal_id"] = "SAME"  # one subject under three ids
    frame.loc[22, ["kyc_case_id", "regulated_provider_name"]] = ["EXT-3", "  provider "]  # folded
    frame.loc[37, "relationship_type"] = "remediation"  # another reason: another subject
    frame.loc[[7, 33], ["kyc_case_id", "user_internal_id"]] = [None, "TWICE"]  # derived twice
    frame.loc[18, "kyc_case_id"] = "bad id with spaces"
    return frame


def _seen(pre: Preflight) -> dict[str, Any]:
    return {
        "status": pre.status.tolist(),
        "ids": pre.kyc_case_id.tolist(),
        "derived": pre.derived_id.tolist(),
        "problems": pre.problems.reset_index().to_dict("records"),
        "error_field": pre.error_field.tolist(),
        "error_message": pre.error_message.tolist(),
        "note": pre.note.tolist() if pre.note is not None else None,
        "held": pre.same_subject.tolist() if pre.same_subject is not None else None,
        "missing_ids": pre.missing_ids,
        "values": plain_records(pre.values),
        "bodies": pre.bodies(pre.source.index),
    }


@pytest.mark.parametrize("window", [1, 3, 7, 16])
def test_a_sheet_read_in_windows_equals_the_sheet_read_whole(
    window: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    frame = _messy_sheet()
    whole = preflight(frame, campaign="Windows")
    monkeypatch.setattr(validation, "WINDOW", window)
    windowed = preflight(frame, campaign="Windows")
    assert _seen(windowed) == _seen(whole)
    counts = whole.counts()
    assert counts["duplicate_id"] == 2 and counts["duplicate_in_sheet"] == 2
    assert counts["invalid"] == 3 and counts["same_subject"] == 1


def test_rows_without_a_campaign_are_counted_across_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    frame = campaign_frame(10)
    monkeypatch.setattr(validation, "WINDOW", 3)
    pre = preflight(frame)
    assert pre.missing_ids == 10 and pre.kyc_case_id.isna().all()


def test_the_values_of_some_rows_are_those_of_the_whole_sheet() -> None:
    frame = _messy_sheet()
    pre = preflight(frame, campaign="Windows")
    labels = pd.Index([33, 2, 9, 13])
    some = plain_records(pre.values_of(labels))
    assert some == plain_records(pre.values.loc[labels])
    assert [body["kyc_case_id"] for body in pre.bodies(labels)] == pre.kyc_case_id.loc[labels].tolist()


def test_subject_hashes_sift_without_deciding() -> None:
    """Equal subjects hash alike (names folded); a missing field is never a subject."""
    values = pd.DataFrame({
        "user_internal_id": ["A", "A", "A", None],
        "regulated_provider_name": ["Bank  One", "bank one", "Bank Two", "Bank One"],
        "programme_name": ["Cards", "cards", "Cards", "Cards"],
        "relationship_type": ["KYC_REFRESH"] * 4,
    })
    keys = subject_keys(values)
    assert keys.hashes[0] == keys.hashes[1] != keys.hashes[2]
    assert keys.present.tolist() == [True, True, True, False]


def _part(texts: list[str | None], labels: range) -> pd.Series:
    from kyc_widgets.batch.columns import compact

    distinct = sorted({t for t in texts if t is not None})
    codes = [distinct.index(t) if t is not None else -1 for t in texts]
    return compact(distinct, np.asarray(codes), pd.Index(labels))


@pytest.mark.parametrize("clash", [False, True])
def test_compact_columns_join_across_windows(clash: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Texts in several windows become one category; every row keeps its text or its gap, and
    two texts sharing a hash (forced here) are still told apart."""
    from kyc_widgets.batch import columns

    if clash:
        monkeypatch.setattr(columns, "text_hashes",
                            lambda texts: np.zeros(len(texts), dtype=np.uint64))
    rows = [["a", "b", None], ["b", "c"], ["Ω", None, "a", "d"]]
    parts, start = [], 0
    for texts in rows:
        parts.append(_part(texts, range(start, start + len(texts))))
        start += len(texts)
    joined = columns.concat_compact(parts, pd.RangeIndex(start), "kyc_case_id")
    assert columns.plain(joined) == [t for texts in rows for t in texts]
    assert sorted(joined.cat.categories) == ["a", "b", "c", "d", "Ω"]
    assert joined.name == "kyc_case_id"
    distinct = columns.concat_compact([_part(["x"], range(1)), _part(["y"], range(1, 2))],
                                      pd.RangeIndex(2))
    assert columns.plain(distinct) == ["x", "y"]
    # the joined categories are one Arrow array: Arrow joins a chunked one again at every take
    for column in (joined, distinct):
        held = pa.array(column.cat.categories.array)
        assert not isinstance(held, pa.ChunkedArray) or held.num_chunks == 1
