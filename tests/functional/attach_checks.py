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

"""What the attach service's functional tests read and check.

A lease lives in three stores: Cyborg (its bound entitlement ARQ), the
attach service's ledger (read through its API) and Placement (the
allocation whose consumer is the lease). :func:`read_stores` reads all
three straight from the services and :func:`problems` lists every way
they disagree, which a reconcile pass must leave at none:

* every bound ARQ on an entitlement has exactly one lease, and every
  lease belongs to such an ARQ of the same instance;
* no lease is half-way (``claiming``, ``moving``, ``releasing``);
* every active lease has exactly one allocation, of consumer type
  ``ORIONX_LEASE``, holding both resource providers of its own GPU with
  its size; a pending lease has none;
* no allocation of that consumer type exists without a lease;
* each pool provider's usage in Placement is the sum of its leases.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterable
from typing import Any

from orionx_cyborg import resources
from orionx_cyborg.sandbox import clients
from orionx_cyborg.sandbox import identity
from orionx_cyborg.sandbox import layout
from orionx_cyborg.sandbox import stack
from tests.functional import helpers
from tests.functional import report_oracle

CONSUMER_TYPE = 'ORIONX_LEASE'
SETTLED = frozenset({'active', 'pending', 'awaiting-partner'})
#: Settled states without a GPU: they hold no allocation.
WAITING = frozenset({'pending', 'awaiting-partner'})
POOL_TRAIT = 'CUSTOM_ORIONX_POOL_DEFAULT'

#: Every lease secret a test saw, for the log check.
seen_secrets: set[str] = set()


def pooled_group(gmem_mib: int, compute_pct: int) -> dict[str, str]:
    """A device profile group of one pooled vGPU of that size."""
    return {
        'resources:%s' % resources.RC_ENTITLEMENT: '1',
        'trait:%s' % POOL_TRAIT: 'required',
        'accel:orionx_gmem_mib': str(gmem_mib),
        'accel:orionx_compute_pct': str(compute_pct),
    }


def create_pooled_flavor(
    sandbox: stack.Sandbox, prefix: str, gmem_mib: int, compute_pct: int
) -> str:
    """A device profile of one pooled vGPU and a flavor asking it (its id)."""
    name = helpers.unique(prefix)
    sandbox.connect(identity.ADMIN_TOKEN).accelerator.create_device_profile(
        name=name, groups=[pooled_group(gmem_mib, compute_pct)]
    )
    compute = sandbox.compute()
    flavor = compute.post(
        '/flavors',
        {'flavor': {'name': name, 'vcpus': 1, 'ram': 512, 'disk': 1}},
    )['flavor']
    compute.post(
        '/flavors/%s/os-extra_specs' % flavor['id'],
        {'extra_specs': {'accel:device_profile': name}},
    )
    flavor_id: str = flavor['id']
    return flavor_id


def vendordata(sandbox: stack.Sandbox, server_id: str) -> dict[str, Any]:
    """The attach service's part of ``vendor_data2.json``, through Nova.

    The Nova stand-in posts the instance document to every DynamicJSON
    target with Nova's service token, as nova-api's metadata service
    does; its answer for a failing target is ``{}``.
    """
    answer = sandbox.nova_sandbox().get(
        '/sandbox/servers/%s/vendor_data2.json' % server_id
    )
    document: dict[str, Any] = answer[layout.ATTACH_TARGET]
    remember_secrets(document)
    return document


def remember_secrets(document: dict[str, Any]) -> None:
    for vgpu in document.get('vgpus') or ():
        if vgpu.get('secret'):
            seen_secrets.add(vgpu['secret'])


def leases(sandbox: stack.Sandbox, **filters: str) -> list[dict[str, Any]]:
    """Every lease (as admin), following the API's pages."""
    found: list[dict[str, Any]] = []
    marker = None
    while True:
        params = dict(filters, limit='1000')
        if marker:
            params['marker'] = marker
        page = sandbox.attach().get('/v1/leases', params=params)['leases']
        found += page
        if len(page) < 1000:
            return found
        marker = page[-1]['id']


@dataclasses.dataclass(frozen=True)
class PoolGpu:
    prefix: str
    """Its deployables' name prefix (``<host>_<bdf>_``)."""
    memory_rp: str
    compute_rp: str


@dataclasses.dataclass
class Stores:
    arqs: list[dict[str, Any]]
    """Bound ARQs on pool entitlements."""
    leases: list[dict[str, Any]]
    gpus: dict[str, PoolGpu]
    """By prefix."""
    allocations: dict[str, dict[str, dict[str, int]]]
    """Pool provider -> consumer -> resources."""
    usages: dict[str, dict[str, int]]
    consumer_types: dict[str, str | None]

    def lease_of_arq(self, arq_uuid: str) -> dict[str, Any] | None:
        for lease in self.leases:
            if lease['arq_uuid'] == arq_uuid:
                return lease
        return None

    def gpu_of(self, lease: dict[str, Any]) -> PoolGpu | None:
        if not lease['gpu_host'] or not lease['gpu_pci_address']:
            return None
        return self.gpus.get(
            report_oracle.gpu_prefix(
                lease['gpu_host'], lease['gpu_pci_address']
            )
        )


def pool_gpus(sandbox: stack.Sandbox) -> dict[str, PoolGpu]:
    """Pool members from Cyborg's deployables, by name prefix."""
    by_name = {
        dep['name']: dep
        for dep in helpers.deployables(sandbox)
        if dep['attributes'].get('rc')
        in (resources.RC_POOL_MEMORY, resources.RC_POOL_COMPUTE)
    }
    gpus = {}
    for name, dep in by_name.items():
        if not name.endswith('_GMEM'):
            continue
        prefix = name[: -len('GMEM')]
        compute = by_name.get(prefix + 'COMPUTE')
        if compute is not None:
            gpus[prefix] = PoolGpu(prefix, dep['rp_uuid'], compute['rp_uuid'])
    return gpus


def entitlement_rps(sandbox: stack.Sandbox) -> set[str]:
    return {
        dep['rp_uuid']
        for dep in helpers.deployables(sandbox)
        if dep['attributes'].get('rc') == resources.RC_ENTITLEMENT
    }


def ledger_leases(sandbox: stack.Sandbox) -> list[dict[str, Any]]:
    """The leases straight from the SQLite ledger file, as the API shows
    them: for when the service is down (after a crash).
    """
    from orionx_cyborg.attach import ledger as ledger_mod

    url = 'sqlite:///%s' % (sandbox.state.attach_dir / 'attach.sqlite')
    with ledger_mod.Ledger.from_url(url) as ledger:
        return [
            dict(dataclasses.asdict(record), state=record.state.value)
            for record in ledger.list()
        ]


def read_stores(
    sandbox: stack.Sandbox, lease_list: list[dict[str, Any]] | None = None
) -> Stores:
    """Cyborg, Placement and the leases (from the API, or *lease_list*)."""
    entitlements = entitlement_rps(sandbox)
    arqs = [
        arq
        for arq in sandbox.cyborg().get('/accelerator_requests')['arqs']
        if arq['state'] == 'Bound' and arq['device_rp_uuid'] in entitlements
    ]
    gpus = pool_gpus(sandbox)
    placement = sandbox.placement()
    allocations: dict[str, dict[str, dict[str, int]]] = {}
    usages: dict[str, dict[str, int]] = {}
    for gpu in gpus.values():
        for rp in (gpu.memory_rp, gpu.compute_rp):
            path = '/resource_providers/%s' % rp
            allocations[rp] = {
                consumer: entry['resources']
                for consumer, entry in placement.get(path + '/allocations')[
                    'allocations'
                ].items()
            }
            usages[rp] = placement.get(path + '/usages')['usages']
    consumers = {c for held in allocations.values() for c in held}
    # Per-provider listings omit the consumer type: ask per consumer.
    consumer_types = {
        consumer: placement.get('/allocations/%s' % consumer).get(
            'consumer_type'
        )
        for consumer in consumers
    }
    if lease_list is None:
        lease_list = leases(sandbox)
    return Stores(arqs, lease_list, gpus, allocations, usages, consumer_types)


def problems(stores: Stores) -> list[str]:
    """Every disagreement between the three stores (none is right)."""
    found = _arq_problems(stores)
    for lease in stores.leases:
        found += _lease_problems(stores, lease)
    found += _orphans(stores)
    found += _usage_problems(stores)
    return found


def _arq_problems(stores: Stores) -> list[str]:
    found = []
    for arq in stores.arqs:
        mine = [
            lease
            for lease in stores.leases
            if lease['arq_uuid'] == arq['uuid']
        ]
        if len(mine) != 1:
            found.append('ARQ %s has %d leases' % (arq['uuid'], len(mine)))
    bound = {arq['uuid']: arq for arq in stores.arqs}
    for lease in stores.leases:
        arq = bound.get(lease['arq_uuid'])
        if arq is None or arq['instance_uuid'] != lease['instance_uuid']:
            found.append(
                'lease %s has no bound ARQ (%s)'
                % (lease['id'], lease['arq_uuid'])
            )
    return found


def _lease_problems(stores: Stores, lease: dict[str, Any]) -> list[str]:
    if lease['state'] not in SETTLED:
        return ['lease %s is %s' % (lease['id'], lease['state'])]
    held = {
        rp: by_consumer[lease['id']]
        for rp, by_consumer in stores.allocations.items()
        if lease['id'] in by_consumer
    }
    if lease['state'] in WAITING:
        return (
            ['%s lease %s holds %s' % (lease['state'], lease['id'], held)]
            if held
            else []
        )
    gpu = stores.gpu_of(lease)
    if gpu is None:
        return [
            'lease %s names no pool GPU (%s %s)'
            % (lease['id'], lease['gpu_host'], lease['gpu_pci_address'])
        ]
    expected = {
        gpu.memory_rp: {resources.RC_POOL_MEMORY: lease['gmem_mib']},
        gpu.compute_rp: {resources.RC_POOL_COMPUTE: lease['compute_pct']},
    }
    found = []
    if held != expected:
        found.append(
            'lease %s holds %s, expected %s' % (lease['id'], held, expected)
        )
    if stores.consumer_types.get(lease['id']) != CONSUMER_TYPE:
        found.append(
            'lease %s allocation has consumer type %s'
            % (lease['id'], stores.consumer_types.get(lease['id']))
        )
    return found


def _orphans(stores: Stores) -> list[str]:
    ids = {lease['id'] for lease in stores.leases}
    return [
        'allocation %s of %s has no lease' % (consumer, CONSUMER_TYPE)
        for consumer, kind in sorted(stores.consumer_types.items())
        if kind == CONSUMER_TYPE and consumer not in ids
    ]


def _usage_problems(stores: Stores) -> list[str]:
    expected: dict[str, int] = dict.fromkeys(stores.allocations, 0)
    for lease in stores.leases:
        gpu = stores.gpu_of(lease) if lease['state'] == 'active' else None
        if gpu is not None:
            expected[gpu.memory_rp] += lease['gmem_mib']
            expected[gpu.compute_rp] += lease['compute_pct']
    found = []
    for rp, usage in stores.usages.items():
        used = sum(usage.values())
        if used != expected[rp]:
            found.append(
                'provider %s uses %d, its leases %d' % (rp, used, expected[rp])
            )
    return found


def assert_consistent(sandbox: stack.Sandbox) -> Stores:
    """The three stores as they are; fails listing what disagrees."""
    stores = read_stores(sandbox)
    found = problems(stores)
    assert not found, '\n'.join(found)
    return stores


def reconcile_and_check(sandbox: stack.Sandbox) -> dict[str, Any]:
    """One pass, then the stores must agree; the pass's report."""
    report = sandbox.reconcile()
    assert report['errors'] == [], report
    assert_consistent(sandbox)
    return report


def instance_leases(
    stores: Stores, instances: Iterable[str]
) -> list[dict[str, Any]]:
    wanted = set(instances)
    return [
        lease for lease in stores.leases if lease['instance_uuid'] in wanted
    ]


def bound_instance(
    sandbox: stack.Sandbox, profile: str, host: str = 'cpu-host-1'
) -> str:
    """An instance with one bound ARQ of *profile* on *host*'s
    pooled-vGPU entitlement, as Nova leaves it (without booting it).
    """
    cyborg = clients.cyborg(
        sandbox.manifest.cyborg_url + '/v2',
        identity.MEMBER_TOKEN,
        service_token=identity.SERVICE_TOKEN,
    )
    entitlement = next(
        d['rp_uuid']
        for d in sandbox.cyborg().get('/deployables')['deployables']
        if d['name'].startswith(host + '_ORIONX_VGPU_')
    )
    (arq,) = cyborg.post(
        '/accelerator_requests', {'device_profile_name': profile}
    )['arqs']
    instance = str(uuid.uuid4())
    sandbox.placement().put(
        '/allocations/%s' % instance,
        {
            'allocations': {
                entitlement: {'resources': {'CUSTOM_ORIONX_VGPU': 1}}
            },
            'project_id': identity.MEMBER_PROJECT_ID,
            'user_id': identity.MEMBER_TOKEN,
            'consumer_generation': None,
            'consumer_type': 'INSTANCE',
        },
    )
    try:
        cyborg.patch(
            '/accelerator_requests',
            {
                arq['uuid']: [
                    {'path': '/hostname', 'op': 'add', 'value': host},
                    {
                        'path': '/device_rp_uuid',
                        'op': 'add',
                        'value': entitlement,
                    },
                    {
                        'path': '/instance_uuid',
                        'op': 'add',
                        'value': instance,
                    },
                ]
            },
        )
    except clients.ApiError as err:
        # Cyborg tells Nova, which never booted this instance (404).
        assert err.status == 400 and 'external-events' in err.body
    return instance
