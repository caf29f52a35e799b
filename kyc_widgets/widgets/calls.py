"""One way for a widget to call the KYC API, whichever kind of client it was given.

Why: a click handler must not block the kernel on an async client, and must
not run an async client in a throw-away event loop (its pooled connections
would stay bound to that dead loop and break its next use). A sync client
(:class:`~kyc_widgets.api.protocols.CaseApi`) is called right away, inside
the handler; an async one (:class:`~kyc_widgets.api.protocols.AsyncCaseApi`)
is scheduled as a task on the running loop (the kernel's, in a notebook).
Either way the answer reaches ``done(result, error)`` on the thread that runs
the widget's events, and ``error`` is always a
:class:`~kyc_widgets.api.errors.KycApiError`, so a widget has one kind of
failure to show. Which kind of client it is comes from the client's own
declaration (:func:`~kyc_widgets.api.protocols.is_async_api`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar, cast

from kyc_widgets.api.errors import KycApiError
from kyc_widgets.api.protocols import AnyCaseApi, is_async_api

__all__ = [
    "NO_LOOP_MESSAGE",
    "NoEventLoopError",
    "UnexpectedFailure",
    "as_api_error",
    "check_event_loop",
    "run_call",
]

T = TypeVar("T")

NO_LOOP_MESSAGE = (
    "An async client (AsyncKycApiClient) needs a running event loop (a notebook kernel "
    "or async code); use a KycApiClient here."
)
"""The one message for an async client used where no event loop runs (a plain script)."""


class NoEventLoopError(KycApiError):
    """An async client was used where no event loop runs: nothing was sent."""

    kind = "no_event_loop"
    default_message = NO_LOOP_MESSAGE


class UnexpectedFailure(KycApiError):
    """A failure that is not an API answer (a bug, a broken test double).

    Only the exception's type is kept: arbitrary exception text may carry URLs
    or case data, and this message is shown and may be copied into a ticket.
    """

    kind = "client_error"

    def __init__(self, error: BaseException) -> None:
        self.cause_type = type(error).__name__
        super().__init__(
            f"An unexpected problem occurred ({self.cause_type}).", code="CLIENT_ERROR"
        )


def as_api_error(error: BaseException) -> KycApiError:
    """Every failure as a :class:`KycApiError`."""
    return error if isinstance(error, KycApiError) else UnexpectedFailure(error)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def check_event_loop(client: AnyCaseApi, who: str, hint: str = "") -> None:
    """Raise ``TypeError`` early when ``client`` is async and no event loop runs.

    For constructors and class methods that would otherwise accept a client
    they can never use; ``who`` names the caller, ``hint`` adds a way out.
    """
    if is_async_api(client) and _running_loop() is None:
        raise TypeError(f"{who}: {NO_LOOP_MESSAGE}{' ' + hint if hint else ''}")


Done = Callable[[T | None, KycApiError | None], None]
"""``done(result, None)`` on success, ``done(None, error)`` on failure."""


def run_call(
    client: AnyCaseApi,
    call: Callable[[], T | Awaitable[T]],
    done: Done[T],
) -> asyncio.Task[None] | None:
    """Run ``call()`` (a call on ``client``) and hand its answer to ``done``.

    A sync client: ``call()`` runs now and ``done`` is called before this
    returns (the result is None). An async client: ``call()`` is awaited in a
    task on the running loop, which is returned (await it to wait for ``done``);
    with no running loop nothing is sent and ``done`` gets a
    :class:`NoEventLoopError` right away. Exceptions raised by ``done`` itself
    are not caught.
    """
    if is_async_api(client):
        loop = _running_loop()
        if loop is None:
            done(None, NoEventLoopError())
            return None

        async def wait() -> None:
            try:
                value = await cast(Awaitable[T], call())
            except Exception as exc:  # noqa: BLE001 - every failure goes to ``done``
                done(None, as_api_error(exc))
            else:
                done(value, None)

        return loop.create_task(wait())

    try:
        result = cast(T, call())
    except Exception as exc:  # noqa: BLE001 - every failure goes to ``done``
        done(None, as_api_error(exc))
    else:
        done(result, None)
    return None
