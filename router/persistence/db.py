"""The engine: SQLite embedded by default, PostgreSQL through `DATABASE_URL`."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url


def create_database_engine(database_url: str) -> Engine:
    """An engine tuned for its backend, that never prints bound values.

    SQLite gets WAL, a busy timeout and `BEGIN IMMEDIATE`: a deferred `BEGIN`
    upgrades its lock at the first write and fails under concurrent writers,
    where an immediate one waits its turn.
    """
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")

    engine = create_engine(
        url,
        pool_size=10,
        max_overflow=5,
        pool_recycle=1800,
        hide_parameters=True,
    )
    # Send a list of rows as one multi-row INSERT, as the psycopg2 dialect
    # does; psycopg's own executemany pipelines one statement per row, which
    # for the few rows of an intake cost twice the CPU of a single statement.
    engine.dialect.use_insertmanyvalues_wo_returning = True

    return engine


def _sqlite_engine(url) -> Engine:
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30},
        hide_parameters=True,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        # Readers keep a deferred BEGIN: under WAL they never wait for a writer,
        # so a read made while this process holds a write lock cannot deadlock.
        if connection.get_execution_options().get("read_only"):
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def reading(engine: Engine) -> Connection:
    """A connection for reads only; on SQLite it takes no write lock."""
    return engine.connect().execution_options(read_only=True)
