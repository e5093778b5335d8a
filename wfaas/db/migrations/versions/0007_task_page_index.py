"""task pages: an index on (workflow_execution_id, created_at, id)

Revision ID: 0007_task_pages
Revises: 0006_context
Create Date: 2026-12-04 00:00:00

The tasks of one execution are listed in ``created_at`` order with a keyset marker;
without this index SQLite sorted all of the execution's tasks for every page.
"""
from alembic import op


revision = '0007_task_pages'
down_revision = '0006_context'
branch_labels = None
depends_on = None

NAME = 'ix_task_executions_workflow_execution_id_created_at_id'


def upgrade() -> None:
    with op.batch_alter_table('task_executions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f(NAME), ['workflow_execution_id', 'created_at', 'id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('task_executions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f(NAME))
