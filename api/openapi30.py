"""FastAPI's OpenAPI 3.1 document written as OpenAPI 3.0.3.

OGC API - Features Part 1 names OpenAPI 3.0 as the form of an API definition (conformance
class ``oas30``), and many GIS clients and code generators read 3.0 only. FastAPI writes 3.1,
whose schemas are JSON Schema 2020-12; this module rewrites each schema into the 3.0 dialect:

- ``null`` as a type (``anyOf`` with ``{"type": "null"}``, or a type list) becomes
  ``nullable: true``;
- ``const`` becomes a one-value ``enum``, a schema's ``examples`` list its first ``example``;
- numeric ``exclusiveMinimum``/``exclusiveMaximum`` become the 3.0 booleans beside
  ``minimum``/``maximum``;
- ``prefixItems`` (tuples) become ``items`` with the tuple's length;
- a ``$ref`` with sibling keywords is wrapped in ``allOf`` (3.0 ignores a ``$ref``'s siblings);
- keywords 3.0 does not have are dropped.

A pure function of the document: the 3.1 one stays FastAPI's.
"""

from __future__ import annotations

import copy
from typing import Any

OPENAPI_VERSION = "3.0.3"
DROPPED = frozenset(
    {
        "$schema",
        "$id",
        "$comment",
        "$defs",
        "contentMediaType",
        "contentEncoding",
        "unevaluatedProperties",
        "unevaluatedItems",
        "dependentRequired",
        "dependentSchemas",
        "propertyNames",
        "patternProperties",
        "if",
        "then",
        "else",
        "contains",
        "minContains",
        "maxContains",
    }
)
NULL = {"type": "null"}


def as_openapi30(document: dict[str, Any]) -> dict[str, Any]:
    """Return an OpenAPI 3.0.3 copy of the 3.1 ``document``."""
    out = copy.deepcopy(document)
    out["openapi"] = OPENAPI_VERSION
    for name in ("webhooks", "jsonSchemaDialect"):
        out.pop(name, None)
    info = out.get("info", {})
    info.pop("summary", None)
    if isinstance(info.get("license"), dict):
        info["license"].pop("identifier", None)
    components = out.get("components", {})
    components.pop("pathItems", None)
    schemas = components.get("schemas", {})
    for name, schema in schemas.items():
        schemas[name] = schema_30(schema)
    out["paths"] = _with_schemas(out.get("paths", {}))
    for part in ("parameters", "requestBodies", "responses", "headers"):
        if part in components:
            components[part] = _with_schemas(components[part])
    return out


def _with_schemas(node: Any) -> Any:
    """Rewrite every ``schema`` found below ``node`` (parameters, bodies, responses, headers)."""
    if isinstance(node, dict):
        return {
            key: schema_30(value)
            if key == "schema" and isinstance(value, dict)
            else _with_schemas(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_with_schemas(item) for item in node]
    return node


def schema_30(schema: dict[str, Any]) -> dict[str, Any]:
    """Return a JSON Schema 2020-12 ``schema`` in OpenAPI 3.0's dialect."""
    out = _nullable({key: value for key, value in schema.items() if key not in DROPPED})
    if isinstance(out.get("properties"), dict):
        out["properties"] = {name: schema_30(sub) for name, sub in out["properties"].items()}
    for key in ("items", "additionalProperties", "not"):
        if isinstance(out.get(key), dict):
            out[key] = schema_30(out[key])
    for key in ("allOf", "anyOf", "oneOf"):
        if isinstance(out.get(key), list):
            out[key] = [schema_30(sub) for sub in out[key]]
    if "prefixItems" in out:
        members = [schema_30(sub) for sub in out.pop("prefixItems")]
        distinct = [m for i, m in enumerate(members) if m not in members[:i]]
        out["items"] = distinct[0] if len(distinct) == 1 else {"anyOf": distinct}
        out.setdefault("minItems", len(members))
        out.setdefault("maxItems", len(members))
    if "const" in out:
        out["enum"] = [out.pop("const")]
    if isinstance(out.get("examples"), list):
        examples = out.pop("examples")
        if examples:
            out["example"] = examples[0]
    for bound, exclusive in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
        if isinstance(out.get(exclusive), (int, float)) and not isinstance(out[exclusive], bool):
            out[bound] = out.pop(exclusive)
            out[exclusive] = True
    if "$ref" in out and len(out) > 1:
        ref = out.pop("$ref")
        out["allOf"] = [{"$ref": ref}, *out.get("allOf", [])]
    return out


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """Turn ``null`` among a schema's types or alternatives into ``nullable: true``."""
    kinds = schema.get("type")
    if isinstance(kinds, list):
        rest = [k for k in kinds if k != "null"]
        if len(rest) < len(kinds):
            schema["nullable"] = True
        if len(rest) == 1:
            schema["type"] = rest[0]
        else:
            schema.pop("type")
            if rest:
                schema["anyOf"] = [{"type": k} for k in rest]
    elif kinds == "null":
        schema.pop("type")
        schema["nullable"] = True
        schema.setdefault("enum", [None])
    for key in ("anyOf", "oneOf"):
        members = schema.get(key)
        if not isinstance(members, list) or NULL not in members:
            continue
        rest = [m for m in members if m != NULL]
        schema["nullable"] = True
        if len(rest) != 1:
            schema[key] = rest
            continue
        del schema[key]
        (only,) = rest
        if "$ref" in only or any(k in schema and schema[k] != v for k, v in only.items()):
            schema["allOf"] = [only, *schema.get("allOf", [])]
        else:
            schema.update(only)
    return schema
