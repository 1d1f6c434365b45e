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

"""Every GPU the driver reports, in any mode, across hosts.

Cyborg's devices and deployables say which GPUs there are, on which
host, of which model, in which mode (the deployables under a GPU's
``deployable_prefix``: ``_PGPU``/``_PNPU`` passed through, ``_VGPU_*``
split into vGPUs, ``_GMEM`` and ``_COMPUTE`` lent to a pool) and whether
they are healthy (the ``CUSTOM_ORIONX_UNHEALTHY`` trait). Placement says
how much each resource provider offers (inventory total less reserved)
and how much is allocated (usages). Pooled vGPUs, whole GPUs and vGPUs
side by side: the operator's view of the whole fleet.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from collections.abc import Mapping

from orionx_cyborg import resources
from orionx_cyborg.clients import cyborg as cyborg_mod
from orionx_cyborg.clients import placement as placement_mod

MODE_PASSTHROUGH = 'passthrough'
MODE_VGPU = 'vgpu'
MODE_POOL = 'pool'
#: Reported without deployables (a stub): offered to no one.
MODE_OFF = 'off'
#: Deployables of more than one mode (a reconfiguration in progress).
MODE_MIXED = 'mixed'

HEALTHY = 'healthy'
UNHEALTHY = 'unhealthy'


@dataclasses.dataclass(frozen=True)
class Provider:
    """One deployable of a GPU and its resource provider's numbers."""

    name: str
    rp_uuid: str | None
    resource_class: str
    capacity: int
    used: int
    traits: frozenset[str]


@dataclasses.dataclass(frozen=True)
class FleetGpu:
    """A GPU (or NPU) as Cyborg and Placement see it."""

    gpu_uuid: str
    device_uuid: str
    host: str
    vendor: str
    model: str
    pci_address: str
    memory_mib: int | None
    mode: str
    pool: str | None
    health: str
    providers: tuple[Provider, ...]

    @property
    def capacity(self) -> dict[str, int]:
        """Resource class -> capacity, over the GPU's providers."""
        return _sum(self.providers, 'capacity')

    @property
    def used(self) -> dict[str, int]:
        """Resource class -> amount allocated."""
        return _sum(self.providers, 'used')


def _sum(providers: Iterable[Provider], field: str) -> dict[str, int]:
    totals: dict[str, int] = {}
    for provider in providers:
        totals[provider.resource_class] = totals.get(
            provider.resource_class, 0
        ) + int(getattr(provider, field))
    return totals


def read(
    cyborg: cyborg_mod.CyborgClient, placement: placement_mod.PlacementClient
) -> list[FleetGpu]:
    """Every GPU the driver reports, with Placement's numbers.

    :raises ServiceUnavailable: Cyborg or Placement cannot be read.
    :raises Forbidden: the caller may not list Cyborg's devices.
    """
    devices = cyborg.devices()
    deployables = [
        d
        for d in cyborg.deployables()
        if d.driver_name == resources.DRIVER_NAME
    ]
    numbers: dict[str, tuple[int, int]] = {}
    for deployable in deployables:
        if deployable.rp_uuid and deployable.resource_class:
            numbers[deployable.rp_uuid] = _numbers(
                placement, deployable.rp_uuid, deployable.resource_class
            )
    return build(devices, deployables, numbers)


def _numbers(
    placement: placement_mod.PlacementClient, rp_uuid: str, rc: str
) -> tuple[int, int]:
    inventories = placement.provider_inventories(rp_uuid)
    if inventories is None:
        return (-1, 0)
    inventory = inventories.get(rc, {})
    capacity = int(inventory.get('total', 0)) - int(
        inventory.get('reserved', 0)
    )
    return (capacity, int(placement.provider_usages(rp_uuid).get(rc, 0)))


def build(
    devices: Iterable[cyborg_mod.Device],
    deployables: Iterable[cyborg_mod.Deployable],
    numbers: Mapping[str, tuple[int, int]],
) -> list[FleetGpu]:
    """The fleet from Cyborg's records and *numbers*.

    :param numbers: resource provider UUID -> (capacity, used) from
        Placement; a capacity of -1 (or none) means Placement has no such
        provider, and Cyborg's total is shown.
    """
    by_name = {d.name: d for d in deployables}
    fleet = []
    for device in devices:
        board = device.std_board_info
        prefix = board.get(resources.BOARD_DEPLOYABLE_PREFIX)
        if not prefix:
            continue
        own = [
            d
            for name, d in sorted(by_name.items())
            if name.startswith(str(prefix) + '_')
            and d.resource_class != resources.RC_ENTITLEMENT
        ]
        providers = tuple(_provider(d, numbers) for d in own)
        traits = frozenset().union(*(d.traits for d in own))
        memory = board.get(resources.BOARD_MEMORY_MIB)
        fleet.append(
            FleetGpu(
                gpu_uuid=str(board.get(resources.BOARD_UUID) or device.uuid),
                device_uuid=device.uuid,
                host=device.hostname,
                vendor=device.vendor,
                model=device.model,
                pci_address=str(board.get(resources.BOARD_PCI_ADDRESS, '')),
                memory_mib=int(memory) if memory is not None else None,
                mode=_mode(p.resource_class for p in providers),
                pool=_pool(traits),
                health=(
                    UNHEALTHY
                    if resources.TRAIT_UNHEALTHY in traits
                    else HEALTHY
                ),
                providers=providers,
            )
        )
    return sorted(fleet, key=lambda g: (g.host, g.pci_address, g.gpu_uuid))


def _provider(
    deployable: cyborg_mod.Deployable,
    numbers: Mapping[str, tuple[int, int]],
) -> Provider:
    capacity, used = numbers.get(deployable.rp_uuid or '', (-1, 0))
    return Provider(
        name=deployable.name,
        rp_uuid=deployable.rp_uuid,
        resource_class=deployable.resource_class or '',
        capacity=capacity if capacity >= 0 else deployable.num_accelerators,
        used=used,
        traits=deployable.traits,
    )


_MODES = {
    resources.RC_PGPU: MODE_PASSTHROUGH,
    resources.RC_PNPU: MODE_PASSTHROUGH,
    resources.RC_VGPU: MODE_VGPU,
    resources.RC_POOL_MEMORY: MODE_POOL,
    resources.RC_POOL_COMPUTE: MODE_POOL,
}


def _mode(resource_classes: Iterable[str]) -> str:
    modes = {_MODES.get(rc, MODE_MIXED) for rc in resource_classes}
    if not modes:
        return MODE_OFF
    if len(modes) > 1:
        return MODE_MIXED
    return modes.pop()


def _pool(traits: frozenset[str]) -> str | None:
    for trait in sorted(traits):
        if trait.startswith(resources.POOL_TRAIT_PREFIX):
            return trait[len(resources.POOL_TRAIT_PREFIX) :].lower()
    return None
