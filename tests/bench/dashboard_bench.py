"""Benchmark of the coordinators' pages over 1,000,000 referrals in PostgreSQL.

Run with `python -m tests.bench.dashboard_bench` (or `make bench-dashboard`).
It creates a PostgreSQL database of its own, migrates it, loads the synthetic
demo directory, and seeds synthetic cases and referrals over two years with
set-based inserts (`generate_series`), so the seed takes about a minute, and
builds the dashboard's daily roll-up of them (`router.rollup`). Then,
through Flask's test client with a logged-in coordinator, it renders each
page several times and prints the median against the goals: 300 ms a page,
10 s the annual report. It prints figures and asserts nothing.

Everything seeded is synthetic: invented references, one fixed synthetic
sentence as content, demo contact points and hotlines.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from base64 import urlsafe_b64encode
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from router.app import create_app
from router.clock import ManualClock
from router.config import load_settings
from router.content_keys import ContentKeys
from router.demo import demo_directory
from router.directory import store_directory
from router.logs import configure_logging
from router.persistence.migrate import upgrade
from router.rollup import refresh_rollup
from router.services import build_services
from router.signer import write_signing_key
from tests.dashboard_helpers import add_account, log_in
from tests.services import create_postgres_database, drop_postgres_database

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
SEED_START = datetime(2024, 12, 1, tzinfo=UTC)
# A fixed key, so that a database kept with --keep decrypts with --reuse; it
# guards one synthetic sentence and nothing else.
CONTENT_KEY = (
    "bench-1:" + urlsafe_b64encode(b"synthetic-dashboard-bench-key-32").decode()
)
SYNTHETIC_CONTENT = b'{"synthetic": true, "narrative": "SYNTHETIC BENCHMARK CASE"}'
REFERRALS = 1_000_000
REFERRALS_PER_CASE = 2.5
PAGE_GOAL_MS = 300
REPORT_GOAL_MS = 10_000
RUNS = 7

_SEED_CASES = """
INSERT INTO cases (id, hotline_id, reference, body_sha256, received_at, routed_at,
                   category, immediate_danger, incident_country, rule_set_version,
                   content)
SELECT md5('case-' || g)::uuid::text,
       hotlines[1 + g % cardinality(hotlines)],
       'BENCH-' || g,
       md5(g::text) || md5('body-' || g),
       t,
       t + interval '2 seconds',
       (ARRAY['travel_tourism_offence', 'online_abuse_material', 'grooming',
              'trafficking', 'other'])[1 + (g * 7) % 5],
       g % 50 = 0,
       (ARRAY['TH', 'KH', 'PH', 'VN', 'ID', 'BR', 'KE', 'NL', 'DE', 'FR'])
           [1 + (g * 13) % 10],
       CASE WHEN t < timestamptz '2026-06-01' THEN 'bench-rules-2025' ELSE live END,
       CAST(:content AS text)
FROM (
    SELECT g, hotlines, live, first + (g::float8 / cases) * (now - first) AS t
    FROM (
        SELECT CAST(:hotlines AS text[]) AS hotlines, CAST(:live AS text) AS live,
               CAST(:start AS timestamptz) AS first, CAST(:now AS timestamptz) AS now,
               CAST(:cases AS int) AS cases
    ) AS given
    CROSS JOIN generate_series(1, given.cases) AS g
) AS seeded
"""

# Each row draws its delay to acknowledgement (exponential, mean 20 hours) and
# its fate: nearly all old referrals are acknowledged, about 0.3 % stay
# overdue, a few are revoked; recent ones may still be inside their 48 hours.
_SEED_REFERRALS = """
INSERT INTO referrals (id, case_id, contact_point_id, role, state, rule_id,
                       routed_at, ack_due_at, delivered_at, acknowledged_at,
                       acknowledged_within_target, breached_at, outcome, fields,
                       follow_up_at, closed_at, revoked_at, revoked_by)
SELECT md5('referral-' || r)::uuid::text,
       md5('case-' || c)::uuid::text,
       points[1 + (r * 31 + c) % cardinality(points)],
       CASE WHEN r % 5 IN (0, 2) THEN 'lead' WHEN r % 5 IN (1, 3) THEN 'informed'
            ELSE 'support' END,
       CASE WHEN acked THEN (ARRAY['acknowledged', 'follow_up_reported',
                                   'closed', 'closed', 'closed'])[1 + (r % 5)]
            WHEN fate < 0.01 THEN 'revoked'
            ELSE 'delivered' END,
       'bench-rule',
       routed,
       routed + interval '48 hours',
       routed + interval '5 seconds',
       CASE WHEN acked THEN routed + delay END,
       CASE WHEN acked THEN delay <= interval '48 hours' END,
       CASE WHEN NOT acked AND routed + interval '48 hours' < now
                 OR acked AND delay > interval '48 hours'
            THEN routed + interval '48 hours' END,
       CASE WHEN acked AND r % 5 > 0 THEN
            (ARRAY['investigation_opened', 'referred_onward',
                   'victim_support_provided', 'content_removed', 'not_competent',
                   'insufficient_information', 'no_action'])[1 + (r * 3) % 7]
       END,
       'narrative',
       CASE WHEN acked AND r % 5 > 0 THEN routed + delay + interval '3 days' END,
       CASE WHEN acked AND r % 5 > 1 THEN routed + delay + interval '3 days' END,
       CASE WHEN NOT acked AND fate < 0.01 THEN routed + interval '50 hours' END,
       CASE WHEN NOT acked AND fate < 0.01 THEN 'coordinator:bench' END
FROM (
    SELECT r, c, routed, delay, fate, points, now,
           CASE WHEN routed + delay > now THEN false
                WHEN routed > now - interval '48 hours' THEN true
                ELSE fate >= 0.013 END AS acked
    FROM (
        SELECT r, c, points, now,
               first + (c::float8 / cases) * (now - first)
                   + interval '2 seconds' AS routed,
               make_interval(secs => -ln(1 - random()) * 72000) AS delay,
               random() AS fate
        FROM (
            SELECT r, 1 + floor((r - 1) / per_case)::int AS c, given.*
            FROM (
                SELECT CAST(:points AS text[]) AS points,
                       CAST(:start AS timestamptz) AS first,
                       CAST(:now AS timestamptz) AS now,
                       CAST(:cases AS int) AS cases,
                       CAST(:per_case AS float8) AS per_case,
                       CAST(:referrals AS int) AS referrals
            ) AS given
            CROSS JOIN generate_series(1, given.referrals) AS r
        ) AS numbered
    ) AS drawn
) AS decided
"""

_SEED_AUDIT = """
INSERT INTO audit_entries (at, actor, action, case_id, referral_id)
SELECT routed_at, 'intake',
       CASE WHEN row_number() OVER () % 20000 = 0 THEN 'delivery_parked'
            ELSE 'referral_routed' END,
       case_id, id
FROM referrals
"""


def seed(engine, hotline_ids: list[str], point_ids: list[str], live: str) -> None:
    cases = int(REFERRALS / REFERRALS_PER_CASE)
    content = ContentKeys.parse(CONTENT_KEY).encrypt(SYNTHETIC_CONTENT)
    common = {"start": SEED_START, "now": NOW, "cases": cases}
    with engine.begin() as connection:
        connection.execute(
            text(_SEED_CASES),
            {**common, "hotlines": hotline_ids, "live": live, "content": content},
        )
        connection.execute(
            text(_SEED_REFERRALS),
            {
                **common,
                "points": point_ids,
                "referrals": REFERRALS,
                "per_case": REFERRALS_PER_CASE,
            },
        )
        connection.execute(text(_SEED_AUDIT))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))


def median_ms(client, path: str, runs: int) -> tuple[float, int]:
    client.get(path)  # warm: compiled statements, templates, translations
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(path)
        timings.append((time.perf_counter() - started) * 1e3)
        if response.status_code != 200:
            raise RuntimeError(f"{path}: HTTP {response.status_code}")

    return statistics.median(timings), len(response.data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--keep", action="store_true", help="Keep the database.")
    parser.add_argument(
        "--reuse", metavar="URL", help="Time the pages of a database kept before."
    )
    arguments = parser.parse_args()

    configure_logging("console", "WARNING")
    if arguments.reuse:
        run(arguments.reuse, Path(tempfile.mkdtemp()), arguments.runs, seeded=True)
        return
    url = create_postgres_database()
    instance = Path(tempfile.mkdtemp(prefix="dashboard-bench-"))
    try:
        run(url, instance, arguments.runs)
    finally:
        if arguments.keep:
            print(f"kept {url}")
        else:
            drop_postgres_database(url)


def run(url: str, instance: Path, runs: int, seeded: bool = False) -> None:
    key_file = instance / "router-signing.pem"
    write_signing_key(key_file)
    settings = load_settings(
        environ={},
        instance_dir=instance,
        database_url=url,
        signing_key_file=key_file,
        log_level="WARNING",
        content_keys=CONTENT_KEY,
    )
    services = build_services(settings, clock=ManualClock(NOW))
    upgrade(services.engine)
    document, _ = demo_directory(instance, "http://127.0.0.1:9")
    with services.engine.begin() as connection:
        store_directory(connection, document, NOW)
    live = services.routing.current()[0].version
    hotline_ids = [entry["id"] for entry in document["hotlines"]]
    point_ids = [
        entry["id"]
        for entry in document["contact_points"]
        if entry["kind"] != "coordinator"
    ]

    started = time.perf_counter()
    if not seeded:
        seed(services.engine, hotline_ids, point_ids, live)
    seeded_in = time.perf_counter() - started
    with services.engine.connect() as connection:
        counted = connection.execute(text("SELECT count(*) FROM referrals")).scalar()
        case_id = connection.execute(
            text("SELECT case_id FROM referrals LIMIT 1")
        ).scalar()
    print(f"seeded {counted:,} referrals in {seeded_in:.0f} s (PostgreSQL, {url})")
    started = time.perf_counter()
    refresh_rollup(services.engine, SEED_START.date(), NOW.date())
    built_in = time.perf_counter() - started
    print(f"built the daily roll-up of {counted:,} referrals in {built_in:.1f} s")
    # What autovacuum does soon after on a live server: the planner needs the
    # roll-up's statistics to choose hashing over sorting for its few groups.
    with services.engine.connect().execution_options(
        isolation_level="AUTOCOMMIT"
    ) as connection:
        connection.execute(text("VACUUM ANALYZE acknowledgement_days"))

    app = create_app(services)
    if not seeded:
        add_account(services, "bench")
    client = app.test_client()
    log_in(client, "bench")

    REPORT = REPORT_GOAL_MS
    pages = [
        ("acknowledgements (30 days)", "/dashboard/", PAGE_GOAL_MS),
        ("acknowledgements (90 days)", "/dashboard/?days=90", PAGE_GOAL_MS),
        ("acknowledgements (365 days)", "/dashboard/?days=365", PAGE_GOAL_MS),
        ("overdue list", "/dashboard/overdue", PAGE_GOAL_MS),
        ("delivery health", "/dashboard/delivery", PAGE_GOAL_MS),
        ("directory", "/dashboard/directory", PAGE_GOAL_MS),
        ("rule set versions", "/dashboard/rules", PAGE_GOAL_MS),
        ("case details", f"/dashboard/cases/{case_id}", PAGE_GOAL_MS),
        ("annual report 2026, page", "/dashboard/report?year=2026", REPORT),
        (
            "annual report 2026, JSON",
            "/dashboard/report.json?year=2026",
            REPORT_GOAL_MS,
        ),
        ("annual report 2026, CSV", "/dashboard/report.csv?year=2026", REPORT_GOAL_MS),
        ("annual report 2026, PDF", "/dashboard/report.pdf?year=2026", REPORT_GOAL_MS),
    ]
    print(f"\n{'page':<32} {'median ms':>10} {'goal ms':>8}  {'bytes':>9}")
    for name, path, goal in pages:
        taken, size = median_ms(client, path, runs if goal != REPORT_GOAL_MS else 3)
        verdict = "" if goal is None else ("ok" if taken < goal else "SLOW")
        goal_text = "-" if goal is None else f"{goal:,}"
        print(f"{name:<32} {taken:>10.1f} {goal_text:>8}  {size:>9,} {verdict}")
    services.engine.dispose()


if __name__ == "__main__":
    main()
