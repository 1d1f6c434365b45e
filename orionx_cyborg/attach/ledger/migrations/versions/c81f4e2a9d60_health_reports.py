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

"""Health reports shared by every worker and replica.

Revision ID: c81f4e2a9d60
Revises: c81f4a2d9e36
Create Date: 2026-12-05 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = 'c81f4e2a9d60'
down_revision: str | Sequence[str] | None = 'c81f4a2d9e36'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp() -> sa.DateTime:
    # UTC; MySQL needs fsp=6 to keep microseconds.
    return sa.DateTime(timezone=True).with_variant(
        mysql.DATETIME(fsp=6), 'mysql'
    )


def upgrade() -> None:
    op.create_table(
        'health_reports',
        sa.Column('name', sa.String(32), nullable=False),
        sa.Column('ok', sa.Boolean(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('at', _timestamp(), nullable=False),
        sa.Column('succeeded_at', _timestamp(), nullable=True),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_health_reports')),
    )


def downgrade() -> None:
    op.drop_table('health_reports')
