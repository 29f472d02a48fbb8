"""Whether the database answers: one log line when an outage starts, one when it ends.

Every failed connection reports :meth:`Outage.down` and every new connection
:meth:`Outage.up`; only the changes are logged, so a ten-second outage under load writes two
lines, not one traceback per request.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import psycopg
from sqlalchemy.exc import DBAPIError

log = logging.getLogger("gridmap.database")
RETRY_AFTER_SECONDS = 5


def lost_connection(error: BaseException) -> bool:
    """Say whether ``error`` means the database cannot be reached (not a failed statement)."""
    if isinstance(error, DBAPIError):
        if error.connection_invalidated:
            return True
        error = error.orig if error.orig is not None else error
    # psycopg raises OperationalError itself for connections refused, reset or closed; its
    # subclasses are statements that failed (a deadlock, a cancelled query)
    return type(error) in (psycopg.OperationalError, psycopg.InterfaceError)


class Outage:
    """The database's reachability as this process last saw it."""

    def __init__(self) -> None:
        self._since: float | None = None
        self._lock = threading.Lock()
        self.on_down: list[Callable[[], None]] = []  # e.g. drop pooled connections: all stale

    @property
    def ongoing(self) -> bool:
        """Say whether the last attempt to reach the database failed."""
        return self._since is not None

    def down(self, error: BaseException) -> None:
        """Note a failed connection (logged when it starts an outage)."""
        with self._lock:
            if self._since is not None:
                return
            self._since = time.monotonic()
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        log.warning("database unreachable (%s); answering 503 until it is back", first)
        for forget in self.on_down:
            forget()

    def up(self) -> None:
        """Note a new connection (logged when it ends an outage)."""
        if self._since is None:
            return
        with self._lock:
            since, self._since = self._since, None
        if since is not None:
            log.warning("database reachable again after %.1f s", time.monotonic() - since)
