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

"""Leases keep their GPU constraint and the runtime that serves them.

``gpu_constraint``: what the lease's device profile group asks of its
GPU (traits required and forbidden, a runtime), as JSON; NULL for none,
which is what every lease made before this revision asked. ``runtime``:
the runtime plugin serving a placed lease; NULL while pending, and for
leases placed before this revision (the service then names the runtime
that serves the GPU's vendor). Both columns are nullable, so the upgrade
rewrites no row.

Revision ID: c81f4a2d9e36
Revises: a5d3e1c07b42
Create Date: 2026-12-05 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'c81f4a2d9e36'
down_revision: str | Sequence[str] | None = 'a5d3e1c07b42'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # batch: SQLite cannot drop columns in place (the downgrade), and a
    # batch keeps both directions alike on every backend.
    with op.batch_alter_table('leases') as batch:
        batch.add_column(sa.Column('gpu_constraint', sa.Text(), nullable=True))
        batch.add_column(sa.Column('runtime', sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('leases') as batch:
        batch.drop_column('runtime')
        batch.drop_column('gpu_constraint')
