"""The coordinators' dashboard in real headless Chromium, over real HTTP.

Playwright drives Debian's chromium (it cannot download its own browser
here). One browser serves the whole session; each test gets a fresh context.
Screenshots are kept under `artifacts/screenshots/` for people to look at:
`<name>-<backend>.png` where a test takes one, and `<test>-<backend>-failed.png`
of each page still open when a test fails.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import threading
import warnings
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from router.persistence.tables import referrals
from tests.conftest import free_port
from tests.dashboard_helpers import (
    PASSWORD,
    add_account,
    expected_for,
    pdf_text,
    seed_referrals,
)
from tests.services import unavailable

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CALL_REPORT = pytest.StashKey[pytest.TestReport]()


class KeepCallReports:
    """A plugin that keeps each test's report of its call phase on the test,
    where the pages' finalizer looks to see whether it failed."""

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item, call):
        report = yield
        if report.when == "call":
            item.stash[CALL_REPORT] = report
        return report


@pytest.fixture(scope="session")
def call_reports(pytestconfig):
    """`KeepCallReports`, registered once for the session."""
    manager = pytestconfig.pluginmanager
    name = "dashboard-browser-call-reports"
    if manager.get_plugin(name) is None:
        manager.register(KeepCallReports(), name)
    yield
    manager.unregister(name=name)


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the session; missing, it fails under CI."""
    try:
        from playwright.sync_api import sync_playwright

        if not Path(CHROMIUM).exists():
            raise FileNotFoundError(CHROMIUM)
        playwright = sync_playwright().start()
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_FLAGS
        )
    except Exception as error:  # noqa: BLE001 - any failure means no browser
        unavailable("Chromium through Playwright", error)
    yield launched
    launched.close()
    playwright.stop()


@pytest.fixture
def served(app):
    """The router's app on a real port of 127.0.0.1."""
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def open_page(browser, request, call_reports):
    """Opens pages in fresh browser contexts; if the test fails, each page
    still open leaves a screenshot before its context closes (those of an
    earlier failure of the same test go first)."""
    for stale in SCREENSHOTS.glob(f"{failure_stem(request.node)}*.png"):
        stale.unlink()
    contexts = []

    def open_one(locale: str = "en-GB"):
        context = browser.new_context(locale=locale, accept_downloads=True)
        contexts.append(context)
        return context.new_page()

    yield open_one
    report = request.node.stash.get(CALL_REPORT, None)
    if report is not None and report.failed:
        opened = [page for context in contexts for page in context.pages]
        for number, page in enumerate(opened, start=1):
            keep_failure_screenshot(page, request.node, number)
    for context in contexts:
        context.close()


@pytest.fixture
def page(open_page):
    return open_page()


def backend_of(node) -> str:
    callspec = getattr(node, "callspec", None)

    return callspec.params.get("database_url", "db") if callspec else "db"


def screenshot(page, name: str, request) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    backend = backend_of(request.node)
    page.screenshot(path=SCREENSHOTS / f"{name}-{backend}.png", full_page=True)


def failure_stem(node) -> str:
    """`<test>-<backend>-failed`, the test named without its `test_`."""
    name = node.originalname.removeprefix("test_")

    return f"{name}-{backend_of(node)}-failed"


def keep_failure_screenshot(page, node, number: int = 1) -> None:
    """`<test>-<backend>-failed.png` (then `-failed-2.png`, …); a page that
    cannot be shot is warned about, never hides the test's own failure."""
    suffix = "" if number == 1 else f"-{number}"
    path = SCREENSHOTS / f"{failure_stem(node)}{suffix}.png"
    try:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=path, full_page=True)
    except Exception as error:  # noqa: BLE001 - the test's failure comes first
        warnings.warn(f"no screenshot of the failed test: {error}", stacklevel=1)


def log_in(page, base_url: str, username: str = "coord-1") -> None:
    page.goto(f"{base_url}/dashboard/")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("form.login button[type=submit]")
    page.wait_for_selector("nav")


def figure(page, table: str, key: str, field: str) -> str:
    return page.get_attribute(
        f'#{table} tr[data-key="{key}"] td[data-field="{field}"]', "data-value"
    )


def test_the_dashboard_shows_the_database_figures(
    page, served, services, caller, clock, request
):
    """Logged in, a coordinator sees figures equal to the database's, and charts."""
    add_account(services)
    seed_referrals(caller, clock)
    expected = expected_for(services, "cp-th-police", clock.now())

    log_in(page, served)

    page.wait_for_selector("body[data-charts=drawn]")
    screenshot(page, "dashboard", request)
    table = "by-contact_point"
    assert (
        int(figure(page, table, "cp-th-police", "referrals")) == expected["referrals"]
    )
    assert (
        int(figure(page, table, "cp-th-police", "overdue_now")) == expected["overdue"]
    )
    median = float(figure(page, table, "cp-th-police", "median_hours"))
    assert median == pytest.approx(expected["median"], abs=1e-3)
    share = float(figure(page, table, "cp-th-police", "share_within_target"))
    assert share == pytest.approx(expected["share"])


def test_a_coordinator_revokes_an_overdue_referral(
    page, served, services, caller, clock, request
):
    """Revoke on the overdue list withdraws the referral in the database."""
    add_account(services)
    lead = seed_referrals(caller, clock)["DASH-5"]
    log_in(page, served)
    page.goto(f"{served}/dashboard/overdue")

    page.click(f'tr[data-referral="{lead["id"]}"] button[value=revoke]')

    page.wait_for_selector(".flashes")
    screenshot(page, "overdue-after-revoke", request)
    with services.engine.connect() as connection:
        state = connection.execute(
            select(referrals.c.state).where(referrals.c.id == lead["id"])
        ).scalar_one()
    assert state == "revoked"
    assert page.locator(f'tr[data-referral="{lead["id"]}"]').count() == 0


def test_the_language_switch_translates_the_pages(page, served, services, request):
    """Switching to German shows the pages in German, and it sticks."""
    add_account(services)
    log_in(page, served)

    page.select_option("#language", "de")
    page.click("form.language button[type=submit]")

    page.wait_for_selector("html[lang=de]")
    screenshot(page, "dashboard-de", request)
    assert page.inner_text("h1") == "Empfangsbestätigungen gegen die 48-Stunden-Frist"
    page.goto(f"{served}/dashboard/overdue")
    assert page.inner_text("h1") == "Überfällige Weiterleitungen"


def test_the_browser_language_is_the_default(open_page, served, services, request):
    """A browser that prefers Russian gets the pages in Russian."""
    add_account(services)
    russian = open_page(locale="ru-RU")

    russian.goto(f"{served}/dashboard/login")

    assert russian.get_attribute("html", "lang") == "ru"
    assert russian.inner_text("h1") == "Вход для координаторов"
    screenshot(russian, "login-ru", request)


def test_the_annual_report_downloads_in_each_format(
    page, served, services, caller, clock, request, tmp_path
):
    """HTML, CSV, JSON and PDF each download with the year's figures."""
    add_account(services)
    seed_referrals(caller, clock)
    log_in(page, served)
    page.goto(f"{served}/dashboard/report?year=2026")
    screenshot(page, "annual-report", request)
    saved = {}

    for fmt in ("html", "csv", "json", "pdf"):
        with page.expect_download() as download:
            page.click(f"#download-{fmt}")
        saved[fmt] = tmp_path / download.value.suggested_filename
        download.value.save_as(saved[fmt])

    assert json.loads(saved["json"].read_text())["overall"]["reports_received"] == 6
    rows = list(csv.DictReader(io.StringIO(saved["csv"].read_text())))
    assert rows[0] == {
        "scope": "overall",
        "section": "reports_received",
        "key": "",
        "value": "6",
    }
    assert 'data-field="reports_received">6<' in saved["html"].read_text()
    assert saved["pdf"].read_bytes().startswith(b"%PDF-")
    text = pdf_text(saved["pdf"].read_bytes())
    assert "Annual report" in text
    assert "Synthetic Austrian reporting hotline (demo)" in text
    # The seeded lead acknowledged last took 60 hours and 30 minutes.
    assert "Longest time to acknowledge, hours 60.5" in text


def test_an_expired_background_check_cannot_open_case_details(
    page, served, services, caller, clock, request
):
    """A coordinator whose check has expired gets no case details."""
    add_account(
        services, "lapsed", checked_on=date(2024, 1, 1), expires_on=date(2026, 6, 30)
    )
    seed_referrals(caller, clock)
    log_in(page, served, "lapsed")
    page.goto(f"{served}/dashboard/overdue")

    page.click("#overdue tbody tr:first-child td:nth-child(2) a")

    page.wait_for_selector("#vetting-expired")
    screenshot(page, "case-refused", request)
    assert page.locator("#case-report").count() == 0


# Run by `test_a_failing_test_leaves_a_screenshot` in a pytest of its own.
INNER_TESTS = """
from pathlib import Path

import tests.e2e.test_dashboard_browser as browser_tests
from tests.e2e.test_dashboard_browser import browser, call_reports, open_page, page

browser_tests.SCREENSHOTS = Path({screenshots!r})


def test_fails_on_purpose(page):
    page.set_content("<h1>This test fails on purpose</h1>")
    assert page.inner_text("h1") == "Something else"


def test_passes(page):
    page.set_content("<h1>This test passes</h1>")
    assert page.inner_text("h1") == "This test passes"
"""


def test_a_failing_test_leaves_a_screenshot(browser, tmp_path):
    """In a pytest of its own, a browser test that fails leaves
    `<test>-<backend>-failed.png` of its page; one that passes leaves none,
    and clears the one an earlier failure left."""
    screenshots = tmp_path / "screenshots"
    screenshots.mkdir()
    stale = screenshots / "passes-db-failed.png"
    stale.write_bytes(b"from an earlier run that failed")
    inner = tmp_path / "inner"
    inner.mkdir()
    (inner / "test_inner_browser.py").write_text(
        INNER_TESTS.format(screenshots=str(screenshots))
    )
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}

    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(inner)],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert "1 failed, 1 passed" in result.stdout, result.stdout + result.stderr
    assert sorted(path.name for path in screenshots.iterdir()) == [
        "fails_on_purpose-db-failed.png"
    ]
    shot = (screenshots / "fails_on_purpose-db-failed.png").read_bytes()
    assert shot.startswith(b"\x89PNG")
