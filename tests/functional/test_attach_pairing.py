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

"""The pairing hold in the real attach service, Cyborg and Placement.

A sandbox of its own (module scope): ``gpu-server-1`` (three H200s in
the pool) and ``cpu-host-1`` (an entitlement only), the attach service
under gunicorn with two workers and ``[orionx_attach] pairing_hold`` on,
with a reserve of half the pool and every slice's partners counted
scarce (``pairing_hold_partner_share = 1.0``), so what is held depends
on the pool alone. ARQs are bound in Cyborg as Nova leaves them and the
leases made by Nova's vendordata call, as a guest's first boot does.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from orionx_cyborg import resources
from orionx_cyborg.sandbox import hosts
from orionx_cyborg.sandbox import identity
from orionx_cyborg.sandbox import stack
from tests.functional import attach_checks
from tests.functional import helpers

GPU_HOST = 'gpu-server-1'
OPTIONS = {
    'pairing_hold': 'True',
    'pairing_hold_reserve': '0.5',
    'pairing_hold_partner_share': '1.0',
    'pairing_hold_max_wait': '3600',
}


@pytest.fixture(scope='module')
def sandbox(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[stack.Sandbox]:
    fleet = [
        h for h in hosts.orionx_fleet() if h.name in (GPU_HOST, 'cpu-host-1')
    ]
    sbx = stack.Sandbox(
        tmp_path_factory.mktemp('sandbox-pairing'),
        fleet,
        attach_options=OPTIONS,
        attach_workers=2,
    )
    with helpers.started(sbx):
        yield sbx


@pytest.fixture(scope='module')
def profiles(sandbox: stack.Sandbox) -> dict[str, str]:
    """Device profiles of a whole GPU and of two complementary slices."""
    [memory] = {
        dep['num_accelerators']
        for dep in helpers.deployables_of(
            sandbox, GPU_HOST, resources.RC_POOL_MEMORY
        )
    }
    shapes = {
        'whole': (memory, 100),
        'memory-heavy': (memory * 7 // 10, 20),
        'compute-heavy': (memory * 15 // 100, 70),
    }
    names = {}
    admin = sandbox.connect(identity.ADMIN_TOKEN)
    for kind, (gmem, compute) in shapes.items():
        names[kind] = helpers.unique('pairing-' + kind)
        admin.accelerator.create_device_profile(
            name=names[kind],
            groups=[attach_checks.pooled_group(gmem, compute)],
        )
    return names


def _leased(
    sandbox: stack.Sandbox, profile: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A bound instance's vendordata document (as Nova asks for it) and
    its one lease.
    """
    instance = attach_checks.bound_instance(sandbox, profile)
    document: dict[str, Any] = sandbox.attach('nova').post(
        '/v1/vendordata',
        {'instance-id': instance, 'project-id': identity.MEMBER_PROJECT_ID},
    )
    [lease] = attach_checks.leases(sandbox, instance=instance)
    return document, lease


def _lease(sandbox: stack.Sandbox, lease_id: str) -> dict[str, Any]:
    lease: dict[str, Any] = sandbox.attach().get('/v1/leases/%s' % lease_id)
    return lease


def _allocated_gpu(sandbox: stack.Sandbox, lease: dict[str, Any]) -> str:
    """The pool GPU whose two providers Placement's allocation holds."""
    allocation = helpers.allocations_of(sandbox, lease['id'])
    held = {
        rp: entry['resources']
        for rp, entry in allocation['allocations'].items()
    }
    for gpu in attach_checks.pool_gpus(sandbox).values():
        if held == {
            gpu.memory_rp: {resources.RC_POOL_MEMORY: lease['gmem_mib']},
            gpu.compute_rp: {resources.RC_POOL_COMPUTE: lease['compute_pct']},
        }:
            return gpu.prefix
    raise AssertionError('%s holds %s' % (lease['id'], held))


def test_held_paired_and_queued_leases(
    sandbox: stack.Sandbox, profiles: dict[str, str]
) -> None:
    # A whole GPU taken: two of three idle.
    _, whole = _leased(sandbox, profiles['whole'])
    assert whole['state'] == 'active'
    # A memory-heavy slice would open a GPU alone and leave one idle
    # GPU of three, below half: it waits for a partner.
    document, held = _leased(sandbox, profiles['memory-heavy'])
    assert held['state'] == 'awaiting-partner'
    assert held['gpu_uuid'] is None
    assert helpers.allocations_of(sandbox, held['id'])['allocations'] == {}
    assert document['status'] == 'pending'
    assert document['retry_after'] == 15
    [vgpu] = document['vgpus']
    assert vgpu['state'] == 'pending'
    assert 'partner' in vgpu['reason']
    # A pass keeps it: the pool is as short of idle GPUs as before.
    report = attach_checks.reconcile_and_check(sandbox)
    assert report['queued_held'] == 0
    assert _lease(sandbox, held['id'])['state'] == 'awaiting-partner'

    # A compute-heavy slice complements it: both on one GPU, claimed in
    # Placement.
    _, arriving = _leased(sandbox, profiles['compute-heavy'])
    paired = _lease(sandbox, held['id'])
    assert (paired['state'], arriving['state']) == ('active', 'active')
    assert paired['gpu_uuid'] == arriving['gpu_uuid'] != whole['gpu_uuid']
    assert _allocated_gpu(sandbox, paired) == _allocated_gpu(sandbox, arriving)
    attach_checks.reconcile_and_check(sandbox)

    # The next memory-heavy slice would take the last idle GPU: held.
    _, last = _leased(sandbox, profiles['memory-heavy'])
    assert last['state'] == 'awaiting-partner'
    # Restarted with no wait allowed, the next pass queues and places it
    # on that GPU.
    sandbox.reconfigure_attach({'pairing_hold_max_wait': '0'})
    try:
        report = attach_checks.reconcile_and_check(sandbox)
    finally:
        sandbox.reconfigure_attach(OPTIONS)
    assert (report['queued_held'], report['placed']) == (1, 1)
    placed = _lease(sandbox, last['id'])
    assert placed['state'] == 'active'
    assert placed['gpu_uuid'] not in (whole['gpu_uuid'], paired['gpu_uuid'])
    _allocated_gpu(sandbox, placed)
