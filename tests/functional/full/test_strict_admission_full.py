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

"""A full pool with strict admission, on real Nova.

For this module the sandbox's Cyborg conductor is
``orionx-cyborg-conductor`` (:mod:`orionx_cyborg.admission`): Cyborg
binds a pooled vGPU's ARQ only once the attach service has placed its
lease. Without strict admission a full pool leaves the last lease
pending and the server ACTIVE
(``test_lifecycle_full.test_a_full_pool_leaves_the_last_lease_pending``);
with it, Nova's conductor fails the boot: the server is in ERROR (Nova
34 tries no other host) with a fault that says the accelerator bind
failed; why (no room in the pool) is in Cyborg's conductor log. Nova
deletes the ARQ, no lease is made, and the server keeps its Placement
allocations (an entitlement unit among them) until it is deleted.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
from typing import Any

import pytest

from orionx_cyborg import resources
from orionx_cyborg.sandbox.full import stack
from tests.functional import helpers
from tests.functional.full import conftest
from tests.functional.full import test_full as flows
from tests.functional.full import test_lifecycle_full as lifecycle

#: All of a GPU's compute: one pooled vGPU per pool GPU fits.
WHOLE_GPU_POOLED = dict(
    flows.POOLED,
    **{'accel:orionx_gmem_mib': '8192', 'accel:orionx_compute_pct': '100'},
)


@pytest.fixture(scope='module')
def strict(full_sandbox: stack.FullSandbox) -> Iterator[stack.FullSandbox]:
    full_sandbox.set_strict_admission(True)
    try:
        yield full_sandbox
    finally:
        full_sandbox.set_strict_admission(False)


def boot_no_wait(conn: Any, flavor: Any, image_id: str, servers: list[str]):
    answer = conn.compute.post(
        '/servers',
        json={
            'server': {
                'name': helpers.unique('strict'),
                'imageRef': image_id,
                'flavorRef': flavor.id,
                'networks': 'none',
            }
        },
        microversion=flows.HOST_MICROVERSION,
    )
    assert answer.status_code == 202, answer.text
    server_id: str = answer.json()['server']['id']
    servers.append(server_id)
    return server_id


def test_a_full_pool_fails_the_boot_with_strict_admission(
    strict: stack.FullSandbox,
    admin: Any,
    demo: Any,
    accel_flavor: Callable[[dict[str, str]], Any],
    servers: list[str],
) -> None:
    gpus = [
        rp
        for rp in admin.placement.resource_providers()
        if rp.name.endswith('_COMPUTE')
    ]
    flavor = accel_flavor(WHOLE_GPU_POOLED)
    image = strict.manifest.image_id
    admitted = [flows.boot(demo, flavor, image, servers) for _ in gpus]
    for server in admitted:
        # Placed while Cyborg bound the ARQ: before any vendordata
        # request or reconcile pass.
        [arq] = flows.arqs_of(admin, server.id)
        [lease] = flows.leases_of(strict, server.id)
        assert (lease['state'], lease['arq_uuid']) == ('active', arq['uuid'])
    assert lifecycle.reconcile(strict)['created'] == 0

    refused = boot_no_wait(demo, flavor, image, servers)
    server = demo.compute.wait_for_server(
        demo.compute.get_server(refused),
        status='ERROR',
        interval=0.5,
        wait=conftest.BOOT_TIMEOUT,
    )
    # Nova 34 puts none of Cyborg's answer in the fault: its client
    # keeps only the status of the PATCH that failed (500), not the body.
    message = server.fault['message']
    assert message.startswith(
        'Failed to bind accelerator requests: Invalid response from '
        'Cyborg: <Response [500]> Binding failed for ARQ UUIDs: '
    ), message
    arq_uuid = message.rsplit(': ', 1)[1]
    # Why, in Cyborg's conductor log (where the operator guide sends
    # the operator): the attach service refused it for want of room.
    log = strict.state.log('cyborg-conductor').read_text()
    assert [
        line
        for line in log.splitlines()
        if 'The attach service refused ARQ %s' % arq_uuid in line
        and 'pool default has no room for 8192 MiB / 100%' in line
    ]
    # Nova tried no other host: the server never had one.
    assert server.compute_host is None
    # Nova deleted the ARQ and no lease was made...
    assert flows.arqs_of(admin, refused) == []
    assert flows.leases_of(strict, refused) == []
    report = lifecycle.reconcile(strict)
    assert (report['created'], report['released']) == (0, 0), report
    # ...but the server in ERROR keeps its allocations, its entitlement
    # unit included, until it is deleted.
    held = flows.allocations_of(admin, refused)
    assert {resources.RC_ENTITLEMENT: 1} in [
        a['resources'] for a in held.values()
    ]
    demo.compute.delete_server(refused)
    demo.compute.wait_for_delete(server, wait=conftest.BOOT_TIMEOUT)
    helpers.wait_for(
        lambda: not flows.allocations_of(admin, refused),
        timeout=60,
        what='the allocations of the deleted server to go',
    )

    # Room again: the next boot is admitted at bind.
    demo.compute.delete_server(admitted[0])
    demo.compute.wait_for_delete(admitted[0], wait=conftest.BOOT_TIMEOUT)
    lifecycle.reconcile(strict)
    again = flows.boot(demo, flavor, image, servers)
    [lease] = flows.leases_of(strict, again.id)
    assert lease['state'] == 'active'
