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

"""nova-compute's part in Placement: one compute-node provider per host.

Like nova-compute's resource tracker, with Nova's initial allocation
ratios (CPU 4.0, RAM 1.0, disk 1.0) and the traits the libvirt driver
reports that matter here (``COMPUTE_ACCELERATORS``, ``COMPUTE_NODE``).
The provider is named after the host, which is also the nodename Nova
passes to Cyborg when it binds (Cyborg's agents look their host up by it).
"""

from __future__ import annotations

from orionx_cyborg.sandbox import clients
from orionx_cyborg.sandbox import layout
from orionx_cyborg.sandbox.nova import scheduler

TRAITS = (scheduler.ACCELERATORS_TRAIT, 'COMPUTE_NODE')
RESERVED_HOST_MEMORY_MB = 512


def inventories(host: layout.HostEntry) -> dict[str, dict[str, float]]:
    return {
        'VCPU': {
            'total': host.vcpus,
            'max_unit': host.vcpus,
            'allocation_ratio': 4.0,
        },
        'MEMORY_MB': {
            'total': host.memory_mb,
            'max_unit': host.memory_mb,
            'reserved': RESERVED_HOST_MEMORY_MB,
            'allocation_ratio': 1.0,
        },
        'DISK_GB': {
            'total': host.disk_gb,
            'max_unit': host.disk_gb,
            'allocation_ratio': 1.0,
        },
    }


def register_compute_node(
    placement: clients.JsonClient, host: layout.HostEntry
) -> None:
    """Create or refresh the host's provider, inventory and traits."""
    placement.request(
        'POST',
        '/resource_providers',
        body={'name': host.name, 'uuid': host.rp_uuid},
        expect=(200, 409),
    )
    path = '/resource_providers/%s' % host.rp_uuid
    generation = placement.get(path)['generation']
    answer = placement.put(
        path + '/inventories',
        {
            'resource_provider_generation': generation,
            'inventories': inventories(host),
        },
    )
    placement.put(
        path + '/traits',
        {
            'resource_provider_generation': answer[
                'resource_provider_generation'
            ],
            'traits': list(TRAITS),
        },
    )


def register_all(
    placement: clients.JsonClient, manifest: layout.Manifest
) -> None:
    for host in manifest.hosts:
        register_compute_node(placement, host)
