"""``gridmap keys``: API keys for planners, admins and other portals' embeds."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from gridmap.auth.keys import create_key, list_keys, revoke
from gridmap.cli.common import console, engine_from_settings, reports_errors

keys_app = typer.Typer(
    help="API keys: roles viewer, planner, admin; embeds held to a region.", no_args_is_help=True
)


@keys_app.command("create")
@reports_errors
def keys_create(
    name: Annotated[str, typer.Argument(help="Who or what the key is for.")],
    role: Annotated[str, typer.Option(help="viewer, planner or admin.")] = "viewer",
    region: Annotated[str | None, typer.Option(help="Hold the key to this region code.")] = None,
    embed: Annotated[bool, typer.Option(help="A read-only key for another portal.")] = False,
) -> None:
    """Make a key and print it once: it is not stored, only its hash."""
    with engine_from_settings() as engine, engine.begin() as connection:
        made = create_key(connection, name=name, role=role, region_code=region, embed=embed)
    console.print(
        f"Key {made.id} ({role}{', embed' if embed else ''}"
        f"{', region ' + region if region else ''}):"
    )
    typer.echo(made.secret)


@keys_app.command("list")
@reports_errors
def keys_list() -> None:
    """List the keys (never their secrets)."""
    with engine_from_settings() as engine, engine.connect() as connection:
        rows = list_keys(connection)
    table = Table("id", "prefix", "name", "role", "region", "embed", "created", "revoked")
    for row in rows:
        table.add_row(
            str(row["id"]),
            str(row["prefix"]),
            str(row["name"]),
            str(row["role"]),
            str(row["region"] or ""),
            "yes" if row["embed"] else "",
            f"{row['created_at']:%Y-%m-%d}",
            f"{row['revoked_at']:%Y-%m-%d}" if row["revoked_at"] else "",
        )
    console.print(table)


@keys_app.command("revoke")
@reports_errors
def keys_revoke(key_id: Annotated[int, typer.Argument(help="The key's id.")]) -> None:
    """Revoke a key."""
    with engine_from_settings() as engine, engine.begin() as connection:
        revoke(connection, key_id)
    console.print(f"Key {key_id} revoked.")


def register(app: typer.Typer) -> None:
    """Add ``gridmap keys`` to ``app``."""
    app.add_typer(keys_app, name="keys")
