"""The sandbox's OpenAPI document tells the truth: schemathesis, every check, no finding.

Schemathesis reads ``/openapi.json`` from a running sandbox, generates
requests from it and runs every built-in check on each answer: a request the
document calls valid must be accepted, one it calls invalid must be refused,
and every status, header and body must be one the document describes. Its
phases are the ones ``st run --checks all`` runs: the document's examples,
boundary values of every constraint ("coverage"), random requests
("fuzzing") and walks along the API's links (create, then load what was
created). Any finding fails the test, with the ``curl`` line that reproduces
it.

The run goes through ``schemathesis.engine`` (what ``st run`` drives) rather
than ``schemathesis.pytest.from_fixture``, whose lazy loader does not work with
this project's pytest. It is bounded: a few examples per operation, a fixed
seed and deterministic generation, so every run sends the same requests.
"""

from __future__ import annotations

from typing import Any

import pytest

from kyc_widgets.sandbox import Sandbox

schemathesis = pytest.importorskip("schemathesis")
from schemathesis.engine import Status, events, from_schema  # noqa: E402

CASES = "/api/v1/kyc-cases"
SEED = 20261201
MAX_EXAMPLES = 15


def _load(sandbox: Sandbox) -> Any:
    """The document as the running sandbox serves it, the demo token on every call."""
    schema = schemathesis.openapi.from_url(
        f"{sandbox.base_url}/openapi.json", config=schemathesis.Config(seed=SEED)
    )
    schema.config.update(headers={"Authorization": f"Bearer {sandbox.token}"})
    schema.config.generation.update(max_examples=MAX_EXAMPLES, deterministic=True, database="none")
    return schema


def _findings(schema: Any) -> tuple[list[str], set[str]]:
    """Every failed check and engine error of one full run; the checks and phases that ran."""
    found: list[str] = []
    ran: set[str] = set()
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            ran.add(f"phase:{event.phase}")
            for nodes in event.recorder.checks.values():
                for node in nodes:
                    ran.add(node.name)
                    if node.status == Status.FAILURE and node.failure_info is not None:
                        info = node.failure_info
                        found.append(f"{node.name}: {info.failure.title}\n    {info.code_sample}")
        elif isinstance(event, (events.NonFatalError, events.FatalError)):
            found.append(f"{type(event).__name__}: {getattr(event, 'info', event)}")
    return found, ran


def test_schemathesis_with_every_check_finds_nothing(sandbox: Sandbox) -> None:
    findings, ran = _findings(_load(sandbox))
    assert not findings, "\n".join(sorted(set(findings)))
    # Not vacuous: the token was accepted (cases exist) and the checks that compare
    # the document with the server's behaviour really ran.
    assert sandbox.case_count() > 0
    assert {
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "positive_data_acceptance",
        "negative_data_rejection",
        "phase:coverage",  # boundary values of every constraint
        "phase:fuzzing",
        "phase:stateful",  # create, then load what was created
    } <= ran


def test_the_run_would_catch_a_schema_that_lies(sandbox: Sandbox) -> None:
    """The same run against a document that promises more than the server accepts fails.

    Guards the test above against passing whatever the server does: here the
    document is made to call every ``kyc_case_id`` string valid (no pattern,
    no length limits), which the server does not honour.
    """
    schema = _load(sandbox)
    body = schema.raw_schema["components"]["schemas"]["KycCaseCreateInput"]
    body["properties"]["kyc_case_id"] = {"type": "string"}
    findings, _ = _findings(schema)
    assert any(f.startswith("positive_data_acceptance") for f in findings), findings


def test_the_document_declares_bearer_auth_on_api_operations(sandbox: Sandbox) -> None:
    schema = _load(sandbox).raw_schema
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            secured = operation.get("security") == [{"bearer": []}]
            assert secured == path.startswith("/api/"), f"{method.upper()} {path}"
            assert "422" not in operation["responses"], f"{method.upper()} {path}"
