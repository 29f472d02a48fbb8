"""The one-way flow of docs/architecture.md: the library never imports the web layer."""

from __future__ import annotations

import subprocess
import sys


def test_the_library_imports_neither_fastapi_nor_api() -> None:
    probe = (
        "import sys, pkgutil, importlib, gridmap\n"
        "for m in pkgutil.walk_packages(gridmap.__path__, 'gridmap.'):\n"
        "    if '.migrations' not in m.name:\n"
        "        importlib.import_module(m.name)\n"
        "web = {'fastapi', 'api', 'starlette'}\n"
        "bad = sorted(n for n in sys.modules if n.split('.')[0] in web)\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
