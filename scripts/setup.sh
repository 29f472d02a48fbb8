#!/usr/bin/env bash
# Everything a fresh Debian machine needs before gridmap runs: Debian's PostgreSQL 15 and
# PostGIS 3 binaries, Python's venv module, a virtual environment in .venv and the Python
# packages, Node.js with npm and the web map's packages (static/package-lock.json).
# Sourced by scripts/demo.sh and scripts/test.sh; each step is skipped when done.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${GRIDMAP_VENV:-$ROOT/.venv}"
PG_BINDIR="${GRIDMAP_PG_BINDIR:-/usr/lib/postgresql/15/bin}"
DEBIAN_PACKAGES=(postgresql-15 postgresql-15-postgis-3)

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        echo "error: '$*' needs root and sudo is not installed" >&2
        exit 1
    fi
}

missing_debian_packages() {
    local pkg
    for pkg in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q '^install ok installed$'; then
            printf '%s\n' "$pkg"
        fi
    done
}

install_debian_packages() {
    local -a missing
    mapfile -t missing < <(missing_debian_packages "$@")
    [ "${#missing[@]}" -eq 0 ] && return 0
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "error: missing ${missing[*]} and this machine has no apt-get; install them by hand" >&2
        exit 1
    fi
    say "Installing Debian packages: ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
}

ensure_system_packages() {
    local -a wanted=("${DEBIAN_PACKAGES[@]}" ${EXTRA_DEBIAN_PACKAGES[@]+"${EXTRA_DEBIAN_PACKAGES[@]}"})
    # A python3 without ensurepip (Debian's split python3-venv) cannot make a virtual environment.
    if ! command -v python3 >/dev/null 2>&1; then
        wanted+=(python3 python3-venv)
    elif ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
        wanted+=(python3-venv)
    fi
    # npm installs the web map's packages; a Node.js that brings its own npm needs nothing more.
    if ! command -v npm >/dev/null 2>&1; then
        wanted+=(nodejs npm)
    fi
    if [ -n "${GRIDMAP_SKIP_APT:-}" ]; then
        return 0
    fi
    install_debian_packages "${wanted[@]}"
    if [ ! -x "$PG_BINDIR/initdb" ]; then
        echo "error: $PG_BINDIR/initdb not found after installing ${DEBIAN_PACKAGES[*]}" >&2
        exit 1
    fi
}

ensure_python_env() {
    python3 - <<'PY' || { echo "error: gridmap needs Python 3.11 or newer" >&2; exit 1; }
import sys
sys.exit(0 if sys.version_info >= (3, 11) else 1)
PY
    if [ ! -x "$VENV/bin/python" ]; then
        say "Creating the virtual environment in $VENV"
        python3 -m venv "$VENV"
    fi
    # Reinstall only when the declared dependencies change.
    local stamp="$VENV/.gridmap-installed"
    local digest
    digest="$(sha256sum "$ROOT/pyproject.toml" | cut -d' ' -f1)"
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$digest" ]; then
        say "Installing the Python packages (gridmap with its test extras)"
        "$VENV/bin/python" -m pip install --quiet --upgrade pip
        "$VENV/bin/python" -m pip install --quiet -e "$ROOT[test]"
        echo "$digest" >"$stamp"
    fi
}

ensure_web_packages() {
    # The web map's packages (MapLibre GL JS), exactly as the committed lock file has them.
    local web="$ROOT/static"
    local stamp="$web/node_modules/.gridmap-installed"
    local digest
    digest="$(sha256sum "$web/package-lock.json" | cut -d' ' -f1)"
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$digest" ]; then
        say "Installing the web map's packages (npm ci in static/)"
        (cd "$web" && npm ci --no-audit --no-fund --loglevel=error)
        echo "$digest" >"$stamp"
    fi
}

ensure_system_packages
ensure_python_env
ensure_web_packages
export PATH="$VENV/bin:$PATH"
