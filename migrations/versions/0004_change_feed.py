"""change feed: one version row per event, and the version that last changed each seat

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 00:20:00

One counter row per event (instead of 8 shards) hands versions out in commit order, which the
change feed's cursor needs; `seats.changed_in` records the version that last changed each seat.
The sum of an event's shards carries over, so seat-map ETags stay valid across the upgrade.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

_SHARDS_BEFORE = 8


def _recreate_versions(primary_key):
    op.drop_table('event_versions')
    columns = [
        sa.Column('event_id', sa.BigInteger(), nullable=False),
        sa.Column('version', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_event_versions_event_id_events'), ondelete='CASCADE'),
    ]
    if primary_key == ['event_id', 'shard']:
        columns.insert(1, sa.Column('shard', sa.SmallInteger(), nullable=False))
    return op.create_table('event_versions', *columns, sa.PrimaryKeyConstraint(*primary_key, name=op.f('pk_event_versions')))


def upgrade():
    connection = op.get_bind()
    totals = connection.execute(
        sa.text("SELECT event_id, SUM(version) FROM event_versions GROUP BY event_id")
    ).all()
    table = _recreate_versions(['event_id'])
    if totals:
        op.bulk_insert(table, [{'event_id': event_id, 'version': int(total)} for event_id, total in totals])

    op.add_column('seats', sa.Column('changed_in', sa.BigInteger(), server_default='0', nullable=False))
    op.create_index('ix_seats_event_id_changed_in', 'seats', ['event_id', 'changed_in'], unique=False)


def downgrade():
    op.drop_index('ix_seats_event_id_changed_in', table_name='seats')
    with op.batch_alter_table('seats', schema=None) as batch_op:
        batch_op.drop_column('changed_in')

    connection = op.get_bind()
    totals = connection.execute(sa.text("SELECT event_id, version FROM event_versions")).all()
    table = _recreate_versions(['event_id', 'shard'])
    rows = [
        {'event_id': event_id, 'shard': shard, 'version': int(total) if shard == 0 else 0}
        for event_id, total in totals
        for shard in range(_SHARDS_BEFORE)
    ]
    if rows:
        op.bulk_insert(table, rows)
