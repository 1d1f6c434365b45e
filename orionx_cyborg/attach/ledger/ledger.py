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

"""The lease ledger: lease metadata of the attach service, in SQL.

Placement holds the leases themselves (one allocation per lease, the lease
id being its consumer); the ledger keeps what Placement cannot: which ARQ,
instance and GPU a lease belongs to, its state, its place in the queue of
its pool, and an audit trail of events. It stores no secrets.

Every method runs in a short transaction of its own, on a session that is
closed before it returns, so one :class:`Ledger` may be shared by the
threads of a WSGI server and a reconciler. Changes of a lease are
optimistic: the caller names the version it read, and loses with
:class:`~orionx_cyborg.attach.ledger.errors.StaleLease` if someone changed
the lease since then.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import enum
import functools
import types
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from typing import Any
from typing import Final
from typing import Literal
from typing import NamedTuple
from typing import Unpack

import sqlalchemy as sa
from oslo_log import log as logging
from sqlalchemy import exc as sa_exc
from sqlalchemy import orm

from orionx_cyborg.attach.ledger import engine as ledger_engine
from orionx_cyborg.attach.ledger import errors
from orionx_cyborg.attach.ledger import migration
from orionx_cyborg.attach.ledger import models
from orionx_cyborg.attach.ledger import validation
from orionx_cyborg.attach.ledger.records import GpuUsage
from orionx_cyborg.attach.ledger.records import HealthReport
from orionx_cyborg.attach.ledger.records import LeaseEvent
from orionx_cyborg.attach.ledger.records import LeaseFields
from orionx_cyborg.attach.ledger.records import LeaseRecord
from orionx_cyborg.attach.ledger.records import NewLease
from orionx_cyborg.attach.ledger.states import DELETABLE_STATES
from orionx_cyborg.attach.ledger.states import PLACED_STATES
from orionx_cyborg.attach.ledger.states import UNPLACED_STATES
from orionx_cyborg.attach.ledger.states import LeaseState
from orionx_cyborg.attach.ledger.states import can_transition

LOG = logging.getLogger(__name__)

Clock = Callable[[], datetime.datetime]
Detail = Mapping[str, Any] | str | None
# Aliases, because the Ledger.list method hides the builtin in the class.
LeaseList = list[LeaseRecord]
EventList = list[LeaseEvent]

DEFAULT_EVENT_LIMIT = 100

_LEASE = models.LeaseRow
_EVENT = models.LeaseEventRow
_HEALTH = models.HealthReportRow
_LEASE_TABLE: sa.Table = _LEASE.__table__  # type: ignore[assignment]
#: Columns :meth:`Ledger.list` filters on by equality.
_LIST_FILTERS = ('instance_uuid', 'project_id', 'vm_host', 'pool', 'gpu_uuid')


def utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class _Projects(enum.Enum):
    ANY = 'any project'


#: ``Ledger.list(project=ANY_PROJECT)``: every project's leases, asked
#: for explicitly (None is refused: an unknown project is not "all").
ANY_PROJECT: Final = _Projects.ANY
AnyProject = Literal[_Projects.ANY]


class _Event(NamedTuple):
    name: str
    detail: str | None


class Ledger:
    """Lease metadata in SQL; see the module documentation.

    Build it with :meth:`from_url`, or from an engine made by
    :func:`orionx_cyborg.attach.ledger.engine.create_engine`: on SQLite,
    the ledger relies on that engine's settings. *clock* gives the time of
    every change (aware datetimes; UTC now by default).
    """

    def __init__(
        self,
        engine: sa.Engine,
        *,
        clock: Clock = utc_now,
        owns_engine: bool = False,
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._owns_engine = owns_engine
        self._readers = orm.sessionmaker(
            bind=engine, expire_on_commit=False, autoflush=False
        )
        self._writers = orm.sessionmaker(
            bind=ledger_engine.for_writing(engine),
            expire_on_commit=False,
            autoflush=False,
        )

    @classmethod
    def from_url(
        cls,
        url: str | sa.URL,
        *,
        clock: Clock = utc_now,
        **engine_options: Any,
    ) -> Ledger:
        """A ledger on a new engine for *url*, closed by :meth:`close`.

        ``sqlite:///path`` by default; ``postgresql+psycopg://...`` or
        ``mysql+pymysql://...`` in production. *engine_options* go to
        :func:`orionx_cyborg.attach.ledger.engine.create_engine`.
        """
        try:
            engine = ledger_engine.create_engine(url, **engine_options)
        except sa_exc.ArgumentError as exc:
            # The message may quote the URL, password included.
            raise errors.InvalidArgument(
                reason='not a usable database URL (%s)' % type(exc).__name__
            ) from exc
        except ImportError as exc:
            raise errors.LedgerUnavailable(
                reason='the database driver is not installed (%s)' % exc
            ) from exc
        return cls(engine, clock=clock, owns_engine=True)

    @property
    def engine(self) -> sa.Engine:
        return self._engine

    def close(self) -> None:
        """Close the engine if this ledger made it."""
        if self._owns_engine:
            self._engine.dispose()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: types.TracebackType | None,
    ) -> None:
        self.close()

    # Schema

    def upgrade(self, revision: str = 'head') -> None:
        """Migrate the schema to *revision* (the newest by default)."""
        with _database_errors():
            migration.upgrade(self._engine, revision)

    def current_revision(self) -> str | None:
        with _database_errors():
            return migration.current_revision(self._engine)

    # Leases

    def create(
        self,
        lease: NewLease,
        *,
        event: str | None = None,
        detail: Detail = None,
    ) -> LeaseRecord:
        """Add *lease*; with *event*, record it in the same transaction.

        Raises :class:`LeaseExists` if its id or ARQ is taken.
        """
        lease = validation.new_lease(lease)
        entry = _event(event, detail)
        now = self._now()
        with _database_errors():
            try:
                with self._write() as session:
                    row = _new_row(lease, self._next_seq(session), now)
                    session.add(row)
                    session.flush()
                    _add_event(session, lease.id, entry, now)
                    record = _to_record(row)
            except sa_exc.IntegrityError as exc:
                raise self._conflict(lease) from exc
        LOG.debug(
            'Lease %s for ARQ %s created %s in pool %s (seq %d)',
            record.id,
            record.arq_uuid,
            record.state,
            record.pool,
            record.seq,
        )
        return record

    def get(self, lease_id: str) -> LeaseRecord:
        """The lease *lease_id*; raises :class:`LeaseNotFound`."""
        with _database_errors(), self._read() as session:
            return _to_record(_load(session, lease_id))

    def get_by_arq(self, arq_uuid: str) -> LeaseRecord:
        """The lease of ARQ *arq_uuid*; raises :class:`LeaseNotFound`."""
        canonical = validation.canonical_uuid(arq_uuid)
        with _database_errors(), self._read() as session:
            row = None
            if canonical is not None:
                row = session.scalars(
                    sa.select(_LEASE).where(_LEASE.arq_uuid == canonical)
                ).one_or_none()
        if row is None:
            raise errors.LeaseNotFound(lease='of ARQ %s' % arq_uuid)
        return _to_record(row)

    def list(
        self,
        *,
        instance: str | None = None,
        project: str | AnyProject = ANY_PROJECT,
        host: str | None = None,
        pool: str | None = None,
        state: LeaseState | Iterable[LeaseState] | None = None,
        gpu: str | None = None,
        limit: int | None = None,
        marker: str | None = None,
    ) -> LeaseList:
        """Leases matching every filter given, oldest first (by ``seq``).

        *host* is the VM's host (``vm_host``), *gpu* a GPU's UUID. For the
        next page, pass the id of the last lease of this one as *marker*;
        :class:`MarkerNotFound` if that lease is gone. Every project's
        leases only when *project* is left out (or :data:`ANY_PROJECT`):
        a caller whose project is unknown (None) must not get them all.

        :raises InvalidArgument: *project* is None or empty.
        """
        limit = validation.limit(limit)
        if project is not ANY_PROJECT and not project:
            raise errors.InvalidArgument(
                reason='a project filter of %r would match no lease; '
                'pass ANY_PROJECT for every project' % (project,)
            )
        if instance is not None:
            # Stored in canonical form; match what the caller means.
            instance = validation.canonical_uuid(instance) or instance
        params: dict[str, Any] = {
            name: value
            for name, value in (
                ('instance_uuid', instance),
                ('project_id', None if project is ANY_PROJECT else project),
                ('vm_host', host),
                ('pool', pool),
                ('gpu_uuid', gpu),
            )
            if value is not None
        }
        if state is not None:
            params['states'] = _states(state)
        if limit is not None:
            params['limit'] = limit
        with _database_errors(), self._engine.begin() as connection:
            if marker is not None:
                params['after_seq'] = _marker_seq(connection, marker)
            query = _list_query(frozenset(params))
            return [
                _to_record(row) for row in connection.execute(query, params)
            ]

    def pending(self, pool: str, limit: int | None = None) -> LeaseList:
        """The pending leases of *pool*, first come first."""
        return self.list(pool=pool, state=LeaseState.PENDING, limit=limit)

    def awaiting_partner(self, pool: str) -> LeaseList:
        """The leases of *pool* the pairing hold keeps back, oldest first."""
        return self.list(pool=pool, state=LeaseState.AWAITING_PARTNER)

    def transition(
        self,
        lease_id: str,
        expected_version: int,
        to_state: LeaseState,
        *,
        event: str | None = None,
        detail: Detail = None,
        **fields: Unpack[LeaseFields],
    ) -> LeaseRecord:
        """Move a lease from *expected_version* to state *to_state*.

        *fields* change with the state. Going ``pending`` clears the GPU
        fields (the lease keeps its ``seq``, so its place in the queue);
        going ``active`` sets ``placed_at`` to now unless it is given. A
        placed state (claiming, active, moving) needs the GPU host, GPU and
        both RPs. With *event*, it is recorded in the same transaction.

        Raises :class:`LeaseNotFound`, :class:`StaleLease` if the lease is
        no longer at *expected_version*, :class:`InvalidTransition` if the
        state machine (:mod:`~orionx_cyborg.attach.ledger.states`) forbids
        the change.
        """
        target = _state(to_state)
        changes = validation.fields(fields)
        entry = _event(event, detail)
        now = self._now()
        with _database_errors(), self._write() as session:
            current = _to_record(_load(session, lease_id))
            _check_version(current, expected_version)
            if not can_transition(current.state, target):
                raise errors.InvalidTransition(current, target.value)
            values = _transition_values(current, target, changes, now)
            result = session.execute(
                sa.update(_LEASE)
                .where(
                    _LEASE.id == current.id, _LEASE.version == expected_version
                )
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            if _rowcount(result) != 1:
                raise _stale(session, current.id, expected_version)
            _add_event(session, current.id, entry, now)
        LOG.debug(
            'Lease %s: %s -> %s (version %d)',
            current.id,
            current.state,
            target,
            values['version'],
        )
        return dataclasses.replace(current, **values)

    def delete(
        self,
        lease_id: str,
        expected_version: int | None = None,
        *,
        event: str | None = None,
        detail: Detail = None,
    ) -> LeaseRecord:
        """Remove a ``pending`` or ``releasing`` lease; return it.

        The other states may hold a Placement allocation: release it first.
        With *expected_version*, raises :class:`StaleLease` if the lease
        changed. With *event*, it is recorded in the same transaction.
        """
        entry = _event(event, detail)
        now = self._now()
        with _database_errors(), self._write() as session:
            current = _to_record(_load(session, lease_id))
            if expected_version is not None:
                _check_version(current, expected_version)
            if current.state not in DELETABLE_STATES:
                raise errors.InvalidTransition(current, 'deleted')
            result = session.execute(
                sa.delete(_LEASE)
                .where(
                    _LEASE.id == current.id, _LEASE.version == current.version
                )
                .execution_options(synchronize_session=False)
            )
            if _rowcount(result) != 1:
                raise _stale(session, current.id, current.version)
            _add_event(session, current.id, entry, now)
        LOG.debug('Lease %s deleted from %s', current.id, current.state)
        return current

    # Audit trail

    def record_event(
        self, lease_id: str, event: str, detail: Detail = None
    ) -> LeaseEvent:
        """Append an event; the lease need not exist (any more)."""
        entry = _Event(
            validation.event_name(event), validation.encode_detail(detail)
        )
        key = validation.canonical_uuid(lease_id) or lease_id
        if not isinstance(key, str) or len(key) > models.UUID_LENGTH:
            raise errors.InvalidArgument(
                reason='lease id %r is not a lease id' % (lease_id,)
            )
        now = self._now()
        with _database_errors(), self._write() as session:
            row = _event_row(lease_id=key, entry=entry, at=now)
            session.add(row)
            session.flush()
            return _to_event(row)

    def events(
        self,
        lease_id: str | None = None,
        limit: int | None = DEFAULT_EVENT_LIMIT,
    ) -> EventList:
        """The newest *limit* events (of one lease), oldest first."""
        limit = validation.limit(limit)
        query = sa.select(_EVENT).order_by(_EVENT.id.desc())
        if lease_id is not None:
            key = validation.canonical_uuid(lease_id) or lease_id
            query = query.where(_EVENT.lease_id == key)
        if limit is not None:
            query = query.limit(limit)
        with _database_errors(), self._read() as session:
            rows = list(session.scalars(query))
        return [_to_event(row) for row in reversed(rows)]

    def purge_events(self, before: datetime.datetime) -> int:
        """Delete events older than *before*; return how many."""
        before = validation.aware(before, 'before')
        with _database_errors(), self._write() as session:
            result = session.execute(
                sa.delete(_EVENT)
                .where(_EVENT.at < before)
                .execution_options(synchronize_session=False)
            )
            return _rowcount(result)

    # Health shared by every worker and replica

    def report_health(
        self,
        name: str,
        ok: bool,
        reason: str | None = None,
        at: datetime.datetime | None = None,
        succeeded: bool = False,
    ) -> bool:
        """Record the newest word on *name* (seen *at*, now by default).

        A report older than the stored one is ignored: workers report in
        any order, the newest observation wins. *succeeded* also records
        *at* as its last success. Returns whether it was stored.
        """
        name = validation.event_name(name)
        when = validation.aware(at, 'at') if at is not None else self._now()
        values: dict[str, Any] = {'ok': ok, 'reason': reason, 'at': when}
        if succeeded:
            values['succeeded_at'] = when
        for attempt in range(2):
            try:
                with _database_errors(), self._write() as session:
                    return self._store_report(session, name, when, values)
            except errors.LedgerUnavailable as err:
                # Two processes inserting the first report at once: the
                # loser updates the winner's row.
                integrity = isinstance(err.__cause__, sa_exc.IntegrityError)
                if attempt or not integrity:
                    raise
        return False

    @staticmethod
    def _store_report(
        session: orm.Session,
        name: str,
        when: datetime.datetime,
        values: dict[str, Any],
    ) -> bool:
        result = session.execute(
            sa.update(_HEALTH)
            .where(_HEALTH.name == name, _HEALTH.at <= when)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if _rowcount(result):
            return True
        if session.get(_HEALTH, name) is not None:
            return False  # a newer report is stored
        session.add(models.HealthReportRow(name=name, **values))
        session.flush()
        return True

    def health_reports(self) -> dict[str, HealthReport]:
        """Every stored health report, by name."""
        with _database_errors(), self._read() as session:
            rows = list(session.scalars(sa.select(_HEALTH)))
        return {
            row.name: HealthReport(
                name=row.name,
                ok=row.ok,
                reason=row.reason,
                at=row.at,
                succeeded_at=row.succeeded_at,
            )
            for row in rows
        }

    # Summaries

    def count_by_state(self, pool: str | None = None) -> dict[LeaseState, int]:
        """How many leases (of *pool*) are in each state, zeros included."""
        query = sa.select(_LEASE.state, sa.func.count()).group_by(_LEASE.state)
        if pool is not None:
            query = query.where(_LEASE.pool == pool)
        counts = dict.fromkeys(LeaseState, 0)
        with _database_errors(), self._read() as session:
            for state, count in session.execute(query):
                counts[state] = count
        return counts

    def usage_by_gpu(self, pool: str) -> dict[str, GpuUsage]:
        """What the claiming, active and moving leases of *pool* take per GPU.

        Keyed by GPU UUID; GPUs without such leases are absent.
        """
        query = (
            sa.select(
                _LEASE.gpu_uuid,
                sa.func.sum(_LEASE.gmem_mib),
                sa.func.sum(_LEASE.compute_pct),
                sa.func.count(),
            )
            .where(
                _LEASE.pool == pool,
                _LEASE.state.in_(PLACED_STATES),
                _LEASE.gpu_uuid.is_not(None),
            )
            .group_by(_LEASE.gpu_uuid)
        )
        usage = {}
        with _database_errors(), self._read() as session:
            for gpu_uuid, gmem_mib, compute_pct, count in session.execute(
                query
            ):
                if gpu_uuid is None:  # excluded by the query; for mypy
                    continue
                usage[gpu_uuid] = GpuUsage(
                    gpu_uuid=gpu_uuid,
                    gmem_mib=int(gmem_mib),
                    compute_pct=int(compute_pct),
                    leases=int(count),
                )
        return usage

    # Internals

    @contextlib.contextmanager
    def _read(self) -> Iterator[orm.Session]:
        with self._readers.begin() as session:
            yield session

    @contextlib.contextmanager
    def _write(self) -> Iterator[orm.Session]:
        with self._writers.begin() as session:
            yield session

    def _now(self) -> datetime.datetime:
        return validation.aware(self._clock(), 'the clock')

    def _next_seq(self, session: orm.Session) -> int:
        counter = models.CounterRow
        name = models.LEASE_SEQ_COUNTER
        # The update locks the row until commit: no two leases share a seq.
        result = session.execute(
            sa.update(counter)
            .where(counter.name == name)
            .values(value=counter.value + 1)
            .execution_options(synchronize_session=False)
        )
        if _rowcount(result) != 1:
            raise errors.LedgerUnavailable(
                reason='the ledger schema is not initialised; run '
                'orionx-cyborg-attach-dbsync upgrade'
            )
        return session.execute(
            sa.select(counter.value).where(counter.name == name)
        ).scalar_one()

    def _conflict(self, lease: NewLease) -> errors.LedgerError:
        with self._read() as session:
            row = session.scalars(
                sa.select(_LEASE).where(
                    sa.or_(
                        _LEASE.arq_uuid == lease.arq_uuid,
                        _LEASE.id == lease.id,
                    )
                )
            ).first()
        if row is None:
            # Deleted in between, or another constraint failed.
            return errors.LedgerUnavailable(
                reason='lease %s for ARQ %s was refused by the database'
                % (lease.id, lease.arq_uuid)
            )
        existing = _to_record(row)
        return errors.LeaseExists(
            arq=existing.arq_uuid, lease=existing.id, existing=existing
        )


@contextlib.contextmanager
def _database_errors() -> Iterator[None]:
    """Turn database errors into LedgerUnavailable, the cause chained."""
    try:
        yield
    except sa_exc.DBAPIError as exc:
        reason = '%s: %s' % (type(exc.orig).__name__, exc.orig)
        raise errors.LedgerUnavailable(reason=reason) from exc
    except sa_exc.SQLAlchemyError as exc:
        raise errors.LedgerUnavailable(
            reason='%s: %s' % (type(exc).__name__, exc)
        ) from exc


def _state(value: LeaseState | str) -> LeaseState:
    try:
        return LeaseState(value)
    except ValueError:
        raise errors.InvalidArgument(
            reason='unknown lease state %r' % (value,)
        ) from None


def _states(value: LeaseState | Iterable[LeaseState]) -> list[LeaseState]:
    if isinstance(value, str):
        return [_state(value)]
    return [_state(item) for item in value]


def _event(event: str | None, detail: Detail) -> _Event | None:
    if event is None:
        if detail is not None:
            raise errors.InvalidArgument(reason='a detail needs an event')
        return None
    return _Event(
        validation.event_name(event), validation.encode_detail(detail)
    )


def _load(session: orm.Session, lease_id: str) -> models.LeaseRow:
    key = validation.canonical_uuid(lease_id)
    row = None if key is None else session.get(_LEASE, key)
    if row is None:
        raise errors.LeaseNotFound(lease=lease_id)
    return row


@functools.cache
def _list_query(params: frozenset[str]) -> sa.Select[Any]:
    """The query of :meth:`Ledger.list` for the filters named in *params*.

    Built once per combination of filters, their values bound when it
    runs: a vendordata request lists an instance's leases, and building
    the statement and loading ORM objects cost several times the query
    itself. Core rows carry the same column types (times come back
    aware), so :func:`_to_record` reads them as it reads ORM rows.
    """
    table = _LEASE_TABLE
    query = sa.select(table).order_by(table.c.seq)
    for column in _LIST_FILTERS:
        if column in params:
            query = query.where(table.c[column] == sa.bindparam(column))
    if 'states' in params:
        query = query.where(
            table.c.state.in_(sa.bindparam('states', expanding=True))
        )
    if 'after_seq' in params:
        query = query.where(table.c.seq > sa.bindparam('after_seq'))
    if 'limit' in params:
        query = query.limit(sa.bindparam('limit', type_=sa.Integer))
    return query


def _marker_seq(connection: sa.Connection, marker: str) -> int:
    key = validation.canonical_uuid(marker)
    seq: int | None = (
        None
        if key is None
        else connection.scalar(
            sa.select(_LEASE_TABLE.c.seq).where(_LEASE_TABLE.c.id == key)
        )
    )
    if seq is None:
        raise errors.MarkerNotFound(marker=marker)
    return seq


def _check_version(current: LeaseRecord, expected_version: int) -> None:
    if current.version != expected_version:
        raise errors.StaleLease(current, expected_version)


def _stale(
    session: orm.Session, lease_id: str, expected_version: int
) -> errors.LedgerError:
    """The error for an update that matched no row: changed or gone."""
    row = session.get(_LEASE, lease_id, populate_existing=True)
    if row is None:
        return errors.LeaseNotFound(lease=lease_id)
    return errors.StaleLease(_to_record(row), expected_version)


def _transition_values(
    current: LeaseRecord,
    target: LeaseState,
    changes: dict[str, Any],
    now: datetime.datetime,
) -> dict[str, Any]:
    values = dict(changes)
    if target in UNPLACED_STATES:
        validation.check_unplaced(target, values)
        values.update(dict.fromkeys(validation.GPU_FIELDS))
    elif target is LeaseState.ACTIVE:
        values.setdefault('placed_at', now)
    merged = dataclasses.asdict(current) | values
    validation.check_placement(target, merged)
    values.update(state=target, updated_at=now, version=current.version + 1)
    return values


def _rowcount(result: sa.Result[Any]) -> int:
    # DML results are CursorResults; the ORM types them as Result.
    if not isinstance(result, sa.CursorResult):
        raise TypeError(
            'not the result of an UPDATE or DELETE: %r' % (result,)
        )
    return result.rowcount


def _new_row(
    lease: NewLease, seq: int, now: datetime.datetime
) -> models.LeaseRow:
    placed_at = lease.placed_at
    if placed_at is None and lease.state is LeaseState.ACTIVE:
        placed_at = now
    return models.LeaseRow(
        id=lease.id,
        arq_uuid=lease.arq_uuid,
        instance_uuid=lease.instance_uuid,
        project_id=lease.project_id,
        user_id=lease.user_id,
        vm_host=lease.vm_host,
        pool=lease.pool,
        state=lease.state,
        seq=seq,
        gmem_mib=lease.gmem_mib,
        compute_pct=lease.compute_pct,
        gpu_host=lease.gpu_host,
        gpu_uuid=lease.gpu_uuid,
        gpu_pci_address=lease.gpu_pci_address,
        memory_rp_uuid=lease.memory_rp_uuid,
        compute_rp_uuid=lease.compute_rp_uuid,
        gpu_constraint=lease.gpu_constraint,
        runtime=lease.runtime,
        created_at=now,
        updated_at=now,
        placed_at=placed_at,
        version=1,
    )


def _add_event(
    session: orm.Session,
    lease_id: str,
    entry: _Event | None,
    now: datetime.datetime,
) -> None:
    if entry is not None:
        session.add(_event_row(lease_id=lease_id, entry=entry, at=now))


def _event_row(
    *, lease_id: str, entry: _Event, at: datetime.datetime
) -> models.LeaseEventRow:
    return models.LeaseEventRow(
        lease_id=lease_id, at=at, event=entry.name, detail=entry.detail
    )


def _to_record(row: models.LeaseRow | sa.Row[Any]) -> LeaseRecord:
    return LeaseRecord(
        id=row.id,
        arq_uuid=row.arq_uuid,
        instance_uuid=row.instance_uuid,
        project_id=row.project_id,
        user_id=row.user_id,
        vm_host=row.vm_host,
        pool=row.pool,
        state=LeaseState(row.state),
        seq=row.seq,
        gmem_mib=row.gmem_mib,
        compute_pct=row.compute_pct,
        gpu_host=row.gpu_host,
        gpu_uuid=row.gpu_uuid,
        gpu_pci_address=row.gpu_pci_address,
        memory_rp_uuid=row.memory_rp_uuid,
        compute_rp_uuid=row.compute_rp_uuid,
        created_at=row.created_at,
        updated_at=row.updated_at,
        placed_at=row.placed_at,
        version=row.version,
        gpu_constraint=row.gpu_constraint,
        runtime=row.runtime,
    )


def _to_event(row: models.LeaseEventRow) -> LeaseEvent:
    return LeaseEvent(
        id=row.id,
        lease_id=row.lease_id,
        at=row.at,
        event=row.event,
        detail=row.detail,
    )
