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

"""The pool as Cyborg reports it: members, their capacity and health.

Cyborg's deployables give every pool member's two resource providers
(GPU memory and compute), their totals (which Cyborg writes to Placement)
and traits (health, pool); its devices give the GPU's host, model and
UUID. The attach service trusts Cyborg's view for health and capacity,
and Placement for what is allocated.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from orionx_cyborg import resources
from orionx_cyborg.clients import cyborg


@dataclasses.dataclass(frozen=True)
class PoolGpu:
    """One GPU lent to a pool."""

    gpu_uuid: str
    """The GPU's UUID (``GPU-...``)."""
    pool: str
    host: str
    """The GPU's host: the compute node its resource providers hang
    under, as Nova names it."""
    model: str
    pci_address: str
    memory_rp_uuid: str
    compute_rp_uuid: str
    memory_mib: int
    """GPU memory lent to the pool (the GMEM deployable's total)."""
    compute_pct: int
    """Compute lent to the pool, in percent of the GPU (oversubscribed
    pools lend more than 100)."""
    healthy: bool
    memory_traits: frozenset[str] = frozenset()
    compute_traits: frozenset[str] = frozenset()
    vendor: str = '10de'
    """The GPU's PCI vendor id, as Cyborg's device records it."""

    @property
    def traits(self) -> frozenset[str]:
        """The traits of the GPU's providers (vendor, model, pool...)."""
        return self.memory_traits | self.compute_traits


@dataclasses.dataclass(frozen=True)
class Entitlement:
    """A host's pooled-vGPU entitlement resource provider."""

    rp_uuid: str
    pool: str
    total: int


@dataclasses.dataclass(frozen=True)
class PoolView:
    gpus: dict[str, PoolGpu]
    entitlements: dict[str, Entitlement]
    """By resource provider UUID."""

    def members(self, pool: str) -> list[PoolGpu]:
        return [gpu for gpu in self.gpus.values() if gpu.pool == pool]

    def by_rp(self) -> dict[str, PoolGpu]:
        """Pool members by either of their resource providers."""
        result = {}
        for gpu in self.gpus.values():
            result[gpu.memory_rp_uuid] = gpu
            result[gpu.compute_rp_uuid] = gpu
        return result


def build_view(
    devices: Iterable[cyborg.Device],
    deployables: Iterable[cyborg.Deployable],
    pools: Iterable[str],
) -> PoolView:
    """The members and entitlements of *pools* in Cyborg's report."""
    traits = {resources.pool_trait(pool): pool for pool in pools}
    by_name = {
        d.name: d
        for d in deployables
        if d.driver_name == resources.DRIVER_NAME and d.rp_uuid
    }
    gpus = {}
    for device in devices:
        gpu = _member(device, by_name, traits)
        if gpu is not None:
            gpus[gpu.gpu_uuid] = gpu
    entitlements = {}
    for deployable in by_name.values():
        if deployable.resource_class != resources.RC_ENTITLEMENT:
            continue
        pool = _pool_of(deployable.traits, traits)
        if pool is not None and deployable.rp_uuid:
            entitlements[deployable.rp_uuid] = Entitlement(
                deployable.rp_uuid, pool, deployable.num_accelerators
            )
    return PoolView(gpus=gpus, entitlements=entitlements)


def _pool_of(
    deployable_traits: frozenset[str], pool_traits: dict[str, str]
) -> str | None:
    for trait in deployable_traits:
        if trait in pool_traits:
            return pool_traits[trait]
    return None


def _member(
    device: cyborg.Device,
    deployables: dict[str, cyborg.Deployable],
    pool_traits: dict[str, str],
) -> PoolGpu | None:
    board = device.std_board_info
    prefix = board.get(resources.BOARD_DEPLOYABLE_PREFIX)
    if not prefix:
        return None
    memory = deployables.get(
        resources.suffixed(prefix, resources.POOL_MEMORY_SUFFIX)
    )
    compute = deployables.get(
        resources.suffixed(prefix, resources.POOL_COMPUTE_SUFFIX)
    )
    if memory is None or compute is None:
        return None
    pool = _pool_of(memory.traits, pool_traits)
    if pool is None or memory.rp_uuid is None or compute.rp_uuid is None:
        return None
    unhealthy = resources.TRAIT_UNHEALTHY in memory.traits | compute.traits
    return PoolGpu(
        gpu_uuid=str(board.get(resources.BOARD_UUID) or device.uuid),
        pool=pool,
        host=device.hostname,
        model=device.model,
        pci_address=str(board.get(resources.BOARD_PCI_ADDRESS, '')),
        memory_rp_uuid=memory.rp_uuid,
        compute_rp_uuid=compute.rp_uuid,
        memory_mib=memory.num_accelerators,
        compute_pct=compute.num_accelerators,
        healthy=not unhealthy,
        memory_traits=memory.traits,
        compute_traits=compute.traits,
        # Devices reported before the driver knew other vendors were
        # NVIDIA's.
        vendor=(device.vendor or '10de').lower(),
    )
