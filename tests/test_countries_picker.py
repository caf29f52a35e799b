"""The country picker as a person uses it (typed names, codes, suggestions), in a form, and
the mapping step's country value map.

The browser half (keyboard, axe-core) is ``tests/test_countries_browser.py``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from factories import CORE_BANKING_CONSTANTS, core_banking_frame, valid_case_input

from kyc_widgets.batch import CampaignMapping
from kyc_widgets.form.country_picker import CountryPicker, country_input
from kyc_widgets.form.schema_form import SchemaForm
from kyc_widgets.models import KycCaseCreateInput
from kyc_widgets.widgets.mapping_step import MappingStep

# --------------------------------------------------------------------------- the picker


def test_typing_a_name_selects_its_code() -> None:
    picker = CountryPicker(description="Country of onboarding")
    assert picker.value is None and picker.combobox.value == ""
    for typed, code, shown in [
        ("Deutschland", "DE", "DE \u2014 Germany"),
        ("fr", "FR", "FR \u2014 France"),
        ("España", "ES", "ES \u2014 Spain"),
        ("Ivory Coast", "CI", "CI \u2014 C\u00f4te d'Ivoire"),
        ("GB \u2014 United Kingdom", "GB", "GB \u2014 United Kingdom"),  # picked from the list
    ]:
        picker.combobox.value = typed  # what the browser sends on Enter or leaving the box
        assert (picker.value, picker.code, picker.combobox.value) == (code, code, shown), typed
        assert picker.note.layout.display == "none"
    picker.combobox.value = ""
    assert picker.value is None


def test_the_list_is_searchable_by_code_and_name() -> None:
    picker = CountryPicker()
    options = picker.combobox.options
    assert len(options) == 249 and "DE \u2014 Germany" in options and "KR \u2014 South Korea" in options
    assert picker.combobox.placeholder.startswith("Type a code or a name")
    assert not picker.combobox.ensure_option  # a name in another language may be typed
    # looked up on Enter or leaving the box, never mid-word ("Ge" is Georgia's code)
    assert picker.combobox.continuous_update is False


def test_an_ambiguous_name_stays_and_names_the_candidates() -> None:
    picker = CountryPicker()
    picker.combobox.value = "Korea"
    assert picker.code is None and picker.value == "Korea" and picker.combobox.value == "Korea"
    assert picker.note.layout.display == ""
    assert "KP (North Korea) or KR (South Korea)" in picker.note.value
    assert "Choose one from the list" in picker.note.value
    picker.combobox.value = "Atlantis"
    assert picker.code is None and "not a country code or name we know" in picker.note.value
    picker.combobox.value = "KR \u2014 South Korea"
    assert picker.value == "KR" and picker.note.layout.display == "none"


def test_setting_the_value_shows_its_label_and_the_input_can_be_disabled() -> None:
    picker = CountryPicker("pl", description="Country")
    assert picker.value == "PL" and picker.combobox.value == "PL \u2014 Poland"
    picker.value = "Nederland"
    assert picker.value == "NL" and picker.combobox.value == "NL \u2014 Netherlands"
    picker.disabled = True
    assert picker.combobox.disabled and picker.disabled
    picker.description = "Land"
    assert picker.combobox.description == "Land"


# --------------------------------------------------------------------------- in a form


def test_in_the_case_form_a_typed_name_is_sent_as_its_code() -> None:
    """Every form of the contract model gets the picker: the field asks for it (``x-input``)."""
    form: SchemaForm[KycCaseCreateInput] = SchemaForm(KycCaseCreateInput)
    picker = form.fields["country_of_onboarding"]
    assert isinstance(picker, CountryPicker)
    assert picker.description.startswith("Country of onboarding")  # the field's label
    values = {k: v for k, v in valid_case_input().items() if k != "country_of_onboarding"}
    form.set_values(values)
    picker.combobox.value = "Österreich"
    case = form.validate()
    assert case is not None and case.country_of_onboarding == "AT"

    picker.combobox.value = "Congo"
    assert form.validate() is None
    message = form.field_errors["country_of_onboarding"]
    assert "CD (" in message and "CG (Republic of the Congo)" in message


def test_any_other_field_can_ask_for_the_picker_in_one_form() -> None:
    form: SchemaForm[KycCaseCreateInput] = SchemaForm(
        KycCaseCreateInput, widgets={"programme_name": country_input}
    )
    assert isinstance(form.fields["programme_name"], CountryPicker)
    assert form.fields["programme_name"].description.startswith("Programme name")


# --------------------------------------------------------------------------- the mapping step


def names_export() -> pd.DataFrame:
    frame = core_banking_frame(6)
    frame["Country"] = ["Deutschland", "España", "gb", "Korea", "Bundesrepublik Deutschland", "Atlantis"]
    return frame


def test_the_mapping_step_shows_the_country_map_like_an_enum_map(tmp_path: Path) -> None:
    step = MappingStep(names_export())
    key = ("country_of_onboarding", "{}")
    pickers = step.value_pickers
    assert set(pickers) == {("country_of_onboarding", v) for v in
                            ("Deutschland", "España", "Korea", "Bundesrepublik Deutschland", "Atlantis")}
    section = step.values_box.children[-1]
    assert "1 value(s) are already country codes" in section.children[1].value  # "gb"

    def note(value: str) -> str:
        return str(step.value_notes[(key[0], value)].value)

    assert pickers[(key[0], "Deutschland")].combobox.value == "DE \u2014 Germany"
    assert note("Deutschland") == "Suggested, 90% sure."
    assert "Guess, 80% sure" in note("Bundesrepublik Deutschland")
    assert pickers[(key[0], "Korea")].combobox.value == "Korea"  # its list opens on the two Koreas
    assert "KP (North Korea) or KR (South Korea)" in note("Korea") and "invalid" in note("Korea")
    assert "Not a country we know" in note("Atlantis")
    assert step.unconfirmed() == ["country_of_onboarding: Bundesrepublik Deutschland"]

    pickers[(key[0], "Korea")].combobox.value = "South Korea"  # a person chooses
    assert note("Korea") == "Mapped."
    step.confirm()
    for name, value in CORE_BANKING_CONSTANTS.items():
        assert step.constants_form is not None
        step.constants_form.fields[name].value = value
    mapping = step.build()
    assert mapping.values["country_of_onboarding"] == {
        "Deutschland": "DE", "España": "ES", "Korea": "KR", "Bundesrepublik Deutschland": "DE",
    }
    assert mapping.unconfirmed() == []

    saved = mapping.save(tmp_path / "crm.yaml")
    again = MappingStep(names_export(), CampaignMapping.load(saved))  # a saved mapping, reopened
    assert again.value_pickers[(key[0], "Korea")].value == "KR"
    assert again.value_notes[(key[0], "Korea")].value == "Mapped."
