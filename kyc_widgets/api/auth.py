"""Getting a bearer token into a notebook without writing it into the notebook file.

Why this module exists: ipywidgets can save widget state (every ``Text`` or
``Password`` value included) into the notebook's metadata when the notebook
is saved with "save widget state". A token typed into a widget would then be
committed, e-mailed or exported along with the notebook. Cell outputs and
reprs are saved too. So a token must never be a widget value, never be
printed, and never be shown by a repr.

The safe sources, in order of preference:

1. an environment variable (``KYC_API_TOKEN``) set outside the notebook;
2. :func:`getpass.getpass`, which reads from the kernel's stdin prompt and is
   not stored anywhere in the notebook;
3. a callable returning the current token (a company SSO helper), read on
   every request so a refreshed token is picked up without rebuilding widgets.

:class:`TokenSource` wraps any of them as a callable the
:class:`~kyc_widgets.api.client.KycApiClient` accepts as ``token=`` and whose
``repr``/``str`` never reveal the secret.
"""

from __future__ import annotations

import getpass
import hashlib
import hmac
import os
import secrets
from collections.abc import Callable
from typing import Any, Protocol

__all__ = [
    "DEFAULT_TOKEN_ENV",
    "TokenSource",
    "prompt_token",
    "token_fingerprint",
    "token_from_env",
]

DEFAULT_TOKEN_ENV = "KYC_API_TOKEN"


class _TokenSettable(Protocol):
    def set_token(self, token: Any) -> None: ...


class TokenSource:
    """A callable holding (or fetching) a bearer token; its repr never shows it.

    Pass it as ``token=`` to :class:`~kyc_widgets.api.client.KycApiClient`: the
    client calls it before every request. ``TokenSource("...")`` holds a fixed
    value, ``TokenSource(fetch)`` calls ``fetch()`` each time (for refreshable
    tokens). :meth:`set` replaces the token in place, so every client holding
    this source picks up the new one.

    Pickling is refused: a pickled object is a copy of the secret on disk.
    """

    __slots__ = ("_fetch", "_origin", "_value")

    def __init__(
        self,
        token: str | Callable[[], str | None] | None = None,
        *,
        origin: str = "value",
    ) -> None:
        self._value: str | None = None
        self._fetch: Callable[[], str | None] | None = None
        self._origin = origin
        self.set(token)

    # -- constructors -------------------------------------------------------------------------
    @classmethod
    def from_env(cls, name: str = DEFAULT_TOKEN_ENV) -> TokenSource | None:
        """The token in environment variable ``name`` (read now), or None when unset/blank."""
        value = token_from_env(name)
        return cls(value, origin=f"env:{name}") if value else None

    @classmethod
    def from_getpass(cls, prompt: str = "KYC API token: ") -> TokenSource:
        """Ask for the token with :func:`getpass.getpass` (not echoed, not saved in the notebook)."""
        value = getpass.getpass(prompt).strip()
        return cls(value or None, origin="getpass")

    # -- behaviour ----------------------------------------------------------------------------
    def set(self, token: str | Callable[[], str | None] | None) -> None:
        """Replace the token (a string, a zero-argument callable, or None to clear it)."""
        if callable(token):
            self._fetch, self._value = token, None
        else:
            self._fetch, self._value = None, (token.strip() or None) if token else None

    def __call__(self) -> str | None:
        if self._fetch is not None:
            value = self._fetch()
            return (value.strip() or None) if isinstance(value, str) else None
        return self._value

    @property
    def is_set(self) -> bool:
        """Whether a token is available right now (calls the fetcher when there is one)."""
        return self() is not None

    def __bool__(self) -> bool:
        return self.is_set

    def __repr__(self) -> str:
        state = "callable" if self._fetch is not None else ("set" if self._value else "not set")
        return f"TokenSource(<{state}>, origin={self._origin!r})"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("TokenSource cannot be pickled: that would write the token to disk")

    def __eq__(self, other: object) -> bool:
        return self is other

    __hash__ = object.__hash__


def token_from_env(name: str = DEFAULT_TOKEN_ENV) -> str | None:
    """The token from environment variable ``name``; None when unset or blank."""
    value = os.environ.get(name, "").strip()
    return value or None


def prompt_token(
    client: _TokenSettable | None = None,
    *,
    prompt: str = "KYC API token (input hidden, not saved in the notebook): ",
) -> TokenSource:
    """Ask for a token with :func:`getpass.getpass` and, if ``client`` is given, install it.

    Use this in a notebook instead of a text widget: the answer goes through
    the kernel's stdin prompt and is stored nowhere in the notebook file.
    Returns the :class:`TokenSource` (call :meth:`TokenSource.set` to refresh it later).
    """
    source = TokenSource.from_getpass(prompt)
    if client is not None:
        client.set_token(source)
    return source


_FINGERPRINT_KEY = secrets.token_bytes(32)
"""Made at import, kept in memory only: fingerprints mean nothing outside this process."""


def fingerprint(token: str | None) -> str | None:
    """A short keyed hash of ``token``; None when there is no token.

    Why: after a 401, the create form must tell "the analyst refreshed the
    token and pressed again" from "a click queued before the 401 arrived"
    without keeping the token itself. Comparing two fingerprints answers
    "did the token change?" and nothing else: the hash is an HMAC-SHA256
    under a random per-process key, so a fingerprint cannot be checked
    against guessed tokens, and it is never shown, logged or saved.
    """
    if not isinstance(token, str) or not token:
        return None
    return hmac.new(_FINGERPRINT_KEY, token.encode(), hashlib.sha256).hexdigest()[:32]


def token_fingerprint(client: Any) -> str | None:
    """``client.token_fingerprint()`` for any client that offers it, else None.

    Kept for callers holding a client of unknown type; the KYC clients answer
    through their public :meth:`token_fingerprint`.
    """
    own = getattr(client, "token_fingerprint", None)
    if not callable(own):
        return None
    value = own()
    return value if isinstance(value, str) else None
