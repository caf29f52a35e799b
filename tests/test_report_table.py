"""ReportTable: a campaign report a page at a time, read as the analyst reads it."""

from __future__ import annotations

import pandas as pd

from kyc_widgets.widgets.report_table import PAGE_SIZE, ReportTable


def results(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "source_index": range(n), "sheet_row": range(2, n + 2),
            "kyc_case_id": [f"CMP-{i:06d}" for i in range(n)],
            "status": ["created" if i % 10 else "invalid" for i in range(n)],
            "case_id": None, "http_status": None, "error_code": None, "error_field": None,
            "error_message": None, "request_id": None, "attempts": 1, "note": None,
        }
    )


def test_only_a_page_is_drawn_and_previous_next_move_through_the_rows() -> None:
    table = ReportTable()
    table.show(results(1000))
    assert PAGE_SIZE == 200 and table.value.count("<tr>") == 1 + 200  # header + one page
    assert table.position_text == "Rows 1–200 of 1,000"
    assert "Rows 1–200 of 1,000" in table.position.value
    assert table.pager.layout.display is None
    assert table.previous.disabled and not table.next.disabled
    assert "CMP-000000" in table.value and "CMP-000200" not in table.value

    table.next.click()
    assert table.position_text == "Rows 201–400 of 1,000"
    assert "CMP-000200" in table.value and "CMP-000199" not in table.value
    for _ in range(10):
        table.next.click()
    assert table.position_text == "Rows 801–1,000 of 1,000"
    assert table.next.disabled and not table.previous.disabled
    table.previous.click()
    assert table.position_text == "Rows 601–800 of 1,000"


def test_a_status_filter_pages_its_own_rows_and_hides_the_pager_when_one_page_holds_them() -> None:
    table = ReportTable()
    table.show(results(1000), "invalid")
    assert table.position_text == "Rows 1–100 of 100"
    assert table.pager.layout.display == "none"
    assert table.value.count("✗</span> Invalid") == 100 and "Created" not in table.value
    table.show(results(0))
    assert table.position_text == "No rows"
