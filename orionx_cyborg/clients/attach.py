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

"""The attach service's API (``orionx-attach``) as typed, frozen records.

The one client of orionx-cyborg-attach's read API, for the ``openstack
orionx`` commands, the Horizon panels and the deprecated ``orionx-cyborg
pool|leases`` commands. It works through a keystoneauth adapter of
service type :data:`SERVICE_TYPE` on the caller's session (the caller
chooses interface and region, see :meth:`AttachClient.from_session`);
every request carries the client's timeout. Errors are those of
:mod:`orionx_cyborg.clients.errors`: :class:`~.errors.NotFound` for an
unknown (or invisible) pool or lease, :class:`~.errors.Forbidden` when
the service's policy refuses, :class:`~.errors.ServiceUnavailable` (and
its subclasses) when the service cannot answer.

A project sees only its own leases whatever it asks; an operator sees
every project's. :meth:`AttachClient.leases` lists the caller's project
unless ``all_projects`` is true, as ``openstack server list`` does.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from collections.abc import Mapping
from typing import Any
from urllib import parse

from orionx_cyborg.clients import adapter as adapter_mod
from orionx_cyborg.clients import errors
from orionx_cyborg.clients import http

#: The attach service's type in the Keystone catalog.
SERVICE_TYPE = 'orionx-attach'
#: Seconds any request may take unless the caller says otherwise.
DEFAULT_TIMEOUT = 30.0
#: The lease states of the ledger (:class:`orionx_cyborg.attach.ledger.
#: LeaseState`; not imported: the client layer is below the service).
LEASE_STATES = (
    'pending',
    'claiming',
    'active',
    'moving',
    'releasing',
    'awaiting-partner',
)
#: Leases per page (the API's largest ``limit``).
PAGE_SIZE = 1000
#: The filters of a lease listing, as the API names them.
LEASE_FILTERS = ('project', 'instance', 'host', 'pool', 'state')

SERVICE_NAME = 'orionx-cyborg-attach'


@dataclasses.dataclass(frozen=True)
class Usage:
    """Capacity, use and free room of one resource."""

    capacity: int
    used: int
    free: int

    @property
    def percent(self) -> float:
        """Share used, 0 to 100 (0 without capacity)."""
        return 100.0 * self.used / self.capacity if self.capacity else 0.0

    def to_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class PoolGpu:
    """A GPU of a pool, with the share its leases use."""

    gpu_uuid: str
    host: str
    model: str
    healthy: bool
    gmem_mib: Usage
    compute_pct: Usage
    leases: int


@dataclasses.dataclass(frozen=True)
class Pool:
    """A served pool; ``gpus`` is None in a listing (only shown pools)."""

    name: str
    gpus_total: int
    unhealthy: int
    pending: int
    leases: Mapping[str, int]
    """Lease state -> number of leases."""
    fragmentation: float
    """Expected share of the free capacity the request mix cannot use."""
    gmem_mib: Usage
    compute_pct: Usage
    gpus: tuple[PoolGpu, ...] | None = None


@dataclasses.dataclass(frozen=True)
class Endpoint:
    """Where an active lease's GPU server listens."""

    address: str
    port: int
    transport: str

    def __str__(self) -> str:
        return '%s://%s:%s' % (self.transport, self.address, self.port)


@dataclasses.dataclass(frozen=True)
class LeaseEvent:
    at: str
    event: str
    detail: Mapping[str, Any]


@dataclasses.dataclass(frozen=True)
class Lease:
    """A lease of a pooled vGPU; ``events`` only when shown."""

    id: str
    arq_uuid: str
    instance_uuid: str
    project_id: str
    vm_host: str | None
    pool: str
    state: str
    gmem_mib: int
    compute_pct: int
    gpu_uuid: str | None
    gpu_host: str | None
    gpu_pci_address: str | None
    endpoint: Endpoint | None
    created_at: str
    placed_at: str | None
    events: tuple[LeaseEvent, ...] | None = None


@dataclasses.dataclass(frozen=True)
class Health:
    """The detailed health of the service (the process that answered)."""

    healthy: bool
    reasons: tuple[str, ...]
    details: Mapping[str, Any]


class AttachClient:
    """orionx-cyborg-attach's read API (and the reconcile action)."""

    def __init__(
        self,
        adapter: Any,
        timeout: float | None = DEFAULT_TIMEOUT,
        tracker: http.Tracker | None = None,
    ) -> None:
        """:param adapter: a keystoneauth adapter of the attach service.
        :param timeout: seconds each request may take.
        """
        self._adapter = adapter
        self._http = http.JsonHttp(
            adapter, SERVICE_NAME, None, tracker, timeout=timeout
        )

    @classmethod
    def from_session(
        cls,
        session: Any,
        interface: str | None = None,
        region_name: str | None = None,
        endpoint_override: str | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
    ) -> AttachClient:
        """A client on a keystoneauth *session* (the caller's token).

        The endpoint is the catalog's :data:`SERVICE_TYPE` in
        *region_name* at *interface*, unless *endpoint_override* names it.
        """
        return cls(
            adapter_mod.session_adapter(
                session,
                SERVICE_TYPE,
                interface=interface,
                region_name=region_name,
                endpoint_override=endpoint_override,
            ),
            timeout=timeout,
        )

    # Pools ------------------------------------------------------------

    def pools(self) -> list[Pool]:
        """Every pool the service serves, without their GPUs."""
        _, data = self._http.request('GET', '/v1/pools')
        return [_pool(item) for item in (data or {}).get('pools', [])]

    def pool(self, name: str) -> Pool:
        """One pool with its GPUs.

        :raises NotFound: the service serves no such pool.
        """
        _, data = self._http.request('GET', '/v1/pools/%s' % _segment(name))
        return _pool(data or {})

    def gpus(self, pool: str | None = None) -> list[tuple[str, PoolGpu]]:
        """(pool, GPU) of every GPU of every pool (or of *pool*)."""
        names = [pool] if pool else [p.name for p in self.pools()]
        found = []
        for name in names:
            for gpu in self.pool(name).gpus or ():
                found.append((name, gpu))
        return found

    # Leases -----------------------------------------------------------

    def leases(
        self,
        project: str | None = None,
        instance: str | None = None,
        host: str | None = None,
        pool: str | None = None,
        state: str | None = None,
        all_projects: bool = False,
        limit: int | None = None,
    ) -> list[Lease]:
        """Leases matching the filters, every page (or the first *limit*).

        :param project: only this project's (an operator's filter; a
            project always sees only its own).
        :param all_projects: every project's leases the caller may see;
            otherwise those of *project*, by default the caller's own.
        :raises BadRequest: an unknown *state*.
        """
        filters = {
            'project': project,
            'instance': instance,
            'host': host,
            'pool': pool,
            'state': state,
        }
        if not project and not all_projects:
            filters['project'] = self._own_project()
        return list(self._lease_pages(filters, limit))

    def lease(self, lease_id: str) -> Lease:
        """A lease with its latest events.

        :raises NotFound: no such lease, or one of another project.
        """
        _, data = self._http.request(
            'GET', '/v1/leases/%s' % _segment(lease_id)
        )
        return _lease(data or {})

    def _lease_pages(
        self, filters: Mapping[str, str | None], limit: int | None
    ) -> Iterator[Lease]:
        params = {k: v for k, v in filters.items() if v}
        seen = 0
        marker = None
        while True:
            size = min(PAGE_SIZE, limit - seen) if limit else PAGE_SIZE
            page_params = dict(params, limit=str(size))
            if marker:
                page_params['marker'] = marker
            _, data = self._http.request(
                'GET', '/v1/leases', params=page_params
            )
            page = (data or {}).get('leases', [])
            for item in page:
                yield _lease(item)
            seen += len(page)
            if len(page) < size or (limit and seen >= limit):
                return
            marker = page[-1]['id']

    def _own_project(self) -> str | None:
        getter = getattr(self._adapter, 'get_project_id', None)
        project = getter() if getter is not None else None
        return str(project) if project else None

    # Service ----------------------------------------------------------

    def health(self) -> Health:
        """The detailed health (503 answers included: unhealthy).

        :raises Forbidden: the caller may not see the pools.
        :raises ServerError: the service could not say.
        """
        status, data = self._http.request(
            'GET', '/v1/health', accept=(200, 503)
        )
        if not isinstance(data, dict) or 'healthy' not in data:
            raise errors.ServerError(
                service=SERVICE_NAME,
                reason='%d on GET /v1/health without a health document'
                % status,
            )
        return Health(
            healthy=bool(data['healthy']),
            reasons=tuple(str(r) for r in data.get('reasons', ())),
            details=dict(data.get('details') or {}),
        )

    def reconcile(self) -> dict[str, Any]:
        """Run a reconcile pass now; its report."""
        _, data = self._http.request('POST', '/v1/reconcile', body={})
        return dict(data or {})


def _segment(value: str) -> str:
    return parse.quote(value, safe='')


def _usage(data: Mapping[str, Any] | None) -> Usage:
    data = data or {}
    capacity = int(data.get('capacity', 0))
    used = int(data.get('used', 0))
    return Usage(capacity, used, int(data.get('free', capacity - used)))


def _gpu(data: Mapping[str, Any]) -> PoolGpu:
    return PoolGpu(
        gpu_uuid=str(data['gpu_uuid']),
        host=str(data['host']),
        model=str(data['model']),
        healthy=bool(data['healthy']),
        gmem_mib=_usage(data.get('gmem_mib')),
        compute_pct=_usage(data.get('compute_pct')),
        leases=int(data.get('leases', 0)),
    )


def _pool(data: Mapping[str, Any]) -> Pool:
    gpus = data.get('gpus')
    return Pool(
        name=str(data['name']),
        gpus_total=int(data.get('gpus_total', 0)),
        unhealthy=int(data.get('unhealthy', 0)),
        pending=int(data.get('pending', 0)),
        leases={str(k): int(v) for k, v in (data.get('leases') or {}).items()},
        fragmentation=float(data.get('fragmentation', 0.0)),
        gmem_mib=_usage(data.get('gmem_mib')),
        compute_pct=_usage(data.get('compute_pct')),
        gpus=None if gpus is None else tuple(_gpu(g) for g in gpus),
    )


def _lease(data: Mapping[str, Any]) -> Lease:
    endpoint = data.get('endpoint')
    events = data.get('events')
    return Lease(
        id=str(data['id']),
        arq_uuid=str(data.get('arq_uuid')),
        instance_uuid=str(data.get('instance_uuid')),
        project_id=str(data.get('project_id')),
        vm_host=data.get('vm_host'),
        pool=str(data.get('pool')),
        state=str(data.get('state')),
        gmem_mib=int(data.get('gmem_mib') or 0),
        compute_pct=int(data.get('compute_pct') or 0),
        gpu_uuid=data.get('gpu_uuid'),
        gpu_host=data.get('gpu_host'),
        gpu_pci_address=data.get('gpu_pci_address'),
        endpoint=(
            Endpoint(
                address=str(endpoint['address']),
                port=int(endpoint['port']),
                transport=str(endpoint['transport']),
            )
            if endpoint
            else None
        ),
        created_at=str(data.get('created_at')),
        placed_at=data.get('placed_at'),
        events=(
            None
            if events is None
            else tuple(
                LeaseEvent(
                    at=str(e.get('at')),
                    event=str(e.get('event')),
                    detail=dict(e.get('detail') or {}),
                )
                for e in events
            )
        ),
    )
