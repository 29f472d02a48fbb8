"""Which text encoding a file is in: one encoding for the whole file, decided before reading.

Chinese offices write UTF-8 (often with a byte-order mark) or GB18030 (GBK, GB2312: what Excel
and most GIS and CAD software save on a Chinese Windows). A file is UTF-8 when every byte of it
decodes as UTF-8, else GB18030 when every byte decodes as that. A file that mixes the two (one
part pasted from another system) is refused, naming the first line in the other encoding: GB18030
would "decode" the UTF-8 part into plausible-looking nonsense (``鍣煶`` for ``噪音``).

Shapefiles keep their text in the .dbf, whose encoding is named by a .cpg beside it, or by the
.dbf's language driver byte; without either, the same UTF-8-else-GB18030 rule applies to the
.dbf's field names and records.
"""

from __future__ import annotations

import codecs

from gridmap.errors import InvalidInput

UTF8, GB18030 = "UTF-8", "GB18030"
BOM = codecs.BOM_UTF8
CHINESE_LANGUAGE_DRIVERS = {0x4D: GB18030, 0x7A: GB18030}
"""dBASE language driver ids (byte 29 of a .dbf) that mean GBK/GB2312; GB18030 reads both."""
LANGUAGE_DRIVERS = {
    0x01: "cp437",
    0x02: "cp850",
    0x03: "cp1252",
    0x64: "cp852",
    0x65: "cp866",
    0x7B: "cp932",
    0x79: "cp949",
    0x78: "cp950",
    0x7C: "cp874",
    0xC8: "cp1250",
    0xC9: "cp1251",
    0xCA: "cp1254",
    0xCB: "cp1253",
    **CHINESE_LANGUAGE_DRIVERS,
}
"""Language driver ids that name one encoding. 0x00 names none, and 0x57 ("the writer's
ANSI code page", what ArcGIS writes) names none for certain either: both fall to the content."""


def decode_file_text(data: bytes, name: str, encoding: str | None = None) -> tuple[str, str]:
    """Return the text of ``data`` and the encoding it was read in (``encoding`` if given).

    Raises
    ------
    InvalidInput
        When the bytes are not all in one encoding, naming the first line that is not.
    """
    if encoding is not None:
        return _decode_as(data, name, encoding), encoding
    if data.startswith(BOM):
        return _decode_as(data[len(BOM) :], name, UTF8, after_bom=True), UTF8
    found = detect_encoding(data, name)
    return _decode_as(data, name, found), found


def detect_encoding(data: bytes, name: str) -> str:
    """Return UTF-8 or GB18030, whichever all of ``data`` is in.

    Raises
    ------
    InvalidInput
        When some lines are UTF-8 and others not, or the bytes are in neither encoding.
    """
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return UTF8
    first_utf8 = first_other = None
    for number, line in enumerate(data.split(b"\n"), start=1):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            first_other = first_other or number
        else:
            first_utf8 = first_utf8 or number
        if first_utf8 and first_other:
            raise InvalidInput(
                f"{name}: line {first_utf8} is UTF-8 but line {first_other} is not (GB18030?): "
                "a file must be in one encoding; save the whole file again as UTF-8"
            )
    _decode_as(data, name, GB18030)
    return GB18030


def _decode_as(data: bytes, name: str, encoding: str, *, after_bom: bool = False) -> str:
    try:
        return data.decode(encoding)
    except LookupError:
        raise InvalidInput(f"{name}: unknown encoding {encoding!r}") from None
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        why = " though the file starts with a UTF-8 byte-order mark" if after_bom else ""
        raise InvalidInput(
            f"{name}: line {line} is not {encoding}{why}; a file must be in one encoding "
            "(UTF-8 or GB18030), or name yours with --encoding"
        ) from None


def dbf_encoding(dbf: bytes, cpg: bytes | None) -> tuple[str, str]:
    """Return the encoding of a shapefile's .dbf and where it was learnt.

    The .cpg when there is one, else the .dbf's language driver byte when it names an
    encoding, else UTF-8 when every field name and record decodes as UTF-8, else GB18030.
    """
    if cpg is not None and cpg.strip():
        named = cpg.decode("ascii", errors="replace").strip()
        return _cpg_encoding(named), f"its .cpg says {named}"
    driver = dbf[29] if len(dbf) > 29 else 0
    if driver in LANGUAGE_DRIVERS:
        return LANGUAGE_DRIVERS[driver], f"its .dbf's language driver is 0x{driver:02X}"
    text = _dbf_text(dbf)
    try:
        text.decode("utf-8")
    except UnicodeDecodeError:
        return GB18030, "its .dbf's text is not UTF-8 and there is no .cpg"
    return UTF8, "its .dbf's text is UTF-8"


def _cpg_encoding(named: str) -> str:
    key = named.upper().replace("-", "").replace("_", "").replace(" ", "")
    if key in {"GBK", "GB2312", "GB18030", "CP936", "936", "EUCCN", "ANSI936"}:
        return GB18030
    if key in {"UTF8", "65001"}:
        return UTF8
    if key.isdigit():
        return f"cp{key}"
    try:
        return codecs.lookup(named).name
    except LookupError:
        return named


def _dbf_text(dbf: bytes) -> bytes:
    """Return a .dbf's field names and records: the bytes that hold its text."""
    if len(dbf) < 32:
        return b""
    header_size = int.from_bytes(dbf[8:10], "little")
    names = b"".join(dbf[i : i + 11] for i in range(32, max(header_size - 1, 32), 32))
    return names.replace(b"\x00", b"") + dbf[header_size:]
