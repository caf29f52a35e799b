"""The reading contract around the corpus: refusals as data, limits a caller can change, the
app showing a refusal (never a dead kernel), line and row numbers that stay right."""

from __future__ import annotations

import io
import pickle
from pathlib import Path

import hostile_corpus as corpus
import pytest

from kyc_widgets.batch import CampaignMapping, CampaignReadError, MappingError, read_campaign
from kyc_widgets.batch.limits import DEFAULT_LIMITS, ReadLimits
from kyc_widgets.widgets.batch_creator import BatchCreator

REFUSED_SHEETS = sorted(
    name
    for name, want in corpus.expected().items()
    if not name.startswith("_")
    and not want.get("generated")
    and want["outcome"] == "refused"
    and not name.endswith(corpus.MAPPING_SUFFIXES)
)


@pytest.mark.parametrize("name", REFUSED_SHEETS)
def test_the_app_shows_each_refusal_in_its_panel(name: str) -> None:
    """What an analyst sees after uploading the file: the refusal, and nothing to send."""
    ui = BatchCreator(None, corpus.CORPUS / name)
    assert ui.state == "error"
    assert "Cannot go on" in ui.preview.value
    for fragment in corpus.expected()[name]["message"]:
        assert fragment.replace(">", "&gt;") in ui.preview.value
    assert ui.create_button.disabled


def test_a_refusal_is_data_line_row_and_reason() -> None:
    text = 'id,name,city\n1,"Zoë\nMüller",Paris\n2,Ann\n'  # a quoted line break, then a short row
    with pytest.raises(CampaignReadError) as caught:
        read_campaign(io.StringIO(text))
    error = caught.value
    assert (error.line, error.row, error.cell) == (4, 3, None)  # line 4 of the file is sheet row 3
    assert str(error) == f"Line 4 (sheet row 3): {error.reason}"
    assert error.reason.startswith("2 cell(s) where the header (row 1) has 3")
    assert "Zoë" not in str(error) and "Ann" not in str(error)  # never a cell's value
    again = pickle.loads(pickle.dumps(error))
    assert (again.line, again.row, again.reason, str(again)) == (4, 3, error.reason, str(error))


def test_the_same_file_reads_with_limits_that_allow_it(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    path.write_text("id,notes\n1," + "x" * 40_000 + "\n2,short\n", encoding="utf-8")
    with pytest.raises(CampaignReadError, match="ReadLimits.max_cell_chars"):
        read_campaign(path)
    frame = read_campaign(path, limits=ReadLimits(max_cell_chars=50_000))
    assert len(frame.loc[2, "notes"]) == 40_000
    with pytest.raises(CampaignReadError, match="more than 2 rows") as caught:
        read_campaign(path, limits=ReadLimits(max_cell_chars=50_000, max_rows=2))
    assert (caught.value.line, caught.value.row) == (3, 3)
    with pytest.raises(CampaignReadError, match="ReadLimits.max_file_bytes"):
        read_campaign(io.BytesIO(path.read_bytes()), limits=ReadLimits(max_file_bytes=1_000))


def test_workbook_limits_are_overridable_too() -> None:
    path = corpus.CORPUS / "title_row_above_header.xlsx"  # 3 rows of 2 columns
    assert read_campaign(path).loc[3, "legal_last_name"] == "Müller"
    with pytest.raises(CampaignReadError, match="a grid of 6 cells, more than the limits"):
        read_campaign(path, limits=ReadLimits(max_cells=5))
    with pytest.raises(CampaignReadError, match="ReadLimits.max_uncompressed_bytes"):
        read_campaign(path, limits=ReadLimits(max_uncompressed_bytes=1_000))


def test_limits_are_numbers_of_zero_or_more() -> None:
    assert DEFAULT_LIMITS == ReadLimits()
    for bad in (-1, "10", True):
        with pytest.raises(ValueError, match="max_cells"):
            ReadLimits(max_cells=bad)  # type: ignore[arg-type]


def test_an_xlsb_is_refused_from_a_buffer_as_by_its_name() -> None:
    data = (corpus.CORPUS / "binary_workbook_inside.xlsx").read_bytes()
    for source in (io.BytesIO(data), corpus.CORPUS / "campaign.xlsb"):
        with pytest.raises(CampaignReadError, match=r"Excel binary workbook \(\.xlsb\)"):
            read_campaign(source)


def test_yaml_anchors_within_the_limit_still_read(tmp_path: Path) -> None:
    path = tmp_path / "anchors.yaml"
    path.write_text(
        "values:\n"
        "  case_priority: &levels {P1: URGENT, P2: HIGH}\n"
        "constants:\n  agency_name: &agency Agency One\n  assigned_team: *agency\n",
        encoding="utf-8",
    )
    mapping = CampaignMapping.load(path)
    assert mapping.constants["assigned_team"] == "Agency One"
    with pytest.raises(MappingError, match="more than 0 YAML aliases"):
        CampaignMapping.load(path, limits=ReadLimits(max_yaml_aliases=0))


def test_windows_1252_punctuation_reads_but_polish_does_not_pass_as_it(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes("Name;Note\r\nZoë;¿Qué? 25°C, m², “quoted” – €5\r\n".encode("cp1252"))
    assert read_campaign(path).loc[2, "Note"] == "¿Qué? 25°C, m², “quoted” – €5"
    path.write_bytes("Imię;Nazwisko\r\nŁukasz;Gałkowski\r\nŻaneta;Wiśniewska\r\n".encode("cp1250"))
    with pytest.raises(CampaignReadError, match="garbled"):
        read_campaign(path)
