"""Pre-flight: columns, normalisation, validation, duplicates, stable ids. No network."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kyc_widgets.batch import (
    CampaignColumnsError,
    derive_case_id,
    preflight,
    read_campaign,
)
from kyc_widgets.batch.preflight import FIELDS
from kyc_widgets.batch.validation import normalise_column, validate_rows

DATA = Path(__file__).parent / "data"


def row(**overrides: Any) -> dict[str, Any]:
    data = {
        "legal_first_name": "Zoë",
        "legal_last_name": "Li",
        "user_internal_id": "00123",
        "user_type": "INDIVIDUAL",
        "relationship_type": "REMEDIATION",
        "case_priority": "NORMAL",
        "agency_name": "Agency",
        "regulated_provider_name": "Provider",
        "programme_name": "Cards",
        "country_of_onboarding": "GB",
        "assigned_team": "Team",
    }
    data.update(overrides)
    return data


def test_missing_required_columns_are_named_in_one_error() -> None:
    frame = pd.DataFrame([row()]).drop(columns=["agency_name", "case_priority"])
    with pytest.raises(CampaignColumnsError) as info:
        preflight(frame, campaign="c")
    assert info.value.missing == ["case_priority", "agency_name"]
    assert "case_priority" in str(info.value) and "agency_name" in str(info.value)
    assert "Nothing was sent" in str(info.value)


def test_two_headers_meaning_the_same_field_are_refused() -> None:
    frame = pd.DataFrame([row(**{"Legal first name": "X"})])
    with pytest.raises(CampaignColumnsError, match="legal_first_name"):
        preflight(frame, campaign="c")


def test_unknown_columns_are_reported_and_ignored() -> None:
    result = preflight(pd.DataFrame([row(Notes="x", Extra="y")]), campaign="c")
    assert result.unknown_columns == ["Notes", "Extra"]
    assert result.status.tolist() == ["ready"]
    assert "Notes" not in result.body(0)
    assert result.warnings and "Notes" in result.warnings[0]


@pytest.mark.parametrize(
    "typed, expected",
    [("remediation", "REMEDIATION"), ("Kyc refresh", "KYC_REFRESH"), ("kyc-refresh", "KYC_REFRESH"),
     ("  limit   increase ", "LIMIT_INCREASE")],
)
def test_enum_members_are_matched_the_way_people_type_them(typed: str, expected: str) -> None:
    result = preflight(pd.DataFrame([row(relationship_type=typed)]), campaign="c")
    assert result.status.tolist() == ["ready"]
    assert result.body(0)["relationship_type"] == expected


def test_whitespace_and_empty_cells_become_missing() -> None:
    frame = pd.DataFrame(
        [row(legal_first_name="  Zoë  ", assigned_analyst_name="   ", current_status=float("nan"))]
    )
    body = preflight(frame, campaign="c").body(0)
    assert body["legal_first_name"] == "Zoë"
    assert "assigned_analyst_name" not in body
    assert body["current_status"] == "DRAFT"  # the campaign default: the contract requires one


def test_invalid_rows_report_field_names_and_titled_messages() -> None:
    frame = pd.DataFrame(
        [
            row(assigned_analyst_email="not-an-email"),
            row(current_status="approved", user_internal_id="2"),
            row(user_internal_id="   ", legal_last_name=""),
        ]
    )
    result = preflight(frame, campaign="c")
    assert result.status.tolist() == ["invalid"] * 3
    assert result.error_field.tolist() == [
        "assigned_analyst_email",
        "current_status",
        "legal_last_name, user_internal_id",
    ]
    assert result.error_message[0].startswith("Assigned analyst e-mail:")
    assert "final outcomes" in result.error_message[1]
    assert "User internal ID: this column is required" in result.error_message[2]
    # cell values never end up in messages
    assert "not-an-email" not in result.error_message[0]


def test_same_id_twice_reports_later_rows_as_duplicates_of_the_first() -> None:
    frame = pd.DataFrame(
        [row(kyc_case_id="K-1"), row(kyc_case_id=" K-1 "), row(kyc_case_id="K-1")],
        index=["a", "b", "c"],
    )
    result = preflight(frame, campaign="c")
    assert result.status.to_dict() == {"a": "ready", "b": "duplicate_in_sheet", "c": "duplicate_in_sheet"}
    assert result.error_message["b"] == "Same external case ID as sheet row 2; only that row is sent."


def test_one_id_for_two_customers_holds_both_and_repeats_stay_duplicates() -> None:
    frame = pd.DataFrame(
        [row(kyc_case_id="K-1"), row(kyc_case_id=" K-1 ", user_internal_id="2"), row(kyc_case_id="K-1")],
        index=["a", "b", "c"],
    )
    result = preflight(frame, campaign="c")
    # a and b: two customers, one id, neither owns it: both need attention; c repeats a
    assert result.status.to_dict() == {"a": "duplicate_id", "b": "duplicate_id", "c": "duplicate_in_sheet"}
    assert result.error_message["a"].startswith("Same external case ID as sheet row 3, another customer")
    assert result.error_message["b"].startswith("Same external case ID as sheet row 2, another customer")
    assert result.error_message["c"] == (
        "Same external case ID, customer and reason as sheet row 2: it repeats that row, whose "
        "case it is."
    )


def test_a_valid_row_is_not_held_back_by_an_invalid_row_with_the_same_id() -> None:
    frame = pd.DataFrame(
        [
            row(kyc_case_id="K-1", assigned_analyst_email="not-an-email"),  # invalid, never sent
            row(kyc_case_id="K-1", user_internal_id="2"),  # the first VALID K-1: sent
            row(kyc_case_id="K-1", user_internal_id="2"),  # the same customer again
            row(kyc_case_id="K-2", user_internal_id="4"),
        ]
    )
    result = preflight(frame)
    assert result.status.tolist() == ["invalid", "ready", "duplicate_in_sheet", "ready"]
    assert result.error_field[0] == "assigned_analyst_email"
    assert result.error_message[2] == "Same external case ID as sheet row 3; only that row is sent."

    # the same with derived ids: two rows for one person, the first one invalid
    derived = pd.DataFrame(
        [row(assigned_analyst_email="bad@"), row(assigned_analyst_email="good@example.org")]
    )
    again = preflight(derived, campaign="c")
    assert again.kyc_case_id[0] == again.kyc_case_id[1]
    assert again.status.tolist() == ["invalid", "ready"]


def test_sheet_rows_of_a_filtered_or_sorted_read_csv_frame() -> None:
    text = pd.DataFrame([row(user_internal_id=f"U{i}") for i in range(6)]).to_csv(index=False)
    plain = pd.read_csv(io.StringIO(text), dtype=str)  # how people read a sheet without read_campaign
    plain.loc[4, "case_priority"] = "soon"  # spreadsheet row 6
    filtered = plain[plain["user_internal_id"] != "U0"]
    result = preflight(filtered, campaign="c")
    assert result.sheet_row[result.status == "invalid"].to_dict() == {4: 6}
    shuffled = preflight(plain.sample(frac=1, random_state=1), campaign="c")
    assert shuffled.sheet_row[shuffled.status == "invalid"].to_dict() == {4: 6}
    assert shuffled.sheet_row.to_dict() == {label: label + 2 for label in range(6)}


def test_the_first_of_duplicates_is_the_lowest_sheet_row_whatever_the_order() -> None:
    frame = pd.DataFrame([row(kyc_case_id="K-1"), row(kyc_case_id="K-1")])
    result = preflight(frame.iloc[::-1])  # sorted the other way round
    assert result.status.to_dict() == {0: "ready", 1: "duplicate_in_sheet"}
    assert result.error_message[1] == "Same external case ID as sheet row 2; only that row is sent."


def test_a_repeated_header_is_ambiguous_not_ignored(tmp_path: Path) -> None:
    header = ",".join([*row(), "kyc_case_id", "kyc_case_id"])
    values = ",".join([*row().values(), "K-1", "K-2"])
    path = tmp_path / "twice.csv"
    path.write_text(f"{header}\n{values}\n", encoding="utf-8")
    sheet = read_campaign(path)
    assert "kyc_case_id.1" in sheet.columns  # pandas renamed the second one
    with pytest.raises(CampaignColumnsError) as info:
        preflight(sheet)
    assert info.value.ambiguous == {"kyc_case_id": ["kyc_case_id", "kyc_case_id.1"]}
    assert "appears twice" in str(info.value)
    # a column that merely ends in ".1" is still just an unknown column
    assert preflight(pd.DataFrame([row(**{"Version.1": "x"})]), campaign="c").unknown_columns == [
        "Version.1"
    ]


def test_missing_cells_stay_missing_whatever_the_dtype() -> None:
    # Under pandas 2, astype(str) turned these into "nan", "None" or "<NA>", which became
    # ids and names. pandas 3 keeps them missing: this test guards the pandas 2 path.
    frame = pd.DataFrame([row(user_internal_id=f"U{i}") for i in range(4)])
    frame["assigned_analyst_name"] = pd.Series([None, np.nan, pd.NA, "Sam"], dtype=object)
    frame["assigned_analyst_email"] = pd.Series([pd.NA, "a@example.org", pd.NA, pd.NA],
                                                dtype="string")
    frame["current_status"] = pd.Categorical([None, "draft", None, "Pending review"])
    frame["kyc_case_id"] = pd.Series([pd.NA, "K-1", None, np.nan], dtype=object)
    frame["user_internal_id"] = pd.Series([1, 2, 3, 4], dtype="Int64")
    frame.loc[3, "user_internal_id"] = pd.NA
    result = preflight(frame, campaign="c")
    assert result.status.tolist() == ["ready", "ready", "ready", "invalid"]
    assert result.error_field[3] == "user_internal_id"
    bodies = result.bodies(frame.index[:3])
    for body in bodies:
        assert not {"nan", "None", "<NA>"} & {str(v) for v in body.values()}
    assert "assigned_analyst_name" not in bodies[0] and "assigned_analyst_email" not in bodies[0]
    assert bodies[0]["current_status"] == "DRAFT" and bodies[2]["current_status"] == "DRAFT"
    assert bodies[1]["current_status"] == "DRAFT" and bodies[1]["assigned_analyst_email"]
    assert bodies[0]["user_internal_id"] == "1"
    assert bodies[1]["kyc_case_id"] == "K-1"
    assert bodies[0]["kyc_case_id"].startswith("CMP-c-")
    assert bodies[2]["kyc_case_id"].startswith("CMP-c-")
    assert bodies[0]["kyc_case_id"] != bodies[2]["kyc_case_id"]


def test_the_quote_of_an_exported_formula_cell_is_dropped() -> None:
    frame = pd.DataFrame(
        [
            row(kyc_case_id="'@300", legal_first_name="'=HYPERLINK(\"x\")"),
            row(kyc_case_id="'-100", user_internal_id="2", legal_last_name="O'Brien"),
            row(kyc_case_id="'abc", user_internal_id="3"),
        ]
    )
    result = preflight(frame)
    assert result.kyc_case_id.tolist() == ["@300", "-100", "'abc"]
    assert result.body(0)["legal_first_name"] == '=HYPERLINK("x")'  # what the first run sent
    assert result.body(1)["legal_last_name"] == "O'Brien"


def test_derived_ids_are_stable_and_forgiving_about_spelling() -> None:
    a = preflight(pd.DataFrame([row()]), campaign="KYC Refresh 2025").kyc_case_id[0]
    b = preflight(
        pd.DataFrame([row(regulated_provider_name=" provider ", relationship_type="remediation")]),
        campaign="kyc-refresh-2025",
    ).kyc_case_id[0]
    assert a == b
    assert a.startswith("CMP-kyc-refresh-2025-") and len(a.split("-")[-1]) == 16
    assert "00123" not in a  # not in clear (but pseudonymous, not anonymous: see identity.py)
    # a pinned value: changing the derivation would re-create every campaign's cases
    assert derive_case_id("Q1", {"user_internal_id": "00123", "regulated_provider_name": "P",
                                 "programme_name": "X", "user_type": "INDIVIDUAL",
                                 "relationship_type": "KYC_REFRESH"}) == (
        derive_case_id("q1", {"user_internal_id": "00123", "regulated_provider_name": " p ",
                              "programme_name": "x", "user_type": "INDIVIDUAL",
                              "relationship_type": "KYC_REFRESH"})
    )


def test_identity_distinguishes_campaigns_and_people() -> None:
    frame = pd.DataFrame([row(), row(user_internal_id="0123"), row(relationship_type="KYC_REFRESH")])
    ids = preflight(frame, campaign="one").kyc_case_id
    assert ids.nunique() == 3
    assert preflight(frame, campaign="two").kyc_case_id[0] != ids[0]


def test_rows_without_ids_and_no_campaign_are_counted() -> None:
    result = preflight(pd.DataFrame([row(), row(kyc_case_id="K-9", user_internal_id="9")]))
    assert result.missing_ids == 1
    assert result.kyc_case_id.isna().tolist() == [True, False]


def test_messy_sheet_preflight() -> None:
    result = preflight(read_campaign(DATA / "messy_campaign.csv"), campaign="Messy")
    assert result.sheet_row.tolist() == [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13]
    assert result.status.to_dict() == {
        2: "ready", 3: "ready", 4: "invalid", 5: "invalid", 6: "duplicate_in_sheet",
        7: "invalid", 8: "ready", 9: "ready", 10: "duplicate_id", 11: "duplicate_id", 13: "ready",
    }  # rows 10 and 11: one external case ID for two customers, neither is sent
    assert result.body(3)["user_type"] == "SOLE_TRADER"
    assert result.body(3)["assigned_analyst_email"] == "analyst@example.org"
    assert result.kyc_case_id[10] == "GIVEN-1"


# -- the fast column-wise validation agrees with row-by-row model validation -----

_cells = st.one_of(
    st.none(),
    st.sampled_from(["", "  ", "x", " Zoë ", "李", "a" * 201, "draft", "APPROVED", "kyc refresh",
                     "individual", "urgent", "a@example.org", "bad@", "K 1", "K-1", "00123"]),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.fixed_dictionaries({name: _cells for name in FIELDS}), min_size=1, max_size=8))
def test_column_wise_validation_matches_per_row_model_validation(rows: list[dict[str, Any]]) -> None:
    frame = pd.DataFrame(rows, columns=list(FIELDS))
    result = preflight(frame, campaign="prop")
    normalised = pd.DataFrame(
        {name: normalise_column(frame[name], enum=name in {"user_type", "relationship_type",
                                                            "current_status", "case_priority"})
         for name in FIELDS}
    )
    values, problems = validate_rows(normalised)
    row_invalid = pd.Series(False, index=frame.index)
    for table in problems:
        row_invalid |= frame.index.isin(table.index)
    fast_invalid = result.status == "invalid"
    assert fast_invalid.tolist() == row_invalid.tolist()
    for label in frame.index[~row_invalid]:
        for name in FIELDS:
            if name == "kyc_case_id":
                continue
            expected = values.at[label, name]
            got = result.values.at[label, name]
            if name == "current_status" and got is None:
                got = "DRAFT"
            assert got == expected, name
