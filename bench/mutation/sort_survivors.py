"""Sort surviving mutants by rules that show them harmless; list the rest as not yet judged.

Usage (in mutmut's working copy, after `mutmut run`):
    python sort_survivors.py bench/mutation/results.txt [diffs.txt] > survivors.txt

Each survivor's diff comes from `mutmut show` (about a second each), or from ``diffs.txt``:
blocks of `== name` followed by the lines `mutmut show` printed, or a survivors file this script
printed before (so new judgements sort a run again without its copy:
``python sort_survivors.py results.txt survivors.txt > new.txt``). A rule names what a mutant
changes and why no caller can tell: only then is the survivor counted as harmless. Everything
else is printed with its diff under "not judged": a test is missing, or a person has to show it
harmless.

A person's judgements live in ``judged.txt`` beside this script: blocks of ``== function``
(the mutant's name without ``__mutmut_N``), the lines it takes out (``- ``) and puts in (``+ ``)
as printed here, and ``: why`` it changes nothing a caller can tell. They match by function and
lines, not by number, so they hold while the function's other lines change.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from collections import Counter
from functools import cache
from pathlib import Path

STRING = re.compile(r"\"[^\"]*\"|'[^']*'")

ROOT = Path(__file__).resolve().parents[2]
JUDGED = Path(__file__).with_name("judged.txt")
# calls whose text argument is a message for a person, never a key, a column or a code
MESSAGE_CALLS = {"InvalidInput", "NotFound", "Conflict", "Forbidden", "Gone", "warn"}
MESSAGE_KEYWORDS = {"message", "help", "description", "title"}

RULES: list[tuple[str, str]] = [
    (
        "text",
        "only the words of a message change (a string inside a raise or an error's "
        "constructor): no figure, decision, key or code changes",
    ),
    (
        "case",
        "only the case of numpy's sort kind changes: numpy reads `kind` in any case",
    ),
    (
        "type",
        "only an array's number type changes (a dtype or astype dropped): numpy infers the same "
        "type, or a float whose every value equals the integer's; callers read the values",
    ),
]


def _function(name: str) -> tuple[Path, list[str]] | None:
    """Return the source file and the function's path (class, method) a mutant lies in."""
    dotted, _, _ = name.partition("__mutmut_")
    module, _, function = dotted.rpartition(".")
    path = ROOT / (module.replace(".", "/") + ".py")
    if not path.exists() or not function.startswith("x"):
        return None
    return path, [part for part in function[1:].lstrip("_").split("ǁ") if part]


@cache
def _parsed(path: Path) -> tuple[str, ast.Module]:
    """Return a module's source and its syntax tree, read once for all its survivors."""
    source = path.read_text()
    return source, ast.parse(source)


def _in_message(name: str, before: str, after: str) -> bool:
    """Whether every string the mutant changes on ``before`` is a message for a person.

    Read from the source: each changed string must lie inside a ``raise`` or a call of an
    error's constructor (``...Error(...)``, :data:`MESSAGE_CALLS`), or be passed as one of
    :data:`MESSAGE_KEYWORDS`. A string used as a key, a column name, a code or SQL is not.
    """
    found = _function(name)
    changed = set(STRING.findall(before)) - set(STRING.findall(after))
    if found is None or not changed:
        return False
    path, parts = found
    source, tree = _parsed(path)
    node: ast.AST = tree
    for part in parts:
        node = next(
            (
                n
                for n in ast.walk(node)
                if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and n.name == part
            ),
            tree,
        )
    parents = {child: parent for parent in ast.walk(node) for child in ast.iter_child_nodes(parent)}
    lines = {i + 1 for i, line in enumerate(source.splitlines()) if line.strip() == before}
    strings = [
        n
        for n in ast.walk(node)
        if isinstance(n, (ast.Constant, ast.JoinedStr))
        and isinstance(getattr(n, "value", ""), str)
        and any(c in (ast.get_source_segment(source, n) or "") for c in changed)
        and any(n.lineno <= i <= (n.end_lineno or n.lineno) for i in lines)
    ]
    if not strings:
        return False
    return all(_message_context(n, parents) for n in strings)


def _message_context(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    while node in parents:
        parent = parents[node]
        if isinstance(parent, ast.Raise):
            return True
        if isinstance(parent, ast.keyword) and parent.arg in MESSAGE_KEYWORDS:
            return True
        if isinstance(parent, ast.Call):
            func = parent.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called.endswith("Error") or called in MESSAGE_CALLS:
                return True
        node = parent
    return False


def rule_of(name: str, before: str, after: str) -> str | None:
    """Return the rule a mutant falls under (its line before and after), or None."""
    fields = re.compile(r"\{[^{}]*\}")  # what an f-string fills in is not words
    if STRING.sub("S", before) == STRING.sub("S", after) and fields.findall(
        before
    ) == fields.findall(after):
        if re.sub(r"kind=(['\"])(\w+)\1", lambda m: "kind=" + m[2].lower(), after) == before:
            return "case"
        if _in_message(name, before, after):
            return "text"
        return None
    dtype = r"(dtype=[\w.]+|\.astype\([\w.]+\))"
    if re.search(dtype, before) and (
        re.sub(r"dtype=[\w.]+", "dtype=None", before) == after
        or re.sub(r",? ?dtype=[\w.]+", ", ", before).replace(", )", ", )") == after
        or re.sub(r"\.astype\([\w.]+\)", ".astype(None)", before) == after
        or re.sub(r"dtype=[\w.]+", "", before).replace(", )", ", )") == after
    ):
        return "type"
    return None


def judgements(path: Path = JUDGED) -> dict[tuple[str, str, str], str]:
    """Return the judgements of ``judged.txt``: (function, out, in) to the reason."""
    found: dict[tuple[str, str, str], str] = {}
    if not path.exists():
        return found
    for block in re.split(r"^== ", path.read_text(), flags=re.M)[1:]:
        function, *lines = block.rstrip().splitlines()
        out = " / ".join(line[2:].strip() for line in lines if line.startswith("- "))
        put = " / ".join(line[2:].strip() for line in lines if line.startswith("+ "))
        why = " ".join(line[2:].strip() for line in lines if line.startswith(": "))
        if not why:
            raise SystemExit(f"judged.txt: {function.strip()} gives no reason")
        found[(function.strip(), out, put)] = why
    return found


def killed_again(results: Path) -> set[str]:
    """Return the mutants a later run of the survivors killed.

    That run's ``results-again.txt`` lies beside ``results.txt``; a partial run lists each
    mutant it checked with its status.
    """
    again = results.with_name(results.stem + "-again.txt")
    if not again.exists():
        return set()
    found = re.findall(r"^\s+([\w.ǁ]+__mutmut_\d+): (\w+)$", again.read_text(), re.M)
    return {name for name, state in found if state in ("killed", "timeout")}


def saved_diffs(text: str) -> dict[str, str]:
    """Return each mutant's diff from ``== name`` blocks or from a survivors file printed here.

    A survivors file gives each mutant's lines joined by `` / ``; they are kept joined, as the
    judgements read them. An empty side is no line at all.
    """
    if text.startswith("== ") or "\n== " in text:
        blocks = [b.partition("\n") for b in re.split(r"^== ", text, flags=re.M)[1:]]
        return {name.strip(): shown for name, _, shown in blocks}
    saved: dict[str, str] = {}
    name = ""
    for line in text.splitlines():
        if re.fullmatch(r"[\w.ǁ]+__mutmut_\d+", line):
            name, saved[line] = line, ""
        elif name and line.startswith(("  - ", "  + ")) and line[4:].strip():
            saved[name] += line[2:] + "\n"
        elif not line.startswith("  "):
            name = ""
    return saved


def diff(name: str, saved: dict[str, str]) -> tuple[list[str], list[str]]:
    """Return the lines a mutant takes out and puts in."""
    if name in saved:
        shown = saved[name]
    else:
        shown = subprocess.run(["mutmut", "show", name], capture_output=True, text=True).stdout
    # a unified diff's lines: "-" or "+" and the line itself (a top-level def has no indent)
    lines = [line for line in shown.splitlines() if not line.startswith(("---", "+++"))]
    return (
        [line[1:].strip() for line in lines if line.startswith("-")],
        [line[1:].strip() for line in lines if line.startswith("+")],
    )


def main() -> None:
    """Print the survivors of ``results.txt`` sorted by rule, each with its diff."""
    names = re.findall(r"^\s+([\w.ǁ]+__mutmut_\d+)$", Path(sys.argv[1]).read_text(), re.M)
    saved = saved_diffs(Path(sys.argv[2]).read_text()) if len(sys.argv) > 2 else {}
    again = killed_again(Path(sys.argv[1]))
    judged = judgements()
    sorted_by: dict[str, list[tuple[str, list[str], list[str]]]] = {}
    reasons: dict[str, str] = {}
    for name in names:
        before, after = diff(name, saved)
        rule = rule_of(name, before[0], after[0]) if len(before) == len(after) == 1 else None
        why = judged.get((name.split("__mutmut_")[0], " / ".join(before), " / ".join(after)))
        if rule is None and why is not None:
            rule, reasons[name] = "judged", why
        if rule is None and name in again:
            rule = "killed again"
        sorted_by.setdefault(rule or "not judged", []).append((name, before, after))
    counts = Counter({rule: len(found) for rule, found in sorted_by.items()})
    print(f"survivors: {len(names)}; " + ", ".join(f"{r}: {n}" for r, n in counts.most_common()))
    for rule, reason in [
        *RULES,
        ("judged", "shown harmless by a person, each with its reason (judged.txt)"),
        ("killed again", "killed when the survivors were run again after new tests (*-again.txt)"),
        ("not judged", "a test is missing, or it is yet to be shown"),
    ]:
        found = sorted_by.get(rule, [])
        print(f"\n## {rule} ({len(found)}): {reason}")
        for name, before, after in found:
            print(f"{name}\n  - {' / '.join(before)}\n  + {' / '.join(after)}")
            if name in reasons:
                print(f"  : {reasons[name]}")


if __name__ == "__main__":
    main()
