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

"""ORM models of the ledger tables; private to the ledger.

The migrations under ``migrations/versions`` create the same schema; a test
compares the two. Callers never see these classes: :class:`Ledger` returns
the frozen records of :mod:`~orionx_cyborg.attach.ledger.records`.
"""

from __future__ import annotations

import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.types import TypeEngine

from orionx_cyborg.attach.ledger.states import LeaseState

#: Explicit constraint names, so that migrations can name what they alter
#: on every backend.
NAMING_CONVENTION = {
    'ix': 'ix_%(table_name)s_%(column_0_N_name)s',
    'uq': 'uq_%(table_name)s_%(column_0_N_name)s',
    'ck': 'ck_%(table_name)s_%(constraint_name)s',
    'fk': 'fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s',
    'pk': 'pk_%(table_name)s',
}

#: Name of the row of ``ledger_counters`` that numbers leases (``seq``).
LEASE_SEQ_COUNTER = 'lease_seq'

UUID_LENGTH = 36
NAME_LENGTH = 255
STATE_LENGTH = 16
EVENT_LENGTH = 32
RUNTIME_LENGTH = 64


class UTCDateTime(sa.types.TypeDecorator[datetime.datetime]):
    """A timestamp stored in UTC and always read back timezone-aware.

    SQLite and MySQL keep no offset, so UTC is stored naive there and the
    offset is put back on read. MySQL needs ``fsp=6`` to keep microseconds.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == 'mysql':
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(sa.DateTime(timezone=True))

    def process_bind_param(
        self, value: datetime.datetime | None, dialect: Dialect
    ) -> datetime.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(
                'naive datetime %r: the ledger stores UTC '
                'timestamps only' % (value,)
            )
        value = value.astimezone(datetime.UTC)
        if dialect.name in ('sqlite', 'mysql'):
            return value.replace(tzinfo=None)
        return value

    def process_result_value(
        self, value: datetime.datetime | None, dialect: Dialect
    ) -> datetime.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=datetime.UTC)
        return value.astimezone(datetime.UTC)


def _state_values(states: type[LeaseState]) -> list[str]:
    return [state.value for state in states]


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class LeaseRow(Base):
    __tablename__ = 'leases'
    __table_args__ = (
        # pending(): FIFO per pool; usage_by_gpu() and count_by_state().
        sa.Index('ix_leases_pool_state_seq', 'pool', 'state', 'seq'),
        sa.CheckConstraint('gmem_mib > 0', name='gmem_mib_positive'),
        sa.CheckConstraint('compute_pct > 0', name='compute_pct_positive'),
    )

    id: Mapped[str] = mapped_column(sa.String(UUID_LENGTH), primary_key=True)
    arq_uuid: Mapped[str] = mapped_column(sa.String(UUID_LENGTH), unique=True)
    instance_uuid: Mapped[str] = mapped_column(
        sa.String(UUID_LENGTH), index=True
    )
    project_id: Mapped[str] = mapped_column(sa.String(NAME_LENGTH), index=True)
    user_id: Mapped[str | None] = mapped_column(sa.String(NAME_LENGTH))
    vm_host: Mapped[str] = mapped_column(sa.String(NAME_LENGTH), index=True)
    pool: Mapped[str] = mapped_column(sa.String(NAME_LENGTH))
    state: Mapped[LeaseState] = mapped_column(
        sa.Enum(
            LeaseState,
            name='lease_state',
            native_enum=False,
            create_constraint=True,
            length=STATE_LENGTH,
            values_callable=_state_values,
            validate_strings=True,
        )
    )
    seq: Mapped[int] = mapped_column(sa.BigInteger, unique=True)
    gmem_mib: Mapped[int] = mapped_column(sa.Integer)
    compute_pct: Mapped[int] = mapped_column(sa.Integer)
    gpu_host: Mapped[str | None] = mapped_column(sa.String(NAME_LENGTH))
    gpu_uuid: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    gpu_pci_address: Mapped[str | None] = mapped_column(sa.String(32))
    memory_rp_uuid: Mapped[str | None] = mapped_column(sa.String(UUID_LENGTH))
    compute_rp_uuid: Mapped[str | None] = mapped_column(sa.String(UUID_LENGTH))
    #: What the lease asks of its GPU (constraints.GpuConstraint JSON).
    gpu_constraint: Mapped[str | None] = mapped_column(sa.Text)
    #: The runtime plugin serving the placed lease.
    runtime: Mapped[str | None] = mapped_column(sa.String(RUNTIME_LENGTH))
    created_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime)
    placed_at: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(sa.Integer)


class LeaseEventRow(Base):
    __tablename__ = 'lease_events'
    __table_args__ = (
        sa.Index('ix_lease_events_lease_id_id', 'lease_id', 'id'),
        sa.Index('ix_lease_events_at', 'at'),
        # Never reuse the id of a purged event: ids order the audit trail.
        {'sqlite_autoincrement': True},
    )

    # SQLite autoincrements only an INTEGER PRIMARY KEY.
    id: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
        primary_key=True,
        autoincrement=True,
    )
    # No foreign key: the audit trail outlives the lease.
    lease_id: Mapped[str] = mapped_column(sa.String(UUID_LENGTH))
    at: Mapped[datetime.datetime] = mapped_column(UTCDateTime)
    event: Mapped[str] = mapped_column(sa.String(EVENT_LENGTH))
    detail: Mapped[str | None] = mapped_column(sa.Text)


class CounterRow(Base):
    """Named counters; ``lease_seq`` numbers leases for FIFO order.

    A counter row rather than a sequence or an autoincrement: SQLite has
    no sequences and autoincrements only its primary key, and MySQL only a
    key column. Incrementing the row locks it until commit, so numbers are
    unique and never reused on every backend.
    """

    __tablename__ = 'ledger_counters'

    name: Mapped[str] = mapped_column(
        sa.String(EVENT_LENGTH), primary_key=True
    )
    value: Mapped[int] = mapped_column(sa.BigInteger)


class HealthReportRow(Base):
    """The newest word on one part of the service's health.

    One row per dependency (``Cyborg``, ``Placement``) and one for the
    reconcile passes, written by whichever worker or replica saw it:
    every process of the service reads the same verdict here.
    """

    __tablename__ = 'health_reports'

    name: Mapped[str] = mapped_column(
        sa.String(EVENT_LENGTH), primary_key=True
    )
    ok: Mapped[bool] = mapped_column(sa.Boolean)
    reason: Mapped[str | None] = mapped_column(sa.Text)
    at: Mapped[datetime.datetime] = mapped_column(UTCDateTime)
    succeeded_at: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime)
