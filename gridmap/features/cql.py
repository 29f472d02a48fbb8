"""CQL2 text filters (OGC API - Features Part 3) as SQLAlchemy expressions.

pygeofilter parses the text; its SQLAlchemy backend turns the tree into expressions over the
collection's own columns, with every literal a bound parameter. Names that are not properties
of the collection, and functions, are refused with the name in the message.
"""

from __future__ import annotations

from typing import Any

from lark.exceptions import LarkError
from pygeofilter import ast
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
    _check(tree, columns)
    try:
        return to_filter(tree, columns, undefined_as_null=False)  # type: ignore[no-any-return]
    except (KeyError, NotImplementedError, AttributeError, TypeError, ValueError) as error:
        raise InvalidInput(f"filter: cannot be applied ({error})") from None


def _check(node: object, columns: dict[str, Any]) -> None:
    """Refuse unknown properties and functions anywhere in the tree."""
    if isinstance(node, ast.Attribute) and node.name not in columns:
        known = ", ".join(sorted(set(columns) - {"geom"}))
        raise InvalidInput(f"filter: no property {node.name!r}; known: {known}")
    if isinstance(node, ast.Function):
        raise InvalidInput(f"filter: function {node.name!r} is not supported")
    if isinstance(node, ast.Node):
        for child in node.get_sub_nodes():
            _check(child, columns)
    elif isinstance(node, list | tuple):
        for child in node:
            _check(child, columns)
