"""Stations (党群服务站): listed, seeded from amenities, removed, or replaced by a file.

Every change is one transaction. Coverage runs made before a change keep the figures they had;
the next ``gridmap coverage`` run counts with the stations as they are now.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection

from gridmap.db import city as city_rows
from gridmap.errors import InvalidInput, NotFound
from gridmap.io.file_import import ImportResult, import_file
from gridmap.io.options import ImportOptions

DEFAULT_SERVICES = ("图书阅览", "血压测量", "代办服务")
"""Services a seeded station offers (books, blood pressure, paperwork done on one's behalf)."""


@dataclass(frozen=True)
class Seeded:
    """Stations a seeding opened, and the communities still without one."""

    opened: int
    without: list[tuple[str, str | None]]


def seed_stations_from_amenities(connection: Connection) -> Seeded:
    """Open one station per community, at the amenity nearest its residents' centre.

    A plausible start for a demo city: one station per community covers part of it, so that
    coverage is well below 100% and siting has something to improve. Communities without a
    station-capable amenity get none, and are listed.
    """
    opened = city_rows.insert_station_per_community(connection, DEFAULT_SERVICES)
    return Seeded(opened, city_rows.communities_without_station(connection))


def list_stations(connection: Connection) -> list[dict[str, object]]:
    """Return every station with its community."""
    return city_rows.list_stations(connection)


def edit_station(
    connection: Connection, code: str, changes: Mapping[str, object]
) -> dict[str, object]:
    """Change a station's name, contacts or capacity; return the station as it now is.

    Text is trimmed and a blank value clears the field (the name cannot be cleared); a
    capacity is a whole number of residents, at least 1, or None.

    Raises
    ------
    InvalidInput
        Naming the field that is not one of ``STATION_EDITABLE`` or has a wrong value.
    NotFound
        When there is no station ``code``; nothing is written then.
    """
    unknown = sorted(set(changes) - set(city_rows.STATION_EDITABLE))
    if unknown:
        raise InvalidInput(
            f"{unknown[0]}: not a field one can edit; edit {', '.join(city_rows.STATION_EDITABLE)}"
        )
    clean = {name: _clean(name, value) for name, value in changes.items()}
    if "name" in clean and clean["name"] is None:
        raise InvalidInput("name: a station needs a name")
    if not city_rows.update_station(connection, code, clean):
        raise NotFound(f"no station {code}")
    return next(s for s in city_rows.list_stations(connection) if s["code"] == code)


def _clean(name: str, value: object) -> object:
    if name == "capacity_residents":
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidInput(
                f"capacity_residents: a whole number of residents, at least 1, not {value!r}"
            )
        return value
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{name}: text, not {value!r}")
    if len(value) > MAX_TEXT:
        raise InvalidInput(f"{name}: at most {MAX_TEXT} characters")
    return value.strip() or None


MAX_TEXT = 200
"""The longest name, address, hours or phone a station may have."""


def remove_stations(connection: Connection, codes: list[str]) -> list[str]:
    """Remove the stations ``codes``, all or none.

    Raises
    ------
    InvalidInput
        When no code is given.
    NotFound
        Naming every code that is no station; nothing is removed then.
    """
    wanted = list(dict.fromkeys(c.strip() for c in codes if c.strip()))
    if not wanted:
        raise InvalidInput("codes: name at least one station")
    known = {str(s["code"]) for s in city_rows.list_stations(connection)}
    unknown = [c for c in wanted if c not in known]
    if unknown:
        raise NotFound(f"no station {', '.join(unknown)}; nothing was removed")
    return city_rows.delete_stations(connection, wanted)


def replace_stations(
    connection: Connection, path: Path, options: ImportOptions | None = None
) -> tuple[ImportResult, list[str]]:
    """Make the file the whole list of stations: upsert its stations by code, remove the rest.

    Returns what the import wrote and the codes removed. A file with any problem writes
    nothing, and removes nothing.
    """
    result = import_file(connection, "stations", path, options)
    return result, city_rows.delete_stations_except(connection, sorted(result.codes))
