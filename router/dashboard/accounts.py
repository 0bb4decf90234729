"""Coordinators' accounts: passwords, roles, background checks, throttling.

Passwords are hashed with scrypt (werkzeug's default key derivation). A login
is refused, whatever the password, once an account or an address has failed
too often in the last quarter of an hour; the attempts live in the database so
that every web process sees the same count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Connection, Engine, bindparam, func, insert, select
from werkzeug.security import check_password_hash, generate_password_hash

from router.audit import audit_row, record
from router.persistence.db import reading
from router.persistence.tables import accounts, login_attempts

ROLES = ("coordinator", "auditor")
MIN_PASSWORD_LENGTH = 12
THROTTLE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_ADDRESS = 20
# Checked when the username is unknown, so that a miss costs as long as a hit.
_DECOY_HASH = generate_password_hash("decoy password, never valid")

_BY_USERNAME = select(accounts).where(accounts.c.username == bindparam("username"))
_BY_ID = select(accounts).where(accounts.c.id == bindparam("account_id"))
_FAILURES = {
    name: select(func.count()).where(
        login_attempts.c[name] == bindparam("value"),
        login_attempts.c.at >= bindparam("since"),
        login_attempts.c.succeeded.is_(False),
    )
    for name in ("username", "address")
}


class AccountError(ValueError):
    """An account cannot be created as asked."""


@dataclass(frozen=True)
class Account:
    id: int
    username: str
    role: str
    background_checked_on: date
    background_check_expires_on: date
    disabled: bool

    @property
    def actor(self) -> str:
        """How the audit log names this account."""
        return f"coordinator:{self.username}"

    @property
    def may_act(self) -> bool:
        return self.role == "coordinator"

    def vetted_on(self, day: date) -> bool:
        """Whether the background check still holds on `day`."""
        return self.background_checked_on <= day <= self.background_check_expires_on


def _account(row) -> Account:
    return Account(
        id=row.id,
        username=row.username,
        role=row.role,
        background_checked_on=row.background_checked_on,
        background_check_expires_on=row.background_check_expires_on,
        disabled=row.disabled,
    )


def create_account(
    engine: Engine,
    *,
    username: str,
    password: str,
    role: str,
    background_checked_on: date,
    background_check_expires_on: date,
    now: datetime,
) -> Account:
    """Add an account; the password is stored only as its scrypt hash."""
    if role not in ROLES:
        raise AccountError(f"the role must be one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password needs {MIN_PASSWORD_LENGTH} characters")
    if background_check_expires_on < background_checked_on:
        raise AccountError("the background check cannot expire before it was made")
    with engine.begin() as connection:
        if connection.execute(_BY_USERNAME, {"username": username}).first():
            raise AccountError(f"the username {username} is taken")
        connection.execute(
            insert(accounts),
            {
                "username": username,
                "password_hash": generate_password_hash(password),
                "role": role,
                "background_checked_on": background_checked_on,
                "background_check_expires_on": background_check_expires_on,
                "created_at": now,
            },
        )
        record(
            connection,
            audit_row(at=now, actor="accounts", action="account_created", role=role),
        )
        row = connection.execute(_BY_USERNAME, {"username": username}).one()

    return _account(row)


def list_accounts(engine: Engine) -> list[Account]:
    with reading(engine) as connection:
        rows = connection.execute(select(accounts).order_by(accounts.c.username))

        return [_account(row) for row in rows]


def find_account(connection: Connection, account_id: int) -> Account | None:
    row = connection.execute(_BY_ID, {"account_id": account_id}).first()

    return _account(row) if row else None


class LoginThrottled(Exception):
    """Too many failed attempts for this account or address; try later."""


def authenticate(
    engine: Engine, username: str, password: str, *, address: str, now: datetime
) -> Account | None:
    """The account if the password is right and it may log in, else None.

    Raises `LoginThrottled` before checking anything once the account or the
    address has failed too often within the throttle window.
    """
    since = now - THROTTLE_WINDOW
    with engine.begin() as connection:
        failures_by_name = connection.execute(
            _FAILURES["username"], {"value": username, "since": since}
        ).scalar_one()
        failures_by_address = connection.execute(
            _FAILURES["address"], {"value": address, "since": since}
        ).scalar_one()
        if (
            failures_by_name >= MAX_FAILURES_PER_ACCOUNT
            or failures_by_address >= MAX_FAILURES_PER_ADDRESS
        ):
            record(connection, audit_row(at=now, actor="web", action="login_throttled"))
            raise LoginThrottled

        row = connection.execute(_BY_USERNAME, {"username": username}).first()
        stored = row.password_hash if row else _DECOY_HASH
        valid = check_password_hash(stored, password)
        account = _account(row) if row is not None and valid else None
        if account is not None and account.disabled:
            account = None
        connection.execute(
            insert(login_attempts),
            {
                "at": now,
                "username": username[:64],
                "address": address[:64],
                "succeeded": account is not None,
            },
        )
        record(
            connection,
            audit_row(
                at=now,
                actor=account.actor if account else "web",
                action="login" if account else "login_refused",
            ),
        )

    return account
