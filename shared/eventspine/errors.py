"""Errors the event platform raises; services map them to HTTP answers (409, 422)."""

from __future__ import annotations


class SpineError(Exception):
    """Base class of every error raised by the event platform."""


class ConcurrencyError(SpineError):
    """The stream moved on since the command read it: the append was refused (HTTP 409)."""

    def __init__(self, stream_id: str, expected: int, actual: int) -> None:
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"stream {stream_id!r} is at version {actual}, not the expected {expected}; "
            "reload it and decide again"
        )


class InvalidEventError(SpineError, ValueError):
    """An event, or an append request, failed validation; nothing was stored (HTTP 422).

    ``field`` names what was wrong (``stream_id``, ``type``, ``data.member_id``...).
    """

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


class UnknownEventTypeError(InvalidEventError):
    """The event type (or its schema version) is not in the registry."""

    def __init__(self, event_type: str, version: int | None = None) -> None:
        what = event_type if version is None else f"{event_type} v{version}"
        super().__init__("type", f"unknown event type {what!r}")


class IdempotencyConflictError(SpineError):
    """A command id was reused for a different stream: the retry is not the same command."""

    def __init__(self, command_id: str, stream_id: str, recorded_stream: str) -> None:
        super().__init__(
            f"command {command_id} was already applied to stream {recorded_stream!r}, "
            f"not {stream_id!r}"
        )


class IdempotencyKeyReusedError(SpineError):
    """A command id (``Idempotency-Key``) already stands for a different request (another
    body, path or acting account): a retry must repeat its request; nothing was stored (HTTP
    422)."""

    def __init__(self, command_id: str) -> None:
        self.command_id = command_id
        super().__init__(
            f"Idempotency-Key {command_id} was already used for a different request; "
            "send a new key for a new request"
        )


class ChainBrokenError(SpineError):
    """An event's hash does not match its content or its predecessor: history was altered."""


class DomainError(SpineError):
    """A command broke a business rule; nothing was stored.

    ``field`` names the input at fault, ``reason`` says why in English (for integrators and
    logs); ``code`` is the refusal's stable code in the published catalogue
    (``contracts.refusals``) and ``params`` the values that explain it (the span and its
    limit, the conflicting date), which the frontend fills into its own words. ``status`` is
    the HTTP answer (422 invalid input, 404 unknown thing, 409 wrong state, 403 not allowed,
    401 not signed in, 429 too many attempts); ``headers`` go with the answer
    (``Retry-After``); ``location`` says where the field was sent (``query``), when it is not
    the body.
    """

    status = 422
    code = "invalid_request"

    def __init__(
        self,
        field: str,
        reason: str,
        *,
        code: str | None = None,
        headers: dict[str, str] | None = None,
        location: str | None = None,
        **params: object,
    ) -> None:
        self.field = field
        self.location = location
        self.reason = reason
        if code is not None:
            self.code = code
        self.headers = headers or {}
        self.params = params
        super().__init__(f"{field}: {reason}")


class NotFoundError(DomainError):
    """The command names something that does not exist."""

    status = 404
    code = "not_found"


class StateConflictError(DomainError):
    """The command does not fit the current state (already linked, departed, over span...)."""

    status = 409
    code = "state_conflict"


class NotPermittedError(DomainError):
    """The acting member may not do this (not their suggestion, not their worker...)."""

    status = 403
    code = "not_permitted"


class NotSignedInError(DomainError):
    """The request carries no valid sign-in (HTTP 401)."""

    status = 401
    code = "not_signed_in"


class TooManyAttemptsError(DomainError):
    """Too many attempts in a short time: wait (HTTP 429, with ``Retry-After``)."""

    status = 429
    code = "too_many_attempts"
