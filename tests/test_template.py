"""write_template: a sheet that reads back with no mapping, dropdowns for every enum."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from factories import campaign_frame
from openpyxl import load_workbook

from kyc_widgets import batch_create, read_campaign, write_template
from kyc_widgets.batch import preflight
from kyc_widgets.models import CreateStatus, KycCaseCreateInput


def test_one_column_per_field_headed_by_its_title_required_marked(tmp_path: Path) -> None:
    book = load_workbook(write_template(tmp_path / "template.xlsx"))
    assert book.sheetnames[0] == "Cases" and "Help" in book.sheetnames
    headers = [cell.value for cell in book["Cases"][1]]
    assert len(headers) == len(KycCaseCreateInput.model_fields)
    assert headers[0] == "Legal first name *"
    assert "User internal ID *" in headers and "Assigned analyst e-mail" in headers
    assert "External case ID" in headers  # optional: no marker
    help_rows = [[c.value for c in row] for row in book["Help"].iter_rows()]
    assert any("required" in str(row[0]) for row in help_rows)  # said in words, not colour only
    first_name = next(row for row in help_rows if row[0] == "Legal first name *")
    assert first_name[1] == "Yes" and "identity document" in first_name[2]


def test_every_enum_has_a_dropdown_and_status_offers_create_statuses_only(tmp_path: Path) -> None:
    book = load_workbook(write_template(tmp_path / "template.xlsx"))
    cases, lists = book["Cases"], book["Lists"]
    headers = {cell.value: cell.column_letter for cell in cases[1]}
    rules = {
        str(rule.sqref).split(":")[0].rstrip("0123456789"): rule
        for rule in cases.data_validations.dataValidation
    }
    assert set(rules) == {headers[h] for h in ("User type *", "Relationship type *",
                                               "Current status", "Case priority *")}
    status_rule = rules[headers["Current status"]]
    column = status_rule.formula1.split("!")[1].split(":")[0].replace("$", "").rstrip("0123456789")
    offered = [c.value for c in lists[column] if c.value]
    assert len(offered) == len(CreateStatus)
    assert "Approved" not in offered and "Pending review" in offered
    assert lists.sheet_state == "hidden"


def test_a_filled_template_reads_back_with_no_mapping(sandbox: Any, client: Any, tmp_path: Path) -> None:
    path = write_template(tmp_path / "template.xlsx")
    book = load_workbook(path)
    cases = book["Cases"]
    columns = {cell.value.removesuffix(" *"): cell.column for cell in cases[1]}
    rows = campaign_frame(3, prefix="T")
    for offset, record in enumerate(rows.to_dict("records"), start=2):
        for name, value in record.items():
            title = KycCaseCreateInput.model_fields[name].title
            cases.cell(row=offset, column=columns[title], value=value)
        cases.cell(row=offset, column=columns["Relationship type"], value="KYC refresh")  # as offered
        cases.cell(row=offset, column=columns["Current status"], value="Pending review")
    book.save(path)
    frame = read_campaign(path)
    result = preflight(frame, campaign="template")
    assert result.counts()["ready"] == 3, result.error_message.tolist()
    assert result.unknown_columns == []
    assert set(result.values["relationship_type"]) == {"KYC_REFRESH"}
    report = batch_create(client, frame, campaign="template", progress=False)
    assert report.summary()["created"] == 3 and sandbox.case_count() == 3
