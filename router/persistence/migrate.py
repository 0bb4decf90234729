"""Schema migrations through Alembic, driven from the router's own engine."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(connection=None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection

    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database's schema to `revision`."""
    with engine.connect() as connection:
        command.upgrade(alembic_config(connection), revision)
        connection.commit()


def make_revision(engine: Engine, message: str) -> None:
    """Write a new migration from the difference between tables and database."""
    with engine.connect() as connection:
        command.revision(alembic_config(connection), message=message, autogenerate=True)
