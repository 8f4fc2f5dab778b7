"""best available: each event's rows stored once (event_geometries), and on PostgreSQL one function
that holds the first free block of a list (best_available_hold)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-22 07:30:00

`event_geometries` keeps what never changes about an event's seats for best available: its rows
nearest the focal point first, each with its bound and seat count (services.best_available.Geometry,
as JSON). It is measured from the seats once per event (a GROUP BY over all of them) instead of once
per worker process.

`best_available_hold(...)` is the hold of services.ledger.hold_free on PostgreSQL, in one round trip:
it locks the user's row (exact per-user limit), then tries the candidate blocks in order. A block's
rows are locked (SKIP LOCKED unless told to wait) and kept only if every seat is free; then the
limits are checked and the block held by one UPDATE, stamped like every seat write. A block that
cannot be had is given back at once (its row locks are released with the block's subtransaction):
wholly unavailable, the next candidate (chosen for that case) is tried; partly, the function stops
and says which seats were not free, so the caller chooses again.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


HOLD_FUNCTION = r"""
CREATE OR REPLACE FUNCTION best_available_hold(
    p_user_id bigint,
    p_event_id bigint,
    p_blocks bigint[],      -- the candidate blocks, best first, p_count seat ids each, one after another
    p_count integer,
    p_now timestamp without time zone,
    p_until timestamp without time zone,
    p_per_user integer,
    p_address varchar,      -- NULL: the address is not known, not counted
    p_per_address integer,
    p_skip_locked boolean
) RETURNS TABLE (
    outcome text,           -- 'held' (a seat held, every column), 'skipped' or 'taken' (id only),
                            -- 'limit' or 'no_user' (one row, no seat)
    id bigint,
    event_id bigint,
    label varchar,
    "row" varchar,
    number integer,
    section varchar,
    category varchar,
    accessible boolean,
    x double precision,
    y double precision,
    price_cents bigint,
    status varchar,
    holder_id bigint,
    locked_until timestamp without time zone,
    order_id bigint
) LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
DECLARE
    block bigint[];
    free_ids bigint[];
    taken_ids bigint[];
    skipped_ids bigint[] := '{}';
    all_taken bigint[] := '{}';
    live integer;
    seat bigint;
BEGIN
    -- Every statement below takes its snapshot after this lock: the user's holds are counted exactly.
    PERFORM 1 FROM users WHERE users.id = p_user_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        outcome := 'no_user';
        RETURN NEXT;
        RETURN;
    END IF;
    FOR i IN 0 .. cardinality(p_blocks) / p_count - 1 LOOP
        block := p_blocks[i * p_count + 1 : (i + 1) * p_count];
        free_ids := '{}';
        taken_ids := '{}';
        BEGIN
            IF p_skip_locked THEN
                SELECT coalesce(array_agg(s.id) FILTER (WHERE s.free), '{}'),
                       coalesce(array_agg(s.id) FILTER (WHERE NOT s.free), '{}')
                  INTO free_ids, taken_ids
                  FROM (SELECT seats.id,
                               seats.status = 'available' OR (seats.status = 'locked'
                                   AND (seats.locked_until IS NULL OR seats.locked_until <= p_now)) AS free
                          FROM seats
                         WHERE seats.id = ANY (block) AND seats.event_id = p_event_id
                         ORDER BY seats.id
                           FOR UPDATE SKIP LOCKED) AS s;
            ELSE
                SELECT coalesce(array_agg(s.id) FILTER (WHERE s.free), '{}'),
                       coalesce(array_agg(s.id) FILTER (WHERE NOT s.free), '{}')
                  INTO free_ids, taken_ids
                  FROM (SELECT seats.id,
                               seats.status = 'available' OR (seats.status = 'locked'
                                   AND (seats.locked_until IS NULL OR seats.locked_until <= p_now)) AS free
                          FROM seats
                         WHERE seats.id = ANY (block) AND seats.event_id = p_event_id
                         ORDER BY seats.id
                           FOR UPDATE) AS s;
            END IF;
            IF cardinality(free_ids) = p_count THEN
                SELECT count(*) INTO live FROM seats
                 WHERE seats.holder_id = p_user_id AND seats.event_id = p_event_id
                   AND seats.status = 'locked' AND seats.locked_until IS NOT NULL AND seats.locked_until > p_now;
                IF live > p_per_user - p_count THEN
                    RAISE EXCEPTION USING ERRCODE = 'TKLIM';
                END IF;
                IF p_address IS NOT NULL THEN
                    SELECT count(*) INTO live FROM seats
                     WHERE seats.held_from = p_address AND seats.event_id = p_event_id
                       AND seats.status = 'locked' AND seats.locked_until IS NOT NULL
                       AND seats.locked_until > p_now;
                    IF live > p_per_address - p_count THEN
                        RAISE EXCEPTION USING ERRCODE = 'TKLIM';
                    END IF;
                END IF;
                RETURN QUERY
                UPDATE seats
                   SET status = 'locked', holder_id = p_user_id, locked_until = p_until, order_id = NULL,
                       held_from = p_address, changed_in = pg_current_xact_id()::text::bigint
                 WHERE seats.id = ANY (block)
                RETURNING 'held'::text, seats.id, seats.event_id, seats.label, seats.row, seats.number,
                          seats.section, seats.category, seats.accessible, seats.x, seats.y,
                          seats.price_cents, seats.status, seats.holder_id, seats.locked_until, seats.order_id;
                RETURN;
            END IF;
            RAISE EXCEPTION USING ERRCODE = 'TKNOT';  -- gives back the row locks taken for this block
        EXCEPTION
            WHEN SQLSTATE 'TKLIM' THEN
                outcome := 'limit';
                RETURN NEXT;
                RETURN;
            WHEN SQLSTATE 'TKNOT' THEN
                NULL;
        END;
        all_taken := all_taken || taken_ids;
        skipped_ids := skipped_ids || ARRAY(
            SELECT b FROM unnest(block) AS b WHERE NOT b = ANY (free_ids) AND NOT b = ANY (taken_ids)
        );
        -- A block wholly unavailable: the next candidate was chosen for that case. Part of it free:
        -- the caller must choose again, knowing which seats were not.
        EXIT WHEN cardinality(free_ids) > 0;
    END LOOP;
    FOREACH seat IN ARRAY all_taken LOOP
        outcome := 'taken';
        id := seat;
        RETURN NEXT;
    END LOOP;
    FOREACH seat IN ARRAY skipped_ids LOOP
        outcome := 'skipped';
        id := seat;
        RETURN NEXT;
    END LOOP;
END;
$$
"""


def upgrade():
    op.create_table(
        "event_geometries",
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("geometry", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("event_id"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(HOLD_FUNCTION)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "DROP FUNCTION best_available_hold(bigint, bigint, bigint[], integer, timestamp without time zone, "
            "timestamp without time zone, integer, varchar, integer, boolean)"
        )
    op.drop_table("event_geometries")
