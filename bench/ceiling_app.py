"""The yardstick of `make bench`: the least work a correct, durable, authenticated seat lock can do in
Flask on PostgreSQL, on the service's own tables.

    POST /seats/<id>/lock   Authorization: Bearer <the service's access token>

One JWT check (signature, expiry, type: PyJWT, the library flask-jwt-extended itself uses), one
conditional UPDATE that takes the seat only when it is free (or already the caller's) and the caller
holds fewer than MAX_SEATS_PER_USER live seats of its event, COMMIT, an orjson answer. No ORM, no
schema layer, no row lock of the user, no revoked-token lookup, no metrics, no change-feed bookkeeping
beyond the seat's own stamp. It answers 200 with the hold, 409 when the seat is taken or the limit is
reached, 404 for no such seat, 401 for a bad token.

`bench/run.py` serves it with gunicorn under the same configuration and the same wrk load as the
service, and prints each of the service's scenarios as a ratio to it. It is not part of the service.
"""

from __future__ import annotations

import os
import threading

import jwt
import orjson
import psycopg
from flask import Flask, Response, request
from sqlalchemy.engine import make_url

SECRET = os.environ["JWT_SECRET_KEY"]
HOLD_SECONDS = int(os.environ.get("HOLD_TTL_SECONDS", "60"))
PER_USER = int(os.environ.get("MAX_SEATS_PER_USER", "10"))
DSN = make_url(os.environ["DATABASE_URL"]).set(drivername="postgresql").render_as_string(hide_password=False)

LOCK = """
UPDATE seats AS s
   SET status = 'locked', holder_id = %(user)s, order_id = NULL,
       locked_until = (now() AT TIME ZONE 'UTC') + make_interval(secs => %(hold)s),
       changed_in = pg_current_xact_id()::text::bigint
 WHERE s.id = %(seat)s
   AND (s.status = 'available'
        OR (s.status = 'locked' AND s.order_id IS NULL
            AND (s.locked_until <= (now() AT TIME ZONE 'UTC') OR s.holder_id = %(user)s)))
   AND (SELECT count(*) FROM seats AS h
         WHERE h.holder_id = %(user)s AND h.event_id = s.event_id AND h.status = 'locked'
           AND h.locked_until > (now() AT TIME ZONE 'UTC') AND h.id <> s.id) < %(limit)s
RETURNING s.id, s.label, s.locked_until
"""

app = Flask(__name__)
_local = threading.local()


def _connection() -> psycopg.Connection:
    connection = getattr(_local, "connection", None)
    if connection is None or connection.closed:
        connection = _local.connection = psycopg.connect(DSN, prepare_threshold=0)
    return connection


def _answer(status: int, body: dict) -> Response:
    return Response(orjson.dumps(body), status=status, mimetype="application/json")


@app.post("/seats/<int:seat_id>/lock")
def lock(seat_id: int) -> Response:
    header = request.headers.get("Authorization", "")
    try:
        claims = jwt.decode(header.removeprefix("Bearer "), SECRET, algorithms=["HS256"])
        if claims.get("type") != "access":
            raise jwt.InvalidTokenError("not an access token")
        user_id = int(claims["sub"])
    except (jwt.InvalidTokenError, KeyError, ValueError):
        return _answer(401, {"code": "unauthorized", "message": "A valid access token is needed."})
    connection = _connection()
    with connection.transaction():
        row = connection.execute(
            LOCK, {"user": user_id, "seat": seat_id, "hold": HOLD_SECONDS, "limit": PER_USER}
        ).fetchone()
        if row is None:
            exists = connection.execute("SELECT 1 FROM seats WHERE id = %s", (seat_id,)).fetchone()
    if row is None:
        if exists is None:
            return _answer(404, {"code": "seat_not_found", "message": "There is no such seat."})
        return _answer(409, {"code": "seat_locked", "message": "This seat is not free for you."})
    seat = {"id": row[0], "label": row[1], "status": "locked"}
    return _answer(200, {"message": f"Seat {row[1]} locked", "seat": seat, "lock_expires_at": row[2].isoformat() + "Z"})


@app.get("/readyz")
def ready() -> Response:
    return _answer(200, {"status": "ready"})
