"""The router's tables, as SQLAlchemy Core.

Core rather than ORM: the intake path inserts a case, its referrals, outbox rows
and audit entries in one transaction, and prebuilt Core statements keep that
path lean. Every timestamp is stored in UTC and read back timezone-aware.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.types import TypeDecorator

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(TypeDecorator):
    """A timezone-aware datetime kept in UTC on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)

        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)

        return value.astimezone(UTC)


PARTY_ID = String(64)

hotlines = Table(
    "hotlines",
    metadata,
    Column("id", PARTY_ID, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("country", String(2), nullable=False),
    Column("verified_on", Date, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

contact_points = Table(
    "contact_points",
    metadata,
    Column("id", PARTY_ID, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("country", String(2)),
    Column("channel", String(16), nullable=False),
    Column("webhook_url", String(2048)),
    Column("email", String(320)),
    Column("encryption_key", String(64), nullable=False),
    Column("suspended", Boolean, nullable=False, server_default=text("false")),
    Column("verified_on", Date, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

party_keys = Table(
    "party_keys",
    metadata,
    Column("party_id", PARTY_ID, primary_key=True),
    Column("kid", String(64), primary_key=True),
    Column("party_kind", String(16), nullable=False),
    Column("alg", String(8), nullable=False),
    Column("public_key", Text, nullable=False),
)

cases = Table(
    "cases",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("hotline_id", ForeignKey("hotlines.id"), nullable=False),
    Column("reference", String(64), nullable=False),
    Column("body_sha256", String(64), nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("routed_at", UTCDateTime, nullable=False),
    Column("category", String(32), nullable=False),
    Column("immediate_danger", Boolean, nullable=False),
    Column("incident_country", String(2)),
    Column("rule_set_version", String(96), nullable=False),
    # The report as sent, encrypted: `<key name>:<token>` (router.content_keys).
    Column("content", Text, nullable=False),
    UniqueConstraint("hotline_id", "reference"),
)

referrals = Table(
    "referrals",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("case_id", ForeignKey("cases.id"), nullable=False, index=True),
    Column(
        "contact_point_id",
        ForeignKey("contact_points.id"),
        nullable=False,
        index=True,
    ),
    Column("role", String(16), nullable=False),
    Column("state", String(24), nullable=False),
    Column("rule_id", String(128), nullable=False),
    Column("routed_at", UTCDateTime, nullable=False),
    Column("ack_due_at", UTCDateTime, nullable=False),
    Column("delivered_at", UTCDateTime),
    Column("acknowledged_at", UTCDateTime),
    Column("acknowledged_by", String(128)),
    Column("acknowledged_within_target", Boolean),
    Column("breached_at", UTCDateTime),
    Column("outcome", String(48)),
    # The top-level report fields this referral's role receives, comma-separated:
    # a referral that replaces it (decline, escalation) receives the same part.
    Column("fields", String(400), nullable=False, server_default=""),
    Column("remind_at", UTCDateTime),
    Column("reminded_at", UTCDateTime),
    Column("follow_up_at", UTCDateTime),
    Column("closed_at", UTCDateTime),
    Column("declined_at", UTCDateTime),
    Column("decline_reason", String(48)),
    Column("revoked_at", UTCDateTime),
    Column("revoked_by", String(96)),
    Column("replaces_referral_id", String(36)),
    # Transport, apart from the lifecycle `state`: queued, delivered,
    # retrying or parked, as the connector worker last saw it.
    Column(
        "delivery_status",
        String(16),
        nullable=False,
        server_default=text("'queued'"),
    ),
    Index("ix_referrals_open_deadlines", "ack_due_at", "state"),
    Index("ix_referrals_reminders", "remind_at", "state"),
)

follow_ups = Table(
    "follow_ups",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("referral_id", ForeignKey("referrals.id"), nullable=False, index=True),
    Column("reported_at", UTCDateTime, nullable=False),
    Column("outcome", String(48), nullable=False),
    # Encrypted with the content keys, like the reports.
    Column("note", Text),
)

notices = Table(
    "notices",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(24), nullable=False),
    Column("referral_id", ForeignKey("referrals.id"), nullable=False),
    Column("recipient_id", PARTY_ID, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Index(
        "ix_notices_unsent",
        "id",
        postgresql_where=text("sent_at IS NULL"),
        sqlite_where=text("sent_at IS NULL"),
    ),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("referral_id", ForeignKey("referrals.id"), nullable=False),
    Column("contact_point_id", PARTY_ID, nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("published_at", UTCDateTime),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Index(
        "ix_outbox_unpublished",
        "id",
        postgresql_where=text("published_at IS NULL"),
        sqlite_where=text("published_at IS NULL"),
    ),
)

audit_entries = Table(
    "audit_entries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(96), nullable=False),
    Column("action", String(48), nullable=False),
    Column("case_id", String(36), index=True),
    Column("referral_id", String(36)),
    # Identifiers and states only; never report content.
    Column("detail", Text),
)

seen_tokens = Table(
    "seen_tokens",
    metadata,
    Column("issuer", PARTY_ID, primary_key=True),
    Column("jti", String(128), primary_key=True),
    Column("expires_at", UTCDateTime, nullable=False, index=True),
)

# The coordinators' dashboard: accounts, login attempts, and the indexes its
# pages and the annual report read through. Kept apart from the tables above so
# that work on intake and delivery rarely meets it.

accounts = Table(
    "accounts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("password_hash", String(256), nullable=False),
    Column("role", String(16), nullable=False),
    # The standards ask for vetted staff: no case details once this has passed.
    Column("background_checked_on", Date, nullable=False),
    Column("background_check_expires_on", Date, nullable=False),
    Column("disabled", Boolean, nullable=False, server_default=text("false")),
    Column("created_at", UTCDateTime, nullable=False),
)

login_attempts = Table(
    "login_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("username", String(64), nullable=False),
    Column("address", String(64), nullable=False),
    Column("succeeded", Boolean, nullable=False),
    Index("ix_login_attempts_username", "username", "at"),
    Index("ix_login_attempts_address", "address", "at"),
)

Index(
    "ix_referrals_routed_at",
    referrals.c.routed_at,
    postgresql_include=[
        "case_id",
        "contact_point_id",
        "role",
        "state",
        "acknowledged_at",
        "acknowledged_within_target",
        "ack_due_at",
        "outcome",
    ],
)
Index(
    "ix_referrals_awaiting",
    referrals.c.ack_due_at,
    postgresql_where=text("state IN ('routed', 'delivered')"),
    sqlite_where=text("state IN ('routed', 'delivered')"),
)
Index(
    "ix_cases_received_at",
    cases.c.received_at,
    postgresql_include=["id", "hotline_id", "category", "incident_country"],
)
Index("ix_cases_rule_set_version", cases.c.rule_set_version)
# Lets the dashboard reach a referral's hotline through the index alone.
Index("ix_cases_id_hotline", cases.c.id, postgresql_include=["hotline_id"])
Index("ix_audit_entries_action", audit_entries.c.action, audit_entries.c.at)
if "delivery_status" in referrals.c:
    # Delivery health counts what is not delivered; that part stays small.
    Index(
        "ix_referrals_undelivered",
        referrals.c.delivery_status,
        postgresql_where=text("delivery_status <> 'delivered'"),
        sqlite_where=text("delivery_status <> 'delivered'"),
    )

# The acknowledgement dashboard's daily roll-up (router.rollup): per routing
# day (UTC), a row for each contact point and a row for each hotline, with the
# counts its wide windows add up. The dashboard never crosses the two, so their
# product, many times the rows for a few referrals each, is not kept.
# Upper bounds in hours of the roll-up's buckets of time to acknowledge: hourly
# to 48 hours, then coarser; the last bucket is open.
ROLLUP_BUCKET_HOURS = (
    *range(1, 49),
    *range(54, 73, 6),
    *range(96, 169, 24),
    336,
)
ROLLUP_BUCKETS = (
    *(f"acknowledged_under_{hours}h" for hours in ROLLUP_BUCKET_HOURS),
    f"acknowledged_from_{ROLLUP_BUCKET_HOURS[-1]}h",
)

acknowledgement_days = Table(
    "acknowledgement_days",
    metadata,
    Column("day", Date, primary_key=True),
    # `contact_point` or `hotline`: what `party_id` names.
    Column("dimension", String(16), primary_key=True),
    Column("party_id", PARTY_ID, primary_key=True),
    Column("referrals", Integer, nullable=False),
    Column("acknowledged", Integer, nullable=False),
    Column("within_target", Integer, nullable=False),
    # The latest deadline of the day's unacknowledged referrals: until it has
    # passed, some of them may still be acknowledged in time.
    Column("latest_open_due_at", UTCDateTime),
    *(Column(name, Integer, nullable=False) for name in ROLLUP_BUCKETS),
    # Finds the first day that some referral may still be acknowledged in time.
    Index("ix_acknowledgement_days_latest_open_due_at", "latest_open_due_at"),
)

# Routing days whose roll-up an acknowledgement made stale; the SLA clock
# recomputes them and empties this table.
stale_acknowledgement_days = Table(
    "stale_acknowledgement_days",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("day", Date, nullable=False),
)
