"""The annual report: the reports received in a period and how each was
followed up, per hotline and overall.

The standards ask every hotline for one. It covers the cases received in the
period and every referral made for them, whenever that referral was made. It
is built once as plain data, then written as a printable page, CSV, JSON or
PDF (WeasyPrint, from the same page). Counts only: no case content.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from flask import render_template
from sqlalchemy import Connection, case, func, select

from router.dashboard.queries import ack_seconds, grouped_percentiles
from router.persistence.tables import cases, contact_points, hotlines, referrals

FORMATS = {
    "html": "text/html; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "pdf": "application/pdf",
}
OVERALL = "overall"


@dataclass(frozen=True)
class ReportPeriod:
    """Whole days, from `start` to `end` inclusive, in UTC."""

    start: date
    end: date

    @classmethod
    def of_year(cls, year: int) -> ReportPeriod:
        return cls(date(year, 1, 1), date(year, 12, 31))

    @classmethod
    def between(cls, start: date, end: date) -> ReportPeriod:
        if end < start:
            raise ValueError("the period ends before it starts")
        return cls(start, end)

    @property
    def label(self) -> str:
        if self.start == date(self.start.year, 1, 1) and self.end == date(
            self.start.year, 12, 31
        ):
            return str(self.start.year)
        return f"{self.start.isoformat()}_{self.end.isoformat()}"

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        """The period as [start, end) instants."""
        start = datetime.combine(self.start, time(), tzinfo=UTC)
        end = datetime.combine(self.end + timedelta(days=1), time(), tzinfo=UTC)

        return start, end


def _empty_section() -> dict:
    return {
        "reports_received": 0,
        "reports_by_category": Counter(),
        "reports_by_country": Counter(),
        "referrals": 0,
        "referrals_by_role": Counter(),
        "referrals_by_contact_point": Counter(),
        "follow_up_outcomes": Counter(),
        "acknowledgement": {
            "acknowledged": 0,
            "decided": 0,
            "within_target": 0,
            "seconds_total": 0.0,
            "max_seconds": None,
        },
    }


def build_report(connection: Connection, period: ReportPeriod, now: datetime) -> dict:
    """The report's figures, per hotline and overall."""
    start, end = period.bounds
    received = (cases.c.received_at >= start, cases.c.received_at < end)
    sections: dict = defaultdict(_empty_section)
    _count_reports(connection, received, sections)
    _count_referrals(connection, received, now, sections)
    _time_to_acknowledge(connection, received, sections)
    names = dict(connection.execute(select(hotlines.c.id, hotlines.c.name)).all())
    point_names = dict(
        connection.execute(select(contact_points.c.id, contact_points.c.name)).all()
    )
    overall = sections.pop(OVERALL, None) or _empty_section()

    return {
        "title": "annual_report",
        "period": {"start": period.start.isoformat(), "end": period.end.isoformat()},
        "generated_at": now.isoformat(),
        "target_hours": 48,
        "overall": _finish(overall, point_names),
        "hotlines": [
            {"id": hotline_id, "name": names.get(hotline_id, hotline_id)}
            | _finish(section, point_names)
            for hotline_id, section in sorted(sections.items())
        ],
    }


def _count_reports(connection, received, sections) -> None:
    statement = (
        select(
            cases.c.hotline_id, cases.c.category, cases.c.incident_country, func.count()
        )
        .where(*received)
        .group_by(cases.c.hotline_id, cases.c.category, cases.c.incident_country)
    )
    for hotline_id, category, country, count in connection.execute(statement):
        for scope in (hotline_id, OVERALL):
            section = sections[scope]
            section["reports_received"] += count
            section["reports_by_category"][category] += count
            section["reports_by_country"][country or "unknown"] += count


def _count_referrals(connection, received, now, sections) -> None:
    seconds = ack_seconds(connection.dialect.name)
    decided = case(
        (referrals.c.acknowledged_at.is_not(None) | (referrals.c.ack_due_at < now), 1),
        else_=0,
    )
    keys = (
        cases.c.hotline_id,
        referrals.c.role,
        referrals.c.contact_point_id,
        referrals.c.outcome,
    )
    statement = (
        select(
            *keys,
            func.count(),
            func.count(referrals.c.acknowledged_at),
            func.sum(decided),
            func.sum(case((referrals.c.acknowledged_within_target, 1), else_=0)),
            func.sum(seconds),
            func.max(seconds),
        )
        .select_from(referrals.join(cases, cases.c.id == referrals.c.case_id))
        .where(*received)
        .group_by(*keys)
    )
    for row in connection.execute(statement):
        hotline_id, role, point, outcome, count, acked, dec, within, total, most = row
        for scope in (hotline_id, OVERALL):
            section = sections[scope]
            section["referrals"] += count
            section["referrals_by_role"][role] += count
            section["referrals_by_contact_point"][point] += count
            section["follow_up_outcomes"][outcome or "none_reported"] += count
            figures = section["acknowledgement"]
            figures["acknowledged"] += acked
            figures["decided"] += dec or 0
            figures["within_target"] += within or 0
            figures["seconds_total"] += float(total or 0)
            if most is not None:
                figures["max_seconds"] = max(figures["max_seconds"] or 0, float(most))


def _time_to_acknowledge(connection, received, sections) -> None:
    joins = ((cases, cases.c.id == referrals.c.case_id),)
    per_hotline = grouped_percentiles(
        connection, cases.c.hotline_id, *received, joins=joins
    )
    overall = grouped_percentiles(connection, None, *received, joins=joins)
    for scope, (median, p90) in [
        *per_hotline.items(),
        (OVERALL, overall.get(None, (None, None))),
    ]:
        if median is None and p90 is None:
            continue
        figures = sections[scope]["acknowledgement"]
        figures["median_seconds"], figures["p90_seconds"] = median, p90


def _finish(section: dict, point_names: dict) -> dict:
    """Plain, ordered data: counters sorted by count, times in hours."""
    figures = section["acknowledgement"]
    acknowledged = figures["acknowledged"]

    def hours(seconds):
        return None if seconds is None else round(float(seconds) / 3600, 2)

    return {
        "reports_received": section["reports_received"],
        "reports_by_category": _ordered(section["reports_by_category"]),
        "reports_by_country": _ordered(section["reports_by_country"]),
        "referrals": section["referrals"],
        "referrals_by_role": _ordered(section["referrals_by_role"]),
        "referrals_by_contact_point": [
            {"id": point, "name": point_names.get(point, point), "referrals": count}
            for point, count in _ordered(section["referrals_by_contact_point"]).items()
        ],
        "acknowledgement": {
            "acknowledged": acknowledged,
            "decided": figures["decided"],
            "within_target": figures["within_target"],
            "share_within_target": (
                round(figures["within_target"] / figures["decided"], 4)
                if figures["decided"]
                else None
            ),
            "mean_hours": (
                hours(figures["seconds_total"] / acknowledged) if acknowledged else None
            ),
            "median_hours": hours(figures.get("median_seconds")),
            "p90_hours": hours(figures.get("p90_seconds")),
            "max_hours": hours(figures["max_seconds"]),
        },
        "follow_up_outcomes": _ordered(section["follow_up_outcomes"]),
    }


def _ordered(counter: Counter) -> dict:
    return dict(sorted(counter.items(), key=lambda item: (-item[1], str(item[0]))))


def render(report: dict, fmt: str) -> tuple[bytes | str, str]:
    """The report in `fmt`, with its media type; needs an app context for the
    page and the PDF, whose words follow the request's language."""
    if fmt == "json":
        return json.dumps(report, indent=2, ensure_ascii=False), FORMATS[fmt]
    if fmt == "csv":
        return to_csv(report), FORMATS[fmt]
    page = render_template("report.html", report=report, printable=True)
    if fmt == "html":
        return page, FORMATS[fmt]
    if fmt == "pdf":
        from weasyprint import HTML

        return HTML(string=page).write_pdf(), FORMATS[fmt]
    raise ValueError(f"unknown format {fmt}")


def to_csv(report: dict) -> str:
    """One figure a line: scope, section, key, value."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["scope", "section", "key", "value"])
    scopes = [(OVERALL, report["overall"])]
    scopes += [(hotline["id"], hotline) for hotline in report["hotlines"]]
    for scope, section in scopes:
        writer.writerow([scope, "reports_received", "", section["reports_received"]])
        writer.writerow([scope, "referrals", "", section["referrals"]])
        for name in (
            "reports_by_category",
            "reports_by_country",
            "referrals_by_role",
            "follow_up_outcomes",
        ):
            for key, value in section[name].items():
                writer.writerow([scope, name, key, value])
        for point in section["referrals_by_contact_point"]:
            writer.writerow(
                [scope, "referrals_by_contact_point", point["id"], point["referrals"]]
            )
        for key, value in section["acknowledgement"].items():
            writer.writerow([scope, "acknowledgement", key, value])

    return buffer.getvalue()
