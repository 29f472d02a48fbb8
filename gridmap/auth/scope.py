"""What a key held to a region may read beyond its region's features: which plans.

Drafts are the planners' work in progress, for the whole city: a key held to a region (an
embed key above all) reads the current and archived plans' grids, never a draft's.
"""

from __future__ import annotations

from sqlalchemy import Connection

from gridmap.auth.keys import Principal
from gridmap.db.plans import plan_row
from gridmap.errors import Forbidden


def check_plan_readable(connection: Connection, who: Principal, plan_id: int | None) -> None:
    """Refuse a draft plan to a key held to a region (a missing plan is a NotFound).

    Raises
    ------
    Forbidden
        When ``who`` is held to a region and the plan is a draft.
    NotFound
        When there is no such plan.
    """
    if plan_id is None or (who.region_id is None and not who.embed):
        return
    status = plan_row(connection, plan_id)["status"]
    if status == "draft":
        raise Forbidden(
            f"plan: plan {plan_id} is a draft; a key held to a region reads only "
            "the current and archived plans"
        )
