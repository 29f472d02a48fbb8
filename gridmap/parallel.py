"""Vectorised shapely work spread over the machine's cores (GEOS releases the GIL)."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")

THREADED_FROM = 256
"""Fewer geometries than this are not worth splitting among threads."""


def chunks_in_threads(work: Callable[[np.ndarray], T], items: np.ndarray) -> list[tuple[int, T]]:
    """Run ``work`` on chunks of ``items`` in threads; return each chunk's start and result.

    GEOS works without the GIL, so a buffer, hull or nearest-edge query over thousands of
    shapes runs on every core.
    """
    workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    if workers < 2 or len(items) < THREADED_FROM:
        return [(0, work(items))]
    bounds = np.linspace(0, len(items), 4 * workers + 1).astype(int)  # small chunks even out
    with ThreadPoolExecutor(workers) as pool:
        done = list(pool.map(work, (items[a:b] for a, b in itertools.pairwise(bounds))))
    return list(zip(bounds[:-1].tolist(), done, strict=True))


def in_threads(
    operation: Callable[..., np.ndarray], geometries: np.ndarray, *args: Any, **kwargs: Any
) -> np.ndarray:
    """Apply a vectorised shapely ``operation`` to ``geometries``, chunks of them in threads.

    The answer is the same as ``operation(geometries, *args, **kwargs)``.
    """
    done = chunks_in_threads(lambda chunk: operation(chunk, *args, **kwargs), geometries)
    return np.concatenate([result for _, result in done])
