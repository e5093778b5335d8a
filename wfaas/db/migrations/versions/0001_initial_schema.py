"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-27 02:13:59.255172
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    
    op.create_table('action_definitions',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('namespace', sa.String(length=255), server_default='', nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('input', sa.Text(), server_default='', nullable=False),
    sa.Column('params_schema', sa.Text(), nullable=True),
    sa.Column('is_system', sa.Boolean(), nullable=False),
    sa.Column('tags', sa.Text(), nullable=True),
    sa.Column('definition', sa.Text(), nullable=True),
    sa.Column('source', sa.String(length=255), nullable=False),
    sa.Column('scope', sa.String(length=16), server_default='public', nullable=False),
    sa.Column('project_id', sa.String(length=80), server_default='<default-project>', nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_action_definitions')),
    sa.UniqueConstraint('name', 'namespace', 'project_id', name=op.f('uq_action_definitions_name_namespace_project_id'))
    )
    with op.batch_alter_table('action_definitions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_action_definitions_name_namespace'), ['name', 'namespace'], unique=False)

    op.create_table('action_executions',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('namespace', sa.String(length=255), server_default='', nullable=False),
    sa.Column('description', sa.Text(), server_default='', nullable=False),
    sa.Column('task_execution_id', sa.String(length=36), nullable=True),
    sa.Column('task_name', sa.String(length=255), nullable=True),
    sa.Column('workflow_execution_id', sa.String(length=36), nullable=True),
    sa.Column('workflow_name', sa.String(length=255), nullable=True),
    sa.Column('workflow_namespace', sa.String(length=255), nullable=True),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('state_info', sa.Text(), nullable=True),
    sa.Column('accepted', sa.Boolean(), nullable=False),
    sa.Column('input', sa.Text(), nullable=True),
    sa.Column('output', sa.Text(), nullable=True),
    sa.Column('params', sa.Text(), nullable=True),
    sa.Column('runtime_context', sa.Text(), nullable=True),
    sa.Column('is_sync', sa.Boolean(), nullable=False),
    sa.Column('tags', sa.Text(), nullable=True),
    sa.Column('project_id', sa.String(length=80), server_default='<default-project>', nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_action_executions'))
    )
    with op.batch_alter_table('action_executions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_action_executions_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_action_executions_task_execution_id'), ['task_execution_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_action_executions_workflow_execution_id'), ['workflow_execution_id'], unique=False)

    op.create_table('cron_triggers',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('pattern', sa.String(length=100), nullable=True),
    sa.Column('first_execution_time', sa.DateTime(), nullable=True),
    sa.Column('next_execution_time', sa.DateTime(), nullable=True),
    sa.Column('remaining_executions', sa.Integer(), nullable=True),
    sa.Column('workflow_name', sa.String(length=255), nullable=False),
    sa.Column('workflow_namespace', sa.String(length=255), server_default='', nullable=False),
    sa.Column('workflow_id', sa.String(length=36), nullable=True),
    sa.Column('workflow_input', sa.Text(), nullable=True),
    sa.Column('workflow_params', sa.Text(), nullable=True),
    sa.Column('scope', sa.String(length=16), server_default='private', nullable=False),
    sa.Column('project_id', sa.String(length=80), server_default='<default-project>', nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cron_triggers')),
    sa.UniqueConstraint('name', 'project_id', name=op.f('uq_cron_triggers_name_project_id'))
    )
    with op.batch_alter_table('cron_triggers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cron_triggers_next_execution_time'), ['next_execution_time'], unique=False)

    op.create_table('delayed_calls',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('due_at', sa.Float(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=True),
    sa.Column('execution_id', sa.String(length=36), nullable=True),
    sa.Column('claimed_by', sa.String(length=80), nullable=True),
    sa.Column('claimed_at', sa.Float(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delayed_calls')),
    sa.UniqueConstraint('key', name=op.f('uq_delayed_calls_key'))
    )
    with op.batch_alter_table('delayed_calls', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delayed_calls_claimed_by_due_at'), ['claimed_by', 'due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_delayed_calls_due_at'), ['due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_delayed_calls_execution_id'), ['execution_id'], unique=False)

    op.create_table('environments',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('variables', sa.Text(), nullable=True),
    sa.Column('scope', sa.String(length=16), server_default='private', nullable=False),
    sa.Column('project_id', sa.String(length=80), server_default='<default-project>', nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_environments')),
    sa.UniqueConstraint('name', 'project_id', name=op.f('uq_environments_name_project_id'))
    )
    op.create_table('event_triggers',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('workflow_id', sa.String(length=36), nullable=False),
    sa.Column('workflow_input', sa.Text(), nullable=True),
    sa.Column('workflow_params', sa.Text(), nullable=True),
    sa.Column('exchange', sa.String(length=255), nullable=False),
    sa.Column('topic', sa.String(length=255), nullable=False),
    sa.Column('event', sa.String(length=255), nullable=False),
    sa.Column('scope', sa.String(length=16), server_default='private', nullable=False),
    sa.Column('project_id', sa.String(length=80), server_default='<default-project>', nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_triggers')),
    sa.UniqueConstraint('exchange', 'topic', 'event', 'workflow_id', 'project_id', name=op.f('uq_event_triggers_exchange_topic_event_workflow_id_project_id'))
    )
    op.create_table('workbooks',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('namespace', sa.String(length=255), server_default='', nullable=False),
    sa.Column('definition', sa.Text(), nullable=False),
    sa.Column('checksum', sa.String(length=64), nullable=True),
    sa.Column('tags', sa.Text(), nullable=True),
    sa.Column('scope', sa.String(length=16), server_default='private', nullable=False),
    sa.Column('project_id', sa.String(length=80), server_default='<default-project>', nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_workbooks')),
    sa.UniqueConstraint('name', 'namespace', 'project_id', name=op.f('uq_workbooks_name_namespace_project_id'))
    )
    op.create_table('workflow_definitions',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('namespace', sa.String(length=255), server_default='', nullable=False),
    sa.Column('definition', sa.Text(), nullable=False),
    sa.Column('checksum', sa.String(length=64), nullable=True),
    sa.Column('input', sa.Text(), server_default='', nullable=False),
    sa.Column('tags', sa.Text(), nullable=True),
    sa.Column('workbook_name', sa.String(length=255), nullable=True),
    sa.Column('is_system', sa.Boolean(), nullable=False),
    sa.Column('scope', sa.String(length=16), server_default='private', nullable=False),
    sa.Column('project_id', sa.String(length=80), server_default='<default-project>', nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_workflow_definitions')),
    sa.UniqueConstraint('name', 'namespace', 'project_id', name=op.f('uq_workflow_definitions_name_namespace_project_id'))
    )
    with op.batch_alter_table('workflow_definitions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_workflow_definitions_name_namespace'), ['name', 'namespace'], unique=False)

    op.create_table('workflow_executions',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('workflow_name', sa.String(length=255), nullable=False),
    sa.Column('workflow_namespace', sa.String(length=255), server_default='', nullable=False),
    sa.Column('workflow_id', sa.String(length=36), nullable=True),
    sa.Column('description', sa.Text(), server_default='', nullable=False),
    sa.Column('spec', sa.Text(), nullable=False),
    sa.Column('params', sa.Text(), nullable=True),
    sa.Column('input', sa.Text(), nullable=True),
    sa.Column('output', sa.Text(), nullable=True),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('state_info', sa.Text(), nullable=True),
    sa.Column('tags', sa.Text(), nullable=True),
    sa.Column('root_execution_id', sa.String(length=36), nullable=True),
    sa.Column('parent_execution_id', sa.String(length=36), nullable=True),
    sa.Column('task_execution_id', sa.String(length=36), nullable=True),
    sa.Column('source_execution_id', sa.String(length=36), nullable=True),
    sa.Column('engine_state', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), server_default='0', nullable=False),
    sa.Column('project_id', sa.String(length=80), server_default='<default-project>', nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_workflow_executions'))
    )
    with op.batch_alter_table('workflow_executions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_workflow_executions_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_workflow_executions_root_execution_id'), ['root_execution_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_workflow_executions_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_workflow_executions_task_execution_id'), ['task_execution_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_workflow_executions_workflow_name_workflow_namespace'), ['workflow_name', 'workflow_namespace'], unique=False)

    op.create_table('task_executions',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('workflow_execution_id', sa.String(length=36), nullable=False),
    sa.Column('workflow_name', sa.String(length=255), nullable=False),
    sa.Column('workflow_namespace', sa.String(length=255), server_default='', nullable=False),
    sa.Column('workflow_id', sa.String(length=36), nullable=True),
    sa.Column('type', sa.String(length=10), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('state_info', sa.Text(), nullable=True),
    sa.Column('published', sa.Text(), nullable=True),
    sa.Column('published_global', sa.Text(), nullable=True),
    sa.Column('result', sa.Text(), nullable=True),
    sa.Column('runtime_context', sa.Text(), nullable=True),
    sa.Column('engine_state', sa.Text(), nullable=True),
    sa.Column('processed', sa.Boolean(), nullable=False),
    sa.Column('has_next_tasks', sa.Boolean(), nullable=False),
    sa.Column('error_handled', sa.Boolean(), nullable=False),
    sa.Column('tags', sa.Text(), nullable=True),
    sa.Column('project_id', sa.String(length=80), server_default='<default-project>', nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['workflow_execution_id'], ['workflow_executions.id'], name=op.f('fk_task_executions_workflow_execution_id_workflow_executions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task_executions'))
    )
    with op.batch_alter_table('task_executions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_task_executions_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_task_executions_workflow_execution_id'), ['workflow_execution_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_task_executions_workflow_execution_id_name'), ['workflow_execution_id', 'name'], unique=False)




def downgrade() -> None:
    
    with op.batch_alter_table('task_executions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_task_executions_workflow_execution_id_name'))
        batch_op.drop_index(batch_op.f('ix_task_executions_workflow_execution_id'))
        batch_op.drop_index(batch_op.f('ix_task_executions_state'))

    op.drop_table('task_executions')
    with op.batch_alter_table('workflow_executions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_workflow_executions_workflow_name_workflow_namespace'))
        batch_op.drop_index(batch_op.f('ix_workflow_executions_task_execution_id'))
        batch_op.drop_index(batch_op.f('ix_workflow_executions_state'))
        batch_op.drop_index(batch_op.f('ix_workflow_executions_root_execution_id'))
        batch_op.drop_index(batch_op.f('ix_workflow_executions_created_at'))

    op.drop_table('workflow_executions')
    with op.batch_alter_table('workflow_definitions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_workflow_definitions_name_namespace'))

    op.drop_table('workflow_definitions')
    op.drop_table('workbooks')
    op.drop_table('event_triggers')
    op.drop_table('environments')
    with op.batch_alter_table('delayed_calls', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delayed_calls_execution_id'))
        batch_op.drop_index(batch_op.f('ix_delayed_calls_due_at'))
        batch_op.drop_index(batch_op.f('ix_delayed_calls_claimed_by_due_at'))

    op.drop_table('delayed_calls')
    with op.batch_alter_table('cron_triggers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cron_triggers_next_execution_time'))

    op.drop_table('cron_triggers')
    with op.batch_alter_table('action_executions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_action_executions_workflow_execution_id'))
        batch_op.drop_index(batch_op.f('ix_action_executions_task_execution_id'))
        batch_op.drop_index(batch_op.f('ix_action_executions_state'))

    op.drop_table('action_executions')
    with op.batch_alter_table('action_definitions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_action_definitions_name_namespace'))

    op.drop_table('action_definitions')

