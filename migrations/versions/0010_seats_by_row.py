"""seats by row: an index on (event_id, section, row, number)

Best available reads the free seats of the rows nearest the focal point (services.best_available),
and the orphan rule of orders the seats around an order's seats in the rows it touches
(services.orphans); without this index both reads scan every seat of the event.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-22 04:30:00
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_seats_event_id_section_row_number', 'seats', ['event_id', 'section', 'row', 'number'])


def downgrade():
    op.drop_index('ix_seats_event_id_section_row_number', table_name='seats')
