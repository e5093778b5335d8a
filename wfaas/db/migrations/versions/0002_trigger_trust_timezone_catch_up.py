"""trigger columns: cron_triggers.trust_id/timezone/catch_up, event_triggers.trust_id

Revision ID: 0002_triggers
Revises: 0001
Create Date: 2026-11-27 02:45:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0002_triggers'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cron_triggers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('trust_id', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('timezone', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('catch_up', sa.Boolean(), server_default='0',
                                      nullable=False))
    with op.batch_alter_table('event_triggers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('trust_id', sa.String(length=80), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('event_triggers', schema=None) as batch_op:
        batch_op.drop_column('trust_id')
    with op.batch_alter_table('cron_triggers', schema=None) as batch_op:
        batch_op.drop_column('catch_up')
        batch_op.drop_column('timezone')
        batch_op.drop_column('trust_id')
