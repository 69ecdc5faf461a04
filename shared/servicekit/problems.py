"""Error answers as RFC 9457 problem documents (``application/problem+json``).

Every refusal of every service has this one shape::

    {"type": "/problems/span_full", "title": "The upper member's span is full",
     "status": 409, "code": "span_full", "detail": "the span of this representative is full
     (10 of 10); give an override reason to exceed it", "field": "upper_member_id",
     "params": {"tier": "representative", "span": 10, "limit": 10},
     "errors": [{"field": "upper_member_id", "in": "body", "code": "span_full", ...}]}

``code`` is the stable code of :mod:`contracts.refusals` (integrators and the frontend branch
on it), ``params`` the values that explain it, ``errors`` the fields at fault, each with its own
code (for a request that fails validation: one entry per field, with pydantic's constraint as
the params: ``{"code": "too_short", "params": {"min_length": 10}}``). ``detail`` is English,
for integrators and logs; people read the frontend's words for the code. A refusal stores
nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from contracts.refusals import FIELD_CODES, REFUSALS, refusal

MEDIA_TYPE = "application/problem+json"
"""The content type of every error answer (RFC 9457)."""

Location = Literal["body", "query", "path", "header", "cookie"]


class FieldProblem(BaseModel):
    """One field at fault: where it is, what is wrong (a code), and the values that say why."""

    field: str = Field(description="dotted path of the field (`lower_member_ids.0`)")
    location: Location | None = Field(
        None, alias="in", description="where the field was sent, when known"
    )
    code: str = Field(description="a field code or a refusal code of the catalogue")
    detail: str = Field(description="English explanation for integrators")
    params: dict[str, Any] = Field(default_factory=dict)

    model_config = {"populate_by_name": True}


class Problem(BaseModel):
    """An RFC 9457 problem document with Sanlian's extension members (``code``, ``field``,
    ``params``, ``errors``)."""

    type: str = Field(description="`/problems/<code>`, served by every service")
    title: str = Field(description="the kind of refusal, in English")
    status: int
    detail: str = Field(description="what went wrong this time, in English")
    code: str = Field(description="the stable code of the refusal (see `/problems`)")
    field: str | None = Field(None, description="the field chiefly at fault, if one is")
    params: dict[str, Any] = Field(default_factory=dict, description="values explaining it")
    errors: list[FieldProblem] = Field(default_factory=list)


def problem_body(
    code: str,
    detail: str,
    *,
    field: str | None = None,
    params: Mapping[str, Any] | None = None,
    errors: Sequence[FieldProblem] = (),
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON of a problem document for the catalogue's ``code``."""
    kind = refusal(code)
    body: dict[str, Any] = {
        "type": f"/problems/{code}",
        "title": kind.title,
        "status": kind.status,
        "detail": detail,
        "code": code,
        "field": field,
        "params": _json_values(params or {}),
        "errors": [e.model_dump(mode="json", by_alias=True) for e in errors],
    }
    return {**body, **(extra or {})}


def problem_response(
    code: str,
    detail: str,
    *,
    field: str | None = None,
    params: Mapping[str, Any] | None = None,
    errors: Sequence[FieldProblem] = (),
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Response:
    """An error answer: the problem document, with the catalogue's status."""
    body = problem_body(code, detail, field=field, params=params, errors=errors, extra=extra)
    # Non-ASCII escaped: a refusal may echo input holding an unpaired surrogate, which UTF-8
    # cannot encode; the answer would otherwise fail itself with a 500.
    return Response(
        json.dumps(body),
        status_code=body["status"],
        media_type=MEDIA_TYPE,
        headers=dict(headers or {}),
    )


def _json_values(params: Mapping[str, Any]) -> dict[str, Any]:
    # Only what JSON holds as it is (numbers, strings, lists of them); anything else as text.
    def plain(value: Any) -> Any:
        if value is None or isinstance(value, bool | int | float | str):
            return value
        if isinstance(value, list | tuple | set | frozenset):
            return [plain(v) for v in value]
        return str(value)

    return {str(k): plain(v) for k, v in params.items()}


# pydantic's error types, as the fields' codes of the catalogue.
_FIELD_CODE = {
    "missing": "required",
    "missing_argument": "required",
    "string_too_short": "too_short",
    "string_too_long": "too_long",
    "string_pattern_mismatch": "pattern_mismatch",
    "uuid_parsing": "not_uuid",
    "uuid_type": "not_uuid",
    "uuid_version": "not_uuid",
    "date_parsing": "not_date",
    "date_type": "not_date",
    "date_from_datetime_parsing": "not_date",
    "date_from_datetime_inexact": "not_date",
    "datetime_parsing": "not_datetime",
    "datetime_type": "not_datetime",
    "datetime_from_date_parsing": "not_datetime",
    "timezone_aware": "not_datetime",
    "int_parsing": "not_integer",
    "int_type": "not_integer",
    "int_from_float": "not_integer",
    "int_parsing_size": "not_integer",
    "float_parsing": "not_number",
    "float_type": "not_number",
    "finite_number": "not_number",
    "bool_parsing": "not_boolean",
    "bool_type": "not_boolean",
    "greater_than": "too_small",
    "greater_than_equal": "too_small",
    "less_than": "too_large",
    "less_than_equal": "too_large",
    "literal_error": "not_one_of",
    "enum": "not_one_of",
    "too_short": "too_few",
    "too_long": "too_many",
    "set_item_not_hashable": "wrong_type",
    "extra_forbidden": "unknown_field",
}
_LIMITS = {"gt": "limit", "ge": "limit", "lt": "limit", "le": "limit"}


def field_problem(error: Mapping[str, Any]) -> FieldProblem:
    """One pydantic error of a request as a :class:`FieldProblem` with a catalogue code."""
    loc = [str(part) for part in error.get("loc", ())]
    location: Location | None = None
    if loc and loc[0] in ("body", "query", "path", "header", "cookie"):
        location = loc.pop(0)  # type: ignore[assignment]
    ctx = dict(error.get("ctx") or {})
    kind = str(error.get("type", ""))
    if kind in FIELD_CODES or kind in REFUSALS:
        code = kind  # a PydanticCustomError raised with one of our codes
    else:
        code = _FIELD_CODE.get(kind, "wrong_type" if kind.endswith("_type") else "invalid_value")
    # A model-wide rule names its field in the context (an account's password, say).
    if (named := ctx.pop("field", None)) is not None:
        loc = [*loc, *str(named).split(".")]
    params = {_LIMITS.get(str(k), str(k)): v for k, v in ctx.items() if k != "error"}
    return FieldProblem(
        field=".".join(loc),
        location=location,
        code=code,
        detail=str(error.get("msg", "")),
        params=_json_values(params),
    )


def validation_response(errors: Iterable[Mapping[str, Any]]) -> Response:
    """The answer to a request that failed validation: 400 when the body is not JSON, else
    a 422 ``invalid_request`` listing every field at fault."""
    raw = list(errors)
    if any(e.get("type") == "json_invalid" for e in raw):
        return problem_response("malformed_body", "the request body is not valid JSON")
    problems = [field_problem(e) for e in raw]
    detail = "; ".join(f"{p.field or 'the request'}: {p.detail}" for p in problems)
    if len(problems) == 1 and problems[0].code in REFUSALS:
        only = problems[0]  # one rule of the catalogue (unstorable text): answered as itself
        return problem_response(
            only.code, detail, field=only.field or None, params=only.params, errors=problems
        )
    return problem_response(
        "invalid_request",
        detail or "the request is not valid",
        field=problems[0].field if problems else None,
        params={"count": len(problems)},
        errors=problems,
    )


def catalogue_document() -> dict[str, Any]:
    """Every refusal code and field code, as ``GET /problems`` answers them."""
    return {
        "refusals": [
            {"code": r.code, "status": r.status, "title": r.title, "params": list(r.params)}
            for r in REFUSALS.values()
        ],
        "field_codes": dict(FIELD_CODES),
    }


def problems_router() -> APIRouter:
    """``GET /problems`` (the catalogue) and ``GET /problems/{code}`` (what a problem
    document's ``type`` points at); no sign-in needed."""
    router = APIRouter(prefix="/problems", tags=["operations"])

    @router.get("")
    async def problem_catalogue() -> dict[str, Any]:
        """Every refusal code with its status, title and the names of its values, and the
        codes of the fields at fault."""
        return catalogue_document()

    @router.get("/{code}", responses={404: {"description": "no such code: `route_not_found`"}})
    async def problem_kind(code: str) -> dict[str, Any]:
        """One refusal code: its status, title and the names of its values."""
        kind = REFUSALS.get(code)
        if kind is None:
            raise StarletteHTTPException(404)
        return {
            "code": kind.code,
            "status": kind.status,
            "title": kind.title,
            "params": list(kind.params),
        }

    return router
