"""``sanlian-spine``: the event platform's command line (schemas, relay, projections,
migration from the embedded default)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from eventspine import schemas
from eventspine.config import Settings
from servicekit import migrate as migration
from servicekit import runtime
from servicekit.operability import configure_logging

app = typer.Typer(help="Sanlian event platform tools.", no_args_is_help=True)
schemas_app = typer.Typer(help="JSON Schemas of the event types.", no_args_is_help=True)
app.add_typer(schemas_app, name="schemas")

SchemaRoot = Annotated[Path, typer.Option(help="folder of the committed schemas")]


@schemas_app.command("generate")
def schemas_generate(root: SchemaRoot = Path("schemas")) -> None:
    """Write the JSON Schema of every installed event type."""
    written = schemas.generate(root, schemas.installed_registry())
    for path in written:
        typer.echo(f"wrote {path}")
    typer.echo(f"{len(written)} schema file(s) changed")


@schemas_app.command("check")
def schemas_check(root: SchemaRoot = Path("schemas")) -> None:
    """Fail when a committed schema differs from its model or lost its model."""
    problems = schemas.check(root, schemas.installed_registry())
    for problem in problems:
        typer.echo(problem, err=True)
    if problems:
        raise typer.Exit(1)
    typer.echo("schemas match their models")


@app.command()
def relay(service: Annotated[str, typer.Option(help="service whose store to relay")]) -> None:
    """Publish a service's stored events to its Kafka topic until SIGTERM."""
    settings = Settings()
    if settings.log_format is not None:
        configure_logging(f"{service}-relay", settings.log_format)
    asyncio.run(runtime.run_relay(settings, service))


@app.command()
def project(
    projection: Annotated[str, typer.Option(help="'module:factory' returning a Projection")],
    schema: Annotated[str, typer.Option(help="PostgreSQL schema of the read model")],
    rebuild: Annotated[bool, typer.Option(help="empty it and start from offset 0")] = False,
) -> None:
    """Run a projection from Kafka into PostgreSQL until SIGTERM."""
    factory = runtime.load_object(projection)
    asyncio.run(runtime.run_projection(Settings(), factory, schema, rebuild=rebuild))


@app.command()
def migrate(
    from_sqlite: Annotated[
        Path, typer.Option(help="folder of the embedded installation (SANLIAN_SQLITE_DIR)")
    ],
    to_kafka: Annotated[
        bool, typer.Option(help="also publish the moved events to the topics (as the relays)")
    ] = True,
) -> None:
    """Move an embedded installation (SQLite) to the full topology: every event as stored
    (ids, positions, hashes, actors), every key and every account into the PostgreSQL
    schemas, then to Kafka.

    The target is always PostgreSQL, whatever SANLIAN_STORE_BACKEND says: SANLIAN_PG_DSN,
    SANLIAN_PG_SCHEMA_PREFIX, SANLIAN_KAFKA_BOOTSTRAP and SANLIAN_TOPIC_PREFIX name it, and it
    is printed first. Stop the embedded app first. Safe to run again after an interruption.
    """
    settings = Settings()
    typer.echo(
        f"moving {from_sqlite} (SQLite) to {migration.target_of(settings, to_kafka=to_kafka)}"
    )
    try:
        moved = asyncio.run(migration.migrate(settings, from_sqlite, to_kafka=to_kafka))
    except migration.MigrationError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(migration.summary(moved))
