"""event versions for seat map ETags

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-20 23:27:41.565585

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():

    op.create_table('event_versions',
    sa.Column('event_id', sa.BigInteger(), nullable=False),
    sa.Column('shard', sa.SmallInteger(), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_event_versions_event_id_events'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('event_id', 'shard', name=op.f('pk_event_versions'))
    )
    with op.batch_alter_table('seats', schema=None) as batch_op:
        batch_op.create_index('ix_seats_event_id_locked_until_locked', ['event_id', 'locked_until'], unique=False, postgresql_where=sa.text("status = 'locked'"), sqlite_where=sa.text("status = 'locked'"))

    # Every existing event gets its counter rows (8, as ticketing.models.version.VERSION_SHARDS).
    connection = op.get_bind()
    event_ids = connection.execute(sa.text("SELECT id FROM events")).scalars().all()
    rows = [{"event_id": event_id, "shard": shard, "version": 0} for event_id in event_ids for shard in range(8)]
    if rows:
        connection.execute(
            sa.text("INSERT INTO event_versions (event_id, shard, version) VALUES (:event_id, :shard, :version)"), rows
        )


def downgrade():

    with op.batch_alter_table('seats', schema=None) as batch_op:
        batch_op.drop_index('ix_seats_event_id_locked_until_locked', postgresql_where=sa.text("status = 'locked'"), sqlite_where=sa.text("status = 'locked'"))

    op.drop_table('event_versions')

