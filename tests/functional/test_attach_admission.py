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

"""Strict admission: Cyborg's conductor asks the attach service first.

A sandbox of its own in strict-admission mode
(``Sandbox(strict_admission=True)``: Cyborg's process registers
:mod:`orionx_cyborg.admission` and its ``[orionx_admission]`` points at
the attach service), on gpu-server-1 (three pool H200s) and cpu-host-1.
A pooled vGPU is leased while Cyborg binds its ARQ; when the pool is
full, or the attach service is down, the bind fails, Nova's build aborts
and nothing is left behind.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from orionx_cyborg.sandbox import hosts
from orionx_cyborg.sandbox import identity
from orionx_cyborg.sandbox import stack
from tests.functional import attach_checks
from tests.functional import helpers


class Strict:
    """The strict sandbox, a flavor of one pooled vGPU per GPU."""

    def __init__(self, sandbox: stack.Sandbox, flavor_id: str) -> None:
        self.sandbox = sandbox
        self.flavor_id = flavor_id
        self.compute = sandbox.compute(identity.MEMBER_TOKEN)

    def boot(self) -> dict[str, Any]:
        server = self.compute.post(
            '/servers',
            {
                'server': {
                    'name': helpers.unique('strict'),
                    'flavorRef': self.flavor_id,
                }
            },
        )['server']['id']
        return helpers.wait_for_server(self.sandbox, server)

    def clean(self) -> None:
        for server in self.compute.get('/servers')['servers']:
            self.compute.delete('/servers/%s' % server['id'])
        attach_checks.reconcile_and_check(self.sandbox)
        assert attach_checks.leases(self.sandbox) == []


@pytest.fixture(scope='module')
def strict(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Strict]:
    fleet = [
        h
        for h in hosts.orionx_fleet()
        if h.name in ('gpu-server-1', 'cpu-host-1')
    ]
    sandbox = stack.Sandbox(
        tmp_path_factory.mktemp('strict'),
        fleet,
        arq_binding_timeout=20.0,
        strict_admission=True,
    )
    with helpers.started(sandbox):
        # All of a GPU's compute: one per pool GPU fits.
        yield Strict(
            sandbox,
            attach_checks.create_pooled_flavor(
                sandbox, 'whole-gpu-pool', 8192, 100
            ),
        )


@pytest.fixture
def clean(strict: Strict) -> Iterator[Strict]:
    yield strict
    strict.clean()


def _assert_aborted_cleanly(
    sandbox: stack.Sandbox, record: dict[str, Any], why: str
) -> None:
    """Cyborg's bind failed (its PATCH answers 500, the ARQ is
    BindFailed), Nova deleted the ARQs and aborted the build: a fault
    with none of Cyborg's answer (as Nova 34's, checked on the full
    profile), the reason in Cyborg's log, the allocations kept until the
    server is deleted.
    """
    assert record['status'] == 'ERROR'
    [arq_uuid] = record['arq_uuids']
    assert record['fault']['message'] == (
        'Failed to bind accelerator requests: Invalid response from '
        'Cyborg: <Response [500]> Binding failed for ARQ UUIDs: %s' % arq_uuid
    )
    assert [
        line
        for line in sandbox.state.log('cyborg').read_text().splitlines()
        if 'The attach service refused ARQ %s' % arq_uuid in line
        and why in line
    ]
    assert record['host'] is None
    # Nova deleted its ARQs; no lease stayed; the allocations stay until
    # the server is deleted.
    assert helpers.arqs_of(sandbox, record['id']) == []
    assert attach_checks.leases(sandbox, instance=record['id']) == []
    assert helpers.allocations_of(sandbox, record['id'])['allocations']
    sandbox.compute(identity.MEMBER_TOKEN).delete('/servers/%s' % record['id'])
    assert helpers.allocations_of(sandbox, record['id'])['allocations'] == {}


def test_the_lease_is_placed_while_cyborg_binds(clean: Strict) -> None:
    record = clean.boot()
    assert record['status'] == 'ACTIVE', record['fault']
    # Before any vendordata call or pass: admitted at bind time.
    [lease] = attach_checks.leases(clean.sandbox, instance=record['id'])
    assert lease['state'] == 'active'
    assert lease['arq_uuid'] == record['arq_uuids'][0]
    [arq] = helpers.arqs_of(clean.sandbox, record['id'])
    assert arq['state'] == 'Bound'
    report = attach_checks.reconcile_and_check(clean.sandbox)
    assert report['created'] == 0
    document = attach_checks.vendordata(clean.sandbox, record['id'])
    assert document['vgpus'][0]['lease_id'] == lease['id']


def test_a_full_pool_fails_the_boot_and_leaks_nothing(clean: Strict) -> None:
    gpus = len(attach_checks.pool_gpus(clean.sandbox))
    admitted = [clean.boot() for _ in range(gpus)]
    assert {r['status'] for r in admitted} == {'ACTIVE'}
    refused = clean.boot()
    _assert_aborted_cleanly(
        clean.sandbox, refused, 'pool default has no room for 8192 MiB'
    )
    report = attach_checks.reconcile_and_check(clean.sandbox)
    assert report['released'] == 0 and report['created'] == 0
    # Room again: the next boot is admitted.
    clean.compute.delete('/servers/%s' % admitted[0]['id'])
    attach_checks.reconcile_and_check(clean.sandbox)
    assert clean.boot()['status'] == 'ACTIVE'
    attach_checks.reconcile_and_check(clean.sandbox)


def test_the_attach_service_down_fails_the_boot(clean: Strict) -> None:
    clean.sandbox.stop_service(stack.ATTACH)
    try:
        record = clean.boot()
    finally:
        clean.sandbox.start_service(stack.ATTACH)
    _assert_aborted_cleanly(
        clean.sandbox, record, 'attach service unreachable'
    )
    attach_checks.reconcile_and_check(clean.sandbox)
