"""``gridmap cards``: grid duty cards as HTML pages or A5 PDFs, for printing and posting."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gridmap.cli_common import console, engine_from_settings, reports_errors, steps
from gridmap.config import get_settings
from gridmap.db import plans as db
from gridmap.errors import InvalidInput
from gridmap.reports.cards import load_card, render_card
from gridmap.reports.pdf import print_pdf

FORMATS = ("html", "pdf")


def card_address(code: str) -> str:
    """Return the address a printed card's QR code carries."""
    settings = get_settings()
    base = settings.public_url or f"http://{settings.host}:{settings.port}"
    return f"{base.rstrip('/')}/cards/{code}"


@reports_errors
def cards_command(
    codes: Annotated[
        list[str] | None, typer.Argument(help="Grid codes (default: every grid).")
    ] = None,
    output: Annotated[Path, typer.Option(help="Folder the cards go to.")] = Path("cards"),
    format: Annotated[str, typer.Option("--format", help="html or pdf (A5).")] = "pdf",
) -> None:
    """Write duty cards (扫码便知) of the current plan's grids, one file per grid.

    The QR codes lead to GRIDMAP_PUBLIC_URL/cards/CODE (set it to the address residents reach).
    """
    if format not in FORMATS:
        raise InvalidInput(f"--format must be one of {', '.join(FORMATS)} (got {format!r})")
    with engine_from_settings() as engine, engine.connect() as connection:
        plan = db.current_plan_id(connection)
        every = [] if plan is None else db.grid_figures(connection, plan)["code"].tolist()
        wanted = codes or every
        if not wanted:
            raise InvalidInput("there is no current plan with grids: accept a plan first")
        cards = {code: load_card(connection, code) for code in wanted}
    output.mkdir(parents=True, exist_ok=True)
    chromium = get_settings().chromium
    with steps("Cards", total=len(cards)) as step:
        for code, card in cards.items():
            step(code)
            html = render_card(card, card_address(code))
            target = output / f"grid-{code}.{format}"
            if format == "pdf":
                target.write_bytes(print_pdf(html, chromium=chromium))
            else:
                target.write_text(html, encoding="utf-8")
    console.print(f"{len(cards)} card(s) in {output}/", highlight=False)


def register(app: typer.Typer) -> None:
    """Add the report commands to the ``gridmap`` command."""
    app.command("cards")(cards_command)
