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

"""Create the lease ledger: leases, lease_events, ledger_counters.

Every constraint and index is named, in op.f(): the names are final and
do not go through the naming convention of the models a second time.

Revision ID: a5d3e1c07b42
Revises:
Create Date: 2026-12-01 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = 'a5d3e1c07b42'
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the values of this revision: later changes to the
# models must come with a revision of their own.
LEASE_STATES = ('pending', 'claiming', 'active', 'moving', 'releasing')


def _timestamp() -> sa.DateTime:
    # UTC; MySQL needs fsp=6 to keep microseconds.
    return sa.DateTime(timezone=True).with_variant(
        mysql.DATETIME(fsp=6), 'mysql'
    )


def upgrade() -> None:
    _create_leases()
    _create_lease_events()
    _create_counters()


def _create_leases() -> None:
    op.create_table(
        'leases',
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
        sa.PrimaryKeyConstraint('id', name=op.f('pk_leases')),
        sa.UniqueConstraint('arq_uuid', name=op.f('uq_leases_arq_uuid')),
        sa.UniqueConstraint('seq', name=op.f('uq_leases_seq')),
        sa.CheckConstraint(
            'state IN (%s)' % ', '.join("'%s'" % s for s in LEASE_STATES),
            name=op.f('ck_leases_lease_state'),
        ),
        sa.CheckConstraint(
            'gmem_mib > 0', name=op.f('ck_leases_gmem_mib_positive')
        ),
        sa.CheckConstraint(
            'compute_pct > 0', name=op.f('ck_leases_compute_pct_positive')
        ),
    )
    op.create_index(
        op.f('ix_leases_instance_uuid'), 'leases', ['instance_uuid']
    )
    op.create_index(op.f('ix_leases_project_id'), 'leases', ['project_id'])
    op.create_index(op.f('ix_leases_vm_host'), 'leases', ['vm_host'])
    op.create_index(op.f('ix_leases_gpu_uuid'), 'leases', ['gpu_uuid'])
    # Serves pending() (FIFO per pool), usage_by_gpu() and
    # count_by_state(), and any lookup by pool.
    op.create_index(
        op.f('ix_leases_pool_state_seq'), 'leases', ['pool', 'state', 'seq']
    )


def _create_lease_events() -> None:
    op.create_table(
        'lease_events',
        # SQLite autoincrements only an INTEGER PRIMARY KEY.
        sa.Column(
            'id',
            sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
            autoincrement=True,
            nullable=False,
        ),
        # No foreign key to leases: the audit trail outlives the lease.
        sa.Column('lease_id', sa.String(36), nullable=False),
        sa.Column('at', _timestamp(), nullable=False),
        sa.Column('event', sa.String(32), nullable=False),
        sa.Column('detail', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_lease_events')),
        # Never reuse the id of a purged event: ids order the trail.
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f('ix_lease_events_lease_id_id'), 'lease_events', ['lease_id', 'id']
    )
    op.create_index(op.f('ix_lease_events_at'), 'lease_events', ['at'])


def _create_counters() -> None:
    counters = op.create_table(
        'ledger_counters',
        sa.Column('name', sa.String(32), nullable=False),
        sa.Column('value', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_ledger_counters')),
    )
    op.bulk_insert(counters, [{'name': 'lease_seq', 'value': 0}])


def downgrade() -> None:
    op.drop_table('ledger_counters')
    op.drop_index(op.f('ix_lease_events_at'), table_name='lease_events')
    op.drop_index(
        op.f('ix_lease_events_lease_id_id'), table_name='lease_events'
    )
    op.drop_table('lease_events')
    for index in (
        'ix_leases_pool_state_seq',
        'ix_leases_gpu_uuid',
        'ix_leases_vm_host',
        'ix_leases_project_id',
        'ix_leases_instance_uuid',
    ):
        op.drop_index(op.f(index), table_name='leases')
    op.drop_table('leases')
