"""Sort surviving mutants by rules that show them harmless; list the rest as not yet judged.

Usage (in mutmut's working copy, after `mutmut run`):
    python sort_survivors.py bench/mutation/results.txt [diffs.txt] > survivors.txt

Each survivor's diff comes from `mutmut show` (about a second each), or from ``diffs.txt``:
blocks of `== name` followed by the lines `mutmut show` printed. A rule names what a mutant
changes and why no caller can tell: only then is the survivor counted as harmless. Everything
else is printed with its diff under "not judged": a test is missing, or a person has to show it
harmless.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

STRING = re.compile(r"\"[^\"]*\"|'[^']*'")

RULES: list[tuple[str, str]] = [
    (
        "text",
        "only the words inside a string change (a message, or an option numpy reads in any "
        "case): no figure, decision or code changes",
    ),
    (
        "type",
        "only an array's number type changes (a dtype or astype dropped): numpy infers the same "
        "type, or a float whose every value equals the integer's; callers read the values",
    ),
]


def rule_of(before: str, after: str) -> str | None:
    """Return the rule a mutant falls under (its line before and after), or None."""
    if STRING.sub("S", before) == STRING.sub("S", after):
        return "text"
    dtype = r"(dtype=[\w.]+|\.astype\([\w.]+\))"
    if re.search(dtype, before) and (
        re.sub(r"dtype=[\w.]+", "dtype=None", before) == after
        or re.sub(r",? ?dtype=[\w.]+", ", ", before).replace(", )", ", )") == after
        or re.sub(r"\.astype\([\w.]+\)", ".astype(None)", before) == after
        or re.sub(r"dtype=[\w.]+", "", before).replace(", )", ", )") == after
    ):
        return "type"
    return None


def diff(name: str, saved: dict[str, str]) -> tuple[list[str], list[str]]:
    """Return the lines a mutant takes out and puts in."""
    if name in saved:
        shown = saved[name]
    else:
        shown = subprocess.run(["mutmut", "show", name], capture_output=True, text=True).stdout
    lines = shown.splitlines()
    return (
        [line[2:].strip() for line in lines if line.startswith("- ")],
        [line[2:].strip() for line in lines if line.startswith("+ ")],
    )


def main() -> None:
    """Print the survivors of ``results.txt`` sorted by rule, each with its diff."""
    names = re.findall(r"^\s+([\w.ǁ]+__mutmut_\d+)$", Path(sys.argv[1]).read_text(), re.M)
    saved: dict[str, str] = {}
    if len(sys.argv) > 2:
        for block in re.split(r"^== ", Path(sys.argv[2]).read_text(), flags=re.M)[1:]:
            name, _, shown = block.partition("\n")
            saved[name.strip()] = shown
    sorted_by: dict[str, list[tuple[str, list[str], list[str]]]] = {}
    for name in names:
        before, after = diff(name, saved)
        rule = rule_of(before[0], after[0]) if len(before) == len(after) == 1 else None
        sorted_by.setdefault(rule or "not judged", []).append((name, before, after))
    counts = Counter({rule: len(found) for rule, found in sorted_by.items()})
    print(f"survivors: {len(names)}; " + ", ".join(f"{r}: {n}" for r, n in counts.most_common()))
    for rule, reason in [*RULES, ("not judged", "a test is missing, or it is yet to be shown")]:
        found = sorted_by.get(rule, [])
        print(f"\n## {rule} ({len(found)}): {reason}")
        for name, before, after in found:
            print(f"{name}\n  - {' / '.join(before)}\n  + {' / '.join(after)}")


if __name__ == "__main__":
    main()
