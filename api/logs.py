"""Access logs without secrets: keys and embed tokens in query strings are masked.

Embeds and iframes may send a key as ``?key=``; the access log would keep it in clear (and so
would every log shipper after it). The filter masks ``key``, ``token`` and ``api_key`` values
in the request line uvicorn logs, in every API process.
"""

from __future__ import annotations

import logging
import re

SECRET_PARAMS = re.compile(r"([?&](?:key|token|api_key|access_token)=)[^&#\s\"]*", re.IGNORECASE)
"""Query parameters whose values are secrets."""


def redact(text: str) -> str:
    """Mask secret query values in ``text``.

    >>> redact("/tiles/gridmap/14/1/2.mvt?key=gm_abc&lang=en")
    '/tiles/gridmap/14/1/2.mvt?key=***&lang=en'
    """
    return SECRET_PARAMS.sub(r"\1***", text)


class RedactSecrets(logging.Filter):
    """Mask secret query values in a log record's arguments and message."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Mask the record's secrets; keep the record."""
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def install() -> None:
    """Add the filter to uvicorn's access logger once (each API process calls it)."""
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactSecrets) for f in access.filters):
        access.addFilter(RedactSecrets())
