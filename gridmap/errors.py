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


class JobRunning(Conflict):
    """A job is working on the plan: the write waits for it to end or be cancelled (409)."""

    def __init__(self, message: str, *, job_id: int) -> None:
        super().__init__(message)
        self.job_id = job_id


class PlanChanged(Conflict):
    """A job's result refused: its plan changed while it ran, so nothing was written."""
