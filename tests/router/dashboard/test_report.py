"""The annual report: its figures, its formats and its command, on both
backends."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from router.cli import main
from router.persistence.tables import cases, referrals
from tests.dashboard_helpers import pdf_text, seed_referrals
from tests.factories import SYNTHETIC
from tests.helpers import cli_environment


def test_the_report_counts_reports_and_referrals_per_hotline(
    dashboard, services, caller, clock
):
    """Per hotline and overall, reports and referrals match the database."""
    seed_referrals(caller, clock)
    with services.engine.connect() as connection:
        per_hotline = dict(
            connection.execute(
                select(cases.c.hotline_id, func.count())
                .select_from(referrals.join(cases))
                .group_by(cases.c.hotline_id)
            ).all()
        )

    report = dashboard.get("/dashboard/report.json?year=2026").get_json()

    assert report["overall"]["reports_received"] == 6
    assert report["overall"]["referrals"] == sum(per_hotline.values())
    assert {h["id"]: h["referrals"] for h in report["hotlines"]} == per_hotline


def test_the_report_gives_acknowledgement_statistics(dashboard, caller, clock):
    """Share within 48 hours and time to acknowledge, from the seeded delays."""
    seed_referrals(caller, clock)

    report = dashboard.get("/dashboard/report.json?year=2026").get_json()

    figures = report["overall"]["acknowledgement"]
    assert figures["acknowledged"] == 4
    assert figures["within_target"] == 3
    assert figures["max_hours"] == 60.5
    assert report["overall"]["reports_by_category"] == {
        "other": 4,
        "travel_tourism_offence": 2,
    }


def test_a_period_outside_the_cases_is_empty(dashboard, caller, clock):
    """A period with no reports received reports zeros, not errors."""
    seed_referrals(caller, clock)

    report = dashboard.get(
        "/dashboard/report.json?start=2025-01-01&end=2025-06-30"
    ).get_json()

    assert report["overall"]["reports_received"] == 0
    assert report["hotlines"] == []


def test_the_csv_has_one_figure_a_line(dashboard, caller, clock):
    """The CSV lists scope, section, key and value."""
    seed_referrals(caller, clock)

    response = dashboard.get("/dashboard/report.csv?year=2026")

    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert response.mimetype == "text/csv"
    assert {
        "scope": "overall",
        "section": "reports_received",
        "key": "",
        "value": "6",
    } in rows


def test_the_pdf_is_a_pdf(dashboard, caller, clock):
    """The PDF is made from the printable page: its headings and figures."""
    seed_referrals(caller, clock)

    response = dashboard.get("/dashboard/report.pdf?year=2026")

    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF-")
    text = pdf_text(response.data)
    assert "Annual report" in text
    assert "All hotlines" in text
    assert "Synthetic German reporting hotline (demo)" in text
    # The seeded lead acknowledged last took 60 hours and 30 minutes.
    assert "Longest time to acknowledge, hours 60.5" in text


# Each language's title, heading of the whole and longest time, as the reader
# of that language reads it: with the decimal comma.
PDF_WORDS = {
    "de": (
        "Jahresbericht",
        "Alle Meldestellen",
        "Längste Zeit bis zur Bestätigung, Stunden 60,5",
    ),
    "ru": (
        "Годовой отчёт",
        "Все горячие линии",  # noqa: RUF001 - Russian, not look-alikes
        "Наибольшее время до подтверждения, часы 60,5",
    ),
}


@pytest.mark.parametrize("language", sorted(PDF_WORDS))
def test_the_pdf_comes_in_the_browser_language(dashboard, caller, clock, language):
    """A browser preferring German or Russian downloads the PDF in it."""
    seed_referrals(caller, clock)

    response = dashboard.get(
        "/dashboard/report.pdf?year=2026", headers={"Accept-Language": language}
    )

    text = pdf_text(response.data)
    for words in PDF_WORDS[language]:
        assert words in text
    assert "Annual report" not in text


def test_the_report_holds_no_case_content(dashboard, caller, clock):
    """Counts only: nothing a report says appears in any format."""
    seed_referrals(caller, clock)

    bodies = [
        dashboard.get(f"/dashboard/report.{fmt}?year=2026").get_data(as_text=True)
        for fmt in ("html", "csv", "json")
    ]

    assert all(SYNTHETIC not in body for body in bodies)


def run_report(settings, *arguments):
    environment = cli_environment(settings)

    return CliRunner().invoke(main, ["report", "annual", *arguments], env=environment)


def test_the_command_writes_the_report(caller, clock, settings, tmp_path):
    """`report annual --year 2026 --format json --out FILE` writes the figures."""
    seed_referrals(caller, clock)
    out = tmp_path / "report.json"

    result = run_report(settings, "--year", "2026", "--format", "json", "--out", out)

    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["overall"]["reports_received"] == 6


def test_the_command_writes_a_pdf_in_another_language(
    caller, clock, settings, tmp_path
):
    """The PDF comes in the language asked for."""
    seed_referrals(caller, clock)
    out = tmp_path / "report.pdf"

    result = run_report(
        settings,
        "--year",
        "2026",
        "--format",
        "pdf",
        "--language",
        "de",
        "--out",
        out,
    )

    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF-")
    text = pdf_text(out.read_bytes())
    for words in PDF_WORDS["de"]:
        assert words in text
    assert "Meldungen je Kategorie" in text
    assert "Annual report" not in text
