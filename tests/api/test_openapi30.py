"""JSON Schema 2020-12 (OpenAPI 3.1) rewritten in OpenAPI 3.0's dialect."""

from __future__ import annotations

from api.openapi30 import as_openapi30, schema_30

REF = {"$ref": "#/components/schemas/Grid"}


def test_null_among_alternatives_becomes_nullable() -> None:
    assert schema_30({"anyOf": [{"type": "string"}, {"type": "null"}], "title": "Bbox"}) == {
        "type": "string",
        "nullable": True,
        "title": "Bbox",
    }
    assert schema_30({"type": ["integer", "null"]}) == {"type": "integer", "nullable": True}
    assert schema_30({"anyOf": [{"type": "integer"}, {"type": "string"}, {"type": "null"}]}) == {
        "anyOf": [{"type": "integer"}, {"type": "string"}],
        "nullable": True,
    }


def test_a_nullable_reference_is_wrapped_since_30_ignores_a_refs_siblings() -> None:
    assert schema_30({"anyOf": [REF, {"type": "null"}], "description": "its grid"}) == {
        "allOf": [REF],
        "nullable": True,
        "description": "its grid",
    }
    assert schema_30({**REF, "description": "its grid"}) == {
        "allOf": [REF],
        "description": "its grid",
    }
    assert schema_30(REF) == REF


def test_keywords_30_lacks_are_rewritten_or_dropped() -> None:
    assert schema_30({"const": "Feature"}) == {"enum": ["Feature"]}
    assert schema_30({"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 10}) == {
        "type": "integer",
        "minimum": 0,
        "exclusiveMinimum": True,
        "maximum": 10,
        "exclusiveMaximum": True,
    }
    assert schema_30({"type": "number", "examples": [3.5, 4]}) == {"type": "number", "example": 3.5}
    assert schema_30({"type": "string", "contentMediaType": "image/png", "$schema": "x"}) == {
        "type": "string"
    }


def test_tuples_become_bounded_arrays() -> None:
    point = {"type": "array", "prefixItems": [{"type": "number"}, {"type": "number"}]}
    assert schema_30(point) == {
        "type": "array",
        "items": {"type": "number"},
        "minItems": 2,
        "maxItems": 2,
    }
    pair = {"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}]}
    assert schema_30(pair)["items"] == {"anyOf": [{"type": "string"}, {"type": "integer"}]}


def test_nested_schemas_and_every_schema_in_a_document_are_rewritten() -> None:
    document = {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1", "summary": "s"},
        "paths": {
            "/grids": {
                "get": {
                    "parameters": [
                        {
                            "name": "limit",
                            "in": "query",
                            "schema": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
                        }
                    ],
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {
                                "application/json": {
                                    "schema": {"type": "array", "items": {"const": 1}},
                                    "examples": {"one": {"value": [1]}},
                                }
                            },
                        }
                    },
                }
            }
        },
        "components": {
            "schemas": {
                "Grid": {
                    "type": "object",
                    "properties": {
                        "code": {"type": ["string", "null"]},
                        "parts": {"type": "array", "items": {"anyOf": [REF, {"type": "null"}]}},
                    },
                }
            }
        },
    }
    out = as_openapi30(document)
    assert out["openapi"] == "3.0.3" and "summary" not in out["info"]
    get = out["paths"]["/grids"]["get"]
    assert get["parameters"][0]["schema"] == {"type": "integer", "nullable": True}
    media = get["responses"]["200"]["content"]["application/json"]
    assert media["schema"]["items"] == {"enum": [1]}
    assert media["examples"] == {"one": {"value": [1]}}  # a media type's examples are kept
    grid = out["components"]["schemas"]["Grid"]["properties"]
    assert grid["code"] == {"type": "string", "nullable": True}
    assert grid["parts"]["items"] == {"allOf": [REF], "nullable": True}
    assert document["openapi"] == "3.1.0"  # the 3.1 document is left as it was


# Documents whose shape another standard defines (and whose own validators the tests run).
STANDARD_DOCUMENTS = {
    ("get", "/collections"),  # OGC API - Features: the collections document
    ("get", "/collections/{collection_id}"),  # OGC API - Features: a collection
    ("get", "/collections/{collection_id}/queryables"),  # a JSON Schema, per OGC API Part 3
    ("get", "/tiles/{tileset_name}.json"),  # TileJSON 3.0.0
    ("get", "/styles/{name}.json"),  # a MapLibre style
}


def test_every_json_answer_has_its_model_in_the_openapi_document() -> None:
    from api.main import create_app

    untyped = set()
    for path, operations in create_app().openapi()["paths"].items():
        for method, operation in operations.items():
            for code, answer in operation.get("responses", {}).items():
                schema = answer.get("content", {}).get("application/json", {}).get("schema")
                if not code.startswith("2") or schema is None:
                    continue
                if schema == {} or schema.get("additionalProperties") is True:
                    untyped.add((method, path))
    assert untyped == STANDARD_DOCUMENTS
