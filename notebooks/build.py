"""Write the notebooks' cells (the source of truth for their code), then run them in place.

    python notebooks/build.py            # write and execute both, against the configured city

The notebooks read the city gridmap is configured for (the demo's embedded PostGIS, or
DATABASE_URL) and change nothing in it: the walkthrough works inside a transaction it rolls
back.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent

COVERAGE = [
    ("markdown", """# 5分钟服务圈覆盖分析 · Coverage analysis of the demo city

How many residents live within a 5-minute walk (300 m on the real walking network) of a
party-mass service station (党群服务站), where the gaps are, and where new stations would
help most. Every figure comes from the coverage run saved in PostGIS."""),
    ("code", """from IPython.display import SVG, display
import pandas as pd
import shapely

from gridmap.config import get_settings
from gridmap.coverage.engine import CoverageParameters
from gridmap.coverage.station_planning import suggest_sites
from gridmap.db import coverage as coverage_db
from gridmap.db.engine import database_url, make_engine
from gridmap.reports.coverage_report import load_coverage_report
from gridmap.reports.coverage_render import static_map

engine = make_engine(database_url(get_settings()))
connection = engine.connect()
run = coverage_db.latest_run_id(connection)
figures = coverage_db.run_figures(connection, run)
print(f"run {run}: {figures['covered_residents']:,} of {figures['residents']:,} residents covered")"""),
    ("markdown", "## Rates at every level\n\nBy residents, households and units, lowest first."),
    ("code", """rates = coverage_db.region_rates(connection, run)
rates["rate_residents"] = rates["covered_residents"] / rates["residents"]
rates["rate_households"] = rates["covered_households"] / rates["households"]
rates["rate_units"] = rates["covered_units"] / rates["units"]
rates.sort_values("rate_residents")[["code", "name", "level", "residents", "rate_residents",
                                     "rate_households", "rate_units"]]"""),
    ("markdown", """## On the network, not in a straight line

A 300 m disc around each station overstates coverage: streets, water and blocks lengthen the
walk. The run keeps both rates."""),
    ("code", """network, disc = figures["rate_residents"], figures["euclidean_rate_residents"]
print(f"walking network: {network:.1%}   straight-line disc: {disc:.1%}   "
      f"overstated by {disc - network:.1%}")"""),
    ("markdown", "## The circles, the gaps and the best new site\n\nDrawn from the saved run."),
    ("code", """street = rates.loc[rates["level"] == "street", "code"].iloc[0]
report = load_coverage_report(connection, street, run_id=run)
display(SVG(static_map(report)))
report.gaps.drop(columns="geometry").head()"""),
    ("markdown", """## Where new stations would raise coverage most

Greedy maximal coverage over candidate sites (amenities that could host a station), each
site's gain counted after the ones before it."""),
    ("code", """sites = suggest_sites(connection, CoverageParameters(), k=3)
print(f"now {sites.before_rate:.1%}, with {len(sites.sites)} new stations {sites.greedy.rate:.1%}")
sites.sites[["name", "lon", "lat", "gain"]]"""),
    ("code", """connection.close()
engine.dispose()"""),
]

REPARTITION = [
    ("markdown", """# 网格重新划分演练 · A re-partition walkthrough

Grids that have grown too big (网眼过大) are redrawn: here the demo city's current plan is
adjusted to 300–450 households a grid, the smallest change that meets the bounds. Everything
happens inside one transaction that is rolled back at the end: the city is left as it was."""),
    ("code", """from IPython.display import SVG, display

from gridmap.config import get_settings
from gridmap.db import plans as plans_db
from gridmap.db.engine import database_url, make_engine
from gridmap.partition.engine import Bounds
from gridmap.partition.service import diff_plans, partition_plan
from gridmap.plans.lifecycle import new_plan
from gridmap.reports.plan import load_plan_report, summary
from gridmap.reports.charts import histogram_svg

engine = make_engine(database_url(get_settings()))
connection = engine.connect()
transaction = connection.begin()
current = plans_db.current_plan_id(connection)
before = plans_db.grid_figures(connection, current)
print(f"current plan {current}: {len(before)} grids, households "
      f"{before['households'].min()}–{before['households'].max()}")"""),
    ("markdown", "## The current grids against the tighter bounds"),
    ("code", """display(SVG(histogram_svg(before["households"].to_numpy(), low=300, high=450)))
outside = before.loc[~before["households"].between(300, 450)]
outside[["code", "households", "residents", "polsby_popper"]]"""),
    ("markdown", """## A minimal adjustment

A draft copies the current plan; the adjustment changes only the grids out of bounds and the
neighbours they need. Grids that stay the same keep their codes."""),
    ("code", """draft = new_plan(connection, name="演练", source=current, author="notebook")
result = partition_plan(connection, draft, mode="adjust", bounds=Bounds(300, 450, 380), seed=0)
print(f"{result.grids} grids, {result.in_bounds} within 300–450, {result.units_moved} units moved")
for case in result.cases[:5]:
    print(" ", case.kind, case.message)"""),
    ("markdown", "## What changed"),
    ("code", """diff = diff_plans(connection, current, draft)
print(f"units moved {diff['units_moved']}, households moved {diff['households_moved']}")
print("kept", len(diff["kept"]), "new", diff["new"], "retired", diff["retired"])
figures = summary(load_plan_report(connection, draft))
figures"""),
    ("code", """after = plans_db.grid_figures(connection, draft)
display(SVG(histogram_svg(after["households"].to_numpy(), low=300, high=450)))"""),
    ("markdown", "## Leave the city as it was"),
    ("code", """transaction.rollback()
connection.close()
engine.dispose()
print("rolled back: nothing was kept")"""),
]

NOTEBOOKS = {"coverage_analysis.ipynb": COVERAGE, "repartition_walkthrough.ipynb": REPARTITION}


def notebook(cells: list[tuple[str, str]]) -> nbformat.NotebookNode:
    """Return a notebook of ``cells`` ((kind, source) pairs) for the Python 3 kernel."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell(s) if kind == "markdown"
                else nbformat.v4.new_code_cell(s) for kind, s in cells]
    return nb


def execute(nb: nbformat.NotebookNode, *, timeout: int = 300) -> nbformat.NotebookNode:
    """Run every cell in a fresh kernel; raise on the first error."""
    NotebookClient(nb, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(HERE)}}).execute()
    return nb


def main() -> None:
    """Write and execute every notebook (or those named on the command line)."""
    names = sys.argv[1:] or list(NOTEBOOKS)
    for name in names:
        nb = execute(notebook(NOTEBOOKS[name]))
        nbformat.write(nb, HERE / name)
        print(f"wrote {HERE / name}")


if __name__ == "__main__":
    main()
