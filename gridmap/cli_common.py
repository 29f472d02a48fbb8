"""What every command group of the ``gridmap`` command shares: consoles, errors, progress."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import Engine

from gridmap.config import get_settings
from gridmap.db.engine import database_url, make_engine
from gridmap.errors import GridmapError

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
    """Yield an engine on the configured database, disposed afterwards."""
    engine = make_engine(database_url(get_settings()))
    try:
        yield engine
    finally:
        engine.dispose()


@contextmanager
def steps(title: str, total: int) -> Iterator[Callable[[str], None]]:
    """Show a progress bar over ``total`` named steps; yield the function that starts a step."""
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:
        task = progress.add_task(title, total=total)
        started = False

        def step(name: str) -> None:
            nonlocal started
            if started:
                progress.advance(task)
            started = True
            progress.update(task, description=f"{title}: {name}")

        yield step
        progress.update(task, completed=total, description=f"{title}: done")
