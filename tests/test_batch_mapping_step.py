"""BatchCreator's mapping step driven as an analyst would, against the sandbox:
choose a field for a header, confirm a guess, set constants, map a value, save, reload, create."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from factories import CORE_BANKING_CONSTANTS, core_banking_frame

from kyc_widgets.widgets.batch_creator import BatchCreator
from kyc_widgets.widgets.mapping_step import IGNORE


def export() -> pd.DataFrame:
    """A core-banking export with a header nothing matches, a guess, and an unknown value."""
    frame = core_banking_frame(6).rename(columns={"Country": "Land", "Customer No": "Customer Numbr"})
    frame.loc[5, "Review reason"] = "Annual check"
    return frame


def test_map_a_sheet_save_reload_and_create(sandbox: Any, client: Any, tmp_path: Path) -> None:
    ui = BatchCreator(client, export(), campaign="core banking")
    step = ui.mapping_step
    assert step is not None
    assert ui.mapping_panel.selected_index == 0  # open: something needs a person

    # a guess is shown for confirmation, and nothing can be sent until it is confirmed
    assert step.dropdowns["Customer Numbr"].value == "user_internal_id"
    assert "Guess" in step.notes["Customer Numbr"].value and "sure" in step.notes["Customer Numbr"].value
    assert step.confirm_buttons["Customer Numbr"].layout.display == ""
    assert step.notes["Forename"].value.startswith("Suggested")
    # "Land" means nothing by name; its values (GB) make it a guess at the country
    assert step.dropdowns["Land"].value == "country_of_onboarding"
    assert "Guess" in step.notes["Land"].value
    assert ui.state == "error" and ui.create_button.disabled
    assert "still guesses" in ui.preview.value  # in words, no Python
    assert "mapping.confirm" not in ui.preview.value
    step.confirm_buttons["Customer Numbr"].click()
    assert step.confirm_buttons["Customer Numbr"].layout.display == "none"
    assert step.notes["Customer Numbr"].value == "Confirmed."
    assert step.confirm_all.layout.width == "auto"  # its words are never cut off

    # required fields not covered are listed; a header gets its field
    assert "Agency name" in step.uncovered.value
    step.dropdowns["Land"].value = IGNORE
    assert "Country of onboarding" in step.uncovered.value
    step.dropdowns["Land"].value = "country_of_onboarding"
    assert step.notes["Land"].value == "Chosen."
    assert "Country of onboarding" not in step.uncovered.value
    assert step.constants_form is not None and "country_of_onboarding" not in step.constants_form.fields

    # campaign constants for the columns the export does not have
    for name, value in CORE_BANKING_CONSTANTS.items():
        step.constants_form.fields[name].value = value
    assert "Every required field is covered" in step.uncovered.value

    # the value editor lists the column's distinct values; one is not mapped yet
    annual = step.value_dropdowns[("relationship_type", "Annual check")]
    assert annual.value == "" and "Not mapped" in step.value_notes[("relationship_type", "Annual check")].value
    assert step.value_dropdowns[("relationship_type", "Periodic review")].value == "KYC_REFRESH"
    assert ui.state == "ready" and "1 invalid" in ui.preview.value
    annual.value = "KYC_REFRESH"
    assert ui.create_button.description == "Create 6 cases" and not ui.create_button.disabled

    # the start status is never asked for as a constant: empty means Draft
    assert "current_status" not in step.constants_form.fields

    # save: a browser download of the mapping file (kept nowhere else without a folder)
    saved = step.save_download.click()
    assert saved is not None and saved.name == "DataFrame-mapping.json"
    assert "Annual check" in saved.data.decode("utf-8")
    assert list(tmp_path.iterdir()) == []

    again = BatchCreator(client, export(), campaign="core banking")
    assert again.state == "error"  # the suggestion still holds the guess
    assert again.mapping_step is not None
    again.mapping_step.file_upload.receive("core-banking.json", saved.data)  # "Use a mapping file"
    assert "Using the mapping file core-banking.json" in again.mapping_step.message.value
    assert "Using the mapping file core-banking.json" in again.mapping_step.origin.value
    assert again.mapping_step.dropdowns["Land"].value == "country_of_onboarding"
    assert again.mapping_step.notes["Customer Numbr"].value == "From the saved mapping."
    form = again.mapping_step.constants_form
    assert form is not None and form.fields["agency_name"].value == "Agency One"
    assert again.mapping_step.value_dropdowns[("relationship_type", "Annual check")].value == "KYC_REFRESH"
    assert again.state == "ready" and again.create_button.description == "Create 6 cases"

    again.create_button.click()
    assert again.wait(30) and again.state == "done"
    assert again.report is not None and again.report.summary()["created"] == 6
    assert sandbox.case_count() == 6
    assert again.report.mapping is not None and again.report.mapping.source == "core-banking.json"
    assert "Mapping: core-banking.json" in again.summary.value
    assert again.mapping_step.disabled  # no changes once the batch ran


def test_a_bad_mapping_file_is_shown_not_raised(client: Any, tmp_path: Path) -> None:
    ui = BatchCreator(client, export())
    assert ui.mapping_step is not None
    ui.mapping_step.file_upload.receive("bad.json", b'{"columns": {"Forename": "first_name"}}')
    assert "Error: Not used" in ui.mapping_step.message.value
    assert "first_name" in ui.mapping_step.message.value  # the file's own word, quoted
    ui.mapping_step.file_upload.receive("bomb.yaml", b"a: &a [x]\nb: [*a, *a, *a]\n" * 1)
    assert "Error: Not used" in ui.mapping_step.message.value
    # two columns for one field: the preview says so
    ui.mapping_step.dropdowns["Land"].value = "legal_last_name"
    assert ui.state == "error" and "keep one" in ui.preview.value
