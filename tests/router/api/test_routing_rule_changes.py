"""Changing the live rule set never changes a decision already made.

The router loads the rule set in `RULES_DIR` once, when it starts; a new rule
set is put live by changing the folder and restarting. Every case keeps the
referrals and the rule set version it was routed with.
"""

from __future__ import annotations

import dataclasses
import shutil

import pytest
from sqlalchemy import select

from router.app import create_app
from router.persistence.tables import cases, referrals
from router.services import build_services
from routing_rules.cli import DEMO_RULES
from tests.factories import a_report
from tests.helpers import Caller
from tests.router.api.test_reports import HOTLINE


def _rewrite(path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{path} no longer says {old!r}"
    path.write_text(text.replace(old, new))


@pytest.fixture
def rules_dir(tmp_path):
    """RULES_DIR: a copy of the synthetic demo rule set that the test may change."""
    folder = tmp_path / "live-rules"
    shutil.copytree(DEMO_RULES, folder)

    return folder


@pytest.fixture
def start_router(services, settings, parties, clock, rules_dir):
    """Start a router on the test database with RULES_DIR; each call a restart."""
    started = []

    def start() -> tuple[Caller, object]:
        routed = dataclasses.replace(settings, rules_dir=rules_dir)
        router = build_services(routed, clock=clock)
        started.append(router)
        client = create_app(router).test_client()

        return Caller(client, parties, clock, routed), router

    yield start
    for router in started:
        router.engine.dispose()


def _stored(router, reference: str) -> tuple[str, set[tuple]]:
    """A case's recorded rule set version and its referrals, as stored."""
    with router.engine.connect() as connection:
        case = connection.execute(
            select(cases.c.id, cases.c.rule_set_version).where(
                cases.c.reference == reference
            )
        ).one()
        rows = connection.execute(
            select(
                referrals.c.id,
                referrals.c.contact_point_id,
                referrals.c.role,
                referrals.c.rule_id,
                referrals.c.ack_due_at,
                referrals.c.fields,
            ).where(referrals.c.case_id == case.id)
        ).all()

    return case.rule_set_version, {tuple(row) for row in rows}


def test_new_rules_route_new_reports_and_leave_filed_cases_alone(
    start_router, rules_dir, clock
):
    """After the Thai lead moves to the tourist police, a case filed before keeps
    its referrals and version; the same report filed after routes by the new rules.
    """
    caller, router = start_router()
    filed = caller.file(HOTLINE, a_report("TEST-BEFORE"))
    assert filed.status_code == 201, filed.get_data(as_text=True)
    before = filed.get_json()
    old_version, old_referrals = _stored(router, "TEST-BEFORE")
    pairs = [(r["contact_point_id"], r["role"]) for r in before["referrals"]]
    assert ("cp-th-police", "lead") in pairs
    assert old_version == before["rule_set_version"]

    _rewrite(rules_dir / "network.yaml", 'version: "', 'version: "changed-')
    _rewrite(
        rules_dir / "jurisdictions" / "th.yaml",
        "  lead: cp-th-police",
        "  lead: cp-th-tourist-police",
    )
    clock.advance(hours=1)
    caller, router = start_router()

    after = caller.follow(HOTLINE, "TEST-BEFORE")
    assert after.status_code == 200
    assert after.get_json() == before
    assert _stored(router, "TEST-BEFORE") == (old_version, old_referrals)

    new = caller.file(HOTLINE, a_report("TEST-AFTER"))
    assert new.status_code == 201, new.get_data(as_text=True)
    case = new.get_json()
    assert case["rule_set_version"].startswith("changed-")
    assert case["rule_set_version"] == router.routing.current()[0].version
    assert _stored(router, "TEST-AFTER")[0] == case["rule_set_version"]
    roles = {r["contact_point_id"]: r["role"] for r in case["referrals"]}
    assert roles["cp-th-tourist-police"] == "lead"
    assert "cp-th-police" not in roles
