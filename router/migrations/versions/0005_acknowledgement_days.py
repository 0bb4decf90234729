"""The acknowledgement dashboard's daily roll-up, and its stale days

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 20:30:00.000000

Every routing day that has referrals is marked stale, so that the SLA clock's
next tick fills the roll-up from the referrals already there.
"""

import sqlalchemy as sa
from alembic import op

import router.persistence.tables

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# The buckets as this revision made them; later changes need a migration.
BUCKET_HOURS = (*range(1, 49), *range(54, 73, 6), *range(96, 169, 24), 336)


def upgrade() -> None:
    buckets = [f"acknowledged_under_{hours}h" for hours in BUCKET_HOURS]
    buckets.append(f"acknowledged_from_{BUCKET_HOURS[-1]}h")
    op.create_table(
        "acknowledgement_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("dimension", sa.String(length=16), nullable=False),
        sa.Column("party_id", sa.String(length=64), nullable=False),
        sa.Column("referrals", sa.Integer(), nullable=False),
        sa.Column("acknowledged", sa.Integer(), nullable=False),
        sa.Column("within_target", sa.Integer(), nullable=False),
        sa.Column(
            "latest_open_due_at",
            router.persistence.tables.UTCDateTime(timezone=True),
            nullable=True,
        ),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in buckets),
        sa.PrimaryKeyConstraint(
            "day",
            "dimension",
            "party_id",
            name=op.f("pk_acknowledgement_days"),
        ),
    )
    op.create_index(
        "ix_acknowledgement_days_latest_open_due_at",
        "acknowledgement_days",
        ["latest_open_due_at"],
    )
    op.create_table(
        "stale_acknowledgement_days",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stale_acknowledgement_days")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "INSERT INTO stale_acknowledgement_days (day)"
            " SELECT DISTINCT DATE(routed_at AT TIME ZONE 'UTC') FROM referrals"
        )
    else:
        op.execute(
            "INSERT INTO stale_acknowledgement_days (day)"
            " SELECT DISTINCT DATE(routed_at) FROM referrals"
        )


def downgrade() -> None:
    op.drop_table("stale_acknowledgement_days")
    op.drop_table("acknowledgement_days")
