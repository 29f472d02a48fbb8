"""Print HTML to PDF with headless Chromium, as the browser tests drive it.

The page's own CSS sets the paper (``@page { size: A5 }``); Chromium prints no header or
footer of its own. The page must need nothing from the network: reports and cards inline
their maps, pictures and QR codes.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from gridmap.errors import GridmapError, MissingBinaries

PRINT_SECONDS = 120


def print_pdf(html: str, *, chromium: Path) -> bytes:
    """Return ``html`` printed to PDF by the Chromium at ``chromium``.

    Raises
    ------
    MissingBinaries
        When there is no Chromium there.
    GridmapError
        When Chromium fails or takes longer than :data:`PRINT_SECONDS`.
    """
    if not chromium.is_file():
        raise MissingBinaries(
            f"no Chromium at {chromium}: install Debian's chromium "
            "(apt-get install chromium) or set GRIDMAP_CHROMIUM"
        )
    with tempfile.TemporaryDirectory(prefix="gridmap-pdf-") as folder:
        page = Path(folder) / "page.html"
        out = Path(folder) / "page.pdf"
        page.write_text(html, encoding="utf-8")
        command = [
            str(chromium),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-pdf-header-footer",
            f"--user-data-dir={folder}/profile",
            f"--print-to-pdf={out}",
            page.as_uri(),
        ]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=PRINT_SECONDS)
        except subprocess.TimeoutExpired:
            raise GridmapError(f"Chromium took over {PRINT_SECONDS} s to print") from None
        if done.returncode != 0 or not out.is_file():
            raise GridmapError(f"Chromium could not print the page: {done.stderr[-500:]}")
        return out.read_bytes()
