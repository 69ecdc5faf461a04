"""The dependencies of the contacts service's command routes run on the event loop: FastAPI
hands a plain function dependency to its thread pool, and on ``POST /contacts`` that hand-off
(twice a request) cost more CPU than the command's own work."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

from fastapi import params
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import get_dependant
from fastapi.routing import APIRoute

from contacts.api import ROUTERS
from contacts.main import create_app


def _calls(dependant: Dependant) -> Iterator[Any]:
    for dependency in dependant.dependencies:
        if dependency.call is not None:
            yield dependency.call
        yield from _calls(dependency)


def _runs_in_thread_pool(call: Any) -> bool:
    if inspect.isclass(call):
        return False  # a class dependency is constructed, which FastAPI also threads: none here
    target = call if inspect.isroutine(call) else getattr(call, "__call__", call)  # noqa: B004
    return not (inspect.iscoroutinefunction(target) or inspect.isasyncgenfunction(target))


def _included(app: Any) -> Iterator[params.Depends]:
    """The dependencies the app adds to every route of an included router (its policy)."""
    for route in app.routes:
        context = getattr(route, "include_context", None)
        yield from getattr(context, "dependencies", [])


def test_no_dependency_of_a_command_route_runs_in_the_thread_pool() -> None:
    policies = list(_included(create_app()))
    assert policies, "the app adds its access policy to the routers"
    commands = [
        route
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute) and "POST" in (route.methods or set())
    ]
    assert any(route.path == "/contacts" for route in commands)
    dependants = [route.dependant for route in commands] + [
        get_dependant(path="", call=policy.dependency)
        for policy in policies
        if policy.dependency is not None
    ]
    calls = [call for dependant in dependants for call in [dependant.call, *_calls(dependant)]]
    threaded = sorted(
        {
            getattr(call, "__qualname__", repr(call))
            for call in calls
            if call is not None and _runs_in_thread_pool(call)
        }
    )
    assert not threaded, threaded
