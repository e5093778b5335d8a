"""security context of workflow and action executions

Revision ID: 0003_security
Revises: 0002_triggers
Create Date: 2026-11-27 03:05:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0003_security'
down_revision = '0002_triggers'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('workflow_executions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('security', sa.Text(), nullable=True))
    with op.batch_alter_table('action_executions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('security', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('action_executions', schema=None) as batch_op:
        batch_op.drop_column('security')
    with op.batch_alter_table('workflow_executions', schema=None) as batch_op:
        batch_op.drop_column('security')
