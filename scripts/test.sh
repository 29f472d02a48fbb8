#!/usr/bin/env bash
# The tests: set up this machine, lint, then run the whole suite against a real PostGIS that the
# tests start themselves in a temporary folder. Extra arguments go to pytest.
set -euo pipefail
# gdal-bin: GDAL's OAPIF and MVT drivers read the API as a GIS client does.
# chromium: the browser the web map's tests drive (Playwright, no browser download);
# fonts-wqy-microhei: Chinese glyphs, so the zh-CN screenshots show text, not boxes;
# poppler-utils: PDFs of reports and cards rendered back to pages (pdfinfo, pdftoppm).
EXTRA_DEBIAN_PACKAGES=(gdal-bin chromium fonts-wqy-microhei poppler-utils)
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$ROOT"
say "ruff"
ruff check .
ruff format --check .
say "mypy"
mypy
say "pytest"
exec python -m pytest "$@"
