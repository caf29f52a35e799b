"""Identifiers stay printable: an external case id with an invisible character is refused
in the model, its published pattern, the form, the pre-flight and the sandbox.

``SPOOF-1`` followed by U+3164 HANGUL FILLER (or U+115F, U+2800, U+034F,
U+FE0F, U+E0100, U+17B4...) looked like ``SPOOF-1`` and was accepted: ten
look-alike cases, unmarked in the app. Names keep what scripts need (ZWNJ,
ZWJ); ids do not. U+2028/U+2029 are line breaks: refused inside any text.
"""

from __future__ import annotations

import html
import re
import sys
import unicodedata
from typing import Any

import httpx
import ipywidgets as W
import pytest
from factories import campaign_frame, lovelace_case_input, valid_case_input
from pydantic import ValidationError

from kyc_widgets.batch import preflight
from kyc_widgets.form.schema_form import SchemaForm
from kyc_widgets.models import KYC_CASE_ID_PATTERN, KycCaseCreateInput
from kyc_widgets.sandbox import Sandbox
from kyc_widgets.text import (
    DEFAULT_IGNORABLE_RANGES,
    IDENTIFIER_INVISIBLE_RANGES,
    clean_text,
    identifier_problem,
)

CASES = "/api/v1/kyc-cases"

INVISIBLE: list[tuple[str, str]] = [
    ("\u3164", "U+3164 HANGUL FILLER"),
    ("\u115f", "U+115F HANGUL CHOSEONG FILLER"),
    ("\u1160", "U+1160 HANGUL JUNGSEONG FILLER"),
    ("\uffa0", "U+FFA0 HALFWIDTH HANGUL FILLER"),
    ("\u2800", "U+2800 BRAILLE PATTERN BLANK"),
    ("\u034f", "U+034F COMBINING GRAPHEME JOINER"),
    ("\ufe0f", "U+FE0F VARIATION SELECTOR-16"),
    ("\U000e0100", "U+E0100 VARIATION SELECTOR-17"),
    ("\u17b4", "U+17B4 KHMER VOWEL INHERENT AQ"),
    ("\u17b5", "U+17B5 KHMER VOWEL INHERENT AA"),
    ("\u180b", "U+180B MONGOLIAN FREE VARIATION SELECTOR ONE"),
    ("\u200b", "U+200B ZERO WIDTH SPACE"),
    ("\u200d", "U+200D ZERO WIDTH JOINER"),
    ("\u2060", "U+2060 WORD JOINER"),
    ("\u00ad", "U+00AD SOFT HYPHEN"),
    ("\U000e0041", "U+E0041 TAG LATIN CAPITAL LETTER A"),
]
IDS = [name.split(" ", 1)[0] for _, name in INVISIBLE]
SPOOF = "SPOOF-1"


def _message(name: str) -> str:
    return f"it contains {name} at position {len(SPOOF) + 1}"


def visible_text(widget: W.HTML) -> str:
    if widget.layout.display == "none":
        return ""
    return html.unescape(re.sub(r"<[^>]+>", "", widget.value)).strip()


@pytest.mark.parametrize(("char", "name"), INVISIBLE, ids=IDS)
def test_the_model_and_its_published_pattern_refuse_the_id(char: str, name: str) -> None:
    with pytest.raises(ValidationError) as caught:
        KycCaseCreateInput.model_validate({**lovelace_case_input(), "kyc_case_id": SPOOF + char})
    [error] = caught.value.errors()
    assert error["loc"] == ("kyc_case_id",)
    assert _message(name) in error["msg"]
    assert SPOOF not in error["msg"]  # the character is named, never the id
    assert re.fullmatch(KYC_CASE_ID_PATTERN, SPOOF)
    assert not re.fullmatch(KYC_CASE_ID_PATTERN, SPOOF + char)
    assert identifier_problem(SPOOF + char) == f"contains {name} at position 8"


def test_names_keep_what_scripts_need_while_ids_do_not() -> None:
    persian = "نیلو\u200cفر"
    case = KycCaseCreateInput.model_validate({**lovelace_case_input(), "legal_first_name": persian})
    assert case.legal_first_name == persian
    assert identifier_problem(persian) is not None


@pytest.mark.parametrize(("char", "name"), INVISIBLE[:6], ids=IDS[:6])
def test_the_form_shows_the_refusal_under_the_id(char: str, name: str) -> None:
    form = SchemaForm(KycCaseCreateInput)
    for field, value in {**lovelace_case_input(), "kyc_case_id": SPOOF + char}.items():
        widget = form.fields[field]
        if isinstance(widget, W.Dropdown):
            widget.value = next(v for _, v in widget.options if getattr(v, "value", v) == value)
        else:
            widget.value = value
    assert form.validate() is None
    shown = {n: t for n, w in form.error_widgets.items() if (t := visible_text(w))}
    assert list(shown) == ["kyc_case_id"]
    assert _message(name) in shown["kyc_case_id"]


def test_the_preflight_marks_every_look_alike_row_invalid() -> None:
    frame = campaign_frame(len(INVISIBLE) + 1)
    frame["kyc_case_id"] = [SPOOF + char for char, _ in INVISIBLE] + [SPOOF]
    result = preflight(frame, campaign="spoof")
    assert list(result.status) == ["invalid"] * len(INVISIBLE) + ["ready"]
    for row, (_, name) in enumerate(INVISIBLE):
        assert result.error_field[row] == "kyc_case_id"
        assert _message(name) in result.error_message[row]


@pytest.fixture
def api(sandbox: Sandbox) -> Any:
    with httpx.Client(
        base_url=sandbox.base_url, headers={"Authorization": f"Bearer {sandbox.token}"}
    ) as client:
        yield client


def test_the_sandbox_answers_400_and_creates_no_look_alike(sandbox: Sandbox, api: httpx.Client) -> None:
    assert api.post(CASES, json=valid_case_input(kyc_case_id=SPOOF)).status_code == 201
    for char, name in INVISIBLE:
        response = api.post(CASES, json=valid_case_input(kyc_case_id=SPOOF + char))
        assert response.status_code == 400, name
        [entry] = response.json()["error"]["details"]["errors"]
        assert entry["field"] == "kyc_case_id"
        assert _message(name) in entry["message"]
    assert sandbox.case_count() == 1


def test_line_and_paragraph_separators_are_line_breaks() -> None:
    """README: text fields refuse line breaks inside a value and trim them at its ends."""
    for char, name in (("\u2028", "U+2028 LINE SEPARATOR"), ("\u2029", "U+2029 PARAGRAPH SEPARATOR")):
        with pytest.raises(ValueError, match=re.escape(f"contains {name} at position 4")):
            clean_text(f"Ann{char}Lee")
        assert clean_text(f"Ann Lee{char}") == "Ann Lee"
        with pytest.raises(ValidationError):
            KycCaseCreateInput.model_validate({**lovelace_case_input(), "legal_last_name": f"Lo{char}ve"})


def _in(ranges: tuple[tuple[int, int], ...], code: int) -> bool:
    return any(lo <= code <= hi for lo, hi in ranges)


def test_the_tables_agree_with_unicodedata() -> None:
    """Every format, separator and control character Python knows is invisible in an id;
    the default-ignorable table holds what it should (letters and marks included)."""
    for code in range(sys.maxunicode + 1):
        category = unicodedata.category(chr(code))
        if category in ("Cc", "Cf", "Zs", "Zl", "Zp"):
            assert _in(IDENTIFIER_INVISIBLE_RANGES, code), f"U+{code:04X} {category}"
    categories = {
        unicodedata.category(chr(code))
        for lo, hi in DEFAULT_IGNORABLE_RANGES
        for code in range(lo, hi + 1)
    }
    assert categories == {"Cf", "Mn", "Lo", "Cn"}
    assert sum(hi - lo + 1 for lo, hi in DEFAULT_IGNORABLE_RANGES) == 4174
