"""Acknowledgement figures: how many referrals, how many met the target."""

from __future__ import annotations

from sqlalchemy import Engine, case, func, select

from router.persistence.db import reading
from router.persistence.tables import referrals

_FIGURES = select(
    func.count().label("referrals"),
    func.count(referrals.c.acknowledged_at).label("acknowledged"),
    func.sum(case((referrals.c.acknowledged_within_target, 1), else_=0)).label(
        "acknowledged_within_target"
    ),
    func.count(referrals.c.breached_at).label("breached"),
)


def acknowledgement_figures(engine: Engine) -> dict:
    with reading(engine) as connection:
        row = connection.execute(_FIGURES).one()
    total = row.referrals
    within = row.acknowledged_within_target or 0

    return {
        "referrals": total,
        "acknowledged": row.acknowledged,
        "acknowledged_within_target": within,
        "breached": row.breached,
        "share_within_target": f"{within / total:.1%}" if total else "n/a",
    }
