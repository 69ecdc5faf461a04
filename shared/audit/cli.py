"""``sanlian-audit``: the auditor's command line."""

from __future__ import annotations

import typer

app = typer.Typer(help="Replay, verify and export the Sanlian event history.", no_args_is_help=True)
