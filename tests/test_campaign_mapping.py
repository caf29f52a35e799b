"""CampaignMapping and suggest_mapping: a core-banking export created without reformatting."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from factories import CORE_BANKING_CONSTANTS, core_banking_frame

from kyc_widgets import CampaignMapping, batch_create, suggest_mapping
from kyc_widgets.batch import CampaignColumnsError, MappingError, preflight
from kyc_widgets.batch.mapping import CONFIDENT
from kyc_widgets.batch.synonyms import HEADER_SYNONYMS, phrase


def confirmed_core_banking_mapping() -> CampaignMapping:
    suggested = suggest_mapping(core_banking_frame())
    return CampaignMapping(
        columns=suggested.columns, constants=CORE_BANKING_CONSTANTS, values=suggested.values
    )


def test_suggestion_reads_a_core_banking_export() -> None:
    mapping = suggest_mapping(core_banking_frame())
    assert mapping.columns == {
        "Customer No": "user_internal_id",
        "Forename": "legal_first_name",
        "Surname": "legal_last_name",
        "Customer type": "user_type",
        "Review reason": "relationship_type",
        "Priority": "case_priority",
        "Country": "country_of_onboarding",
        "Branch": None,
    }
    assert all(mapping.confidence[h] >= CONFIDENT for h, f in mapping.columns.items() if f)
    assert mapping.values["relationship_type"] == {
        "Periodic review": "KYC_REFRESH",
        "Backbook": "REMEDIATION",
        "periodic review": "KYC_REFRESH",
    }
    assert mapping.values["user_type"] == {
        "Private individual": "INDIVIDUAL",
        "Sole proprietor": "SOLE_TRADER",
    }
    assert mapping.values["case_priority"]["P1"] == "URGENT"
    missing = {"agency_name", "regulated_provider_name", "programme_name", "assigned_team"}
    assert missing.isdisjoint(mapping.covered())


def test_confirmed_mapping_creates_every_row(sandbox: Any, client: Any, tmp_path: Path) -> None:
    frame = core_banking_frame()
    report = batch_create(client, frame, campaign="core banking", mapping=confirmed_core_banking_mapping(),
                          progress=False)
    assert report.summary()["created"] == 6, report.results["error_message"].tolist()
    assert sandbox.case_count() == 6
    first = report.results["kyc_case_id"].iloc[3]
    case = client.get_case(first).case
    assert (case.legal_first_name, case.legal_last_name) == ("Андрей", "Иванов")
    assert case.user_internal_id == "000000000004"
    assert (case.relationship_type, case.case_priority, case.user_type) == (
        "KYC_REFRESH", "LOW", "SOLE_TRADER")
    assert case.agency_name == "Agency One" and case.assigned_team == "Refresh team"
    # the report keeps the sheet's own headers next to the results, and names the mapping
    joined = report.to_frame()
    assert {"Forename", "Surname", "Branch", "status"} <= set(joined.columns)
    assert report.mapping is not None
    assert "Mapping:" in report.summary_text() and report.mapping.fingerprint() in report.summary_text()
    report.to_excel(tmp_path / "report.xlsx")
    recorded = pd.read_excel(tmp_path / "report.xlsx", sheet_name="mapping", dtype=str, engine="openpyxl")
    assert ("column", "Forename", "legal_first_name") in set(
        zip(recorded["what"], recorded["sheet"], recorded["field"]))
    assert ("constant", "Agency One") in set(zip(recorded["what"], recorded["value"]))


def test_a_value_neither_mapped_nor_a_member_stays_invalid_and_lists_the_map() -> None:
    frame = core_banking_frame(3)
    frame.loc[1, "Review reason"] = "Annual check"
    result = preflight(frame, campaign="c", mapping=confirmed_core_banking_mapping())
    assert result.status.tolist() == ["ready", "invalid", "ready"]
    message = result.error_message.iloc[1]
    assert "'Annual check' is not a relationship type; use" in message
    assert "'Periodic review'" in message and "'Backbook'" in message


def test_a_low_confidence_guess_is_never_applied_silently() -> None:
    frame = core_banking_frame(2).rename(columns={"Customer No": "Customer Numbr"})
    mapping = suggest_mapping(frame)
    assert mapping.columns["Customer Numbr"] == "user_internal_id"
    assert mapping.confidence["Customer Numbr"] < CONFIDENT
    assert any("Customer Numbr" in line for line in mapping.unconfirmed())
    mapping = mapping.with_constants(CORE_BANKING_CONSTANTS)
    with pytest.raises(MappingError, match="Customer Numbr"):
        preflight(frame, campaign="c", mapping=mapping)
    mapping.confirm("Customer Numbr")
    assert preflight(frame, campaign="c", mapping=mapping).counts()["ready"] == 2


def test_a_constant_for_a_mapped_column_is_refused() -> None:
    with pytest.raises(ValueError, match="'agency_name' is both a campaign constant and the column 'Agency'"):
        CampaignMapping(columns={"Agency": "agency_name"}, constants={"agency_name": "A"})
    # a header matched by name is a column too
    frame = core_banking_frame(2).assign(agency_name="Other")
    mapping = confirmed_core_banking_mapping()
    with pytest.raises(MappingError, match="'agency_name' is both a campaign constant"):
        preflight(frame, campaign="c", mapping=mapping)
    with pytest.raises(ValueError, match="differs for every person"):
        CampaignMapping(constants={"user_internal_id": "1"})


def test_required_fields_neither_columns_nor_constants_are_named() -> None:
    frame = core_banking_frame(2).drop(columns=["Surname"])
    mapping = CampaignMapping(columns={"Surname": "legal_last_name", "Forename": "legal_first_name"})
    with pytest.raises(CampaignColumnsError) as info:
        preflight(frame, campaign="c", mapping=mapping)
    text = str(info.value)
    assert "legal_last_name" in text and "agency_name" in text and "'Surname'" in text


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_save_and_load_round_trip(tmp_path: Path, suffix: str) -> None:
    mapping = confirmed_core_banking_mapping()
    path = mapping.save(tmp_path / f"core-banking{suffix}")
    assert "Forename" in path.read_text(encoding="utf-8")
    assert "confidence" not in path.read_text(encoding="utf-8")
    loaded = CampaignMapping.load(path)
    assert loaded.to_dict() == mapping.to_dict()
    assert loaded.source == path.name and loaded.fingerprint() == mapping.fingerprint()
    assert loaded.unconfirmed() == []


def test_loading_unknown_fields_and_values_names_them(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({
        "columns": {"Surname": "legal_lastname", "Forename": "legal_first_name"},
        "constants": {"agencyname": "A", "case_priority": "whenever"},
        "values": {"relationship_type": {"Periodic review": "PERIODIC"}},
    }), encoding="utf-8")
    with pytest.raises(MappingError) as info:
        CampaignMapping.load(path)
    text = str(info.value)
    assert text.startswith("bad.json:")
    assert "'legal_lastname' (did you mean 'legal_last_name'?)" in text
    assert "'agencyname'" in text
    assert "'PERIODIC'" in text and "KYC_REFRESH" in text
    assert "whenever" not in text or "case_priority" in text
    path.write_text(json.dumps({"colums": {}}), encoding="utf-8")
    with pytest.raises(MappingError, match="unknown key 'colums'"):
        CampaignMapping.load(path)


def test_a_value_map_for_a_text_field_translates_codes() -> None:
    mapping = confirmed_core_banking_mapping()
    mapping.values["country_of_onboarding"] = {"United Kingdom": "GB"}
    frame = core_banking_frame(2)
    frame.loc[0, "Country"] = " united kingdom "
    result = preflight(frame, campaign="c", mapping=mapping)
    assert result.values["country_of_onboarding"].tolist() == ["GB", "GB"]


def test_enum_constants_are_stored_as_members() -> None:
    mapping = CampaignMapping(
        constants={"relationship_type": "Periodic review", "case_priority": "high"},
        values={"relationship_type": {"Periodic review": "kyc refresh"}},
    )
    assert mapping.constants == {"relationship_type": "KYC_REFRESH", "case_priority": "HIGH"}
    assert mapping.values["relationship_type"] == {"Periodic review": "KYC_REFRESH"}


def test_no_synonym_means_two_fields() -> None:
    seen: dict[str, str] = {}
    for name, phrases in HEADER_SYNONYMS.items():
        for text in phrases:
            assert seen.setdefault(phrase(text), name) == name, text


def test_a_mapping_from_a_path_and_headers_matched_loosely(tmp_path: Path) -> None:
    path = confirmed_core_banking_mapping().save(tmp_path / "m.json")
    frame = core_banking_frame(2).rename(columns={"Customer No": " customer no. "})
    result = preflight(frame, campaign="c", mapping=path)
    assert result.counts()["ready"] == 2
    assert result.column_map[" customer no. "] == "user_internal_id"
    assert result.mapping is not None and result.mapping.source == "m.json"
    assert isinstance(result.values, pd.DataFrame)
