"""The frontend's routers, one per area."""

from __future__ import annotations

from fastapi import APIRouter

from web.frontend.routes import (
    accounts,
    auth,
    changes,
    contacts,
    dashboard,
    department_members,
    history,
    intake_links,
    notifications,
    password,
    performance,
    roster,
    satisfaction,
    suggestions,
    tables,
    voice,
)

ROUTERS: tuple[APIRouter, ...] = (
    auth.router,
    contacts.router,
    changes.router,
    suggestions.router,
    dashboard.router,
    tables.router,
    roster.router,
    history.router,
    accounts.router,
    password.router,
    performance.router,
    voice.router,
    intake_links.router,
    satisfaction.router,
    department_members.router,
    notifications.router,
)
