"""holds per client address: seats remember the address a hold came from

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 02:00:00

`seats.held_from` is the client address of the request that took the hold (or put the seat in an
order), so live holds can be counted per address and event (MAX_HOLDS_PER_ADDRESS).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('seats', sa.Column('held_from', sa.String(length=64), nullable=True))
    op.create_index('ix_seats_held_from_event_id', 'seats', ['held_from', 'event_id'], unique=False)


def downgrade():
    op.drop_index('ix_seats_held_from_event_id', table_name='seats')
    with op.batch_alter_table('seats') as batch_op:
        batch_op.drop_column('held_from')
