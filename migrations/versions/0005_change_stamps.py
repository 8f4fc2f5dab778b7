"""change stamps: seats carry their writer's stamp; no per-event counter row

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 01:30:00

`event_versions` made every seat change of an event queue on one row until COMMIT. Seats now record
the writing transaction's stamp in `changed_in` (PostgreSQL: the transaction id; SQLite: the one-row
`change_clock`, bumped at COMMIT), and readers cut at their snapshot. Earlier stamps were per-event
counters that mean nothing in the new scheme, so they are reset to 0: a follower holding an old cursor
gets `400` (if its cursor is above the new one) or the changes from then on, and reloads the map.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'change_clock',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('value', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_change_clock')),
    )
    op.bulk_insert(sa.table('change_clock', sa.column('id'), sa.column('value')), [{'id': 1, 'value': 0}])
    op.execute("UPDATE seats SET changed_in = 0")
    op.drop_table('event_versions')


def downgrade():
    op.create_table(
        'event_versions',
        sa.Column('event_id', sa.BigInteger(), nullable=False),
        sa.Column('version', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_event_versions_event_id_events'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('event_id', name=op.f('pk_event_versions')),
    )
    op.execute("INSERT INTO event_versions (event_id, version) SELECT id, 0 FROM events")
    op.execute("UPDATE seats SET changed_in = 0")
    op.drop_table('change_clock')
