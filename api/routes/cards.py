"""Grid duty cards (扫码便知): a public page per grid of the current plan, and its A5 PDF.

Cards are public on purpose: residents scan a card's QR code on a notice board, with no key.
They show what a grid centre posts anyway (its staff and their duties, the station, the rate).
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response

from api.deps import ConnectionDep
from gridmap.errors import NotFound
from gridmap.reports.cards import load_card, render_card, render_missing
from gridmap.reports.pdf import print_pdf

router = APIRouter(prefix="/cards", tags=["Cards"])
GridCode = Annotated[str, Path(pattern="^[0-9]{15}$", description="A grid's 15-digit code")]
AnyCode = Annotated[str, Path(min_length=1, max_length=64, description="A grid's 15-digit code")]
VALID_CODE = re.compile(r"[0-9]{15}")


def card_url(request: Request, code: str) -> str:
    """Return the address a card's QR code carries: under the public address when set."""
    public = request.app.state.settings.public_url
    if public:
        return f"{public.rstrip('/')}/cards/{code}"
    return str(request.url_for("card", code=code))


@router.get(
    "/{code}.pdf",
    name="card_pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def card_pdf(code: GridCode, request: Request, connection: ConnectionDep) -> Response:
    """Return the grid's duty card as an A5 PDF (in the thread pool, as every plain handler)."""
    html = render_card(load_card(connection, code), card_url(request, code))
    pdf = print_pdf(html, chromium=request.app.state.settings.chromium)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="grid-{code}.pdf"'},
    )


@router.get("/{code}", name="card", response_class=HTMLResponse)
def card(code: AnyCode, request: Request, connection: ConnectionDep) -> HTMLResponse:
    """Return the grid's duty card: code, map, staff and duties, station, coverage, QR code.

    A browser asking for a code that is no grid of the current plan (a misprint, a retired
    grid) gets a page saying so, 404, and where a retired grid's units went; other clients get
    problem+json.
    """
    try:
        if not VALID_CODE.fullmatch(code):
            raise NotFound(f"code: {code!r} is not a 15-digit grid code")
        html = render_card(load_card(connection, code), card_url(request, code))
    except NotFound:
        if "text/html" not in request.headers.get("accept", ""):
            raise
        return HTMLResponse(
            render_missing(connection, code), status_code=404, headers={"Cache-Control": "no-cache"}
        )
    return HTMLResponse(html, headers={"Cache-Control": "no-cache"})
