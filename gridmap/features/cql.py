"""CQL2 text filters (OGC API - Features Part 3) as SQLAlchemy expressions.

pygeofilter parses the text; its SQLAlchemy backend turns the tree into expressions over the
collection's own columns, with every literal a bound parameter. Names that are not properties
of the collection, and functions, are refused with the name in the message.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import shapely
import shapely.errors
import shapely.geometry
from lark.exceptions import LarkError
from pygeofilter import ast, values
from pygeofilter.backends.sqlalchemy import to_filter
from pygeofilter.parsers.cql2_text import parse
from sqlalchemy import ColumnElement

from gridmap.errors import InvalidInput

MAX_LENGTH = 4000
"""Longest filter accepted, in characters."""


def cql_filter(text: str, columns: dict[str, Any]) -> ColumnElement[bool]:
    """Return the SQL condition of the CQL2 text ``text`` over ``columns`` (name → column).

    Raises
    ------
    InvalidInput
        When the text does not parse, names an unknown property, or calls a function.
    """
    if len(text) > MAX_LENGTH:
        raise InvalidInput(f"filter: longer than {MAX_LENGTH} characters")
    try:
        tree = parse(text)
    except (LarkError, ValueError, TypeError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise InvalidInput(f"filter: not valid CQL2 text ({first})") from None
    tree = _case_insensitive(tree)
    _check(tree, columns)
    try:
        return to_filter(tree, columns, undefined_as_null=False)
    except (KeyError, NotImplementedError, AttributeError, TypeError, ValueError) as error:
        raise InvalidInput(f"filter: cannot be applied ({error})") from None


def _case_insensitive(node: Any) -> Any:
    """Turn ``CASEI(property) LIKE CASEI('text')`` into a case-insensitive LIKE.

    That is CQL2's case-insensitive comparison; any other function is left for :func:`_check`
    to refuse.
    """
    if isinstance(node, ast.Like):
        lhs, pattern = node.lhs, node.pattern
        if _lowered(lhs) and _lowered(pattern):
            return ast.Like(
                lhs.arguments[0],
                pattern.arguments[0],
                nocase=True,
                wildcard=node.wildcard,
                singlechar=node.singlechar,
                escapechar=node.escapechar,
                not_=node.not_,
            )
        return node
    if isinstance(node, ast.And | ast.Or):
        return type(node)(_case_insensitive(node.lhs), _case_insensitive(node.rhs))
    if isinstance(node, ast.Not):
        return ast.Not(_case_insensitive(node.sub_node))
    return node


def _lowered(node: Any) -> bool:
    return isinstance(node, ast.Function) and node.name == "lower" and len(node.arguments) == 1


def _check(node: object, columns: dict[str, Any]) -> None:
    """Refuse unknown properties, functions, mismatched types and bad geometries in the tree."""
    if isinstance(node, ast.Attribute) and node.name not in columns:
        known = ", ".join(sorted(set(columns) - {"geom"}))
        raise InvalidInput(f"filter: no property {node.name!r}; known: {known}")
    if isinstance(node, ast.Function):
        raise InvalidInput(f"filter: function {node.name!r} is not supported")
    if isinstance(node, values.Geometry):
        _check_geometry(node)
    _check_types(node, columns)
    if isinstance(node, ast.Node):
        for child in node.get_sub_nodes():
            _check(child, columns)
    elif isinstance(node, list | tuple):
        for child in node:
            _check(child, columns)


def _kind_of_column(column: Any) -> str | None:
    """Return what literals a column compares with: number, text, boolean, or None (any)."""
    try:
        python = column.type.python_type
    except (AttributeError, NotImplementedError):
        return None
    if python is bool:
        return "boolean"
    if python in (int, float, Decimal):
        return "number"
    if python is str:
        return "text"
    return None


def _kind_of_literal(value: object) -> str | None:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float | Decimal):
        return "number"
    if isinstance(value, str):
        return "text"
    return None


def _check_types(node: object, columns: dict[str, Any]) -> None:
    """Refuse a property compared with a literal of another type (``households = 'abc'``)."""
    if isinstance(node, ast.Comparison | ast.Like | ast.Between | ast.In):
        lhs = node.lhs
        if not isinstance(lhs, ast.Attribute) or lhs.name not in columns:
            return
        if isinstance(node, ast.Comparison):
            literals = [node.rhs]
        elif isinstance(node, ast.Like):
            literals = [node.pattern]
        elif isinstance(node, ast.Between):
            literals = [node.low, node.high]
        else:
            literals = list(node.sub_nodes)
        wanted = _kind_of_column(columns[lhs.name])
        if isinstance(node, ast.Like) and wanted not in (None, "text"):
            raise InvalidInput(f"filter: LIKE needs a text property; {lhs.name!r} is a {wanted}")
        for literal in literals:
            given = _kind_of_literal(literal)
            if wanted is not None and given is not None and given != wanted:
                raise InvalidInput(
                    f"filter: property {lhs.name!r} is a {wanted}, compared with the {given} "
                    f"{literal!r}"
                )


def _check_geometry(node: values.Geometry) -> None:
    """Refuse a geometry literal PostGIS could not build (a ring of two points)."""
    try:
        geometry = shapely.geometry.shape(node.geometry)
    except (ValueError, TypeError, AttributeError, shapely.errors.ShapelyError) as error:
        raise InvalidInput(f"filter: the geometry {_wkt_of(node)} is not valid ({error})") from None
    if geometry.is_empty or not geometry.is_valid:
        reason = shapely.is_valid_reason(geometry) if not geometry.is_empty else "empty"
        raise InvalidInput(f"filter: the geometry {_wkt_of(node)} is not valid ({reason})")


def _wkt_of(node: values.Geometry) -> str:
    kind = str(node.geometry.get("type", "geometry")).upper()
    text = f"{kind}{node.geometry.get('coordinates')}"
    return text if len(text) <= 80 else text[:77] + "..."
