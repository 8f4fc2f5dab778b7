"""check-ins: every scan at an event's door; tickets' status (valid or void)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22 04:30:00

`checkins` records every scan, refused ones too, with the answer it got; the unique
(event_id, code, nonce) makes a door's retry idempotent. `tickets.status` (valid / void) is added
only where it is missing, since refunds add the same column: whichever migration runs first adds it
(in place, never by batch mode's copy-and-drop on SQLite, which would cascade into the check-ins).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def _ticket_columns():
    return {column['name'] for column in sa.inspect(op.get_bind()).get_columns('tickets')}


def upgrade():
    if 'status' not in _ticket_columns():
        op.add_column('tickets', sa.Column('status', sa.String(length=10), server_default='valid', nullable=False))
    op.create_table(
        'checkins',
        sa.Column('id', BIG_ID, nullable=False),
        sa.Column('event_id', sa.BigInteger(), nullable=False),
        sa.Column('ticket_id', sa.BigInteger(), nullable=True),
        sa.Column('code', sa.String(length=200), nullable=False),
        sa.Column('nonce', sa.String(length=64), nullable=False),
        sa.Column('type', sa.String(length=5), nullable=False),
        sa.Column('result', sa.String(length=20), nullable=False),
        sa.Column('gate', sa.String(length=40), nullable=False),
        sa.Column('forced', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column('scanned_at', sa.DateTime(), nullable=False),
        sa.Column('recorded_at', sa.DateTime(), nullable=False),
        sa.Column('user_id', sa.BigInteger(), nullable=True),
        sa.Column('answer_status', sa.BigInteger(), nullable=False),
        sa.Column('answer', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_checkins_event_id_events'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(
            ['ticket_id'], ['tickets.id'], name=op.f('fk_checkins_ticket_id_tickets'), ondelete='SET NULL'
        ),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_checkins_user_id_users'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_checkins')),
        sa.UniqueConstraint('event_id', 'code', 'nonce', name=op.f('uq_checkins_event_id_code_nonce')),
    )
    op.create_index('ix_checkins_ticket_id_id', 'checkins', ['ticket_id', 'id'], unique=False)
    op.create_index('ix_checkins_event_id_id', 'checkins', ['event_id', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_checkins_event_id_id', table_name='checkins')
    op.drop_index('ix_checkins_ticket_id_id', table_name='checkins')
    op.drop_table('checkins')
    # tickets.status stays: refunds' migration may own it, and dropping a column on SQLite would
    # mean rebuilding the table.
