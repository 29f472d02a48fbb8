"""PostgreSQL's binary COPY format for frames of numbers and booleans, packed by numpy.

A coverage run of a million buildings wrote its rows as CSV in 2.4 s (pandas formats every
number as text, and PostgreSQL parses it back). In the binary format a row is a fixed run of
bytes for each pattern of NULLs among its columns: numpy packs the rows of each pattern at
once. Pure: a frame in, the bytes of a ``COPY ... FROM STDIN WITH (FORMAT binary)`` out.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
"""The signature, no flags, no header extension."""
TRAILER = (-1).to_bytes(2, "big", signed=True)
KINDS = {"int2": ">i2", "int4": ">i4", "int8": ">i8", "float8": ">f8", "bool": "?"}
"""The PostgreSQL types written, and each one's bytes (big-endian, as the format wants)."""


def binary_rows(frame: pd.DataFrame, kinds: Sequence[str]) -> bytes:
    """Return the rows of ``frame`` in the binary COPY format, column ``i`` as ``kinds[i]``.

    NaN and missing values (pandas' ``NA`` of a nullable column) are written as NULL.

    Raises
    ------
    ValueError
        When a kind is not one of :data:`KINDS`, or a number does not fit its integer type.
    """
    if len(kinds) != frame.shape[1]:
        raise ValueError(f"{frame.shape[1]} columns but {len(kinds)} kinds")
    values, nulls = [], []
    for (name, column), kind in zip(frame.items(), kinds, strict=True):
        if kind not in KINDS:
            raise ValueError(f"column {name}: cannot write {kind!r} (only {', '.join(KINDS)})")
        null = np.asarray(column.isna(), dtype=bool)
        if kind == "float8":
            plain = column.to_numpy(dtype=np.float64, na_value=np.nan)
        elif kind == "bool":
            plain = column.to_numpy(dtype=bool, na_value=False)
        else:
            given = column.to_numpy(dtype=np.float64, na_value=0.0)
            plain = column.to_numpy(dtype=np.int64, na_value=0)
            limit = np.iinfo(np.dtype(KINDS[kind]))
            if len(plain) and (
                plain.min() < limit.min or plain.max() > limit.max or (given != plain).any()
            ):
                raise ValueError(f"column {name}: a value is not an integer that fits {kind}")
        values.append(plain)
        nulls.append(null)
    null_matrix = np.column_stack(nulls) if nulls else np.zeros((len(frame), 0), dtype=bool)
    pattern = null_matrix @ (1 << np.arange(null_matrix.shape[1], dtype=np.int64))
    chunks = [HEADER]
    for key in np.unique(pattern):
        rows = np.flatnonzero(pattern == key)
        null_here = null_matrix[rows[0]]
        fields: list[tuple[str, str]] = [("count", ">i2")]
        for i, kind in enumerate(kinds):
            fields.append((f"size{i}", ">i4"))
            if not null_here[i]:
                fields.append((f"value{i}", KINDS[kind]))
        packed = np.empty(len(rows), dtype=np.dtype(fields))
        packed["count"] = len(kinds)
        for i, kind in enumerate(kinds):
            if null_here[i]:
                packed[f"size{i}"] = -1
            else:
                packed[f"size{i}"] = np.dtype(KINDS[kind]).itemsize
                packed[f"value{i}"] = values[i][rows]
        chunks.append(packed.tobytes())
    chunks.append(TRAILER)
    return b"".join(chunks)
