"""The exceptions gridmap raises; the API maps each to one HTTP status."""

from __future__ import annotations


class GridmapError(Exception):
    """Base of every error gridmap raises on purpose; its message is meant for a person."""


class InvalidInput(GridmapError, ValueError):
    """Input that cannot be used: a bad parameter, file, row or feature."""


class NotFound(GridmapError, LookupError):
    """A requested record does not exist."""


class Conflict(GridmapError):
    """The request clashes with the stored state (a duplicate code, a stale revision)."""


class StoreError(GridmapError):
    """The database cannot be set up or reached."""


class MissingBinaries(StoreError):
    """The PostgreSQL or PostGIS binaries the embedded store needs are not installed."""


class Stale(Conflict):
    """An edit made against a revision that has since changed (HTTP 412)."""


class Unauthorized(GridmapError):
    """No key, or a key that is not known or was revoked (HTTP 401)."""


class Forbidden(GridmapError):
    """A known key whose role or scope does not allow this (HTTP 403)."""


class Cancelled(GridmapError):
    """Long work stopped at a caller's request; nothing it did was kept."""


class PreconditionRequired(InvalidInput):
    """An edit sent without the revision it was made against (HTTP 428)."""
