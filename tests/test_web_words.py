"""Every job step a planner can see has its Chinese words in the web map (no English leaks)."""

from __future__ import annotations

import re
from pathlib import Path

from gridmap.partition.service import MODES

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ["gridmap/jobs/work.py", "gridmap/partition/service.py", "gridmap/coverage/service.py"]


def steps() -> set[str]:
    found: set[str] = set()
    for source in SOURCES:
        text = (ROOT / source).read_text()
        found |= set(re.findall(r'\b(?:say|step)\("([^"{]+)"\)', text))
        for template in re.findall(r'\b(?:say|step)\(f"([^"]+)"\)', text):
            found |= {template.replace("{mode}", mode) for mode in MODES}
    return found


def test_every_job_step_has_chinese_words() -> None:
    words = (ROOT / "static/src/i18n.js").read_text()
    chinese = words[: words.index("\n  en: {")]
    seen = steps()
    assert "loading units" in seen and "partitioning (adjust)" in seen  # the scan finds them
    missing = sorted(s for s in seen if f"'jobstep.{s}'" not in chinese)
    assert not missing, missing


def test_every_check_finding_and_partition_case_has_chinese_words() -> None:
    from gridmap.plans.check import KINDS

    words = (ROOT / "static/src/i18n.js").read_text()
    chinese = words[: words.index("\n  en: {")]
    engine = (ROOT / "gridmap/partition/engine.py").read_text()
    adjust = (ROOT / "gridmap/partition/adjust.py").read_text()
    cases = set(re.findall(r'Case\(\s*"(\w+)"', engine + adjust)) | set(
        re.findall(r'_case\(\s*"(\w+)"', engine + adjust)
    )
    assert {"island", "oversize_unit"} <= cases  # the scan finds them
    missing = [f"check.{k}" for k in KINDS if f"'check.{k}'" not in chinese]
    missing += [f"case.{k}" for k in sorted(cases) if f"'case.{k}'" not in chinese]
    reasons = set(
        re.findall(r'Reason\(\s*"(\w+)"', (ROOT / "gridmap/partition/reasons.py").read_text())
    )
    assert {"unit_too_big", "no_neighbour"} <= reasons  # the scan finds them
    missing += [
        f"case.out_of_bounds.{k}"
        for k in sorted(reasons)
        if f"'case.out_of_bounds.{k}'" not in chinese
    ]
    assert not missing, missing
