"""Count mutmut's results by status and print the score: killed / (all but skipped)."""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

lines = Path(sys.argv[1]).read_text().splitlines()
status: Counter[str] = Counter()
by_module: dict[str, Counter[str]] = {}
survivors = []
checked: list[tuple[str, str]] = []  # a partial run's mutants, each with its status
for line in lines:
    found = re.match(r"\s*([\w.]+)__mutmut_\d+: (\w[\w ]*)", line)
    if not found:
        continue
    name, state = found.group(1), found.group(2).strip()
    module = name.rsplit(".x_", 1)[0] if ".x_" in name else name.rsplit(".", 1)[0]
    status[state] += 1
    by_module.setdefault(module, Counter())[state] += 1
    mutant = line.strip().split(":")[0]
    if state in ("survived", "no tests"):  # both are bugs the tests let through
        survivors.append(mutant)
    if state != "not checked":
        checked.append((mutant, state))
counted = sum(n for s, n in status.items() if s not in ("skipped", "not checked"))
killed = status["killed"] + status["timeout"]
print("mutants by status:", dict(status))
for module, counts in sorted(by_module.items()):
    total = sum(n for s, n in counts.items() if s not in ("skipped", "not checked"))
    dead = counts["killed"] + counts["timeout"]
    share = dead / total if total else 0
    print(f"  {module:40s} {dead:4d} / {total:4d} killed ({share:.0%})")
print(f"score: {killed} of {counted} mutants killed ({killed / counted if counted else 0:.1%})")
print(f"survivors and mutants without a test ({len(survivors)}):")
for name in survivors:
    print(f"  {name}")
if status["not checked"]:  # a partial run (named mutants): say what became of each
    print(f"checked ({len(checked)}):")
    for name, state in checked:
        print(f"  {name}: {state}")
