"""The frontend's routers, one per area."""

from __future__ import annotations

from fastapi import APIRouter

from web.frontend.routes import (
    accounts,
    auth,
    bulletin,
    changes,
    contacts,
    dashboard,
    department_members,
    history,
    intake_links,
    notifications,
    papers,
    password,
    performance,
    roster,
    satisfaction,
    suggestions,
    table_exports,
    tables,
    themes,
    upkeep,
    voice,
)

ROUTERS: tuple[APIRouter, ...] = (
    auth.router,
    contacts.router,
    changes.router,
    suggestions.router,
    dashboard.router,
    tables.router,
    table_exports.router,
    upkeep.router,  # before roster's: /directory/members/new is not a member's page
    roster.router,
    history.router,
    accounts.router,
    password.router,
    performance.router,
    voice.router,
    intake_links.router,
    satisfaction.router,
    themes.router,
    department_members.router,
    notifications.router,
    papers.router,
    bulletin.router,
)
