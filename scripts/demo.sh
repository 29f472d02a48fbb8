#!/usr/bin/env bash
# The demo: set up this machine, start the embedded PostGIS, build the Helsinki demo city from
# real OSM data, and serve it on 127.0.0.1:8000.
set -euo pipefail
# chromium prints reports and duty cards to PDF; fonts-wqy-microhei gives them Chinese glyphs.
EXTRA_DEBIAN_PACKAGES=(chromium fonts-wqy-microhei)
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$ROOT"
echo "Building the demo city, then serving it on http://${GRIDMAP_HOST:-127.0.0.1}:${GRIDMAP_PORT:-8000}/"
echo "(Ctrl-C stops the service; '.venv/bin/gridmap db down' stops the database)"
exec gridmap demo "$@"
