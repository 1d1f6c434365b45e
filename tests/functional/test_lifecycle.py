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

"""Shelve-offload, unshelve and evacuate: ARQs go, new ones are bound."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from orionx_cyborg.sandbox import clients
from orionx_cyborg.sandbox import identity
from orionx_cyborg.sandbox import stack
from tests.functional import helpers

# A whole GPU of any model and a pooled vGPU: gpu-server-1 and
# gpu-server-2 both have them, so a server can move between the two.
MOVABLE = [{'resources:PGPU': '1'}, {'resources:CUSTOM_ORIONX_VGPU': '1'}]
GPU_SERVERS = {'gpu-server-1', 'gpu-server-2'}


def _action(
    sandbox: stack.Sandbox,
    server_id: str,
    body: dict[str, Any],
    token: str = identity.MEMBER_TOKEN,
) -> None:
    sandbox.compute(token).post('/servers/%s/action' % server_id, body)


def _bound_arqs(sandbox: stack.Sandbox, record: dict[str, Any]) -> set[str]:
    arqs = helpers.arqs_of(sandbox, record['id'])
    assert {a['state'] for a in arqs} == {'Bound'}
    assert {a['hostname'] for a in arqs} == {record['host']}
    return {a['uuid'] for a in arqs}


def _allocated_roots(sandbox: stack.Sandbox, server_id: str) -> set[str]:
    placement = sandbox.placement()
    allocations = helpers.allocations_of(sandbox, server_id)['allocations']
    return {
        placement.get('/resource_providers/%s' % rp)['root_provider_uuid']
        for rp in allocations
    }


def test_shelve_offload_then_unshelve_binds_new_arqs(
    sandbox: stack.Sandbox,
    accel_flavor: Callable[..., str],
    boot: Callable[..., dict[str, Any]],
) -> None:
    record = boot(accel_flavor(MOVABLE))
    assert record['status'] == 'ACTIVE', record['fault']
    first = _bound_arqs(sandbox, record)
    assert len(first) == 2

    _action(sandbox, record['id'], {'shelve': None})
    shelved = helpers.wait_for_server(sandbox, record['id'])
    assert shelved['status'] == 'SHELVED_OFFLOADED'
    assert shelved['host'] is None
    assert shelved['attachments'] == []
    assert helpers.arqs_of(sandbox, record['id']) == []
    assert helpers.allocations_of(sandbox, record['id'])['allocations'] == {}

    _action(sandbox, record['id'], {'unshelve': None})
    unshelved = helpers.wait_for_server(sandbox, record['id'])
    assert unshelved['status'] == 'ACTIVE', unshelved['fault']
    assert unshelved['host'] in GPU_SERVERS
    second = _bound_arqs(sandbox, unshelved)
    assert len(second) == 2 and not second & first
    assert second <= {e['tag'] for e in unshelved['events']}
    assert [a['type'] for a in unshelved['attachments']] == ['hostdev']
    host = sandbox.manifest.host(unshelved['host'])
    assert _allocated_roots(sandbox, record['id']) == {host.rp_uuid}


def test_evacuate_rebinds_on_another_host(
    sandbox: stack.Sandbox,
    accel_flavor: Callable[..., str],
    boot: Callable[..., dict[str, Any]],
) -> None:
    record = boot(accel_flavor(MOVABLE))
    assert record['status'] == 'ACTIVE', record['fault']
    first = _bound_arqs(sandbox, record)
    source = record['host']
    (target,) = GPU_SERVERS - {source}

    _action(sandbox, record['id'], {'evacuate': {}}, identity.ADMIN_TOKEN)
    moved = helpers.wait_for_server(sandbox, record['id'])
    assert moved['status'] == 'ACTIVE', moved['fault']
    assert moved['host'] == target
    second = _bound_arqs(sandbox, moved)
    assert len(second) == 2 and not second & first
    assert _allocated_roots(sandbox, record['id']) == {
        sandbox.manifest.host(target).rp_uuid
    }


def test_evacuate_to_the_same_host_is_refused(
    sandbox: stack.Sandbox,
    accel_flavor: Callable[..., str],
    boot: Callable[..., dict[str, Any]],
) -> None:
    record = boot(accel_flavor(MOVABLE))
    with pytest.raises(clients.ApiError) as err:
        _action(
            sandbox,
            record['id'],
            {'evacuate': {'host': record['host']}},
            identity.ADMIN_TOKEN,
        )
    assert err.value.status == 400
    with pytest.raises(clients.ApiError) as err:
        _action(sandbox, record['id'], {'evacuate': {}})
    assert err.value.status == 403
    assert (
        helpers.server_record(sandbox, record['id'])['host']
        == (record['host'])
    )
