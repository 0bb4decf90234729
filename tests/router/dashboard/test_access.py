"""Logins, roles, CSRF, throttling and the background check, on both backends."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from router.app import create_app
from router.dashboard.accounts import (
    MAX_FAILURES_PER_ACCOUNT,
    MAX_FAILURES_PER_ADDRESS,
    THROTTLE_WINDOW,
)
from router.persistence.tables import accounts, audit_entries, metadata
from tests.dashboard_helpers import (
    PASSWORD,
    add_account,
    cookie_attributes,
    csrf_token,
    log_in,
    seed_referrals,
)


def audit_actions(services) -> list[tuple[str, str, str | None]]:
    with services.engine.connect() as connection:
        rows = connection.execute(
            select(
                audit_entries.c.actor, audit_entries.c.action, audit_entries.c.case_id
            )
        )
        return [tuple(row) for row in rows]


def test_a_page_asks_for_a_login_first(app):
    """An anonymous visitor is sent to the login page."""
    client = app.test_client()

    response = client.get("/dashboard/overdue")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/dashboard/login")


def test_the_right_password_opens_the_dashboard(app, coordinator):
    """A coordinator with the right password gets a session and the dashboard."""
    client = app.test_client()

    response = log_in(client)

    assert response.status_code == 302
    assert client.get("/dashboard/").status_code == 200


def test_a_wrong_password_is_refused(app, coordinator):
    """A wrong password gets 401 and no session."""
    client = app.test_client()

    response = log_in(client, password="not-the-password")

    assert response.status_code == 401
    assert client.get("/dashboard/").status_code == 302


def test_passwords_are_kept_only_as_scrypt_hashes(services, coordinator):
    """The stored password is a scrypt hash, never the password."""
    with services.engine.connect() as connection:
        stored = connection.execute(select(accounts.c.password_hash)).scalar_one()

    assert stored.startswith("scrypt:")
    assert PASSWORD not in stored


def test_repeated_failures_throttle_the_account(app, coordinator):
    """After five failures even the right password waits its quarter hour."""
    client = app.test_client()
    for _ in range(MAX_FAILURES_PER_ACCOUNT):
        log_in(client, password="not-the-password")

    response = log_in(client)

    assert response.status_code == 429


def test_throttling_ends_after_its_window(app, coordinator, clock):
    """A quarter of an hour later the right password works again."""
    client = app.test_client()
    for _ in range(MAX_FAILURES_PER_ACCOUNT):
        log_in(client, password="not-the-password")
    clock.advance(minutes=16)

    response = log_in(client)

    assert response.status_code == 302


# Documentation addresses (RFC 5737), as a guesser's and a colleague's.
GUESSER, COLLEAGUE = "192.0.2.7", "198.51.100.23"


def from_address(app, address: str):
    """A fresh test client whose requests come from `address`."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address

    return client


def guess_from(app, address: str, count: int, clock, *, every_seconds: float = 0):
    """`count` wrong passwords from `address`, each for another username
    (never five for one), `every_seconds` apart."""
    client = from_address(app, address)
    for number in range(count):
        response = log_in(client, f"guessed-name-{number}", "not-the-password")
        assert response.status_code == 401
        clock.advance(seconds=every_seconds)


def test_repeated_failures_throttle_the_address(app, coordinator, clock):
    """Nineteen failures from one address, across as many usernames, do not
    throttle it; the twentieth refuses every login from it, even a right
    password for an account that never failed; other addresses log in."""
    guess_from(app, GUESSER, MAX_FAILURES_PER_ADDRESS - 1, clock)
    assert log_in(from_address(app, GUESSER)).status_code == 302
    guess_from(app, GUESSER, 1, clock)

    refused = log_in(from_address(app, GUESSER))

    assert refused.status_code == 429
    assert "Too many failed attempts" in refused.get_data(as_text=True)
    assert log_in(from_address(app, COLLEAGUE)).status_code == 302


def test_address_throttling_ends_after_its_window(app, coordinator, clock):
    """Failures count for a quarter of an hour each: once the first of twenty
    made 40 seconds apart is that old, the address may log in again."""
    first_failure = clock.now()
    guess_from(app, GUESSER, MAX_FAILURES_PER_ADDRESS, clock, every_seconds=40)

    clock.set(first_failure + THROTTLE_WINDOW - timedelta(seconds=1))
    still_refused = log_in(from_address(app, GUESSER))
    clock.set(first_failure + THROTTLE_WINDOW + timedelta(seconds=1))
    admitted = log_in(from_address(app, GUESSER))

    assert still_refused.status_code == 429
    assert admitted.status_code == 302


def test_a_form_without_csrf_token_is_refused(dashboard):
    """A POST without the CSRF token is refused."""
    response = dashboard.post("/dashboard/referrals/any/remind")

    assert response.status_code == 400


def test_the_session_cookie_is_http_only_and_same_site(app, coordinator):
    """The session cookie is out of scripts' reach and not sent cross-site;
    on plain http (the embedded demo) it cannot be Secure."""
    client = app.test_client()

    response = log_in(client)

    name, attributes = cookie_attributes(response.headers["Set-Cookie"])
    assert name == "rr_dashboard"
    assert "HttpOnly" in attributes
    assert "SameSite=Lax" in attributes
    assert "Secure" not in attributes


def test_the_session_cookie_is_secure_behind_https(services):
    """Served over HTTPS, logging in sets a session cookie marked Secure,
    HttpOnly and SameSite=Lax, and that cookie opens the dashboard."""
    origin = "https://router.example.org"
    services.settings = replace(services.settings, public_base_url=origin)
    app = create_app(services)
    add_account(services)
    client = app.test_client()
    over_https = {
        "base_url": origin,
        "headers": {"Referer": f"{origin}/dashboard/login"},
    }

    response = log_in(client, **over_https)

    assert response.status_code == 302, response.get_data(as_text=True)
    cookies = response.headers.getlist("Set-Cookie")
    assert len(cookies) == 1
    name, attributes = cookie_attributes(cookies[0])
    assert name == "rr_dashboard"
    assert {"Secure", "HttpOnly", "SameSite=Lax"} <= attributes
    assert client.get("/dashboard/", base_url=origin).status_code == 200


def every_row(services) -> dict[str, list[tuple]]:
    """The whole database, table by table, in a stable order."""
    with services.engine.connect() as connection:
        return {
            table.name: sorted(
                (tuple(row) for row in connection.execute(select(table))), key=repr
            )
            for table in metadata.sorted_tables
        }


def act_on_an_overdue_lead(app, services, caller, clock, username, action):
    """Log in as `username`, then POST `action` for an overdue lead; returns
    the response and the database before and after the POST."""
    leads = seed_referrals(caller, clock)
    client = app.test_client()
    assert log_in(client, username).status_code == 302
    assert client.get("/dashboard/overdue").status_code == 200
    token = csrf_token(client, "/dashboard/overdue")
    before = every_row(services)

    response = client.post(
        f"/dashboard/referrals/{leads['DASH-5']['id']}/{action}",
        data={"csrf_token": token},
    )

    return response, before, every_row(services)


ACTIONS = ("remind", "reroute", "revoke")


@pytest.mark.parametrize("action", ACTIONS)
def test_an_auditor_cannot_act(app, services, caller, clock, action):
    """An auditor reads the overdue list, but remind, re-route and revoke are
    refused and change nothing in the database."""
    add_account(services, "auditor-1", role="auditor")

    response, before, after = act_on_an_overdue_lead(
        app, services, caller, clock, "auditor-1", action
    )

    assert response.status_code == 403
    assert after == before


@pytest.mark.parametrize("action", ACTIONS)
def test_a_coordinator_acts_where_an_auditor_cannot(
    app, services, caller, clock, action
):
    """The same POST from a coordinator does change the referrals: the
    auditor's refusal above is the role's, not the request's."""
    add_account(services)

    response, before, after = act_on_an_overdue_lead(
        app, services, caller, clock, "coord-1", action
    )

    assert response.status_code == 302
    assert after["referrals"] != before["referrals"]
    assert len(after["audit_entries"]) > len(before["audit_entries"])


def test_viewing_a_case_is_audited(dashboard, services, caller, clock):
    """Opening a case's details writes who looked to the audit log."""
    leads = seed_referrals(caller, clock)
    case_id = leads["DASH-1"]["case_id"]

    response = dashboard.get(f"/dashboard/cases/{case_id}")

    assert response.status_code == 200
    assert ("coordinator:coord-1", "case_viewed", case_id) in audit_actions(services)


def test_an_expired_background_check_closes_case_details(app, services, caller, clock):
    """A coordinator whose check has expired cannot open a case; it is audited."""
    add_account(
        services, "lapsed", checked_on=date(2024, 1, 1), expires_on=date(2026, 6, 30)
    )
    leads = seed_referrals(caller, clock)
    case_id = leads["DASH-1"]["case_id"]
    client = app.test_client()
    log_in(client, "lapsed")

    response = client.get(f"/dashboard/cases/{case_id}")

    assert response.status_code == 403
    assert "DASH-1" not in response.get_data(as_text=True)
    assert ("coordinator:lapsed", "case_view_refused", case_id) in audit_actions(
        services
    )


def test_an_expired_check_keeps_the_figures_open(app, services):
    """The aggregate pages hold no case details, so they stay open."""
    add_account(
        services, "lapsed", checked_on=date(2024, 1, 1), expires_on=date(2026, 6, 30)
    )
    client = app.test_client()
    log_in(client, "lapsed")

    response = client.get("/dashboard/")

    assert response.status_code == 200


def test_login_attempts_are_audited_without_passwords(app, services, coordinator):
    """Logins and refusals are in the audit log; no password is."""
    client = app.test_client()
    log_in(client, password="wrong-password-1")
    log_in(client)

    with services.engine.connect() as connection:
        details = connection.execute(select(audit_entries.c.detail)).scalars().all()
    actions = [action for _actor, action, _case in audit_actions(services)]
    assert "login_refused" in actions
    assert "login" in actions
    assert not any("password" in json.dumps(detail) for detail in details)
