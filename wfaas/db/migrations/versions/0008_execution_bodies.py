"""execution bodies: spec and input of an execution out of its header row

Revision ID: 0008_bodies
Revises: 0007_task_pages
Create Date: 2026-12-04 12:45:00

Every engine step updates its execution's ``workflow_executions`` row (version,
``engine_state``, ...). SQLite rewrites a whole record on an UPDATE, overflow pages
included, so a 300 KB input was written again by every step. The large columns that
only the start writes (the definition text and the input) move to ``execution_bodies``, one row
per execution with the same id (deleted with it). The upgrade copies them; the
downgrade copies them back.
"""
from alembic import op
import sqlalchemy as sa


revision = '0008_bodies'
down_revision = '0007_task_pages'
branch_labels = None
depends_on = None

COLUMNS = ('spec', 'input')


def _drop_columns() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        # native DROP COLUMN (SQLite >= 3.35): a batch would recreate the table, and
        # dropping the old one with foreign keys on would cascade to the tasks
        for name in COLUMNS:
            op.execute(f'ALTER TABLE workflow_executions DROP COLUMN {name}')
        return
    for name in COLUMNS:
        op.drop_column('workflow_executions', name)


def upgrade() -> None:
    op.create_table(
        'execution_bodies',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('spec', sa.Text(), nullable=False),
        sa.Column('input', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['id'], ['workflow_executions.id'],
                                name=op.f('fk_execution_bodies_id_workflow_executions'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_execution_bodies')),
    )
    op.execute('INSERT INTO execution_bodies (id, spec, input) '
               'SELECT id, spec, input FROM workflow_executions')
    _drop_columns()


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == 'sqlite'
    for name in COLUMNS:
        column = sa.Column(name, sa.Text(), nullable=name != 'spec',
                           server_default='' if name == 'spec' else None)
        if sqlite:
            op.execute(f'ALTER TABLE workflow_executions ADD COLUMN {name} TEXT'
                       + (" NOT NULL DEFAULT ''" if name == 'spec' else ''))
        else:
            op.add_column('workflow_executions', column)
    for name in COLUMNS:
        op.execute(f'UPDATE workflow_executions SET {name} = (SELECT b.{name} FROM '
                   f'execution_bodies b WHERE b.id = workflow_executions.id)'
                   + (f" WHERE id IN (SELECT id FROM execution_bodies)"
                      if name == 'spec' else ''))
    op.drop_table('execution_bodies')
