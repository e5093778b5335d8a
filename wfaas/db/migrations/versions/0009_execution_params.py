"""execution params: ``params`` (with ``env``) out of the header row into the body row

Revision ID: 0009_params
Revises: 0008_bodies
Create Date: 2026-12-04 15:20:00

``params`` holds the execution's environment (``params.env``), which can be large (an
environment of hundreds of KB). In the header row it was rewritten by every engine step
on SQLite (a whole record is rewritten on any UPDATE, overflow pages included). It
joins ``spec`` and ``input`` in ``execution_bodies``, which only the start, the first
step (when normalising changed them) and a resume or rerun with an env update write.
The upgrade copies the values; the downgrade copies them back.
"""
from alembic import op
import sqlalchemy as sa


revision = '0009_params'
down_revision = '0008_bodies'
branch_labels = None
depends_on = None


def _move(source: str, target: str) -> None:
    """Add ``params`` to ``target``, copy it from ``source`` (same ids), drop it there."""
    if op.get_bind().dialect.name == 'sqlite':
        # native ADD/DROP COLUMN: a batch would recreate the table, and dropping the
        # old workflow_executions with foreign keys on would cascade to the tasks
        op.execute(f'ALTER TABLE {target} ADD COLUMN params TEXT')
    else:
        op.add_column(target, sa.Column('params', sa.Text(), nullable=True))
    op.execute(f'UPDATE {target} SET params = (SELECT s.params FROM {source} s '
               f'WHERE s.id = {target}.id)')
    if op.get_bind().dialect.name == 'sqlite':
        op.execute(f'ALTER TABLE {source} DROP COLUMN params')
    else:
        op.drop_column(source, 'params')


def upgrade() -> None:
    _move('workflow_executions', 'execution_bodies')


def downgrade() -> None:
    _move('execution_bodies', 'workflow_executions')
