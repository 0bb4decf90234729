"""The dashboard's pages: thin views over `queries`, `report` and the
coordinators' service functions."""

from __future__ import annotations

import json
from datetime import date, datetime
from functools import lru_cache, wraps
from urllib.parse import urlsplit

import structlog
from babel.numbers import format_percent as babel_format_percent
from babel.numbers import get_decimal_symbol, get_group_symbol
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import (
    format_date,
    format_datetime,
    get_locale,
    lazy_gettext,
)
from flask_babel import gettext as _

from router import coordination
from router.audit import audit_row, record
from router.dashboard import LANGUAGES, csrf, overview, queries
from router.dashboard import report as annual
from router.dashboard.accounts import LoginThrottled, authenticate, find_account
from router.dashboard.cases import case_details
from router.dashboard.labels import label
from router.delivery.relay import backlog
from router.errors import ProblemError
from router.persistence.db import reading

log = structlog.get_logger(__name__)
blueprint = Blueprint(
    "dashboard",
    __name__,
    url_prefix="/dashboard",
    template_folder="templates",
    static_folder="static",
)

PERIOD_DAYS = (7, 30, 90, 365)
DEFAULT_DAYS = 30
OPEN_ENDPOINTS = {"dashboard.login", "dashboard.static", "dashboard.language"}
LANGUAGE_NAMES = {
    "en": "English",
    "es": "Español",
    "fr": "Français",
    "de": "Deutsch",
    "nl": "Nederlands",
    "ru": "Русский",
}
GROUPING_TITLES = {
    "contact_point": lazy_gettext("Per contact point"),
    "country": lazy_gettext("Per country of the contact point"),
    "hotline": lazy_gettext("Per hotline"),
}


def services():
    return current_app.extensions["referral_router"]


@blueprint.before_request
def _require_login():
    g.account = None
    account_id = session.get("account_id")
    if account_id is not None:
        with reading(services().engine) as connection:
            g.account = find_account(connection, account_id)
        if g.account is None or g.account.disabled:
            session.clear()
            g.account = None
    if request.method == "POST":
        csrf.protect()
    if g.account is None and request.endpoint not in OPEN_ENDPOINTS:
        return redirect(url_for("dashboard.login", next=request.full_path))

    return None


@blueprint.after_request
def _harden(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
        "form-action 'self'; base-uri 'none'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    if request.endpoint != "dashboard.static":
        response.headers["Cache-Control"] = "no-store"

    return response


@blueprint.app_context_processor
def _page_context():
    return {
        "account": g.get("account"),
        "languages": [(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
        "current_language": str(get_locale() or "en"),
    }


def coordinators_only(view):
    """Auditors read; only coordinators act."""

    @wraps(view)
    def checked(*args, **kwargs):
        if not g.account.may_act:
            abort(403)
        return view(*args, **kwargs)

    return checked


def _safe_next(target: str | None) -> str:
    parts = urlsplit(target or "")
    if parts.scheme or parts.netloc or not parts.path.startswith("/dashboard"):
        return url_for("dashboard.acknowledgements")

    return target


@blueprint.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        return render_template("login.html", next=request.args.get("next"))

    clock = services().clock
    try:
        account = authenticate(
            services().engine,
            request.form.get("username", ""),
            request.form.get("password", ""),
            address=request.remote_addr or "unknown",
            now=clock.now(),
        )
    except LoginThrottled:
        flash(_("Too many failed attempts. Try again in a quarter of an hour."))
        return render_template("login.html", next=request.form.get("next")), 429
    if account is None:
        flash(_("Unknown username or wrong password."))
        return render_template("login.html", next=request.form.get("next")), 401

    language = session.get("language")
    session.clear()
    session.permanent = True
    session["account_id"] = account.id
    if language:
        session["language"] = language
    log.info("coordinator_login", account=account.username)

    return redirect(_safe_next(request.form.get("next")))


@blueprint.post("/logout")
def logout():
    language = session.get("language")
    session.clear()
    if language:
        session["language"] = language

    return redirect(url_for("dashboard.login"))


@blueprint.post("/language")
def language():
    chosen = request.form.get("language")
    if chosen in LANGUAGES:
        session["language"] = chosen

    return redirect(_safe_next(request.form.get("next")))


@blueprint.get("/")
def acknowledgements():
    days = request.args.get("days", DEFAULT_DAYS, type=int)
    if days not in PERIOD_DAYS:
        days = DEFAULT_DAYS
    now = services().clock.now()
    period = overview.Period.last_days(now, days)
    with reading(services().engine) as connection:
        figures = overview.overview(connection, period, now)
    distribution, trend = figures.histogram, figures.trend
    charts = {
        "distribution": {
            "labels": [label for label, _count in distribution],
            "values": [count for _label, count in distribution],
            "label": _("Acknowledgements"),
        },
        "trend": {
            "labels": [point.week.isoformat() for point in trend],
            "median": [_hours(point.median_seconds) for point in trend],
            "p90": [_hours(point.p90_seconds) for point in trend],
            "median_label": _("Median hours to acknowledge"),
            "p90_label": _("90th percentile, hours"),
        },
    }

    return render_template(
        "acknowledgements.html",
        tables=figures.tables,
        titles=GROUPING_TITLES,
        days=days,
        period_days=PERIOD_DAYS,
        period=period,
        charts=json.dumps(charts),
        estimated_percentiles=figures.estimated_percentiles,
    )


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 2)


@blueprint.get("/overdue")
def overdue():
    now = services().clock.now()
    with reading(services().engine) as connection:
        total, shown = queries.overdue(connection, now)

    return render_template("overdue.html", total=total, shown=shown, now=now)


@blueprint.post("/referrals/<referral_id>/<action>")
@coordinators_only
def act(referral_id: str, action: str):
    svc = services()
    now = svc.clock.now()
    actor = g.account.actor
    try:
        if action == "remind":
            coordination.remind(svc.engine, referral_id, coordinator=actor, now=now)
            flash(_("Reminder queued for referral %(id)s.", id=referral_id))
        elif action in ("revoke", "reroute"):
            coordination.revoke(
                svc.engine,
                referral_id,
                coordinator=actor,
                now=now,
                services=svc,
                reroute=action == "reroute",
            )
            if action == "reroute":
                flash(_("Referral %(id)s re-routed.", id=referral_id))
            else:
                flash(_("Referral %(id)s revoked.", id=referral_id))
        else:
            abort(404)
    except ProblemError as error:
        flash(error.detail)

    return redirect(url_for("dashboard.overdue"))


@blueprint.get("/delivery")
def delivery():
    svc = services()
    waiting = backlog(svc.engine, svc.clock)
    with reading(svc.engine) as connection:
        health = queries.delivery_health(connection, waiting)

    return render_template("delivery.html", health=health)


@blueprint.get("/directory")
def directory():
    svc = services()
    today = svc.clock.now().date()
    with reading(svc.engine) as connection:
        hotline_entries, point_entries = queries.directory_entries(
            connection, today, svc.settings.directory_stale_after_days
        )

    return render_template(
        "directory.html",
        hotlines=hotline_entries,
        contact_points=point_entries,
        stale_after_days=svc.settings.directory_stale_after_days,
    )


@blueprint.get("/rules")
def rules():
    svc = services()
    rule_set, _view = svc.routing.current()
    with reading(svc.engine) as connection:
        versions = queries.rule_set_versions(connection)
    if rule_set.version not in {version for version, _count in versions}:
        versions.insert(0, (rule_set.version, 0))

    return render_template("rules.html", versions=versions, live=rule_set.version)


@blueprint.get("/cases/<case_id>")
def case(case_id: str):
    svc = services()
    now = svc.clock.now()
    account = g.account
    if not account.vetted_on(now.date()):
        with svc.engine.begin() as connection:
            record(
                connection,
                audit_row(
                    at=now,
                    actor=account.actor,
                    action="case_view_refused",
                    case_id=case_id,
                    reason="background_check_expired",
                ),
            )
        return render_template("vetting_expired.html"), 403

    # Content is encrypted at rest once the delivery work's content keys are
    # among the services; before that it is plain JSON.
    keys = getattr(svc, "content_keys", None)
    decrypt = keys.decrypt if keys is not None else (lambda stored: stored)
    with svc.engine.begin() as connection:
        details = case_details(connection, case_id, decrypt)
        if details is None:
            abort(404)
        record(
            connection,
            audit_row(
                at=now, actor=account.actor, action="case_viewed", case_id=case_id
            ),
        )

    return render_template("case.html", details=details)


@blueprint.get("/report")
def report_page():
    svc = services()
    period = _report_period()
    with reading(svc.engine) as connection:
        built = annual.build_report(connection, period, svc.clock.now())

    return render_template("report.html", report=built, period=period, printable=False)


@blueprint.get("/report.<fmt>")
def report_download(fmt: str):
    if fmt not in annual.FORMATS:
        abort(404)
    svc = services()
    period = _report_period()
    with reading(svc.engine) as connection:
        built = annual.build_report(connection, period, svc.clock.now())
    body, mimetype = annual.render(built, fmt)
    filename = f"annual-report-{period.label}.{fmt}"

    return Response(
        body,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _report_period() -> annual.ReportPeriod:
    try:
        if request.args.get("start") and request.args.get("end"):
            return annual.ReportPeriod.between(
                date.fromisoformat(request.args["start"]),
                date.fromisoformat(request.args["end"]),
            )
        year = request.args.get("year", type=int)
        if year is None:
            year = services().clock.now().year
        return annual.ReportPeriod.of_year(year)
    except ValueError:
        abort(400)


@lru_cache(maxsize=len(LANGUAGES))
def _number_style(language: str) -> tuple[str, str, str]:
    """Group and decimal separators, and the percent pattern, of a language."""
    percent = babel_format_percent(0.5, locale=language).replace("50", "{}")

    return get_group_symbol(language), get_decimal_symbol(language), percent


def _style() -> tuple[str, str, str]:
    if "number_style" not in g:
        g.number_style = _number_style(str(get_locale() or "en"))

    return g.number_style


def _grouped(value, decimals: int) -> str:
    """A number with the reader's separators; babel's full formatting costs
    tens of microseconds a figure, and a page shows thousands."""
    group, decimal, _percent_pattern = _style()
    text = f"{value:,.{decimals}f}"

    return text.replace(",", "\0").replace(".", decimal).replace("\0", group)


@blueprint.app_template_filter("number")
def _number(value) -> str:
    return _grouped(value or 0, 0)


@blueprint.app_template_filter("decimal")
def _decimal(value) -> str:
    return "—" if value is None else _grouped(value, 1)


@blueprint.app_template_filter("percent")
def _percent(value) -> str:
    return "—" if value is None else _style()[2].format(_grouped(value * 100, 1))


@blueprint.app_template_filter("hours")
def _hours_text(seconds) -> str:
    return "—" if seconds is None else _grouped(seconds / 3600, 1)


@blueprint.app_template_filter("raw_hours")
def _raw_hours(seconds) -> str:
    return "" if seconds is None else f"{seconds / 3600:.4f}"


@blueprint.app_template_filter("label")
def _label(word) -> str:
    return label(word)


@blueprint.app_template_filter("when")
def _when(moment) -> str:
    return format_datetime(moment, "medium") if moment else "—"


@blueprint.app_template_filter("when_iso")
def _when_iso(text: str) -> str:
    return format_datetime(datetime.fromisoformat(text), "medium")


@blueprint.app_template_filter("day")
def _day(value) -> str:
    if isinstance(value, str):
        value = date.fromisoformat(value)

    return format_date(value, "long")
