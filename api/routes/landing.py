"""The OGC API landing page and conformance declaration."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel

router = APIRouter(tags=["OGC API"])

CONFORMANCE = (
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/landing-page",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/json",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/ogcapi-records-1/1.0/conf/sorting",
)


class Link(BaseModel):
    """A web link as OGC API documents carry them."""

    href: str
    rel: str
    type: str | None = None
    title: str | None = None


class LandingPage(BaseModel):
    """The OGC API landing page."""

    title: str
    description: str
    links: list[Link]


class Conformance(BaseModel):
    """The conformance classes the service implements."""

    conformsTo: list[str]


def _wants_html(request: Request) -> bool:
    """Say whether the client is a browser asking for a page rather than for JSON."""
    accept = request.headers.get("accept", "")
    return accept.startswith("text/html") and request.query_params.get("f") != "json"


@router.get("/", response_model=LandingPage, response_model_exclude_none=True)
def landing_page(request: Request) -> LandingPage | RedirectResponse:
    """Describe the service and link to its API definition and conformance classes.

    A browser asking for HTML is sent to the web map; ``?f=json`` keeps the document.
    """
    if _wants_html(request):
        return RedirectResponse(str(request.url_for("web_map")), status_code=303)

    def url(name: str) -> str:
        return str(request.url_for(name))

    return LandingPage(
        title="gridmap",
        description=(
            "One map for the whole city (全市一张图): regions, governance grids, units, "
            "stations and 5-minute service-circle coverage."
        ),
        links=[
            Link(
                href=url("landing_page"), rel="self", type="application/json", title="This document"
            ),
            Link(
                href=url("openapi"),
                rel="service-desc",
                type="application/vnd.oai.openapi+json;version=3.0",
                title="The API definition",
            ),
            Link(
                href=url("swagger_ui_html"),
                rel="service-doc",
                type="text/html",
                title="The API documentation",
            ),
            Link(
                href=url("conformance"),
                rel="conformance",
                type="application/json",
                title="Conformance classes implemented by this service",
            ),
            Link(
                href=url("collections"),
                rel="data",
                type="application/json",
                title="The feature collections",
            ),
            Link(
                href=url("health"),
                rel="status",
                type="application/json",
                title="Service and database health",
            ),
            Link(
                href=url("web_map"),
                rel="alternate",
                type="text/html",
                title="The web map (全市一张图)",
            ),
        ],
    )


@router.get("/conformance", response_model=Conformance)
def conformance() -> Conformance:
    """List the conformance classes the service implements."""
    return Conformance(conformsTo=list(CONFORMANCE))
