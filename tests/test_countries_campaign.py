"""A campaign of country names: suggested map, confirmed, sent as codes; "Korea" stays invalid.

Issue 21: a 10,000-row export went in with 243 full country names and not one
warning. Now ``suggest_mapping`` proposes a value map (names and alpha-3 codes
-> alpha-2, a confidence per value), a person confirms it, the sandbox
stores codes, and a row whose country means two countries is invalid with a
problem that names the value and the candidates. The mapping file keeps the
map and the evidence names the mapping it was made with.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from factories import CORE_BANKING_CONSTANTS, core_banking_frame

from kyc_widgets import (
    CampaignMapping,
    MappingError,
    RowStatus,
    batch_create,
    suggest_mapping,
    verify_evidence,
)
from kyc_widgets.batch import preflight
from kyc_widgets.batch.columns import plain
from kyc_widgets.batch.mapping import CONFIDENT
from kyc_widgets.sandbox import Sandbox

COUNTRIES = ["Deutschland", "España", "United Kingdom", "Korea", "DEU", "Polska"]


def names_frame() -> pd.DataFrame:
    frame = core_banking_frame(6)
    frame["Country"] = COUNTRIES
    return frame


def test_the_suggested_map_turns_names_and_alpha_3_into_codes_with_a_confidence_each() -> None:
    mapping = suggest_mapping(names_frame())
    assert mapping.columns["Country"] == "country_of_onboarding"
    assert mapping.values["country_of_onboarding"] == {
        "Deutschland": "DE", "España": "ES", "United Kingdom": "GB", "DEU": "DE", "Polska": "PL",
    }
    sure = mapping.value_confidence["country_of_onboarding"]
    assert sure["DEU"] == 1.0 and sure["United Kingdom"] > sure["Deutschland"] >= CONFIDENT
    assert "Korea" not in mapping.values["country_of_onboarding"]  # never guessed


def test_a_translated_official_name_waits_for_a_person() -> None:
    frame = core_banking_frame(2)
    frame["Country"] = ["Bundesrepublik Deutschland", "GB"]
    mapping = suggest_mapping(frame).with_constants(CORE_BANKING_CONSTANTS)
    assert mapping.values["country_of_onboarding"] == {"Bundesrepublik Deutschland": "DE"}
    assert mapping.value_confidence["country_of_onboarding"]["Bundesrepublik Deutschland"] < CONFIDENT
    with pytest.raises(MappingError, match="Bundesrepublik Deutschland"):
        preflight(frame, campaign="c", mapping=mapping)
    mapping.confirm()
    assert preflight(frame, campaign="c", mapping=mapping).values[
        "country_of_onboarding"].tolist() == ["DE", "GB"]


def test_a_confirmed_campaign_of_names_is_sent_as_codes_and_korea_names_its_candidates(
    sandbox: Sandbox, client: Any
) -> None:
    mapping = suggest_mapping(names_frame()).with_constants(CORE_BANKING_CONSTANTS).confirm()
    report = batch_create(client, names_frame(), campaign="countries", mapping=mapping, progress=False)
    assert report.summary()[RowStatus.CREATED] == 5 and report.summary()[RowStatus.INVALID] == 1
    stored = [
        client.get_case(case_id).case.country_of_onboarding
        for case_id, status in zip(report.results["kyc_case_id"], report.results["status"])
        if status == "created"
    ]
    assert stored == ["DE", "ES", "GB", "DE", "PL"]
    assert sandbox.case_count() == 5
    message = report.results["error_message"].iloc[3]
    assert message.startswith("Country of onboarding: 'Korea' could be ")
    assert "KP (North Korea) or KR (South Korea)" in message
    assert "mapping's country values" in message  # what to do about it
    problem = report.problems.iloc[0]
    assert (problem["field"], problem["code"], problem["value"]) == (
        "country_of_onboarding", "country_ambiguous", "Korea")


def test_without_a_map_names_are_invalid_and_say_their_code() -> None:
    frame = names_frame().rename(columns={"Country": "country_of_onboarding"})
    frame = frame.assign(**CORE_BANKING_CONSTANTS)
    mapping = suggest_mapping(frame)
    mapping.values.pop("country_of_onboarding")
    result = preflight(frame, campaign="c", mapping=mapping.confirm())
    problems = result.problems.set_index("value")
    assert problems.loc["Deutschland", "message"] == "'Deutschland' is DE (Germany); the API takes the code"
    assert problems.loc["Deutschland", "code"] == "country_name"
    assert "KP (North Korea) or KR (South Korea)" in problems.loc["Korea", "message"]
    assert (result.status == "invalid").sum() == 6


def test_an_unknown_country_names_the_value() -> None:
    frame = core_banking_frame(2)
    frame["Country"] = ["Atlantis", "fr"]
    mapping = suggest_mapping(frame).with_constants(CORE_BANKING_CONSTANTS).confirm()
    result = preflight(frame, campaign="c", mapping=mapping)
    assert plain(result.values["country_of_onboarding"]) == [None, "FR"]
    assert result.error_message.iloc[0] == (
        "Country of onboarding: 'Atlantis' is not a country code or name we know; "
        "use an ISO 3166-1 alpha-2 code such as GB or FR"
    )


def test_the_mapping_file_keeps_the_country_map_and_the_evidence_names_it(
    sandbox: Sandbox, client: Any, tmp_path: Path
) -> None:
    data = suggest_mapping(names_frame()).with_constants(CORE_BANKING_CONSTANTS).to_dict()
    data["values"]["country_of_onboarding"]["Korea"] = "kr"  # a person chose South Korea
    suggested = CampaignMapping.from_data(data)
    path = suggested.save(tmp_path / "crm.json")
    saved = json.loads(path.read_text(encoding="utf-8"))
    assert saved["values"]["country_of_onboarding"]["Korea"] == "KR"
    assert saved["values"]["country_of_onboarding"]["España"] == "ES"
    loaded = CampaignMapping.load(path)
    assert loaded.values == suggested.values and loaded.fingerprint() == suggested.fingerprint()
    without_korea = CampaignMapping.from_data(
        {**saved, "values": {**saved["values"], "country_of_onboarding": {
            k: v for k, v in saved["values"]["country_of_onboarding"].items() if k != "Korea"}}}
    )
    assert without_korea.fingerprint() != loaded.fingerprint()  # the country map is fingerprinted

    report = batch_create(client, names_frame(), campaign="countries", mapping=loaded, progress=False)
    assert report.summary()[RowStatus.CREATED] == 6
    report.to_evidence(tmp_path / "evidence.json")
    record = json.loads((tmp_path / "evidence.json").read_text(encoding="utf-8"))
    recorded_mapping = record["mapping"]["campaign_mapping"]
    assert recorded_mapping["file"] == "crm.json"
    assert recorded_mapping["fingerprint"] == loaded.fingerprint()
    assert recorded_mapping["values"]["country_of_onboarding"]["Korea"] == "KR"  # the map itself
    assert verify_evidence(tmp_path / "evidence.json").ok
    report.to_excel(tmp_path / "report.xlsx")
    recorded = pd.read_excel(tmp_path / "report.xlsx", sheet_name="mapping", dtype=str, engine="openpyxl")
    assert ("value", "Korea", "country_of_onboarding", "KR") in set(
        zip(recorded["what"], recorded["sheet"], recorded["field"], recorded["value"]))


def test_a_country_map_to_something_else_than_a_code_is_refused() -> None:
    with pytest.raises(MappingError, match=r"'Korea' -> 'Korea, Republic of' is not an ISO 3166-1"):
        CampaignMapping.from_data({"values": {"country_of_onboarding": {"Korea": "Korea, Republic of"}}})


def test_a_country_constant_may_be_a_mapped_name() -> None:
    mapping = CampaignMapping(
        constants={"country_of_onboarding": "Deutschland"},
        values={"country_of_onboarding": {"Deutschland": "DE"}},
    )
    assert mapping.constants["country_of_onboarding"] == "DE"
    with pytest.raises(MappingError, match=r"use DE \(Germany\)"):
        CampaignMapping.from_data({"constants": {"country_of_onboarding": "Deutschland"}})


def test_the_name_index_is_built_once_on_first_use() -> None:
    """Validating codes never reads the catalogues; the first name does, the next ones reuse it."""
    code = (
        "from kyc_widgets import countries\n"
        "from kyc_widgets.models import KycCaseCreateInput\n"
        "KycCaseCreateInput.model_validate_json\n"
        "assert countries.match_country('de').code == 'DE'\n"
        "assert countries._index.cache_info().currsize == 0\n"
        "assert countries.country_code('Deutschland') == 'DE'\n"
        "assert countries.country_code('Polska') == 'PL'\n"
        "info = countries._index.cache_info()\n"
        "assert (info.misses, info.hits) == (1, 1), info\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr
