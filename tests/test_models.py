"""The create model's text rules and the patterns it publishes say the same thing.

The sandbox validates with :class:`~kyc_widgets.models.KycCaseCreateInput` and
publishes its JSON schema, so "the schema calls it valid" must mean "the API
accepts it" (docs/api-contract.md, "Validation rules"). Hypothesis draws
strings from the published patterns and from arbitrary text, and the model
must agree with the pattern on every one.
"""

from __future__ import annotations

import re
import sys
from typing import Any

import httpx
import pytest
from factories import valid_case_input
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from kyc_widgets.models import (
    BLANK_PATTERN,
    EMAIL_PATTERN,
    KYC_CASE_ID_MAX_LENGTH,
    KYC_CASE_ID_PATTERN,
    NON_BLANK_PATTERN,
    TEXT_MAX_LENGTH,
    WHITESPACE,
    KycCaseCreateInput,
    RequiredText,
)
from kyc_widgets.sandbox import Sandbox

CASES = "/api/v1/kyc-cases"
RULES = settings(max_examples=300, database=None, deadline=None, derandomize=True,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

INTERNAL_ADDRESSES = [
    "x@y.test",
    "ana.analyst@kyc.corp",
    "ana@compliance.internal",
    "ana+kyc@bank.local",
    "o'brien@bank.example",
    "josé@bänk.example",
]
NOT_ADDRESSES = [
    "not-an-email", "ada.example.com", "bad@", "@bank.example", "a@b", "sam@@bank.example",
    "a b@bank.example", "ana@bank..example", "ana@.bank.example", "ana@bank.example.",
    "ana@bank_x.example", "ana\u200b@bank.example",
]


def accepts(field: str, value: Any) -> bool:
    try:
        KycCaseCreateInput.model_validate(valid_case_input(**{field: value}))
    except ValidationError as exc:
        assert [e["loc"] for e in exc.errors()] == [(field,)]
        return False
    return True


def published(field: str) -> dict[str, Any]:
    return KycCaseCreateInput.model_json_schema()["properties"][field]


def matches_schema(field: str, value: str) -> bool:
    """Does ``value`` satisfy the published schema of ``field`` (string branches only)?"""
    spec = published(field)
    for branch in spec.get("anyOf", [spec]):
        if branch.get("type") != "string":
            continue
        if not branch.get("minLength", 0) <= len(value) <= branch.get("maxLength", sys.maxsize):
            continue
        pattern = branch["pattern"]
        anchored = pattern.startswith("^") and pattern.endswith("$")
        # ECMA-262's "$" is the end of the text; Python's also matches before a final "\n".
        if re.fullmatch(pattern[1:-1], value) if anchored else re.search(pattern, value):
            return True
    return False


# --------------------------------------------------------------------------- e-mail


@pytest.mark.parametrize("address", INTERNAL_ADDRESSES)
def test_internal_work_addresses_are_accepted(address: str) -> None:
    assert re.fullmatch(EMAIL_PATTERN, address)
    case = KycCaseCreateInput.model_validate(valid_case_input(assigned_analyst_email=address))
    assert case.assigned_analyst_email == address


@pytest.mark.parametrize("text", NOT_ADDRESSES)
def test_things_that_are_not_addresses_are_refused(text: str) -> None:
    assert not re.fullmatch(EMAIL_PATTERN, text)
    assert not accepts("assigned_analyst_email", text)


def test_the_sandbox_accepts_an_address_on_a_test_domain(client: Any) -> None:
    envelope = client.create_case(valid_case_input(assigned_analyst_email="x@y.test"))
    assert envelope.case.assigned_analyst_email == "x@y.test"


# --------------------------------------------------------------------------- kyc_case_id


def test_an_empty_kyc_case_id_is_a_400_not_a_generated_id(sandbox: Sandbox) -> None:
    """Absent or null means "generate one"; ``""`` is refused, as ``minLength: 1`` says."""
    with httpx.Client(
        base_url=sandbox.base_url, headers={"Authorization": f"Bearer {sandbox.token}"}
    ) as api:
        for empty in ("", "   "):
            response = api.post(CASES, json=valid_case_input(kyc_case_id=empty))
            assert response.status_code == 400, response.text
            error = response.json()["error"]
            assert error["details"]["field"] == "kyc_case_id"
            assert "generated" in error["details"]["errors"][0]["message"]
        generated = api.post(CASES, json=valid_case_input(kyc_case_id=None))
        assert generated.status_code == 201
    assert sandbox.case_count() == 1


def test_the_form_model_still_reads_an_empty_optional_box_as_absent() -> None:
    """What the form sends for an empty optional box (None) still means "generate one"."""
    case = KycCaseCreateInput.model_validate(valid_case_input(kyc_case_id=None))
    assert case.kyc_case_id is None and "kyc_case_id" not in case.to_request_json()


# --------------------------------------------------------------------------- one rule, two readers


def test_whitespace_is_exactly_what_pydantic_trims() -> None:
    trim = TypeAdapter(RequiredText)
    candidates = {chr(c) for c in range(0x3100)} | {"\ufeff", "\u180e"}
    trimmed = {c for c in candidates if not c.isalnum() and _trims(trim, c)}
    assert trimmed == set(WHITESPACE)


def _trims(adapter: TypeAdapter[Any], char: str) -> bool:
    try:
        return adapter.validate_python(f"{char}x{char}") == "x"
    except ValidationError:
        return False


def _near(pattern: str) -> st.SearchStrategy[str]:
    """Strings from the pattern, arbitrary text, and pattern strings with one character changed."""
    from_pattern = st.from_regex(pattern, fullmatch=True)
    mutated = st.tuples(from_pattern, st.integers(0, 50), st.characters()).map(
        lambda t: t[0][: t[1]] + t[2] + t[0][t[1] + 1 :]
    )
    return from_pattern | st.text(max_size=40) | mutated


@RULES
@given(value=_near(KYC_CASE_ID_PATTERN[1:-1]))
def test_kyc_case_id_model_and_schema_agree(value: str) -> None:
    assert accepts("kyc_case_id", value) == matches_schema("kyc_case_id", value)


@RULES
@given(value=_near(EMAIL_PATTERN[1:-1]))
def test_email_model_and_schema_agree(value: str) -> None:
    assert accepts("assigned_analyst_email", value) == matches_schema("assigned_analyst_email", value)


@RULES
@given(value=_near(NON_BLANK_PATTERN) | _near(BLANK_PATTERN[1:-1]) | st.text(max_size=210))
def test_required_and_optional_text_model_and_schema_agree(value: str) -> None:
    assert accepts("agency_name", value) == matches_schema("agency_name", value)
    assert accepts("assigned_analyst_name", value) == matches_schema("assigned_analyst_name", value)


def test_length_limits_count_the_value_as_sent() -> None:
    padded = " " + "x" * KYC_CASE_ID_MAX_LENGTH
    assert not accepts("kyc_case_id", padded) and not matches_schema("kyc_case_id", padded)
    long_name = "x" * TEXT_MAX_LENGTH + " "
    assert not accepts("agency_name", long_name) and not matches_schema("agency_name", long_name)


# --------------------------------------------------------------------------- hostile characters

HOSTILE = ["\x00", "\t", "\n", "\x0b", "\x1c", "\x7f", "\x85", "\x9b", "\u202a", "\u202e",
           "\u2066", "\u2069"]


@pytest.mark.parametrize("char", HOSTILE, ids=[f"U+{ord(c):04X}" for c in HOSTILE])
def test_control_and_bidi_characters_inside_text_are_refused_by_model_and_schema(char: str) -> None:
    """schemathesis would otherwise send schema-valid names the sandbox refuses."""
    for field in ("agency_name", "assigned_analyst_name", "kyc_case_id"):
        for value in (f"Ana{char}Maria", f"{char}Ana" if char not in WHITESPACE else f"Ana{char}x"):
            assert not accepts(field, value), (field, value)
            assert not matches_schema(field, value), (field, value)


@pytest.mark.parametrize(
    "value",
    ["Ana\n", "\tAna ", " Ana\u00a0Maria ", "نیلو\u200cفر", "Ame\u0301lie", "\u0958" * TEXT_MAX_LENGTH],
)
def test_what_the_text_rule_keeps_the_schema_keeps(value: str) -> None:
    """Trimmed whitespace, joiners, combining marks; a value that NFC makes longer (U+0958
    decomposes) is as valid as sent: normalising changes the value, never its validity."""
    assert accepts("agency_name", value) and matches_schema("agency_name", value)
    assert accepts("assigned_analyst_name", value) and matches_schema("assigned_analyst_name", value)
