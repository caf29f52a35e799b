"""Tokens in notebooks: TokenSource/env/getpass, and the token never shows in a repr,
a str, a pickle, or the widget state a notebook would save."""

from __future__ import annotations

import json
import pickle
from typing import Any

import ipywidgets as widgets
import pytest
from factories import valid_case_input
from ipywidgets.embed import embed_data

from kyc_widgets.api import auth
from kyc_widgets.api.auth import TokenSource, prompt_token, token_from_env
from kyc_widgets.api.client import KycApiClient
from kyc_widgets.widgets.api_status import ApiStatus
from kyc_widgets.widgets.case_creator import CaseCreator

SECRET = "tok_super_secret_value_42"


def test_token_source_repr_and_str_never_show_the_token() -> None:
    source = TokenSource(SECRET)
    assert source() == SECRET
    for text in (repr(source), str(source), f"{source}", repr([source]), repr({"t": source})):
        assert SECRET not in text
    assert "set" in repr(source)
    assert repr(TokenSource(None)) == "TokenSource(<not set>, origin='value')"


def test_token_source_refuses_pickling() -> None:
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(TokenSource(SECRET))


def test_token_source_set_and_callable_refresh() -> None:
    current = {"token": "first"}
    source = TokenSource(lambda: current["token"])
    assert source() == "first"
    current["token"] = "second"
    assert source() == "second"
    assert "second" not in repr(source)
    source.set("  third  ")
    assert source() == "third"
    source.set(None)
    assert source() is None and not source


def test_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KYC_API_TOKEN", SECRET)
    assert token_from_env() == SECRET
    source = TokenSource.from_env()
    assert source is not None and source() == SECRET
    assert "env:KYC_API_TOKEN" in repr(source) and SECRET not in repr(source)
    monkeypatch.setenv("KYC_API_TOKEN", "   ")
    assert token_from_env() is None and TokenSource.from_env() is None
    monkeypatch.delenv("KYC_API_TOKEN")
    assert TokenSource.from_env() is None


def test_prompt_token_uses_getpass_and_installs_it_on_the_client(
    sandbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    prompts: list[str] = []

    def fake_getpass(prompt: str = "") -> str:
        prompts.append(prompt)
        return sandbox.token

    monkeypatch.setattr(auth.getpass, "getpass", fake_getpass)
    client = KycApiClient(sandbox.base_url)
    assert client.diagnose().authenticated is False
    source = prompt_token(client)
    assert prompts and "not saved" in prompts[0]
    assert client.diagnose().authenticated is True
    assert sandbox.token not in repr(client) and sandbox.token not in str(client)
    assert sandbox.token not in repr(source)


def test_client_repr_never_contains_the_token(sandbox: Any) -> None:
    for token in (sandbox.token, TokenSource(sandbox.token)):
        client = KycApiClient(sandbox.base_url, token=token)
        assert sandbox.token not in repr(client)
        assert sandbox.token not in str(client)
        assert sandbox.token not in str(client.diagnose())


def saved_state(*views: Any) -> str:
    """What "Save widget state" writes into the .ipynb for these views, as text."""
    return json.dumps(embed_data(views=list(views))["manager_state"])


def every_open_widget_state() -> str:
    return json.dumps(widgets.Widget.get_manager_state(drop_defaults=False))


def type_in(creator: CaseCreator, values: dict[str, Any]) -> None:
    for name, value in values.items():
        box = creator.form.fields[name]
        if isinstance(box, widgets.Dropdown):
            box.value = next(v for _, v in box.options if v == value)
        else:
            box.value = "" if value is None else value


def test_widgets_never_save_the_token_into_notebook_state(sandbox: Any) -> None:
    """What "save widget state" would write into the .ipynb: no token anywhere, through
    the states where a token could leak: refused (401), checked, refreshed, created."""
    expired = "tok_expired_value_17"
    source = TokenSource(expired)
    client = KycApiClient(sandbox.base_url, token=source, max_retries=0)
    creator = CaseCreator(client)
    status = ApiStatus(client)

    # The check can fail: text in any input of the creator does reach the saved state.
    creator.form.fields["assigned_team"].value = "canary-7f3a"
    assert "canary-7f3a" in saved_state(creator)

    type_in(creator, valid_case_input(kyc_case_id="EXT-TOKEN-1"))
    creator.submit_button.click()  # 401: a sign-in message and support details are shown
    assert creator.state == "unauthorized"
    assert status.rows["Configuration"].endswith("token: set")
    for text in (saved_state(creator, status), every_open_widget_state()):
        assert expired not in text

    source.set(sandbox.token)  # the refresh, then the case is created and shown
    creator.submit_button.click()
    status.check_button.click()
    assert creator.state == "created" and creator.workspace is not None
    assert status.rows["Authenticated"].startswith("OK")
    for text in (saved_state(creator, status), every_open_widget_state()):
        assert sandbox.token not in text and expired not in text
    assert "token: set" in saved_state(status)  # the status widget did render its rows
