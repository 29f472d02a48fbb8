"""The OGC API landing page and conformance declaration."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from openapi_spec_validator import OpenAPIV30SpecValidator, OpenAPIV31SpecValidator

REQUIRED_RELS = {"self", "service-desc", "service-doc", "conformance"}


def test_the_landing_page_links_resolve(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    page = response.json()
    assert page["title"] == "gridmap"
    links = {link["rel"]: link for link in page["links"]}
    assert links.keys() >= REQUIRED_RELS
    for link in page["links"]:
        assert link["href"].startswith("http://testserver/")
        followed = client.get(link["href"])
        assert followed.status_code == 200, link
        assert followed.headers["content-type"].startswith(link["type"].split(";")[0])


def test_conformance_declares_ogc_api_common(client: TestClient) -> None:
    classes = client.get("/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/core" in classes
    assert "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/landing-page" in classes


def test_the_api_definition_is_valid_openapi_30_and_31(client: TestClient) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.oai.openapi+json;version=3.0"
    spec = response.json()
    assert spec["openapi"] == "3.0.3"
    assert spec["info"]["title"] == "gridmap"
    assert {"/", "/conformance", "/health"} <= spec["paths"].keys()
    assert not list(OpenAPIV30SpecValidator(spec).iter_errors())
    later = client.get("/openapi.json", params={"version": "3.1"})
    assert later.headers["content-type"] == "application/vnd.oai.openapi+json;version=3.1"
    assert later.json()["openapi"].startswith("3.1")
    assert not list(OpenAPIV31SpecValidator(later.json()).iter_errors())
    # the same operations, whichever the version
    operations = {
        (path, method): op["operationId"]
        for path, item in spec["paths"].items()
        for method, op in item.items()
    }
    assert operations == {
        (path, method): op["operationId"]
        for path, item in later.json()["paths"].items()
        for method, op in item.items()
    }
    assert (
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30"
        in client.get("/conformance").json()["conformsTo"]
    )


def test_the_docs_page_loads_nothing_from_the_internet(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
    urls += re.findall(r"""url: ?["']([^"']+)["']""", page.text)
    assert len(urls) >= 3
    for url in urls:
        assert url.startswith("http://testserver/"), url
        assert client.get(url).status_code == 200, url
