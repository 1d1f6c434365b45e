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

"""Server operations with accelerators on real Nova 34.

What the operator guide (``doc/source/admin/nova-operations.rst``)
claims, checked against Nova itself with the stock Cyborg:

* reboot (soft and hard), stop/start, pause/unpause and rebuild keep the
  server's ARQs, its Placement allocations and a pooled vGPU's lease;
  reboot, start and rebuild hand the virt driver the same ARQs again
  (what libvirt rebuilds its guest's devices from), stop and pause hand
  it none;
* resize, cold migrate, live migrate and suspend are refused with HTTP
  400 and Nova's ``ForbiddenWithAccelerators`` message, and leave the
  server, its ARQs, allocations and lease as they were; so is a resize
  of a server without accelerators to a flavor with a device profile.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from orionx_cyborg.sandbox.full import stack
from orionx_cyborg.sandbox.full import virt
from tests.functional import helpers
from tests.functional.full import conftest
from tests.functional.full import test_devices_full as devices
from tests.functional.full import test_full as flows
from tests.functional.full import test_lifecycle_full as lifecycle

#: Nova's answer to an operation it blocks for servers with a device
#: profile (``nova.exception.ForbiddenWithAccelerators``).
REFUSED = {
    'badRequest': {
        'code': 400,
        'message': (
            'Feature not supported with instances that have accelerators.'
        ),
    }
}
LIVE_MIGRATE_MICROVERSION = '2.25'

KINDS = {
    'whole-gpu': (flows.WHOLE_H200, None),
    'pooled-vgpu': (flows.POOLED, flows.GPU_LESS_HOST),
}


class Snapshot:
    """What an operation must leave alone: ARQs, allocations, leases."""

    def __init__(
        self, sandbox: stack.FullSandbox, admin: Any, server_id: str
    ) -> None:
        self.sandbox = sandbox
        self.admin = admin
        self.server_id = server_id

    def take(self) -> dict[str, Any]:
        arqs = flows.arqs_of(self.admin, self.server_id)
        # A pass first: a lease whose ARQ went would be released now.
        lifecycle.reconcile(self.sandbox)
        leases = flows.leases_of(self.sandbox, self.server_id)
        server = self.admin.compute.get_server(self.server_id)
        return {
            'host': server.compute_host,
            'arqs': devices.as_recorded(arqs),
            'allocations': flows.allocations_of(self.admin, self.server_id),
            'leases': [
                {
                    key: lease[key]
                    for key in (
                        'id',
                        'state',
                        'arq_uuid',
                        'gpu_uuid',
                        'vm_host',
                    )
                }
                for lease in leases
            ],
            'lease_allocations': [
                flows.allocations_of(self.admin, lease['id'])
                for lease in leases
            ],
        }


def wait_settled(admin: Any, server_id: str, status: str) -> None:
    """*status*, and no task left (the API sets the status first)."""

    def settled() -> bool:
        server = admin.compute.get_server(server_id)
        if server.status == 'ERROR':
            raise AssertionError('server in ERROR: %s' % server.fault)
        return server.status == status and server.task_state is None

    helpers.wait_for(
        settled,
        timeout=conftest.BOOT_TIMEOUT,
        what='server %s to be %s' % (server_id, status),
    )


@pytest.mark.parametrize('kind', sorted(KINDS))
def test_reboot_stop_pause_and_rebuild_keep_arqs_allocations_and_lease(
    full_sandbox: stack.FullSandbox,
    admin: Any,
    accel_flavor: Callable[[dict[str, str]], Any],
    servers: list[str],
    kind: str,
) -> None:
    profile, host = KINDS[kind]
    image = full_sandbox.manifest.image_id
    server = flows.boot(admin, accel_flavor(profile), image, servers, host)
    if kind == 'pooled-vgpu':
        # The lease exists once vendordata was asked (as a guest does).
        [vgpu] = lifecycle.vendordata(full_sandbox, server)['vgpus']
        assert vgpu['state'] == 'active'
    snapshot = Snapshot(full_sandbox, admin, server.id)
    before = snapshot.take()
    assert len(before['arqs']) == 1
    assert len(before['leases']) == (1 if kind == 'pooled-vgpu' else 0)
    compute = before['host']

    def calls() -> list[dict[str, Any]]:
        return virt.read_records(
            full_sandbox.state.nova_host_dir(compute), server.id
        )

    steps: list[tuple[str, dict[str, Any], str, dict[str, Any] | None]] = [
        (
            'soft reboot',
            {'reboot': {'type': 'SOFT'}},
            'ACTIVE',
            {'call': 'reboot', 'reboot_type': 'SOFT'},
        ),
        (
            'hard reboot',
            {'reboot': {'type': 'HARD'}},
            'ACTIVE',
            {'call': 'reboot', 'reboot_type': 'HARD'},
        ),
        ('stop', {'os-stop': None}, 'SHUTOFF', None),
        ('start', {'os-start': None}, 'ACTIVE', {'call': 'power_on'}),
        ('pause', {'pause': None}, 'PAUSED', None),
        ('unpause', {'unpause': None}, 'ACTIVE', None),
        (
            'rebuild',
            {'rebuild': {'imageRef': image}},
            'ACTIVE',
            {'call': 'spawn'},
        ),
    ]
    for label, body, status, expected_call in steps:
        seen = len(calls())
        lifecycle.action(admin, server.id, body, '2.1')
        wait_settled(admin, server.id, status)
        new = calls()[seen:]
        if expected_call is None:
            # Nova hands the driver no accelerators to stop, pause or
            # unpause a server.
            assert new == [], (label, new)
        else:
            # The same ARQs again, as Cyborg still has them bound.
            [call] = new
            assert call == dict(
                expected_call,
                instance=server.id,
                accel_info=before['arqs'],
            ), label
        assert snapshot.take() == before, label


@pytest.mark.parametrize(
    'label, body, microversion',
    [
        ('resize', {'resize': {'flavorRef': None}}, '2.1'),
        ('cold migrate', {'migrate': None}, '2.1'),
        (
            'live migrate',
            {'os-migrateLive': {'host': None, 'block_migration': 'auto'}},
            LIVE_MIGRATE_MICROVERSION,
        ),
        ('suspend', {'suspend': None}, '2.1'),
    ],
)
def test_nova_refuses_moves_of_a_server_with_accelerators(
    full_sandbox: stack.FullSandbox,
    admin: Any,
    accel_flavor: Callable[[dict[str, str]], Any],
    servers: list[str],
    label: str,
    body: dict[str, Any],
    microversion: str,
) -> None:
    if label == 'resize':
        body = {'resize': {'flavorRef': full_sandbox.manifest.flavor_id}}
    server = flows.boot(
        admin,
        accel_flavor(flows.POOLED),
        full_sandbox.manifest.image_id,
        servers,
        host=flows.GPU_LESS_HOST,
    )
    lifecycle.vendordata(full_sandbox, server)
    snapshot = Snapshot(full_sandbox, admin, server.id)
    before = snapshot.take()
    answer = admin.compute.post(
        '/servers/%s/action' % server.id, json=body, microversion=microversion
    )
    assert (answer.status_code, answer.json()) == (400, REFUSED), label
    after = admin.compute.get_server(server.id)
    assert (after.status, after.task_state) == ('ACTIVE', None)
    assert snapshot.take() == before
    [lease] = before['leases']
    assert lease['state'] == 'active'
    # Nova recorded no migration for it.
    migrations = admin.compute.get(
        '/os-migrations?instance_uuid=%s' % server.id
    ).json()['migrations']
    assert migrations == []


def test_nova_refuses_a_resize_to_a_flavor_with_a_device_profile(
    full_sandbox: stack.FullSandbox,
    admin: Any,
    accel_flavor: Callable[[dict[str, str]], Any],
    servers: list[str],
) -> None:
    tiny = admin.compute.get_flavor(full_sandbox.manifest.flavor_id)
    server = flows.boot(admin, tiny, full_sandbox.manifest.image_id, servers)
    answer = admin.compute.post(
        '/servers/%s/action' % server.id,
        json={'resize': {'flavorRef': accel_flavor(flows.POOLED).id}},
        microversion='2.1',
    )
    assert (answer.status_code, answer.json()) == (400, REFUSED)
    after = admin.compute.get(
        '/servers/%s' % server.id, microversion='2.47'
    ).json()['server']
    assert after['status'] == 'ACTIVE'
    assert after['flavor']['original_name'] == tiny.name
    assert flows.arqs_of(admin, server.id) == []
