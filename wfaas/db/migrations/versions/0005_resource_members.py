"""resource members: workflows shared with other projects

Revision ID: 0004_members
Revises: 0003_security
Create Date: 2026-12-03 18:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0004_members'
down_revision = '0004_engines'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'resource_members',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('resource_id', sa.String(length=80), nullable=False),
        sa.Column('resource_type', sa.String(length=50), nullable=False),
        sa.Column('project_id', sa.String(length=80), nullable=False,
                  server_default='<default-project>'),
        sa.Column('member_id', sa.String(length=80), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_resource_members')),
        sa.UniqueConstraint('resource_id', 'resource_type', 'member_id',
                            name=op.f('uq_resource_members_resource_id_resource_type_member_id')),
    )
    op.create_index(op.f('ix_resource_members_member_id_resource_type_status'),
                    'resource_members', ['member_id', 'resource_type', 'status'])


def downgrade() -> None:
    op.drop_index(op.f('ix_resource_members_member_id_resource_type_status'),
                  table_name='resource_members')
    op.drop_table('resource_members')
