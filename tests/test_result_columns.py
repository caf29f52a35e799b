"""ResultColumns: ids held compactly while a run sends read back exactly once settled (issue 22)."""

from __future__ import annotations

from kyc_widgets.batch.outcomes import Outcome
from kyc_widgets.batch.run import ResultColumns
from kyc_widgets.batch.status import RowStatus


def test_ids_settle_into_the_columns_exactly() -> None:
    columns = ResultColumns(6)
    texts = ["case-1", "cäse-ß-2-longer-than-the-first", "", "ends-in-nul\0", "\ud800lone"]
    for position, text in enumerate(texts):
        columns.set(position, Outcome(RowStatus.CREATED, case_id=text, request_id=f"r{position}"))
    columns.set(5, Outcome(RowStatus.FAILED))
    columns.settle()
    assert columns.data["case_id"].tolist() == [*texts, None]
    assert columns.data["request_id"].tolist() == ["r0", "r1", "r2", "r3", "r4", None]


def test_a_later_run_overwrites_or_clears_a_settled_id() -> None:
    """A row confirmed from the journal, then sent again: its last outcome's ids are the report's."""
    columns = ResultColumns(3)
    for position in range(3):
        columns.set(position, Outcome(RowStatus.EXISTS, case_id=f"old-{position}", request_id="q"))
    columns.settle()
    columns.set(0, Outcome(RowStatus.CREATED, case_id="new-0", request_id="r"))
    columns.set(1, Outcome(RowStatus.NOT_ATTEMPTED))
    columns.settle()
    assert columns.data["case_id"].tolist() == ["new-0", None, "old-2"]
    assert columns.data["request_id"].tolist() == ["r", None, "q"]
    assert columns.data["status"].tolist() == [RowStatus.CREATED, RowStatus.NOT_ATTEMPTED,
                                               RowStatus.EXISTS]
