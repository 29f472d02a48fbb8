"""An in-memory cache of tiles and their ETags, least recently used first out, bounded in bytes."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from threading import Lock

ENTRY_BYTES = 256
"""What an entry costs beside its tile's bytes (its key, ETag, and place in the order)."""


class TileCache:
    """Tiles (bytes and ETag) by key, holding at most ``max_bytes`` of them (0: hold nothing)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[Hashable, tuple[bytes, str]] = OrderedDict()
        self._size = 0
        self._lock = Lock()
        self.hits = self.misses = 0

    def get(self, key: Hashable) -> tuple[bytes, str] | None:
        """Return the tile and its ETag under ``key``, or None."""
        with self._lock:
            data = self._entries.get(key)
            if data is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return data

    def put(self, key: Hashable, data: bytes, etag: str) -> None:
        """Keep ``data`` under ``key``, dropping the least recently used tiles to make room.

        Each entry counts its bytes and :data:`ENTRY_BYTES` more (its key, ETag and place in
        the order): a flood of empty tiles fills the cache like any other, and is dropped.
        """
        if not self.max_bytes or len(data) + ENTRY_BYTES > self.max_bytes:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._size -= len(old[0]) + ENTRY_BYTES
            self._entries[key] = (data, etag)
            self._size += len(data) + ENTRY_BYTES
            while self._size > self.max_bytes:
                _, (dropped, _etag) = self._entries.popitem(last=False)
                self._size -= len(dropped) + ENTRY_BYTES

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size(self) -> int:
        """Bytes held, each entry's overhead counted."""
        return self._size
