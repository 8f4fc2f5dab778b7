"""organizations and roles, venues with layouts, events from draft to on sale, seat sections and blocked

Seats gain their section, category, accessibility and drawing position, and the status `blocked`.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 10:00:00

Existing events keep selling: their status starts as `on_sale` (they were made by seed-seats) and
they belong to no organization. New columns on `events` and `seats` are added in place, never by
batch mode's copy-and-drop on SQLite: dropping the old `events` or `seats` table would cascade into
the seats, orders and tickets that reference it. So on SQLite `events.organization_id` and
`events.venue_id` come without their foreign keys (SQLite can only add one by rebuilding the table,
and could not drop such a column again); the services set them only from rows they have read.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def _is_sqlite():
    return op.get_bind().dialect.name == 'sqlite'


def _add_reference(table, column, target, ondelete):
    """A nullable BIGINT column referencing `target`.id (on SQLite, without the foreign key)."""
    op.add_column(table, sa.Column(column, sa.BigInteger(), nullable=True))
    if not _is_sqlite():
        op.create_foreign_key(f'fk_{table}_{column}_{target}', table, target, [column], ['id'], ondelete=ondelete)


def upgrade():
    op.create_table(
        'organizations',
        sa.Column('id', BIG_ID, nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_organizations')),
    )
    op.create_table(
        'memberships',
        sa.Column('organization_id', sa.BigInteger(), nullable=False),
        sa.Column('user_id', sa.BigInteger(), nullable=False),
        sa.Column('role', sa.String(length=10), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ['organization_id'], ['organizations.id'],
            name=op.f('fk_memberships_organization_id_organizations'), ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_memberships_user_id_users'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('organization_id', 'user_id', name=op.f('pk_memberships')),
    )
    op.create_index('ix_memberships_user_id', 'memberships', ['user_id'], unique=False)
    op.create_table(
        'venues',
        sa.Column('id', BIG_ID, nullable=False),
        sa.Column('organization_id', sa.BigInteger(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('layout', sa.JSON(), nullable=False),
        sa.Column('seat_count', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ['organization_id'], ['organizations.id'],
            name=op.f('fk_venues_organization_id_organizations'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_venues')),
    )
    op.create_index(op.f('ix_venues_organization_id'), 'venues', ['organization_id'], unique=False)

    _add_reference('events', 'organization_id', 'organizations', 'CASCADE')
    _add_reference('events', 'venue_id', 'venues', 'SET NULL')
    op.create_index(op.f('ix_events_organization_id'), 'events', ['organization_id'], unique=False)
    op.add_column('events', sa.Column('status', sa.String(length=12), server_default='on_sale', nullable=False))
    op.add_column('events', sa.Column('sales_start', sa.DateTime(), nullable=True))
    op.add_column('events', sa.Column('sales_end', sa.DateTime(), nullable=True))
    op.add_column('events', sa.Column('no_orphan_seats', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('events', sa.Column('buyer_refunds_until', sa.DateTime(), nullable=True))
    op.create_table(
        'event_categories',
        sa.Column('event_id', sa.BigInteger(), nullable=False),
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('price_cents', sa.BigInteger(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['event_id'], ['events.id'], name=op.f('fk_event_categories_event_id_events'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('event_id', 'name', name=op.f('pk_event_categories')),
    )

    op.add_column('seats', sa.Column('section', sa.String(length=40), server_default='', nullable=False))
    op.add_column('seats', sa.Column('category', sa.String(length=40), nullable=True))
    op.add_column('seats', sa.Column('accessible', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('seats', sa.Column('x', sa.Float(), nullable=True))
    op.add_column('seats', sa.Column('y', sa.Float(), nullable=True))
    # Labels gain the section's name ("Balcony B12"). SQLite does not enforce VARCHAR lengths.
    if not _is_sqlite():
        op.alter_column('seats', 'label', type_=sa.String(length=80), existing_nullable=False)


def downgrade():
    if not _is_sqlite():
        op.alter_column('seats', 'label', type_=sa.String(length=20), existing_nullable=False)
    for column in ('y', 'x', 'accessible', 'category', 'section'):
        op.drop_column('seats', column)
    op.drop_table('event_categories')
    op.drop_index(op.f('ix_events_organization_id'), table_name='events')
    if not _is_sqlite():
        op.drop_constraint('fk_events_venue_id_venues', 'events', type_='foreignkey')
        op.drop_constraint('fk_events_organization_id_organizations', 'events', type_='foreignkey')
    for column in ('buyer_refunds_until', 'no_orphan_seats', 'sales_end', 'sales_start', 'status', 'venue_id',
                   'organization_id'):
        op.drop_column('events', column)
    op.drop_index(op.f('ix_venues_organization_id'), table_name='venues')
    op.drop_table('venues')
    op.drop_index('ix_memberships_user_id', table_name='memberships')
    op.drop_table('memberships')
    op.drop_table('organizations')
