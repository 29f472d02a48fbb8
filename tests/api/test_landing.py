"""The OGC API landing page and conformance declaration."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

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


def test_the_api_definition_is_served_as_openapi(client: TestClient) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.oai.openapi+json;version=3.1"
    spec = response.json()
    assert spec["info"]["title"] == "gridmap"
    assert {"/", "/conformance", "/health"} <= spec["paths"].keys()


def test_the_docs_page_loads_nothing_from_the_internet(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
    urls += re.findall(r"""url: ?["']([^"']+)["']""", page.text)
    assert len(urls) >= 3
    for url in urls:
        assert url.startswith("http://testserver/"), url
        assert client.get(url).status_code == 200, url
