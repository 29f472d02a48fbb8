"""Gather every problem of an input file first, then report them together (STYLE rule 10).

Each problem names where it is (``feature 3``, ``row 4``) and why. :meth:`Problems.raise_if_any`
raises one :class:`~gridmap.errors.InvalidInput` whose message lists the first 20.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from gridmap.errors import InvalidInput

MAX_LISTED = 20
"""How many problems one message lists; the rest are counted."""


@dataclass
class Problems:
    """The problems found in one input, in the order found.

    >>> p = Problems("units.geojson")
    >>> p.add("feature 2", "households is negative (-5)")
    >>> p.raise_if_any()
    Traceback (most recent call last):
    ...
    gridmap.errors.InvalidInput: units.geojson: 1 problem, nothing was imported:
      feature 2: households is negative (-5)
    """

    source: str
    items: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """What reading decided on its own and the user should know (the encoding, Z dropped)."""

    def add(self, where: str, message: str) -> None:
        """Record one problem at ``where`` (a feature or row label, or the file)."""
        self.items.append(f"{where}: {message}")

    def add_where(
        self, labels: np.ndarray, mask: np.ndarray, messages: str | Iterable[str]
    ) -> None:
        """Record a problem for each label where ``mask`` holds.

        ``messages`` is one message for all, or one per masked row (in order).
        """
        hits = np.asarray(labels)[np.asarray(mask, dtype=bool)]
        texts = [messages] * len(hits) if isinstance(messages, str) else list(messages)
        self.items.extend(f"{where}: {text}" for where, text in zip(hits, texts, strict=True))

    def reported(self, labels: np.ndarray) -> np.ndarray:
        """Say which of ``labels`` have a problem already."""
        seen = {item.split(": ", 1)[0] for item in self.items}
        return np.array([label in seen for label in labels], dtype=bool)

    def __len__(self) -> int:
        return len(self.items)

    def raise_if_any(self) -> None:
        """Raise one :class:`InvalidInput` listing the first :data:`MAX_LISTED` problems."""
        if not self.items:
            return
        n = len(self.items)
        lines = [f"{self.source}: {n} problem{'s' if n > 1 else ''}, nothing was imported:"]
        lines += [f"  {item}" for item in self.items[:MAX_LISTED]]
        if n > MAX_LISTED:
            lines.append(f"  ... and {n - MAX_LISTED} more")
        raise InvalidInput("\n".join(lines))
