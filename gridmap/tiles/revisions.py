"""The data revisions that key cached tiles, kept fresh by PostgreSQL notifications.

Every write to a served table bumps its row of ``data_revision`` and notifies
``gridmap_revision`` on commit (migration 0005). A listener thread turns each notification
into a new generation; the revisions are read again only when the generation moved, so a
cached tile costs no query, and a tile built after a commit never hides behind an old key.
Without a listener (it could not connect, or lost its connection), they are read every time.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

import psycopg
from sqlalchemy import Engine, event, text
from sqlalchemy.exc import DBAPIError

log = logging.getLogger(__name__)
CHANNEL = "gridmap_revision"
KEYS_CHANNEL = "gridmap_keys"  # a key was made, revoked or removed (migration 0007)


class Revisions:
    """Each served table's revision, read when a notification says it changed.

    The same listener passes on the other notifications a process must follow: a change of
    the API keys (``on_keys``: a revoked key stops working at once), and its connections
    (``on_connect``: the database is reachable).
    """

    def __init__(
        self,
        libpq_url: str | Callable[[], str] | None,
        *,
        on_keys: Callable[[], None] | None = None,
        on_connect: Callable[[], None] | None = None,
    ) -> None:
        self._on_keys = on_keys or (lambda: None)
        self._on_connect = on_connect or (lambda: None)
        self._generation = 0
        self._known: tuple[int, dict[str, int]] | None = None
        self._lock = threading.Lock()
        self._listening = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if libpq_url is not None:
            self._thread = threading.Thread(
                target=self._listen, args=(libpq_url,), name="gridmap-revisions", daemon=True
            )
            self._thread.start()
            self._listening.wait(timeout=5)

    @property
    def listening(self) -> bool:
        """Say whether notifications arrive (else every call reads the table)."""
        return self._listening.is_set()

    def of(self, engine: Engine, tables: Sequence[str]) -> tuple[int, ...]:
        """Return the revisions of ``tables``, in their order (a query only when they moved)."""
        every = self._current(engine)
        return tuple(every.get(t, 0) for t in tables)

    def known(self, tables: Sequence[str]) -> tuple[int, ...] | None:
        """Return the revisions of ``tables`` if they are known current without a query."""
        with self._lock:
            generation, known = self._generation, self._known
        if known is None or known[0] != generation or not self.listening:
            return None
        return tuple(known[1].get(t, 0) for t in tables)

    def _current(self, engine: Engine) -> dict[str, int]:
        with self._lock:
            generation, known = self._generation, self._known
        if known is not None and known[0] == generation and self.listening:
            return known[1]
        for attempt in (1, 2):  # a pooled connection the server dropped fails once, then a new one
            try:
                with engine.connect() as connection:
                    rows = connection.execute(
                        text("SELECT table_name, revision FROM data_revision")
                    ).all()
                break
            except DBAPIError as error:
                if attempt == 2 or not error.connection_invalidated:
                    raise
        values = {name: int(revision) for name, revision in rows}
        with self._lock:
            self._known = (generation, values)  # stale at once if a notification came meanwhile
        return values

    def _bump(self) -> None:
        with self._lock:
            self._generation += 1

    def stale(self) -> None:
        """Forget the revisions read: this process committed a write (read them again)."""
        self._bump()

    def follow_commits(self, engine: Engine) -> Callable[[], None]:
        """Forget the revisions whenever a transaction of ``engine`` has committed.

        The notification of a commit reaches the listener a moment later; a request that
        follows the commit at once (a plan accepted, then its TileJSON) would read the old
        revisions and hand out tile URLs of the data before it. The mark is set when the
        transaction commits and acted on when its connection goes back to the pool, after
        the commit: a read before that could cache the old revisions again. Returns a function
        that stops following.
        """

        def committed(connection: object) -> None:
            connection.info["gridmap_committed"] = True  # type: ignore[attr-defined]

        def returned(_dbapi: object, record: object) -> None:
            if record.info.pop("gridmap_committed", False):  # type: ignore[attr-defined]
                self._bump()

        event.listen(engine, "commit", committed)
        event.listen(engine.pool, "checkin", returned)

        def stop() -> None:
            event.remove(engine, "commit", committed)
            event.remove(engine.pool, "checkin", returned)

        return stop

    def _listen(self, url: str | Callable[[], str]) -> None:
        said = False
        while not self._stop.is_set():
            try:
                where = url() if callable(url) else url
                with psycopg.connect(where, autocommit=True, connect_timeout=5) as connection:
                    connection.execute(f"LISTEN {CHANNEL}")
                    connection.execute(f"LISTEN {KEYS_CHANNEL}")
                    self._bump()  # anything may have changed while no one listened
                    self._on_keys()
                    self._listening.set()
                    self._on_connect()
                    said = False
                    while not self._stop.is_set():
                        for note in connection.notifies(timeout=1.0):
                            if note.channel == KEYS_CHANNEL:
                                self._on_keys()
                            else:
                                self._bump()
            except psycopg.Error as error:
                if not said:  # once an outage, not every two seconds
                    log.info(
                        "revisions: listener lost (%s); reading revisions each time",
                        str(error).strip().splitlines()[0]
                        if str(error).strip()
                        else type(error).__name__,
                    )
                    said = True
            finally:
                self._listening.clear()
                self._bump()
                self._on_keys()
            self._stop.wait(1.0)

    def close(self) -> None:
        """Stop listening."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
