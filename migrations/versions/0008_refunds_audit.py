"""refunds and the audit log; void tickets; refunded money on orders

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 10:00:00

Tickets gain `status` (valid / void), `voided_at` and `refund_id`. The one-ticket-per-seat rule
becomes one *valid* ticket per seat (a partial unique index), so a refunded seat can be sold again
while its void ticket stays on record. On SQLite dropping the old unique constraint rebuilds the
`tickets` table (batch mode); nothing references `tickets`, so nothing cascades.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
VALID_ONLY = sa.text("status = 'valid'")


def upgrade():
    op.create_table(
        'refunds',
        sa.Column('id', BIG_ID, nullable=False),
        sa.Column('order_id', sa.BigInteger(), nullable=False),
        sa.Column('event_id', sa.BigInteger(), nullable=False),
        sa.Column('requested_by', sa.BigInteger(), nullable=True),
        sa.Column('idempotency_key', sa.String(length=255), nullable=True),
        sa.Column('ticket_ids', sa.JSON(), nullable=False),
        sa.Column('amount_cents', sa.BigInteger(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('reason', sa.String(length=200), nullable=True),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('charge_id', sa.String(length=255), nullable=True),
        sa.Column('message', sa.String(length=255), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_refunds_order_id_orders'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_refunds_event_id_events'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_refunds')),
        sa.UniqueConstraint('order_id', 'idempotency_key', name=op.f('uq_refunds_order_id_idempotency_key')),
    )
    op.create_index(op.f('ix_refunds_order_id'), 'refunds', ['order_id'], unique=False)
    op.create_index(op.f('ix_refunds_event_id'), 'refunds', ['event_id'], unique=False)
    op.create_index('ix_refunds_status_updated_at', 'refunds', ['status', 'updated_at'], unique=False)

    op.create_table(
        'audit_entries',
        sa.Column('id', BIG_ID, nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('user_id', sa.BigInteger(), nullable=True),
        sa.Column('organization_id', sa.BigInteger(), nullable=True),
        sa.Column('event_id', sa.BigInteger(), nullable=True),
        sa.Column('action', sa.String(length=40), nullable=False),
        sa.Column('details', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ['organization_id'], ['organizations.id'],
            name=op.f('fk_audit_entries_organization_id_organizations'), ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['event_id'], ['events.id'], name=op.f('fk_audit_entries_event_id_events'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entries')),
    )
    op.create_index('ix_audit_entries_event_id_id', 'audit_entries', ['event_id', 'id'], unique=False)
    op.create_index('ix_audit_entries_organization_id_id', 'audit_entries', ['organization_id', 'id'], unique=False)

    op.add_column('orders', sa.Column('refunded_cents', sa.BigInteger(), server_default='0', nullable=False))
    op.create_index('ix_orders_event_id_id', 'orders', ['event_id', 'id'], unique=False)

    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=10), server_default='valid', nullable=False))
        batch_op.add_column(sa.Column('voided_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('refund_id', sa.BigInteger(), nullable=True))
        batch_op.drop_constraint('uq_tickets_seat_id', type_='unique')
    op.create_index('ix_tickets_seat_id', 'tickets', ['seat_id'], unique=False)
    op.create_index(
        'uq_tickets_valid_seat_id', 'tickets', ['seat_id'], unique=True,
        postgresql_where=VALID_ONLY, sqlite_where=VALID_ONLY,
    )


def downgrade():
    op.drop_index('uq_tickets_valid_seat_id', table_name='tickets')
    op.drop_index('ix_tickets_seat_id', table_name='tickets')
    op.execute("DELETE FROM tickets WHERE status <> 'valid'")
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_tickets_seat_id', ['seat_id'])
        batch_op.drop_column('refund_id')
        batch_op.drop_column('voided_at')
        batch_op.drop_column('status')
    op.drop_index('ix_orders_event_id_id', table_name='orders')
    op.drop_column('orders', 'refunded_cents')
    op.drop_index('ix_audit_entries_organization_id_id', table_name='audit_entries')
    op.drop_index('ix_audit_entries_event_id_id', table_name='audit_entries')
    op.drop_table('audit_entries')
    op.drop_index('ix_refunds_status_updated_at', table_name='refunds')
    op.drop_index(op.f('ix_refunds_event_id'), table_name='refunds')
    op.drop_index(op.f('ix_refunds_order_id'), table_name='refunds')
    op.drop_table('refunds')
