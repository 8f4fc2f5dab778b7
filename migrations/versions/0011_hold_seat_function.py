"""the lock in one statement on PostgreSQL: the function hold_seat

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-22 07:30:00

`hold_seat(...)` is the whole of `POST /seats/<id>/lock` on PostgreSQL, run as one statement in
autocommit (services.seats): it checks the token's user and revocation, reads the seat and its event,
and, when the seat is free (or the caller's own hold) and the event on sale, locks the user's row and
writes the hold with the same guarded UPDATE as `ledger.hold` (limits included). Everything else is
answered as a snapshot for the service to decide in Python, exactly as before. Each statement in
the function takes a fresh snapshot (READ COMMITTED), so the hold count read by the UPDATE sees every
hold the user's earlier transactions committed before its row lock was granted: the count stays exact.
The counts stop at the limit (LIMIT inside), so their cost is bounded by the limit, not by the holds.
Nothing on SQLite: it keeps its Python path.
"""

from alembic import op


# revision identifiers, used by Alembic.
revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# Outcomes (services.seats reads them): no_account, revoked, no_seat, look (not writable as the
# snapshot shows: the caller decides the refusal), held, renewed, changed (the UPDATE wrote nothing:
# the seat changed since the snapshot, or a limit; the caller decides again under row locks).
HOLD_SEAT = """
CREATE OR REPLACE FUNCTION hold_seat(
    p_seat_id bigint, p_user_id bigint, p_token_ids text[], p_now timestamp, p_until timestamp,
    p_per_user integer, p_per_address integer, p_address text, p_lock_timeout_ms integer
) RETURNS TABLE (
    out_outcome text, out_seat seats, out_event_status text, out_organization_id bigint,
    out_sales_start timestamp, out_sales_end timestamp, out_starts_at timestamp
) LANGUAGE plpgsql AS $$
DECLARE
    v_seat seats%ROWTYPE;
    v_live boolean;
    v_mine boolean;
BEGIN
    out_outcome := NULL;
    IF NOT EXISTS (SELECT 1 FROM users WHERE id = p_user_id) THEN
        out_outcome := 'no_account';
        RETURN NEXT;
        RETURN;
    END IF;
    IF EXISTS (SELECT 1 FROM revoked_tokens WHERE jti = ANY (p_token_ids)) THEN
        out_outcome := 'revoked';
        RETURN NEXT;
        RETURN;
    END IF;
    SELECT * INTO v_seat FROM seats WHERE id = p_seat_id;
    IF NOT FOUND THEN
        out_outcome := 'no_seat';
        RETURN NEXT;
        RETURN;
    END IF;
    SELECT e.status, e.organization_id, e.sales_start, e.sales_end, e.starts_at
      INTO out_event_status, out_organization_id, out_sales_start, out_sales_end, out_starts_at
      FROM events AS e WHERE e.id = v_seat.event_id;
    out_seat := v_seat;
    v_live := v_seat.status = 'locked' AND v_seat.locked_until IS NOT NULL AND v_seat.locked_until > p_now;
    v_mine := v_live AND v_seat.holder_id IS NOT DISTINCT FROM p_user_id AND v_seat.order_id IS NULL;
    -- models.is_on_sale, and a seat free at p_now or the caller's own plain hold: anything else is
    -- a refusal, worded by the caller from this snapshot.
    IF out_event_status IS DISTINCT FROM 'on_sale'
       OR (out_sales_start IS NOT NULL AND p_now < out_sales_start)
       OR (out_sales_end IS NOT NULL AND p_now >= out_sales_end)
       OR (out_starts_at IS NOT NULL AND p_now >= out_starts_at)
       OR NOT (v_mine OR v_seat.status = 'available' OR (v_seat.status = 'locked' AND NOT v_live)) THEN
        out_outcome := 'look';
        RETURN NEXT;
        RETURN;
    END IF;
    IF p_lock_timeout_ms IS NOT NULL THEN
        PERFORM set_config('lock_timeout', p_lock_timeout_ms || 'ms', true);
    END IF;
    PERFORM 1 FROM users WHERE id = p_user_id FOR NO KEY UPDATE;
    IF v_mine THEN
        UPDATE seats AS s
           SET status = 'locked', holder_id = p_user_id, locked_until = p_until, order_id = NULL,
               held_from = p_address, changed_in = pg_current_xact_id()::text::bigint
         WHERE s.id = p_seat_id AND s.holder_id = p_user_id AND s.order_id IS NULL
           AND s.status = 'locked' AND s.locked_until IS NOT NULL AND s.locked_until > p_now
        RETURNING s.* INTO v_seat;
        out_outcome := CASE WHEN FOUND THEN 'renewed' ELSE 'changed' END;
    ELSE
        UPDATE seats AS s
           SET status = 'locked', holder_id = p_user_id, locked_until = p_until, order_id = NULL,
               held_from = p_address, changed_in = pg_current_xact_id()::text::bigint
         WHERE s.id = p_seat_id
           AND (s.status = 'available' OR (s.status = 'locked' AND (s.locked_until IS NULL OR s.locked_until <= p_now)))
           AND (SELECT count(*) FROM (SELECT 1 FROM seats AS h
                 WHERE h.holder_id = p_user_id AND h.event_id = s.event_id AND h.status = 'locked'
                   AND h.locked_until IS NOT NULL AND h.locked_until > p_now LIMIT p_per_user) AS held) < p_per_user
           AND (p_address IS NULL OR (SELECT count(*) FROM (SELECT 1 FROM seats AS a
                 WHERE a.held_from = p_address AND a.event_id = s.event_id AND a.status = 'locked'
                   AND a.locked_until IS NOT NULL AND a.locked_until > p_now LIMIT p_per_address) AS held)
                 < p_per_address)
        RETURNING s.* INTO v_seat;
        out_outcome := CASE WHEN FOUND THEN 'held' ELSE 'changed' END;
    END IF;
    IF out_outcome <> 'changed' THEN
        out_seat := v_seat;
    END IF;
    RETURN NEXT;
END
$$
"""


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(HOLD_SEAT)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "DROP FUNCTION IF EXISTS hold_seat(bigint, bigint, text[], timestamp, timestamp, integer, integer, text, integer)"
        )
