"""Engine set-up per dialect, the one way services open a write transaction, and change stamps.

PostgreSQL: rows are locked with SELECT ... FOR UPDATE; every lock wait is bounded by
`lock_timeout` (a connection option, or with DATABASE_POOLER=pgbouncer a SET LOCAL at the start of
every transaction). SQLite ignores FOR UPDATE, so write transactions start with BEGIN IMMEDIATE,
which takes the database's write lock up front and serialises writers across processes (WAL
keeps readers unblocked). Services call `write_transaction()` and never ask which database runs.

Change stamps (what the change feed and seat-map versions are built on): every seat a transaction
changes records the transaction's stamp in `seats.changed_in`, and a reader's cursor is a stamp
below which every transaction has ended, so "changed_in >= since and < cursor" is complete.
- PostgreSQL: the stamp is the writing transaction's own id (`pg_current_xact_id()`); the cursor is
  the reader's snapshot xmin (every id below it has committed or aborted). No row is shared between
  writers, so an event's transactions never queue on a counter.
- SQLite: writers are serialised anyway, so one counter (`change_clock`), bumped at COMMIT by
  `write_transaction` when the transaction changed seats, does the same.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from select import POLLIN, poll
from typing import Any

from flask import Flask
from sqlalchemy import BigInteger, ColumnElement, Text, cast, event, func, insert, literal_column, select, update
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.orm import Session

from .errors import BusyError
from .extensions import db
from .models import ChangeClock

# SQLSTATEs that mean "someone else holds what you need": lock_not_available, deadlock_detected,
# serialization_failure, query_canceled (statement_timeout).
log = logging.getLogger(__name__)

_BUSY_SQLSTATES = {"55P03", "40P01", "40001", "57014"}
_IMMEDIATE = "ticketing_begin_immediate"
_WRITING = "ticketing.write_transaction"  # session.info: a write transaction is open
_CHANGED_EVENTS = "ticketing.changed_events"  # session.info: events whose seats this transaction changed
_CLOCK = ChangeClock.__table__


def engine_options(config: Mapping[str, Any]) -> dict:
    """Return SQLAlchemy engine options for the app's settings (its database, pool and pooler)."""
    lock_timeout_ms = config["LOCK_TIMEOUT_MS"]
    if config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # Each thread of a gthread worker gets its own connection; pysqlite's own
        # transaction handling is switched off in `_configure_sqlite_connection`.
        return {"connect_args": {"timeout": lock_timeout_ms / 1000, "check_same_thread": False}}
    options = {
        # No pool_pre_ping (a round trip on every checkout, so on every request):
        # `_discard_if_closed_by_server` finds a connection the server has closed without one.
        # A worker's threads share its pool; past it a request waits at most the pool timeout, then
        # answers 503 busy (errors.py), so that the hosts' sum stays within the database's budget.
        "pool_size": config["DATABASE_POOL_SIZE"],
        "max_overflow": config["DATABASE_MAX_OVERFLOW"],
        "pool_timeout": config["DATABASE_POOL_TIMEOUT_MS"] / 1000,
    }
    if config["DATABASE_POOLER"] == "pgbouncer":
        # In transaction mode each transaction may run on another server connection: a statement
        # prepared on one is unknown (or, worse, a different statement) on the next, and PgBouncer
        # drops or refuses startup `options`. So nothing is prepared, and `configure_engine` sets
        # lock_timeout inside every transaction instead.
        options["connect_args"] = {"prepare_threshold": None}
    else:
        options["connect_args"] = {"options": f"-c lock_timeout={lock_timeout_ms}"}
    return options


def safe_session_teardown(app: Flask) -> None:
    """End each request's session without letting a failure there replace the answer.

    Flask-SQLAlchemy removes the session when the app context ends, after the answer is built (and
    after its transaction committed). If the database went away meanwhile, the ROLLBACK inside that
    removal raises, and the WSGI server would answer its own non-JSON 500 in place of the real answer
    (a paid order reported as an error). The connection is dropped by the pool either way.
    """
    extension = app.extensions["sqlalchemy"]
    functions = app.teardown_appcontext_funcs
    original = extension._teardown_session

    def remove_session(_exc: BaseException | None) -> None:
        try:
            extension.session.remove()
        except Exception:
            log.warning("ending the request's database session failed", exc_info=True)

    functions[:] = [remove_session if function == original else function for function in functions]


def configure_engine(app: Flask) -> None:
    """Attach the dialect's (and the pooler's) connection set-up to the app's engine, once per engine."""
    with app.app_context():
        engine = db.engine
    if getattr(engine, "_ticketing_configured", False):
        return
    lock_timeout_ms = int(app.config["LOCK_TIMEOUT_MS"])
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", lambda conn, _: _configure_sqlite_connection(conn, lock_timeout_ms))
        event.listen(engine, "begin", _begin_sqlite_transaction)
    else:
        event.listen(engine, "checkout", _discard_if_closed_by_server)
    if engine.dialect.name == "postgresql" and app.config["DATABASE_POOLER"] == "pgbouncer":
        # The session settings a direct connection gets at connect time (engine_options), per
        # transaction: SET LOCAL ends with the transaction, so no other client inherits it.
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql(f"SET LOCAL lock_timeout = {lock_timeout_ms}"))
    engine._ticketing_configured = True


def _discard_if_closed_by_server(dbapi_connection, _record, _proxy) -> None:
    """Pessimistic disconnect handling without a round trip, on every checkout from the pool.

    An idle pooled connection never has anything to read: nothing here LISTENs, and a reply is read
    with its query. So if its socket is readable, the server (or PgBouncer) has spoken on its own,
    which for an idle connection means it was terminated (a restart, `pg_terminate_backend`, an idle
    timeout) and closed; psycopg may also know it broken already. Either way the pool drops it and
    checks out another (SQLAlchemy retries on DisconnectionError), so the request runs on a live
    connection instead of failing. A peer that vanished without closing (a cut network) is found by
    the first query, as pool_pre_ping would only find it with a timeout too.
    """
    if dbapi_connection.closed or dbapi_connection.broken:
        raise DisconnectionError("the connection was closed")
    poller = poll()
    poller.register(dbapi_connection.fileno(), POLLIN)
    if poller.poll(0):
        raise DisconnectionError("the server closed the connection while it was idle in the pool")


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
def write_transaction() -> Iterator[Session]:
    """Run the block in one write transaction: commit on success, roll back on any error.

    On SQLite, whatever read transaction the request had open is ended first, so that the write
    lock is taken at BEGIN (no lock upgrade half-way, which fails without waiting). Before COMMIT
    the seat changes the ledger recorded are stamped (`_stamp_changes`). A lock that cannot be had
    in time becomes `BusyError` (503).
    """
    session = db.session()
    if session.info.get(_WRITING):
        raise RuntimeError("write_transaction() inside another write transaction")
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("write_transaction() entered with unsaved changes in the session")
    if session.in_transaction() and _begins_with_write_lock(session):
        session.commit()  # nothing to write: this only ends the read transaction
    session.info[_WRITING], session.info[_CHANGED_EVENTS] = True, set()
    try:
        if not session.in_transaction():
            session.connection(execution_options={_IMMEDIATE: True})
        yield session
        _stamp_changes(session)
        session.commit()
    except DBAPIError as error:
        session.rollback()
        if is_busy_error(error):
            raise BusyError() from error
        raise
    except BaseException:
        session.rollback()
        raise
    finally:
        session.info.pop(_WRITING, None)
        session.info.pop(_CHANGED_EVENTS, None)


def require_write_transaction(session: Session) -> None:
    """Row locks are taken only inside `write_transaction` (outside it they would be held by
    whatever transaction happens to be open, until nobody knows when)."""
    if not session.info.get(_WRITING):
        raise RuntimeError("row locks may only be taken inside write_transaction()")


def insert_rows(session: Session, table, columns: Sequence[str], rows: Iterable[Sequence]) -> None:
    """Insert many rows into `table` in the open write transaction, as fast as the database allows.

    PostgreSQL: one COPY ... FROM STDIN on the transaction's own connection (100,000 seats in well under
    a second of the client's time, against ~5 for one INSERT per row); SQLite: one executemany.
    """
    require_write_transaction(session)
    if session.get_bind().dialect.name == "postgresql":
        connection = session.connection().connection.dbapi_connection
        names = ", ".join(table.c[name].name for name in columns)
        with connection.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    session.connection().execute(insert(table), [dict(zip(columns, row, strict=True)) for row in rows])


def note_seat_changes(session: Session, event_ids) -> None:
    """Record that this write transaction changed seats of these events (the ledger calls this)."""
    require_write_transaction(session)
    session.info[_CHANGED_EVENTS].update(event_ids)


def changed_events(session: Session) -> frozenset[int]:
    """The events whose seats the open write transaction has changed so far."""
    return frozenset(session.info.get(_CHANGED_EVENTS, ()))


def change_stamp(session: Session) -> ColumnElement[int]:
    """SQL: the stamp of the open write transaction, for `seats.changed_in`."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(cast(func.pg_current_xact_id(), Text), BigInteger)
    # The counter is bumped at COMMIT (`_stamp_changes`): this transaction's stamp is the next value.
    return _clock_value() + 1


def snapshot_cursor(session: Session) -> ColumnElement[int]:
    """SQL: a cursor above the stamp of every transaction that has ended as the statement sees it,
    and at or below the stamp of every transaction that has not (so it can still be seen later)."""
    if session.get_bind().dialect.name == "postgresql":
        return _POSTGRES_CURSOR
    return _clock_value() + 1


# The snapshot's xmin, except that transactions running in *other* databases of the cluster are not
# waited for (they never write our seats): the lowest id still in progress as the statement's
# snapshot sees it, leaving out ids whose backend (pg_stat_get_activity, what pg_stat_activity shows)
# is in another database; none: xmax. An id not shown at all (it ended after the snapshot was taken,
# or its backend is hidden) is kept: it may be ours and not yet visible, so the cursor must not pass
# it. The function rather than the view: the view's joins cost about 0.5 ms of planning per use,
# and every seat-map version and feed read plans this once or twice.
_POSTGRES_CURSOR = literal_column(
    """(SELECT COALESCE(min(running), pg_snapshot_xmax(pg_current_snapshot()))::text::bigint
    FROM pg_snapshot_xip(pg_current_snapshot()) AS running
    WHERE NOT EXISTS (
        SELECT 1 FROM pg_stat_get_activity(NULL) AS other
        WHERE other.backend_xid = xid(running)
          AND other.datid IS DISTINCT FROM (SELECT oid FROM pg_database WHERE datname = current_database())
    ))""",
    BigInteger,
)


def _clock_value() -> ColumnElement[int]:
    # No row yet (a new or emptied database) counts as 0.
    return func.coalesce(select(_CLOCK.c.value).where(_CLOCK.c.id == 1).scalar_subquery(), 0)


def _stamp_changes(session: Session) -> None:
    session.flush()
    if session.info[_CHANGED_EVENTS] and session.get_bind().dialect.name != "postgresql":
        connection = session.connection()
        if connection.execute(update(_CLOCK).where(_CLOCK.c.id == 1).values(value=_CLOCK.c.value + 1)).rowcount == 0:
            connection.execute(insert(_CLOCK).values(id=1, value=1))
