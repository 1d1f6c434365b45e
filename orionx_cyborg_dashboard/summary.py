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

"""What the console draws, from the attach service's JSON documents.

Pure functions, no Django and no I/O: they take the documents of
``GET /v1/pools/<name>``, ``GET /v1/leases`` and Placement's resource
providers, and return plain records the templates draw. Free room a GPU
cannot use is measured with the allocator's own formulas
(:mod:`orionx_cyborg.allocator.fragmentation`): a GPU whose memory is
free but whose compute is taken (or the reverse) strands the larger free
dimension beyond the smaller one.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any

from orionx_cyborg import resources
from orionx_cyborg.allocator import fragmentation

#: Lease states whose slice counts against a GPU (the ledger's).
PLACED_STATES = ('claiming', 'active', 'moving')
#: Lease states a project's instance waits in.
WAITING_STATES = ('pending', 'awaiting-partner')
#: The resource classes the console reads from Placement, by kind.
PLACEMENT_CLASSES = {
    resources.RC_PGPU: 'whole GPU',
    resources.RC_PNPU: 'whole NPU',
    resources.RC_VGPU: 'vGPU',
    resources.RC_POOL_MEMORY: 'pool memory (MiB)',
    resources.RC_POOL_COMPUTE: 'pool compute (%)',
    resources.RC_ENTITLEMENT: 'pooled vGPU entitlement',
}


@dataclasses.dataclass(frozen=True)
class Segment:
    """One lease's share of one dimension of a GPU."""

    lease_id: str
    instance_uuid: str
    project_id: str
    amount: int
    percent: float


@dataclasses.dataclass(frozen=True)
class Bar:
    """One dimension (memory or compute) of a GPU, split by lease."""

    capacity: int
    used: int
    segments: tuple[Segment, ...]

    @property
    def free(self) -> int:
        return max(0, self.capacity - self.used)

    @property
    def used_percent(self) -> float:
        return _percent(self.used, self.capacity)

    @property
    def free_percent(self) -> float:
        return max(0.0, round(100.0 - self.used_percent, 2))


@dataclasses.dataclass(frozen=True)
class GpuBar:
    gpu_uuid: str
    host: str
    model: str
    healthy: bool
    memory: Bar
    compute: Bar
    leases: int
    stranded_memory_mib: int
    """Free memory without the compute to use it."""
    stranded_compute_pct: int
    """Free compute without the memory to use it."""
    free_gpus: float
    """Free room in GPU-equivalents (the allocator's measure)."""
    stranded_gpus: float
    """Free room no slice can use whole, in GPU-equivalents."""


@dataclasses.dataclass(frozen=True)
class PoolSummary:
    name: str
    gpus: tuple[GpuBar, ...]
    fragmentation: float
    """The service's measure: share of free room the mix cannot use."""
    memory: Bar
    compute: Bar
    unhealthy: int
    pending: tuple[Mapping[str, Any], ...]
    leases_by_state: Mapping[str, int]

    @property
    def stranded_memory_mib(self) -> int:
        return sum(g.stranded_memory_mib for g in self.gpus if g.healthy)

    @property
    def stranded_compute_pct(self) -> int:
        return sum(g.stranded_compute_pct for g in self.gpus if g.healthy)

    @property
    def free_gpus(self) -> float:
        return round(sum(g.free_gpus for g in self.gpus if g.healthy), 4)

    @property
    def stranded_gpus(self) -> float:
        return round(sum(g.stranded_gpus for g in self.gpus if g.healthy), 4)

    @property
    def fragmentation_percent(self) -> float:
        return round(100.0 * self.fragmentation, 1)


def _percent(part: int | float, whole: int | float) -> float:
    if whole <= 0:
        return 0.0
    return round(100.0 * min(max(part, 0), whole) / whole, 2)


def _bar(
    capacity: int, used: int, leases: Sequence[Mapping[str, Any]], key: str
) -> Bar:
    segments = tuple(
        Segment(
            lease_id=str(lease.get('id', '')),
            instance_uuid=str(lease.get('instance_uuid', '')),
            project_id=str(lease.get('project_id', '')),
            amount=int(lease.get(key) or 0),
            percent=_percent(int(lease.get(key) or 0), capacity),
        )
        for lease in sorted(leases, key=lambda item: str(item.get('id')))
    )
    return Bar(capacity=capacity, used=used, segments=segments)


def stranded(
    memory_mib: int, compute_pct: int, free_memory_mib: int, free_compute: int
) -> tuple[int, int, float]:
    """Free room of a GPU that the other dimension cannot accompany.

    :returns: (stranded MiB, stranded percent of compute, stranded
        GPU-equivalents). The last is the allocator's
        :func:`~orionx_cyborg.allocator.fragmentation.largest_free_fraction`
        (which counts the larger free dimension whole) less the smaller
        free fraction, which a slice could use with it.
    """
    if memory_mib <= 0 or compute_pct <= 0:
        return 0, 0, 0.0
    free_memory_mib = max(0, free_memory_mib)
    free_compute = max(0, free_compute)
    memory_fraction = free_memory_mib / memory_mib
    compute_fraction = free_compute / compute_pct
    largest = fragmentation.largest_free_fraction(
        memory_mib, compute_pct, free_memory_mib, free_compute
    )
    gpus = round(largest - min(memory_fraction, compute_fraction), 4)
    memory = max(0, free_memory_mib - int(compute_fraction * memory_mib))
    compute = max(0, free_compute - int(memory_fraction * compute_pct))
    return memory, compute, gpus


def gpu_bars(
    pool: Mapping[str, Any], leases: Iterable[Mapping[str, Any]]
) -> list[GpuBar]:
    """Each GPU of a pool document as two bars, split by placed lease.

    :param pool: ``GET /v1/pools/<name>``'s document (with ``gpus``).
    :param leases: leases of the pool (any states; those not placed on a
        GPU are left out).
    """
    by_gpu: dict[str, list[Mapping[str, Any]]] = {}
    for lease in leases:
        if lease.get('state') in PLACED_STATES and lease.get('gpu_uuid'):
            by_gpu.setdefault(str(lease['gpu_uuid']), []).append(lease)
    bars = []
    for gpu in pool.get('gpus') or []:
        memory = gpu.get('gmem_mib', {})
        compute = gpu.get('compute_pct', {})
        cap_mem = int(memory.get('capacity', 0))
        cap_comp = int(compute.get('capacity', 0))
        used_mem = int(memory.get('used', 0))
        used_comp = int(compute.get('used', 0))
        placed = by_gpu.get(str(gpu.get('gpu_uuid')), [])
        s_mem, s_comp, s_gpus = stranded(
            cap_mem, cap_comp, cap_mem - used_mem, cap_comp - used_comp
        )
        free = 0.0
        if cap_mem > 0 and cap_comp > 0:
            free = round(
                fragmentation.free_amount(
                    cap_mem,
                    cap_comp,
                    max(0, cap_mem - used_mem),
                    max(0, cap_comp - used_comp),
                ),
                4,
            )
        bars.append(
            GpuBar(
                gpu_uuid=str(gpu.get('gpu_uuid', '')),
                host=str(gpu.get('host', '')),
                model=str(gpu.get('model', '')),
                healthy=bool(gpu.get('healthy', False)),
                memory=_bar(cap_mem, used_mem, placed, 'gmem_mib'),
                compute=_bar(cap_comp, used_comp, placed, 'compute_pct'),
                leases=int(gpu.get('leases', len(placed))),
                stranded_memory_mib=s_mem,
                stranded_compute_pct=s_comp,
                free_gpus=free,
                stranded_gpus=s_gpus,
            )
        )
    return bars


def pending_queue(
    leases: Iterable[Mapping[str, Any]],
    now: datetime.datetime | None = None,
) -> list[dict[str, Any]]:
    """Pending leases, oldest first, each with ``waiting_s``."""
    now = now or datetime.datetime.now(datetime.UTC)
    queue: list[tuple[bool, datetime.datetime, str, dict[str, Any]]] = []
    for lease in leases:
        if lease.get('state') not in WAITING_STATES:
            continue
        row = dict(lease)
        created = _time(lease.get('created_at'))
        row['waiting_s'] = (
            max(0, int((now - created).total_seconds())) if created else None
        )
        queue.append((created is None, created or now, str(row['id']), row))
    # Oldest first; leases without a known creation time last.
    queue.sort(key=lambda item: item[:3])
    return [item[3] for item in queue]


def _time(value: Any) -> datetime.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.UTC)
    return parsed


def pool_summary(
    pool: Mapping[str, Any],
    leases: Iterable[Mapping[str, Any]],
    now: datetime.datetime | None = None,
) -> PoolSummary:
    """A pool as the admin panel shows it.

    :param pool: ``GET /v1/pools/<name>``'s document.
    :param leases: the leases (every pool's will do: only this pool's
        count).
    """
    mine = [lease for lease in leases if lease.get('pool') == pool['name']]
    bars = gpu_bars(pool, mine)
    memory = pool.get('gmem_mib', {})
    compute = pool.get('compute_pct', {})
    return PoolSummary(
        name=str(pool['name']),
        gpus=tuple(bars),
        fragmentation=float(pool.get('fragmentation', 0.0)),
        memory=Bar(
            int(memory.get('capacity', 0)), int(memory.get('used', 0)), ()
        ),
        compute=Bar(
            int(compute.get('capacity', 0)), int(compute.get('used', 0)), ()
        ),
        unhealthy=int(
            pool.get('unhealthy', sum(1 for g in bars if not g.healthy))
        ),
        pending=tuple(pending_queue(mine, now)),
        leases_by_state=dict(pool.get('leases', {})),
    )


def entitlement_use(
    leases: Iterable[Mapping[str, Any]],
    entitlements: Mapping[str, Mapping[str, int]] | None = None,
) -> list[dict[str, Any]]:
    """Pooled vGPU entitlements per VM host: leases held, and capacity.

    :param leases: every lease; those not released count on their
        ``vm_host``.
    :param entitlements: host -> Placement's ``total`` and ``used`` of
        the entitlement class (:func:`placement_entitlements`), when the
        caller may read Placement.
    """
    held: dict[str, int] = {}
    for lease in leases:
        if lease.get('state') == 'releasing' or not lease.get('vm_host'):
            continue
        host = str(lease['vm_host'])
        held[host] = held.get(host, 0) + 1
    entitlements = entitlements or {}
    rows = []
    for host in sorted(set(held) | set(entitlements)):
        entry = entitlements.get(host, {})
        total = entry.get('total')
        rows.append(
            {
                'host': host,
                'leases': held.get(host, 0),
                'total': total,
                'used': entry.get('used'),
                'percent': (
                    _percent(held.get(host, 0), total) if total else None
                ),
            }
        )
    return rows


def project_instances(
    leases: Iterable[Mapping[str, Any]],
) -> list[dict[str, Any]]:
    """A project's instances with their pooled vGPUs (Project → GPUs)."""
    instances: dict[str, dict[str, Any]] = {}
    for lease in leases:
        instance = str(lease.get('instance_uuid', ''))
        row = instances.setdefault(
            instance,
            {
                'instance_uuid': instance,
                'vm_host': lease.get('vm_host'),
                'vgpus': [],
                'gmem_mib': 0,
                'compute_pct': 0,
            },
        )
        row['vgpus'].append(lease)
        row['gmem_mib'] += int(lease.get('gmem_mib') or 0)
        row['compute_pct'] += int(lease.get('compute_pct') or 0)
    for row in instances.values():
        row['vgpus'].sort(key=lambda lease: str(lease.get('id')))
        row['states'] = sorted({str(v.get('state')) for v in row['vgpus']})
    return [instances[key] for key in sorted(instances)]


def placement_inventory(
    providers: Iterable[Mapping[str, Any]],
) -> list[dict[str, Any]]:
    """Rows of Placement's inventory of the console's resource classes.

    :param providers: resource providers, each with ``name``, ``uuid``,
        ``root_name`` (the compute node's name, where known) and
        ``inventories`` / ``usages`` as Placement answers them.
    """
    rows = []
    for provider in providers:
        inventories = provider.get('inventories', {})
        usages = provider.get('usages', {})
        for rc, kind in PLACEMENT_CLASSES.items():
            if rc not in inventories:
                continue
            inventory = inventories[rc]
            total = int(inventory.get('total', 0))
            reserved = int(inventory.get('reserved', 0))
            used = int(usages.get(rc, 0))
            rows.append(
                {
                    'provider': provider.get('name'),
                    'provider_uuid': provider.get('uuid'),
                    'host': provider.get('root_name') or provider.get('name'),
                    'resource_class': rc,
                    'kind': kind,
                    'total': total,
                    'reserved': reserved,
                    'used': used,
                    'free': max(0, total - reserved - used),
                    'percent': _percent(used, total - reserved),
                }
            )
    rows.sort(key=lambda r: (str(r['host']), r['kind'], str(r['provider'])))
    return rows


def placement_entitlements(
    rows: Iterable[Mapping[str, Any]],
) -> dict[str, dict[str, int]]:
    """Host -> entitlement ``total`` and ``used``, from inventory rows."""
    hosts: dict[str, dict[str, int]] = {}
    for row in rows:
        if row['resource_class'] != resources.RC_ENTITLEMENT:
            continue
        entry = hosts.setdefault(str(row['host']), {'total': 0, 'used': 0})
        entry['total'] += int(row['total']) - int(row['reserved'])
        entry['used'] += int(row['used'])
    return hosts


def region_totals(
    regions: Mapping[str, Sequence[Mapping[str, Any]]],
) -> dict[str, Any]:
    """Totals per region and overall, from each region's pool list.

    :param regions: region name -> ``GET /v1/pools``'s ``pools``.
    :returns: ``{'regions': [...], 'overall': {...}}``; each total has
        pools, GPUs, unhealthy GPUs, pending leases, memory and compute
        capacity and use.
    """
    rows = []
    overall = _empty_total('overall')
    for name in sorted(regions):
        total = _empty_total(name)
        for pool in regions[name]:
            _add(total, pool)
            _add(overall, pool)
        rows.append(_finish(total))
    return {'regions': rows, 'overall': _finish(overall)}


def _empty_total(name: str) -> dict[str, Any]:
    return {
        'region': name,
        'pools': 0,
        'gpus': 0,
        'unhealthy': 0,
        'pending': 0,
        'memory_capacity': 0,
        'memory_used': 0,
        'compute_capacity': 0,
        'compute_used': 0,
    }


def _add(total: dict[str, Any], pool: Mapping[str, Any]) -> None:
    total['pools'] += 1
    total['gpus'] += int(pool.get('gpus_total', 0))
    total['unhealthy'] += int(pool.get('unhealthy', 0))
    total['pending'] += int(pool.get('pending', 0))
    memory = pool.get('gmem_mib', {})
    compute = pool.get('compute_pct', {})
    total['memory_capacity'] += int(memory.get('capacity', 0))
    total['memory_used'] += int(memory.get('used', 0))
    total['compute_capacity'] += int(compute.get('capacity', 0))
    total['compute_used'] += int(compute.get('used', 0))


def _finish(total: dict[str, Any]) -> dict[str, Any]:
    total['memory_percent'] = _percent(
        total['memory_used'], total['memory_capacity']
    )
    total['compute_percent'] = _percent(
        total['compute_used'], total['compute_capacity']
    )
    return total


def state_history(lease: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A lease's events (``GET /v1/leases/<id>``), oldest first."""
    events = [dict(e) for e in lease.get('events') or []]
    events.sort(key=lambda e: str(e.get('at')))
    return events
