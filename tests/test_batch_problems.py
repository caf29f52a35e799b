"""Problems as data: the pre-flight's table, what the report and the fix form read from it,
and the two defects it fixed (a mapped enum's hint cut off its field; the fix form reading a
cell differently from the pre-flight)."""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any

import pandas as pd
import pytest
from factories import CORE_BANKING_CONSTANTS, campaign_frame, core_banking_frame

import kyc_widgets
from kyc_widgets import BatchMode, BatchOptions, RowStatus, suggest_mapping
from kyc_widgets.batch import batch_create, preflight
from kyc_widgets.batch.fixes import row_errors, row_values
from kyc_widgets.batch.problems import PROBLEM_COLUMNS, ProblemCode
from kyc_widgets.batch.status import ATTENTION_STATUSES, DONE_STATUSES, FACTS, STATUSES


def test_a_row_with_two_bad_fields_gives_two_problem_rows() -> None:
    frame = campaign_frame(3)
    frame.loc[1, "user_type"] = "robot"
    frame.loc[1, "legal_first_name"] = None
    frame.loc[2, "case_priority"] = "asap"
    result = preflight(frame, campaign="problems")
    problems = result.problems
    assert tuple(problems.columns) == PROBLEM_COLUMNS
    assert problems["sheet_row"].tolist() == [3, 3, 4]
    assert problems["field"].tolist() == ["legal_first_name", "user_type", "case_priority"]
    assert problems["code"].tolist() == [ProblemCode.MISSING.value, "enum", "enum"]
    assert problems["value"].tolist() == [None, "robot", "asap"]  # as the sheet spells them
    assert problems["message"].iloc[0] == "this column is required and the cell is empty"
    # the report's columns are rendered from the table, in the form's field order
    assert result.error_field[1] == "legal_first_name, user_type"
    assert result.error_message[1].startswith(
        "Legal first name: this column is required and the cell is empty; User type: 'robot' is "
        "not a user type; use Individual, Sole trader"
    )
    assert result.error_message[2] == (
        "Case priority: 'asap' is not a case priority; use Low, Normal, High or Urgent"
    )
    assert result.status.tolist() == ["ready", "invalid", "invalid"]


def test_duplicates_are_problems_of_their_own_kind() -> None:
    frame = campaign_frame(2)
    frame["kyc_case_id"] = ["SAME-1", "SAME-1"]
    frame.loc[1, "user_internal_id"] = frame.loc[0, "user_internal_id"]  # one customer, twice
    result = preflight(frame)
    problems = result.problems
    assert problems["code"].tolist() == [ProblemCode.DUPLICATE_IN_SHEET.value]
    assert problems["sheet_row"].tolist() == [3]
    assert result.error_message[1] == "Same external case ID as sheet row 2; only that row is sent."


def test_one_id_for_two_customers_holds_both_back_as_needing_attention() -> None:
    frame = campaign_frame(3)
    frame["kyc_case_id"] = ["SAME-1", "SAME-1", "OTHER-1"]  # rows 2 and 3: two customers
    result = preflight(frame)
    assert result.status.tolist() == ["duplicate_id", "duplicate_id", "ready"]
    assert result.problems["code"].tolist() == [ProblemCode.DUPLICATE_ID.value] * 2
    assert result.error_message[0] == (
        "Same external case ID as sheet row 3, another customer or reason: neither is sent "
        "until each row has its own external case ID."
    )
    assert result.counts()["duplicate_id"] == 2 and result.counts()["ready"] == 1
    assert FACTS[RowStatus.DUPLICATE_ID].needs_attention and FACTS[RowStatus.DUPLICATE_ID].fixable


def test_the_report_keeps_the_problems_and_the_values_it_sent(client: Any) -> None:
    frame = campaign_frame(3)
    frame.loc[2, "user_type"] = "robot"
    report = batch_create(client, frame, BatchOptions(campaign="keep", progress=False))
    assert report.summary()[RowStatus.CREATED] == 2
    assert report.problems["sheet_row"].tolist() == [4]
    assert report.values is not None
    assert report.values.loc[0, "user_type"] == "INDIVIDUAL"


def test_a_mapped_enum_hint_stays_with_its_field(client: Any) -> None:
    """Defect: the hint ("the mapping translates 'P1', ...") was split off into a
    form-level message when the fix form parsed the joined text back (an orphan line).

    The form shows one sentence naming the refused value; the hint about the sheet's
    vocabulary stays with the message in the report and on the command line."""
    frame = core_banking_frame(3)
    frame.loc[1, "Priority"] = "ASAP"
    mapping = suggest_mapping(frame).with_constants(CORE_BANKING_CONSTANTS).confirm()
    report = batch_create(client, frame, BatchOptions(campaign="hint", progress=False),
                          mapping=mapping)
    assert report.summary()["invalid"] == 1
    errors = row_errors(report, 3)
    assert len(errors) == 1
    field, message = errors[0]
    assert field == "case_priority"
    assert message == "'ASAP' is not a case priority; use Low, Normal, High or Urgent."
    hint = "the mapping translates " + ", ".join(
        repr(v) for v in mapping.known_values("case_priority")
    )
    assert "'P1'" in hint
    assert report.problems["hint"].tolist() == [hint]
    assert report.results.loc[1, "error_message"].endswith("; " + hint)


def test_the_fix_form_reads_a_cell_as_the_preflight_does(client: Any) -> None:
    """Defect: the pre-flight read ``'=Ada`` as ``=Ada`` but the fix form showed ``'=Ada``."""
    frame = campaign_frame(2)
    frame.loc[1, "legal_first_name"] = "'=Ada"
    frame.loc[1, "user_type"] = "robot"  # makes the row fixable
    report = batch_create(client, frame, BatchOptions(campaign="quote", progress=False))
    assert report.summary()["invalid"] == 1
    values = row_values(report, 3)
    assert values["legal_first_name"] == "=Ada"
    assert values["user_type"] is None  # not a member: the form asks for it
    assert values["relationship_type"] == "KYC_REFRESH"


def test_row_status_is_one_enum_with_one_facts_table() -> None:
    assert kyc_widgets.RowStatus is RowStatus
    assert set(FACTS) == set(RowStatus)
    assert RowStatus.CREATED == "created" and str(RowStatus.CREATED) == "created"
    assert {"created": 1}[RowStatus.CREATED] == 1  # equal and hashed as its value
    assert DONE_STATUSES == {RowStatus.CREATED, RowStatus.EXISTS}
    assert RowStatus.DUPLICATE_IN_SHEET not in ATTENTION_STATUSES
    assert RowStatus.READY not in STATUSES
    assert all(FACTS[s].label and FACTS[s].marker for s in RowStatus)


def test_report_statuses_are_row_statuses(client: Any) -> None:
    report = batch_create(client, campaign_frame(2), campaign="enum", progress=False)
    assert all(isinstance(s, RowStatus) for s in report.results["status"])
    assert list(report.summary()) == list(STATUSES)


def test_batch_options_are_frozen_and_validated_once() -> None:
    options = BatchOptions(campaign="  q1 ", concurrency=64, max_concurrency=8, journal="j.log")
    assert kyc_widgets.BatchOptions is BatchOptions
    assert options.campaign == "q1" and options.concurrency == 8
    assert str(options.journal) == "j.log"
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.campaign = "other"  # type: ignore[misc]
    for bad in ({"concurrency": 0}, {"max_rate": 0}, {"max_concurrency": 0},
                {"mode": "maybe"}, {"on_conflict": "ignore"}):
        with pytest.raises(ValueError):
            BatchOptions(**bad)
    assert options.replace(mode="check_api").mode is BatchMode.CHECK_API


def test_dry_run_still_works_with_a_deprecation_warning() -> None:
    frame = campaign_frame(2)
    with pytest.warns(DeprecationWarning, match="mode='check_rows'"):
        report = batch_create(None, frame, campaign="old", dry_run=True, progress=False)
    assert report.dry_run and report.results["status"].tolist() == ["would_create"] * 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = batch_create(None, frame, BatchOptions(mode="check_rows", campaign="new",
                                                        progress=False))
    assert report.options["mode"] == "check_rows" and report.options["dry_run"] is True
    with pytest.raises(TypeError, match="dryrun"):
        batch_create(None, frame, dryrun=True)


def test_the_preflight_reads_every_sheet_through_a_mapping() -> None:
    """No mapping is the default mapping: one way headers become fields."""
    frame = campaign_frame(1).rename(columns={"legal_first_name": "Legal first name"})
    plain = preflight(frame, campaign="m")
    assert plain.column_map["Legal first name"] == "legal_first_name"
    assert plain.mapping is None
    assert pd.isna(plain.error_field[0])
