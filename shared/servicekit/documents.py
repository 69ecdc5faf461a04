"""The OpenAPI document promises what the service does: every status a route can answer,
each error as a problem document, headers and query parameters in their real formats.

FastAPI documents the success answer and its own 422; the rest of what a route can answer
comes from what every route shares (the access policy's 401 and 403, the body limit's 413, a
body that is not JSON, the database being away), and from the routes' own ``responses``.
:func:`document_answers` adds them all, with the problem schema of
:mod:`servicekit.problems` and the codes of :mod:`contracts.refusals`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from access.guard import authenticate
from contracts.refusals import FIELD_CODES, REFUSALS
from servicekit.problems import MEDIA_TYPE, FieldProblem, Problem

SHARED_ANSWERS = {
    "400": "the body is not valid JSON (or form data): `malformed_body`",
    "401": "no valid sign-in: `not_signed_in`, `token_invalid`, `token_expired`, `token_revoked`",
    "403": "this sign-in may not do this: `may_not_read`, `read_only_role`, `may_not_act`, "
    "`role_required`, `outside_tree` and the route's own codes",
    "404": "the path (or the body) names something unknown: `*_not_found`",
    "409": "the request conflicts with what the service holds or with today's date (the "
    "route's codes); `version_conflict` when someone changed it at the same time",
    "413": "the body is larger than the service takes: `body_too_large`",
    "422": "the request is not valid: `invalid_request`, with `errors` naming each field",
    "429": "too many attempts: `too_many_attempts`, with `Retry-After`",
    "503": "the service's database is unavailable: `unavailable`, with `Retry-After`; retry",
}
"""What each error status means on every route, and its codes."""

MUTATIONS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _signs_in(dependant: Dependant) -> bool:
    """Whether a route (or one of its dependencies) needs the caller's sign-in."""
    return dependant.call is authenticate or any(_signs_in(d) for d in dependant.dependencies)


def _statuses(route: APIRoute, guarded: bool) -> set[str]:
    """The error statuses a route can answer, from its shape."""
    found = {"503"}  # every route reads the service's database
    if guarded or _signs_in(route.dependant):
        found |= {"401", "403"}
    if route.body_field is not None:
        found |= {"400", "413", "422"}
    if route.dependant.query_params or route.dependant.header_params:
        found.add("422")
    if route.dependant.path_params or any(
        p.name.endswith("_id") for p in route.dependant.query_params
    ):
        found |= {"404", "422"}
    if set(route.methods or ()) & MUTATIONS:
        found |= {"404", "409", "422"}
    return found


def _not_null(schema: dict[str, Any]) -> dict[str, Any]:
    # An optional header or query parameter is absent or a value: never JSON null (a client
    # sending the text "null" sends a malformed value, which is refused).
    options = schema.get("anyOf")
    if not isinstance(options, list):
        return schema
    kept = [o for o in options if o != {"type": "null"}]
    if len(kept) == len(options):
        return schema
    rest = {k: v for k, v in schema.items() if k != "anyOf"}
    return {**rest, **kept[0]} if len(kept) == 1 else {**rest, "anyOf": kept}


def _problem_schemas() -> dict[str, Any]:
    field = FieldProblem.model_json_schema(ref_template="#/components/schemas/{model}")
    problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    problem.pop("$defs", None)
    problem["properties"]["code"]["enum"] = sorted(REFUSALS)
    field["properties"]["code"]["enum"] = sorted({*REFUSALS, *FIELD_CODES})
    return {"Problem": problem, "FieldProblem": field}


def document_answers(
    app: FastAPI, routes: Iterable[APIRoute], guarded: Callable[[APIRoute], bool]
) -> None:
    """Make ``app``'s OpenAPI document list, on each of ``routes``, every error status it can
    answer as a problem document; ``guarded`` says which routes sit behind the access
    policy. The routes' own ``responses`` keep their descriptions."""
    shapes = {
        (route.path_format, method.lower()): _statuses(route, guarded(route))
        for route in routes
        for method in route.methods or ()
    }
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        spec = generate()
        components = spec.setdefault("components", {}).setdefault("schemas", {})
        for unused in ("HTTPValidationError", "ValidationError"):
            components.pop(unused, None)
        components.update(_problem_schemas())
        problem = {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
        for path, methods in spec.get("paths", {}).items():
            for method, operation in methods.items():
                statuses = shapes.get((path, method), set())
                answers = operation.setdefault("responses", {})
                for status in statuses | {s for s in answers if s[0] in "45"}:
                    answer = answers.setdefault(status, {})
                    said = answer.get("description")
                    if not said or said == "Validation Error":  # FastAPI's own words
                        said = SHARED_ANSWERS.get(status, "refused")
                    answer["description"] = said
                    answer["content"] = problem
                for parameter in operation.get("parameters", []):
                    if not parameter.get("required") and "schema" in parameter:
                        parameter["schema"] = _not_null(parameter["schema"])
        app.openapi_schema = spec
        return spec

    app.openapi = openapi  # type: ignore[method-assign]


def complete_document(app: FastAPI, complete: Callable[[dict[str, Any]], None]) -> None:
    """Let ``complete`` change ``app``'s OpenAPI document once, when it is first made."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        spec = generate()
        complete(spec)
        return spec

    app.openapi = openapi  # type: ignore[method-assign]


def set_parameter(spec: dict[str, Any], name: str, location: str, **schema: Any) -> None:
    """Add ``schema`` keywords (a pattern, an enum) to every ``name`` parameter in
    ``location`` of the document."""
    for methods in spec.get("paths", {}).values():
        for operation in methods.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("name") == name and parameter.get("in") == location:
                    parameter.setdefault("schema", {}).update(schema)
