"""What every command group of the ``gridmap`` command shares: consoles, errors, progress."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from gridmap.config import get_settings
from gridmap.db import migrate
from gridmap.db.engine import database_url, make_engine
from gridmap.errors import GridmapError, StoreError

P = ParamSpec("P")
R = TypeVar("R")

console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)


def reports_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn gridmap's own errors into a message and exit code 1, without a traceback."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except GridmapError as error:
            err_console.print(f"[bold red]error:[/] {error}", highlight=False)
            raise typer.Exit(1) from None

    return wrapper


@contextmanager
def engine_from_settings() -> Iterator[Engine]:
    """Yield an engine on the configured database, its schema at this gridmap's revision.

    A database without gridmap's schema (one just started) is migrated first, with a line
    saying so; one at another revision is an error saying what to run, before any work.
    """
    engine = make_engine(database_url(get_settings()))
    try:
        _schema_at_head(engine)
        yield engine
    finally:
        engine.dispose()


def _schema_at_head(engine: Engine) -> None:
    head = migrate.head_revision()
    try:
        with engine.connect() as connection:
            revision = migrate.current_revision(connection)
    except OperationalError as error:
        where = engine.url.render_as_string(hide_password=True)
        raise StoreError(f"cannot connect to {where}: {error.orig}") from None
    if revision == head:
        return
    if revision is None:
        with err_console.status("The database has no gridmap schema yet: migrating…"):
            migrate.upgrade(engine)
        err_console.print(f"The database was empty: schema created at revision {head}.")
        return
    known = migrate.known_revisions()
    if revision in known:
        raise StoreError(
            f"the database schema is at revision {revision}, this gridmap needs {head}: "
            "run `gridmap db migrate` first (stop the API and workers while it runs)"
        )
    raise StoreError(
        f"the database schema is at revision {revision}, which this gridmap does not know "
        f"(its newest is {head}): use the gridmap that migrated it"
    )


@contextmanager
def steps(title: str, total: int) -> Iterator[Callable[[str], None]]:
    """Show a progress bar over ``total`` named steps; yield the function that starts a step.

    Each step's time is printed when it ends (the last one when the block ends, its commit
    included when the block holds a transaction), then the total: where a long run spends it.
    """
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:
        task = progress.add_task(title, total=total)
        begun = time.perf_counter()
        current: list[tuple[str, float]] = []  # the step under way and when it started

        def finish() -> None:
            if current:
                name, started = current.pop()
                progress.console.print(f"  {name}: {time.perf_counter() - started:.1f} s")

        def step(name: str) -> None:
            if current:
                progress.advance(task)
            finish()
            current.append((name, time.perf_counter()))
            progress.update(task, description=f"{title}: {name}")

        yield step
        finish()
        progress.update(task, completed=total, description=f"{title}: done")
        progress.console.print(f"  {title}: {time.perf_counter() - begun:.1f} s in all")
