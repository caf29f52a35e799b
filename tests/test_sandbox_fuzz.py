"""Malformed bodies thrown at the sandbox: never a 5xx, always the envelope.

Hypothesis generates random JSON values, dicts with the real keys and junk
values, random bytes and random content types. One sandbox serves the whole
module (starting one per example would dominate the run time); each example
only asserts on its own answer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from factories import valid_case_input
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kyc_widgets.models import KycCaseCreateInput
from kyc_widgets.sandbox import Sandbox

CASES = "/api/v1/kyc-cases"
FIELDS = list(KycCaseCreateInput.model_fields)
REQUEST_ID = re.compile(r"^req_[0-9a-f]{24}$")

FUZZ = settings(
    max_examples=300,
    database=None,  # no .hypothesis/ directory left in the checkout
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=20,
)

junk = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=300)
    | st.lists(st.text(max_size=5), max_size=3)
    | st.dictionaries(st.text(max_size=5), st.integers(), max_size=3)
)


@st.composite
def case_like_dicts(draw: st.DrawFn) -> dict[str, Any]:
    """A valid body with some keys dropped, some given junk values, some extra keys."""
    body = valid_case_input()
    for name in draw(st.lists(st.sampled_from(FIELDS), unique=True, max_size=6)):
        action = draw(st.sampled_from(["drop", "junk"]))
        if action == "drop":
            body.pop(name, None)
        else:
            body[name] = draw(junk)
    body.update(draw(st.dictionaries(st.text(min_size=1, max_size=20), junk, max_size=2)))
    return body


@pytest.fixture(scope="module")
def fuzz_api() -> Iterator[tuple[Sandbox, httpx.Client]]:
    with (
        Sandbox() as sb,
        httpx.Client(
            base_url=sb.base_url, headers={"Authorization": f"Bearer {sb.token}"}, timeout=10
        ) as api,
    ):
        yield sb, api


def assert_answer(response: httpx.Response) -> None:
    """Any answer is < 500; every non-2xx is the contract envelope."""
    assert response.status_code < 500, response.text
    request_id = response.headers["x-request-id"]
    assert REQUEST_ID.match(request_id)
    if response.status_code >= 300:
        error = response.json()["error"]
        assert error["request_id"] == request_id
        assert error["http_status"] == response.status_code
        assert isinstance(error["code"], str) and isinstance(error["message"], str)
        if response.status_code == 400:
            assert "field" in error["details"] and error["details"]["errors"]
    else:
        assert response.status_code == 201
        assert response.json()["case"]["row_version"] == 1


@FUZZ
@given(body=json_values)
def test_random_json_values(fuzz_api: tuple[Sandbox, httpx.Client], body: Any) -> None:
    _, api = fuzz_api
    response = api.post(
        CASES, content=json.dumps(body), headers={"Content-Type": "application/json"}
    )
    assert_answer(response)
    assert response.status_code == 400


@FUZZ
@given(body=case_like_dicts())
def test_real_keys_with_junk_values(
    fuzz_api: tuple[Sandbox, httpx.Client], body: dict[str, Any]
) -> None:
    _, api = fuzz_api
    response = api.post(
        CASES,
        content=json.dumps(body, allow_nan=True),
        headers={"Content-Type": "application/json"},
    )
    assert_answer(response)


@FUZZ
@given(
    content=st.binary(max_size=300),
    content_type=st.sampled_from(
        ["application/json", "application/json; charset=latin-1", "text/plain", "", "*/*"]
    )
    | st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40).map(
        str.strip
    ),  # h11 refuses to send header values with outer whitespace
)
def test_random_bytes_and_content_types(
    fuzz_api: tuple[Sandbox, httpx.Client], content: bytes, content_type: str
) -> None:
    _, api = fuzz_api
    response = api.post(CASES, content=content, headers={"Content-Type": content_type})
    assert_answer(response)
    assert response.status_code == 400


@FUZZ
@given(
    case_id=st.text(max_size=60).filter(lambda s: s not in ("", ".", "..")),
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"]),
)
def test_random_case_paths_and_methods(
    fuzz_api: tuple[Sandbox, httpx.Client], case_id: str, method: str
) -> None:
    _, api = fuzz_api
    response = api.request(method, f"{CASES}/{quote(case_id, safe='')}")
    assert_answer(response)
    assert response.status_code in (404, 405)
