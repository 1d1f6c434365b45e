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

"""The state of the pools, for the API and the metrics.

Capacity comes from Cyborg's report of the pool members, use from the
ledger's placed leases (which Placement holds as allocations), and
fragmentation from the allocator's model over the recent request mix: the
share of free capacity that the requests the pool sees could not use.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from orionx_cyborg import allocator
from orionx_cyborg.attach import ledger as ledger_mod
from orionx_cyborg.attach import service as service_mod
from orionx_cyborg.clients import pools as pool_mod


@dataclasses.dataclass(frozen=True)
class GpuStatus:
    gpu_uuid: str
    host: str
    model: str
    healthy: bool
    memory_mib: int
    memory_used: int
    compute_pct: int
    compute_used: int
    leases: int

    def to_dict(self) -> dict[str, Any]:
        return {
            'gpu_uuid': self.gpu_uuid,
            'host': self.host,
            'model': self.model,
            'healthy': self.healthy,
            'gmem_mib': {
                'capacity': self.memory_mib,
                'used': self.memory_used,
                'free': self.memory_mib - self.memory_used,
            },
            'compute_pct': {
                'capacity': self.compute_pct,
                'used': self.compute_used,
                'free': (self.compute_pct - self.compute_used),
            },
            'leases': self.leases,
        }


@dataclasses.dataclass(frozen=True)
class PoolStatus:
    name: str
    gpus: tuple[GpuStatus, ...]
    leases_by_state: dict[str, int]
    fragmentation: float
    """Expected share of the free capacity the request mix cannot use."""

    @property
    def unhealthy(self) -> int:
        return sum(1 for gpu in self.gpus if not gpu.healthy)

    @property
    def pending(self) -> int:
        return self.leases_by_state.get(ledger_mod.LeaseState.PENDING, 0)

    def totals(self) -> dict[str, dict[str, int]]:
        memory = sum(g.memory_mib for g in self.gpus)
        memory_used = sum(g.memory_used for g in self.gpus)
        compute = sum(g.compute_pct for g in self.gpus)
        compute_used = sum(g.compute_used for g in self.gpus)
        return {
            'gmem_mib': {
                'capacity': memory,
                'used': memory_used,
                'free': memory - memory_used,
            },
            'compute_pct': {
                'capacity': compute,
                'used': compute_used,
                'free': compute - compute_used,
            },
        }

    def to_dict(self, with_gpus: bool = True) -> dict[str, Any]:
        document: dict[str, Any] = {
            'name': self.name,
            'gpus_total': len(self.gpus),
            'unhealthy': self.unhealthy,
            'pending': self.pending,
            'leases': dict(self.leases_by_state),
            'fragmentation': round(self.fragmentation, 4),
            **self.totals(),
        }
        if with_gpus:
            document['gpus'] = [gpu.to_dict() for gpu in self.gpus]
        return document


def pool_status(
    service: service_mod.LeaseService,
    pool: str,
    view: pool_mod.PoolView | None = None,
) -> PoolStatus:
    """The status of one served pool.

    :param view: the pool view to use; the service's (read from Cyborg
        if it has none yet) by default.
    :raises ServiceUnavailable: Cyborg cannot be read.
    """
    view = view or service.view()
    usage = service.ledger.usage_by_gpu(pool)
    gpus = []
    for member in sorted(view.members(pool), key=lambda m: m.gpu_uuid):
        used = usage.get(member.gpu_uuid)
        gpus.append(
            GpuStatus(
                gpu_uuid=member.gpu_uuid,
                host=member.host,
                model=member.model,
                healthy=member.healthy,
                memory_mib=member.memory_mib,
                memory_used=used.gmem_mib if used else 0,
                compute_pct=member.compute_pct,
                compute_used=used.compute_pct if used else 0,
                leases=used.leases if used else 0,
            )
        )
    counts = {
        str(state): count
        for state, count in service.ledger.count_by_state(pool).items()
    }
    return PoolStatus(pool, tuple(gpus), counts, _fragmentation(service, pool))


def _fragmentation(service: service_mod.LeaseService, pool: str) -> float:
    mix, pool_gpus = service.capacity.snapshot(pool)
    model = allocator.FragmentationModel(mix)
    gpus = [gpu for gpu in pool_gpus if gpu.healthy]
    free = sum(
        model.amount(
            g.memory_mib, g.compute_pct, g.free_memory_mib, g.free_compute_pct
        )
        for g in gpus
    )
    if free <= 0:
        return 0.0
    return min(1.0, model.pool_fragment(gpus) / free)
