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

"""Shelve-offload, unshelve, evacuate and a full pool, on real Nova.

What the Nova stand-in of the light sandbox models (``sandbox.rst``,
"Nova stand-in"), checked against Nova 34 itself with the stock Cyborg:
ARQs deleted at shelve-offload and new ones bound at unshelve and
evacuate; the attach service's lease follows the ARQ (released by a
reconcile pass, a new one placed when vendordata is asked).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from orionx_cyborg.sandbox import layout as light_layout
from orionx_cyborg.sandbox.full import layout
from orionx_cyborg.sandbox.full import stack
from tests.functional import helpers
from tests.functional.full import conftest
from tests.functional.full import test_full as flows

#: Evacuate leaves the server ACTIVE up to 2.94 (2.95: SHUTOFF).
EVACUATE_MICROVERSION = '2.94'
SERVICES_MICROVERSION = '2.53'


def action(conn: Any, server_id: str, body: dict[str, Any], mv: str) -> None:
    answer = conn.compute.post(
        '/servers/%s/action' % server_id, json=body, microversion=mv
    )
    assert answer.status_code in (200, 202), answer.text


def wait_status(conn: Any, server_id: str, status: str) -> Any:
    server = conn.compute.get_server(server_id)
    return conn.compute.wait_for_server(
        server, status=status, interval=0.5, wait=conftest.BOOT_TIMEOUT
    )


def vendordata(sandbox: stack.FullSandbox, server: Any) -> dict[str, Any]:
    answer = flows.metadata_vendordata(sandbox, server.id, server.project_id)
    assert answer.status_code == 200, answer.text
    document: dict[str, Any] = answer.json()[layout.ATTACH_TARGET]
    return document


def reconcile(sandbox: stack.FullSandbox) -> dict[str, Any]:
    report: dict[str, Any] = flows.attach_call(
        sandbox, 'POST', '/v1/reconcile'
    )
    return report


def roots_of(admin: Any, consumer: str) -> set[str]:
    return {
        admin.placement.get(
            '/resource_providers/%s' % rp, microversion='1.14'
        ).json()['root_provider_uuid']
        for rp in flows.allocations_of(admin, consumer)
    }


def test_shelve_offload_then_unshelve_rebinds_and_re_leases(
    full_sandbox: stack.FullSandbox,
    admin: Any,
    accel_flavor: Callable[[dict[str, str]], Any],
    servers: list[str],
) -> None:
    server = flows.boot(
        admin,
        accel_flavor(flows.POOLED),
        full_sandbox.manifest.image_id,
        servers,
        host=flows.GPU_LESS_HOST,
    )
    [first_arq] = flows.arqs_of(admin, server.id)
    [first_vgpu] = vendordata(full_sandbox, server)['vgpus']

    action(admin, server.id, {'shelve': None}, '2.1')
    wait_status(admin, server.id, 'SHELVED_OFFLOADED')
    # The status changes first; the host is cleared when the task ends.
    helpers.wait_for(
        lambda: (
            admin.compute.get_server(server.id).compute_host is None
            and admin.compute.get_server(server.id).task_state is None
        ),
        timeout=60,
        what='the offloaded server to have no host',
    )
    # Nova deletes the ARQs at offload and frees the allocations.
    assert flows.arqs_of(admin, server.id) == []
    helpers.wait_for(
        lambda: not flows.allocations_of(admin, server.id),
        timeout=30,
        what='the offloaded server to hold no allocation',
    )
    # Its lease follows its ARQ: gone at the next pass.
    reconcile(full_sandbox)
    assert flows.leases_of(full_sandbox, server.id) == []
    assert not flows.allocations_of(admin, first_vgpu['lease_id'])

    action(admin, server.id, {'unshelve': None}, '2.1')
    wait_status(admin, server.id, 'ACTIVE')
    [second_arq] = flows.arqs_of(admin, server.id)
    assert second_arq['state'] == 'Bound'
    assert second_arq['uuid'] != first_arq['uuid']
    [second_vgpu] = vendordata(full_sandbox, server)['vgpus']
    [lease] = flows.leases_of(full_sandbox, server.id)
    assert lease['id'] == second_vgpu['lease_id'] != first_vgpu['lease_id']
    assert lease['arq_uuid'] == second_arq['uuid']
    assert lease['state'] == 'active'


def _compute_service(admin: Any, host: str) -> dict[str, Any]:
    services = admin.compute.get(
        '/os-services?binary=nova-compute&host=%s' % host,
        microversion=SERVICES_MICROVERSION,
    ).json()['services']
    [service] = services
    result: dict[str, Any] = service
    return result


def _force_down(admin: Any, host: str, down: bool) -> int:
    service = _compute_service(admin, host)
    answer = admin.compute.put(
        '/os-services/%s' % service['id'],
        json={'forced_down': down},
        microversion=SERVICES_MICROVERSION,
    )
    status: int = answer.status_code
    return status


def test_evacuate_rebinds_on_another_host_and_moves_the_lease(
    full_sandbox: stack.FullSandbox,
    admin: Any,
    accel_flavor: Callable[[dict[str, str]], Any],
    servers: list[str],
) -> None:
    source = flows.GPU_LESS_HOST
    server = flows.boot(
        admin,
        accel_flavor(flows.POOLED),
        full_sandbox.manifest.image_id,
        servers,
        forced_host=source,
    )
    [first_arq] = flows.arqs_of(admin, server.id)
    vendordata(full_sandbox, server)
    compute = 'nova-compute-%s' % source
    full_sandbox.stop_service(compute)
    try:
        assert _force_down(admin, source, True) == 200
        action(admin, server.id, {'evacuate': {}}, EVACUATE_MICROVERSION)
        wait_status(admin, server.id, 'ACTIVE')
        target = admin.compute.get_server(server.id).compute_host
        assert target in flows.GPU_SERVERS
        [second_arq] = flows.arqs_of(admin, server.id)
        assert second_arq['state'] == 'Bound'
        assert second_arq['hostname'] == target
        assert second_arq['uuid'] != first_arq['uuid']
        # Nova keeps the source's allocations until its compute is back.
        assert roots_of(admin, server.id) == {
            light_layout.compute_node_uuid(source),
            light_layout.compute_node_uuid(target),
        }
        reconcile(full_sandbox)
        [vgpu] = vendordata(full_sandbox, server)['vgpus']
        [lease] = flows.leases_of(full_sandbox, server.id)
        assert lease['id'] == vgpu['lease_id']
        assert lease['arq_uuid'] == second_arq['uuid']
        assert lease['vm_host'] == target
        assert lease['state'] == 'active'
    finally:
        full_sandbox.start_service(compute)
        # Nova refuses to force it up (400) until the restarted compute
        # has completed the evacuation's migration record.
        helpers.wait_for(
            lambda: _force_down(admin, source, False) == 200,
            timeout=120,
            what='Nova to let the source compute up again',
        )
    helpers.wait_for(
        lambda: _compute_service(admin, source)['state'] == 'up',
        timeout=120,
        what='the source compute to come back',
    )
    # The source compute, back, drops the evacuated server's allocation.
    helpers.wait_for(
        lambda: (
            roots_of(admin, server.id)
            == {light_layout.compute_node_uuid(target)}
        ),
        timeout=120,
        what="the source's allocations to go",
    )


def test_a_full_pool_leaves_the_last_lease_pending_until_room_frees(
    full_sandbox: stack.FullSandbox,
    admin: Any,
    accel_flavor: Callable[[dict[str, str]], Any],
    servers: list[str],
) -> None:
    # A whole GPU's compute each: one more than the pool has GPUs.
    gpus = [
        rp
        for rp in admin.placement.resource_providers()
        if rp.name.endswith('_COMPUTE')
    ]
    flavor = accel_flavor(
        dict(
            flows.POOLED,
            **{
                'accel:orionx_gmem_mib': '8192',
                'accel:orionx_compute_pct': '100',
            },
        )
    )
    booted = [
        flows.boot(admin, flavor, full_sandbox.manifest.image_id, servers)
        for _ in range(len(gpus) + 1)
    ]
    # Placed by a pass (one process, the leader), not by vendordata
    # requests: gunicorn's workers each keep their own allocator, which
    # does not see the leases another worker placed (see the docs).
    reconcile(full_sandbox)
    documents = {s.id: vendordata(full_sandbox, s) for s in booted}
    states = sorted(d['vgpus'][0]['state'] for d in documents.values())
    assert states == ['active'] * len(gpus) + ['pending']
    # Nova booted it (Cyborg bound its entitlement); the pool has no room.
    [waiting] = [s for s in booted if documents[s.id]['status'] == 'pending']
    document = documents[waiting.id]
    assert document['retry_after'] == 15
    [vgpu] = document['vgpus']
    assert vgpu['secret'] is None
    assert vgpu['reason'] == 'waiting for room in pool default'
    [lease] = flows.leases_of(full_sandbox, waiting.id)
    assert lease['state'] == 'pending'
    assert not flows.allocations_of(admin, lease['id'])

    freed = next(s for s in booted if s.id != waiting.id)
    admin.compute.delete_server(freed)
    admin.compute.wait_for_delete(freed, wait=conftest.BOOT_TIMEOUT)
    report = reconcile(full_sandbox)
    assert (report['released'], report['placed']) == (1, 1), report
    [vgpu] = vendordata(full_sandbox, waiting)['vgpus']
    assert vgpu['lease_id'] == lease['id']
    assert vgpu['state'] == 'active'
