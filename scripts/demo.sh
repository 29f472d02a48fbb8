#!/usr/bin/env bash
# The demo: set up this machine, start the embedded PostGIS, migrate, serve on 127.0.0.1:8000.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$ROOT"
gridmap db up
gridmap db migrate
echo "Serving gridmap on http://${GRIDMAP_HOST:-127.0.0.1}:${GRIDMAP_PORT:-8000}/ (Ctrl-C stops; 'gridmap db down' stops the database)"
exec gridmap serve "$@"
