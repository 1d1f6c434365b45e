# Copyright (c) 2026 orionx-cyborg developers
#
# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.

"""Leases may wait for a partner: the state ``awaiting-partner``.

The pairing hold keeps some leases back outside the FIFO queue; the
state check of ``leases`` gains the value. The downgrade queues such
leases (``pending``, keeping their ``seq``) before the check loses it.

Revision ID: d4a7c2e91b53
Revises: c81f4e2a9d60
Create Date: 2026-12-05 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = 'd4a7c2e91b53'
down_revision: str | Sequence[str] | None = 'c81f4e2a9d60'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the values of this revision and of the one before.
BEFORE = ('pending', 'claiming', 'active', 'moving', 'releasing')
AFTER = BEFORE + ('awaiting-partner',)


def _timestamp() -> sa.DateTime:
    # UTC; MySQL needs fsp=6 to keep microseconds.
    return sa.DateTime(timezone=True).with_variant(
        mysql.DATETIME(fsp=6), 'mysql'
    )


def _leases(states: Sequence[str]) -> sa.Table:
    """``leases`` as the revision before left it, with *states* checked.

    SQLite cannot alter a CHECK constraint in place, so the batch copies
    the table; it copies this definition rather than reflecting one,
    which also lets ``upgrade --sql`` write the script offline.
    """
    return sa.Table(
        'leases',
        sa.MetaData(),
        sa.Column('id', sa.String(36), nullable=False),
        sa.Column('arq_uuid', sa.String(36), nullable=False),
        sa.Column('instance_uuid', sa.String(36), nullable=False),
        sa.Column('project_id', sa.String(255), nullable=False),
        sa.Column('user_id', sa.String(255), nullable=True),
        sa.Column('vm_host', sa.String(255), nullable=False),
        sa.Column('pool', sa.String(255), nullable=False),
        sa.Column('state', sa.String(16), nullable=False),
        sa.Column('seq', sa.BigInteger(), nullable=False),
        sa.Column('gmem_mib', sa.Integer(), nullable=False),
        sa.Column('compute_pct', sa.Integer(), nullable=False),
        sa.Column('gpu_host', sa.String(255), nullable=True),
        sa.Column('gpu_uuid', sa.String(64), nullable=True),
        sa.Column('gpu_pci_address', sa.String(32), nullable=True),
        sa.Column('memory_rp_uuid', sa.String(36), nullable=True),
        sa.Column('compute_rp_uuid', sa.String(36), nullable=True),
        sa.Column('created_at', _timestamp(), nullable=False),
        sa.Column('updated_at', _timestamp(), nullable=False),
        sa.Column('placed_at', _timestamp(), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('gpu_constraint', sa.Text(), nullable=True),
        sa.Column('runtime', sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint('id', name='pk_leases'),
        sa.UniqueConstraint('arq_uuid', name='uq_leases_arq_uuid'),
        sa.UniqueConstraint('seq', name='uq_leases_seq'),
        sa.CheckConstraint(_check(states), name='ck_leases_lease_state'),
        sa.CheckConstraint('gmem_mib > 0', name='ck_leases_gmem_mib_positive'),
        sa.CheckConstraint(
            'compute_pct > 0', name='ck_leases_compute_pct_positive'
        ),
        sa.Index('ix_leases_instance_uuid', 'instance_uuid'),
        sa.Index('ix_leases_project_id', 'project_id'),
        sa.Index('ix_leases_vm_host', 'vm_host'),
        sa.Index('ix_leases_gpu_uuid', 'gpu_uuid'),
        sa.Index('ix_leases_pool_state_seq', 'pool', 'state', 'seq'),
    )


def _check(states: Sequence[str]) -> str:
    return 'state IN (%s)' % ', '.join("'%s'" % s for s in states)


def _replace_check(old: Sequence[str], new: Sequence[str]) -> None:
    with op.batch_alter_table('leases', copy_from=_leases(old)) as batch:
        batch.drop_constraint(op.f('ck_leases_lease_state'), type_='check')
        batch.create_check_constraint(
            op.f('ck_leases_lease_state'),
            sa.text(_check(new)),
        )


def upgrade() -> None:
    _replace_check(BEFORE, AFTER)


def downgrade() -> None:
    op.execute(
        "UPDATE leases SET state = 'pending' WHERE state = 'awaiting-partner'"
    )
    _replace_check(AFTER, BEFORE)
