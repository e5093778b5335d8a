"""execution contexts: the global context of an execution out of its row

Revision ID: 0006_context
Revises: 0004_members
Create Date: 2026-12-03 23:00:00

The global context (vars, global publishes, ``__execution``) gets a table of its own,
written only when it changes; ``engine_state`` (rewritten by every engine step) no
longer carries it. Existing rows need no copy: an execution without a context row
keeps its context in ``engine_state``, where the engine reads it and from where it
moves it on its next step. The downgrade puts the contexts back into engine_state.
"""
import json

from alembic import op
import sqlalchemy as sa


revision = '0006_context'
down_revision = '0004_members'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'execution_contexts',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('context', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['id'], ['workflow_executions.id'],
                                name=op.f('fk_execution_contexts_id_workflow_executions'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_execution_contexts')),
    )


def downgrade() -> None:
    conn = op.get_bind()
    executions = sa.table('workflow_executions', sa.column('id', sa.String),
                          sa.column('engine_state', sa.Text))
    contexts = sa.table('execution_contexts', sa.column('id', sa.String),
                        sa.column('context', sa.Text))
    rows = conn.execute(sa.select(executions.c.id, executions.c.engine_state,
                                  contexts.c.context)
                        .join(contexts, contexts.c.id == executions.c.id)).all()
    for ex_id, engine_state, context in rows:
        state = json.loads(engine_state) if engine_state else {}
        state['context'] = json.loads(context) if context else {}
        conn.execute(executions.update().where(executions.c.id == ex_id)
                     .values(engine_state=json.dumps(state)))
    op.drop_table('execution_contexts')
