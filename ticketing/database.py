"""Engine set-up per dialect and the one way services open a write transaction.

PostgreSQL: seat rows are locked with SELECT ... FOR UPDATE; every lock wait is bounded by
`lock_timeout`. SQLite ignores FOR UPDATE, so write transactions start with BEGIN IMMEDIATE,
which takes the database's write lock up front and serialises writers across processes (WAL
keeps readers unblocked). Services call `write_transaction()` and never ask which database runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError, OperationalError

from .errors import BusyError
from .extensions import db

# SQLSTATEs that mean "someone else holds what you need": lock_not_available, deadlock_detected,
# serialization_failure, query_canceled (statement_timeout).
_BUSY_SQLSTATES = {"55P03", "40P01", "40001", "57014"}
_IMMEDIATE = "ticketing_begin_immediate"


def engine_options(database_url: str, lock_timeout_ms: int) -> dict:
    """Return SQLAlchemy engine options suited to the database behind `database_url`."""
    if database_url.startswith("sqlite"):
        # Each thread of a gthread worker gets its own connection; pysqlite's own
        # transaction handling is switched off in `_configure_sqlite_connection`.
        return {"connect_args": {"timeout": lock_timeout_ms / 1000, "check_same_thread": False}}
    return {
        "pool_pre_ping": True,
        "pool_size": 5,
        "max_overflow": 10,
        "connect_args": {"options": f"-c lock_timeout={lock_timeout_ms}"},
    }


def configure_engine(app: Flask) -> None:
    """Attach the dialect's connection set-up to the app's engine (once per engine)."""
    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "sqlite" and not getattr(engine, "_ticketing_configured", False):
        busy_timeout_ms = app.config["LOCK_TIMEOUT_MS"]
        event.listen(engine, "connect", lambda conn, _: _configure_sqlite_connection(conn, busy_timeout_ms))
        event.listen(engine, "begin", _begin_sqlite_transaction)
        engine._ticketing_configured = True


def _configure_sqlite_connection(dbapi_connection, busy_timeout_ms: int) -> None:
    # isolation_level=None stops pysqlite from issuing its own BEGIN; `begin` below does it.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
    cursor.close()


def _begin_sqlite_transaction(connection) -> None:
    immediate = connection.get_execution_options().get(_IMMEDIATE, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _begins_with_write_lock(session) -> bool:
    # SQLite takes its write lock at BEGIN IMMEDIATE, so a read transaction already open (the token's
    # user was looked up) must end first. PostgreSQL locks rows as it goes: the write simply continues
    # the request's transaction, which saves a COMMIT and a BEGIN per request.
    return session.get_bind().dialect.name == "sqlite"


def is_busy_error(error: DBAPIError) -> bool:
    """True when the database gave up waiting for a lock (the client may retry)."""
    sqlstate = getattr(error.orig, "sqlstate", None)
    if sqlstate in _BUSY_SQLSTATES:
        return True
    return isinstance(error, OperationalError) and "database is locked" in str(error.orig)


@contextmanager
def write_transaction() -> Iterator:
    """Run the block in one write transaction: commit on success, roll back on any error.

    On SQLite, whatever read transaction the request had open is ended first, so that the write
    lock is taken at BEGIN (no lock upgrade half-way, which fails without waiting).
    A lock that cannot be had in time becomes `BusyError` (503).
    """
    session = db.session()
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("write_transaction() entered with unsaved changes in the session")
    if session.in_transaction() and _begins_with_write_lock(session):
        session.commit()  # nothing to write: this only ends the read transaction
    try:
        if not session.in_transaction():
            session.connection(execution_options={_IMMEDIATE: True})
        yield session
        session.commit()
    except DBAPIError as error:
        session.rollback()
        if is_busy_error(error):
            raise BusyError() from error
        raise
    except BaseException:
        session.rollback()
        raise
