"""Read the first sheet of a spreadsheet as text, refusing cells that do not say what they hold.

pandas reads XLSX numbers as floats and formulas without a computed value, and the cells under
a merged cell, as empty. For a grid centre's files that loses data quietly: a 16-digit unit code
typed as a number keeps only 15 digits (Excel's limit), ``0099`` becomes ``99``, and a merged
community cell leaves every row under it without one. Here every cell becomes text as the
spreadsheet shows it (a number formatted ``0000`` keeps its zeros); merged cells, and formulas
whose value was never computed, are problems naming the cell; which cells were numbers is kept,
so that code columns can be checked once the columns have their gridmap names
(:func:`check_number_codes`).
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
from openpyxl.utils import get_column_letter

from gridmap.errors import InvalidInput
from gridmap.io.problems import Problems

EXACT_DIGITS = 15
"""Spreadsheets keep 15 significant digits of a number; a longer code stored as one is wrong."""
CODE_FIELDS = ("code", "community", "grid", "external_id", "phone")
"""Fields that are codes: text whatever the cell's type."""
_ZERO_PADDED = re.compile(r"^0+$")


@dataclass(frozen=True)
class Sheet:
    """A sheet's cells as text (index: the spreadsheet's row number), and which were numbers."""

    text: pd.DataFrame
    numbers: pd.DataFrame
    letters: dict[str, str]


def read_xlsx(path: Path, problems: Problems) -> Sheet:
    """Read the first sheet of ``path``; report merged cells and formulas without values.

    Raises
    ------
    InvalidInput
        When the file is not a readable workbook.
    """
    try:
        values = openpyxl.load_workbook(path, data_only=True).worksheets[0]
        formulas = openpyxl.load_workbook(path, data_only=False).worksheets[0]
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as error:
        raise InvalidInput(f"{path.name}: not a readable XLSX workbook ({error})") from None
    for merged in sorted(values.merged_cells.ranges, key=lambda r: (r.min_row, r.min_col)):
        problems.add(
            f"cells {merged.coord}",
            "are merged; a table needs one value per cell: unmerge them and fill every row",
        )
    rows = list(values.iter_rows())
    if not rows:
        return Sheet(pd.DataFrame(), pd.DataFrame(), {})
    header = [_cell_text(c) for c in rows[0]]
    keep = [i for i, name in enumerate(header) if name]
    names = [str(header[i]).strip().lower() for i in keep]
    text, numbers, index = [], [], []
    for row in rows[1:]:
        cells = [row[i] if i < len(row) else None for i in keep]
        if all(c is None or c.value is None for c in cells):
            continue
        for cell in cells:
            if cell is not None and cell.value is None:
                source = formulas[cell.coordinate].value
                if isinstance(source, str) and source.startswith("="):
                    problems.add(
                        f"cell {cell.coordinate}",
                        f"holds the formula {source} but no computed value: open the file in "
                        "a spreadsheet program and save it, or paste the values",
                    )
        text.append([_cell_text(c) for c in cells])
        numbers.append([c is not None and isinstance(c.value, int | float) for c in cells])
        index.append(row[0].row)
    letters = {n: get_column_letter(i + 1) for n, i in zip(names, keep, strict=True)}
    return Sheet(
        pd.DataFrame(text, columns=names, index=index, dtype=object),
        pd.DataFrame(numbers, columns=names, index=index, dtype=bool),
        letters,
    )


def _cell_text(cell: object) -> str | None:
    value = getattr(cell, "value", None)
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        value = int(value)
    if isinstance(value, int):
        width = getattr(cell, "number_format", "General")
        if _ZERO_PADDED.match(width):
            return str(value).zfill(len(width))
        return str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    text = str(value).strip()
    return text or None


def check_number_codes(
    frame: pd.DataFrame, numbers: pd.DataFrame, letters: dict[str, str], problems: Problems
) -> None:
    """Report code cells stored as numbers that cannot be the code as written.

    ``frame`` has gridmap's column names; ``numbers`` and ``letters`` are keyed by the same
    names. A number of more than 15 digits has lost its last ones; numbers of different lengths
    in one code column have lost leading zeros, or may have (``0099`` and ``0100`` stored as
    99 and 100); a number with decimals is no code.
    """
    for name in CODE_FIELDS:
        if name not in frame.columns or name not in numbers.columns:
            continue
        is_number = numbers[name].to_numpy(dtype=bool)
        if not is_number.any():
            continue
        text = frame[name].astype(object)
        digits = np.array([len(t.lstrip("-")) if isinstance(t, str) else 0 for t in text])
        where = [f"row {r} (cell {letters.get(name, '?')}{r})" for r in frame.index]
        decimals = is_number & np.array([isinstance(t, str) and "." in t for t in text])
        too_long = is_number & (digits > EXACT_DIGITS) & ~decimals
        widths = set(digits[is_number & ~decimals & ~too_long])
        short = is_number & ~decimals & ~too_long & (digits < max(widths, default=0))
        for i in np.flatnonzero(decimals | too_long | short):
            if decimals[i]:
                why = "is a number with decimals, not a code"
            elif too_long[i]:
                why = (
                    f"is stored as a number, and a spreadsheet keeps only {EXACT_DIGITS} digits "
                    "of a number, so its last digits may be wrong"
                )
            else:
                why = (
                    f"is stored as a number with fewer digits than others in the column "
                    f"({max(widths)}): leading zeros were lost"
                )
            problems.add(
                where[i],
                f"{name} {text.iloc[i]} {why}; store the codes as text "
                "(format the column as Text/文本 and enter them again)",
            )
