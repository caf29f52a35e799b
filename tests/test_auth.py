"""Tokens in notebooks: TokenSource/env/getpass, and the token never shows in a repr,
a str, a pickle, or the widget state a notebook would save."""

from __future__ import annotations

import json
import pickle
from typing import Any

import pytest
from ipywidgets.embed import embed_data

from kyc_widgets import auth
from kyc_widgets.auth import TokenSource, prompt_token, token_from_env
from kyc_widgets.client import KycApiClient
from kyc_widgets.intake import CaseCreator
from kyc_widgets.status import ApiStatus

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


def test_widgets_never_save_the_token_into_notebook_state(sandbox: Any) -> None:
    """What "save widget state" would write into the .ipynb: no token anywhere."""
    client = KycApiClient(sandbox.base_url, token=TokenSource(sandbox.token))
    creator = CaseCreator(client)
    status = ApiStatus(client)
    saved = json.dumps(embed_data(views=[creator, status])["manager_state"])
    assert sandbox.token not in saved
    assert "token: set" in saved  # the status widget did render its rows
