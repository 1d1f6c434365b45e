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

"""Booting through the Nova stand-in: schedule, claim, bind, attach."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest

from orionx_cyborg.sandbox import clients
from orionx_cyborg.sandbox import identity
from orionx_cyborg.sandbox import stack
from tests.functional import helpers

BOUND_EVENT = 'accelerator-request-bound'


def _profile_for(
    sandbox: stack.Sandbox, host: str, rc: str, trait_key: str
) -> dict[str, str]:
    """A group that only *host*'s deployables of *rc* can satisfy."""
    dep = helpers.deployables_of(sandbox, host, rc)[0]
    return {
        'resources:%s' % rc: '1',
        'trait:%s' % helpers.trait(dep, trait_key): 'required',
    }


def _assert_bound_and_notified(
    sandbox: stack.Sandbox, record: dict[str, Any], count: int = 1
) -> list[dict[str, Any]]:
    arqs = helpers.arqs_of(sandbox, record['id'])
    assert len(arqs) == count
    assert sorted(a['uuid'] for a in arqs) == sorted(record['arq_uuids'])
    for arq in arqs:
        assert arq['state'] == 'Bound'
        assert arq['hostname'] == record['host']
        assert arq['instance_uuid'] == record['id']
    events = {
        e['tag']: e for e in record['events'] if e['name'] == BOUND_EVENT
    }
    assert set(events) == {a['uuid'] for a in arqs}
    assert {e['status'] for e in events.values()} == {'completed'}
    return arqs


def _assert_allocations(
    sandbox: stack.Sandbox, record: dict[str, Any], arqs: list[dict[str, Any]]
) -> None:
    allocations = helpers.allocations_of(sandbox, record['id'])
    assert allocations['consumer_type'] == 'INSTANCE'
    assert allocations['project_id'] == identity.MEMBER_PROJECT_ID
    providers = set(allocations['allocations'])
    assert record['compute_node_uuid'] in providers
    assert {a['device_rp_uuid'] for a in arqs} <= providers


def _assert_released(sandbox: stack.Sandbox, server_id: str) -> None:
    assert helpers.arqs_of(sandbox, server_id) == []
    assert helpers.allocations_of(sandbox, server_id)['allocations'] == {}


def _delete(sandbox: stack.Sandbox, server_id: str) -> None:
    sandbox.compute(identity.MEMBER_TOKEN).delete('/servers/%s' % server_id)
    with pytest.raises(clients.ApiError) as err:
        helpers.server_record(sandbox, server_id)
    assert err.value.status == 404


def test_whole_gpu_is_attached_as_a_pci_hostdev(
    sandbox: stack.Sandbox,
    accel_flavor: Callable[..., str],
    boot: Callable[..., dict[str, Any]],
) -> None:
    group = _profile_for(sandbox, 'gpu-server-1', 'PGPU', 'trait_model')
    record = boot(accel_flavor([group]))
    assert record['status'] == 'ACTIVE', record['fault']
    assert record['host'] == 'gpu-server-1'
    arqs = _assert_bound_and_notified(sandbox, record)
    assert arqs[0]['attach_handle_type'] == 'PCI'
    [hostdev] = record['attachments']
    assert hostdev['type'] == 'hostdev'
    info = arqs[0]['attach_handle_info']
    assert hostdev['address'] == '%s:%s:%s.%s' % (
        info['domain'],
        info['bus'],
        info['device'],
        info['function'],
    )
    assert record['ignored_accelerators'] == []
    _assert_allocations(sandbox, record, arqs)
    _delete(sandbox, record['id'])
    _assert_released(sandbox, record['id'])


def test_sriov_vgpu_is_attached_as_its_virtual_function(
    sandbox: stack.Sandbox,
    accel_flavor: Callable[..., str],
    boot: Callable[..., dict[str, Any]],
) -> None:
    group = _profile_for(sandbox, 'gpu-server-1', 'VGPU', 'trait_vgpu_type')
    record = boot(accel_flavor([group]))
    assert record['status'] == 'ACTIVE', record['fault']
    arqs = _assert_bound_and_notified(sandbox, record)
    assert arqs[0]['attach_handle_type'] == 'PCI'
    [hostdev] = record['attachments']
    assert hostdev['type'] == 'hostdev'
    assert not hostdev['address'].endswith('.0'), 'a VF, not the GPU'


def test_mdev_vgpu_is_created_by_the_agent_of_the_bound_host(
    sandbox: stack.Sandbox,
    accel_flavor: Callable[..., str],
    boot: Callable[..., dict[str, Any]],
) -> None:
    mdev_deps = [
        dep
        for dep in helpers.deployables_of(sandbox, 'gpu-server-2', 'VGPU')
        if 'A100' in helpers.trait(dep, 'trait_vgpu_type')
    ]
    group = {
        'resources:VGPU': '1',
        'trait:%s'
        % helpers.trait(mdev_deps[0], 'trait_vgpu_type'): 'required',
    }
    record = boot(accel_flavor([group]))
    assert record['status'] == 'ACTIVE', record['fault']
    assert record['host'] == 'gpu-server-2'
    arqs = _assert_bound_and_notified(sandbox, record)
    assert arqs[0]['attach_handle_type'] == 'MDEV'
    [mdev] = record['attachments']
    assert mdev['type'] == 'mdev'
    assert mdev['uuid'] == arqs[0]['attach_handle_uuid']
    # Cyborg's agent RPC went to server=gpu-server-2 and created the mdev
    # in that host's simulated sysfs, before Nova looked for it.
    assert mdev['created_by'] == 'cyborg'
    mine = sandbox.manifest.host('gpu-server-2').sysfs_root
    other = sandbox.manifest.host('gpu-server-1').sysfs_root
    device = os.path.join('bus', 'mdev', 'devices', mdev['uuid'])
    assert os.path.isdir(os.path.join(mine, device))
    assert not os.path.exists(os.path.join(other, device))
    # An agent cycle while the server runs must not break its delete.
    sandbox.update_resources(['gpu-server-2'])
    assert helpers.arqs_of(sandbox, record['id'])[0]['state'] == 'Bound'
    _delete(sandbox, record['id'])
    _assert_released(sandbox, record['id'])
    assert not os.path.exists(os.path.join(mine, device))


def test_pooled_vgpu_entitlement_attaches_nothing(
    sandbox: stack.Sandbox,
    accel_flavor: Callable[..., str],
    boot: Callable[..., dict[str, Any]],
) -> None:
    dep = helpers.deployables_of(sandbox, 'cpu-host-1', 'CUSTOM_ORIONX_VGPU')[
        0
    ]
    group = {
        'resources:CUSTOM_ORIONX_VGPU': '1',
        'trait:%s' % helpers.trait(dep, 'trait_pool'): 'required',
        'accel:orionx_gmem_mib': '16384',
    }
    record = boot(accel_flavor([group]), availability_zone='nova:cpu-host-1')
    assert record['status'] == 'ACTIVE', record['fault']
    assert record['host'] == 'cpu-host-1'
    arqs = _assert_bound_and_notified(sandbox, record)
    assert record['attachments'] == []
    [ignored] = record['ignored_accelerators']
    assert ignored['attach_handle_type'] == arqs[0]['attach_handle_type']
    assert ignored['attach_handle_type'] not in ('PCI', 'MDEV')
    # The ARQ names its profile and group: where an attach service finds
    # the size Nova ignored.
    assert arqs[0]['project_id'] == identity.MEMBER_PROJECT_ID
    profile = sandbox.cyborg().get(
        '/device_profiles', params={'name': arqs[0]['device_profile_name']}
    )['device_profiles'][0]
    group_id = arqs[0]['device_profile_group_id']
    assert profile['groups'][group_id]['accel:orionx_gmem_mib'] == '16384'


def test_two_groups_are_two_arqs_mapped_to_their_own_providers(
    sandbox: stack.Sandbox,
    accel_flavor: Callable[..., str],
    boot: Callable[..., dict[str, Any]],
) -> None:
    whole = _profile_for(sandbox, 'gpu-server-1', 'PGPU', 'trait_model')
    pooled = {'resources:CUSTOM_ORIONX_VGPU': '1'}
    record = boot(accel_flavor([whole, pooled]))
    assert record['status'] == 'ACTIVE', record['fault']
    arqs = _assert_bound_and_notified(sandbox, record, count=2)
    by_group = {a['device_profile_group_id']: a for a in arqs}
    assert by_group[0]['attach_handle_type'] == 'PCI'
    assert by_group[1]['attach_handle_type'] == 'TEST_PCI'
    assert by_group[0]['device_rp_uuid'] != by_group[1]['device_rp_uuid']
    assert [a['type'] for a in record['attachments']] == ['hostdev']
    assert len(record['ignored_accelerators']) == 1
    _assert_allocations(sandbox, record, arqs)


def test_boot_with_openstacksdk(
    sandbox: stack.Sandbox, accel_flavor: Callable[..., str]
) -> None:
    conn = sandbox.connect(identity.MEMBER_TOKEN)
    flavor_id = accel_flavor([{'resources:CUSTOM_ORIONX_VGPU': '1'}])
    server = conn.compute.create_server(
        name=helpers.unique('sdk'),
        flavor_id=flavor_id,
        image_id='9f1a2b3c-0000-4000-8000-000000000001',
        networks='none',
    )
    try:
        server = conn.compute.wait_for_server(server, wait=30, interval=0.2)
        assert server.status == 'ACTIVE'
        assert server.hypervisor_hostname in {
            h.name for h in sandbox.manifest.hosts
        }
        assert len(helpers.arqs_of(sandbox, server.id)) == 1
    finally:
        conn.compute.delete_server(server)
    _assert_released(sandbox, server.id)


@pytest.mark.parametrize('vcpus, units', [(100000, 1), (2, 9)])
def test_no_capacity_is_no_valid_host(
    sandbox: stack.Sandbox,
    accel_flavor: Callable[..., str],
    boot: Callable[..., dict[str, Any]],
    vcpus: int,
    units: int,
) -> None:
    group = _profile_for(sandbox, 'gpu-server-1', 'VGPU', 'trait_vgpu_type')
    group[next(k for k in group if k.startswith('resources:'))] = str(units)
    record = boot(accel_flavor([group], vcpus=vcpus))
    assert record['status'] == 'ERROR'
    assert 'No valid host was found' in record['fault']['message']
    assert record['host'] is None
    assert record['arq_uuids'] == []
    _assert_released(sandbox, record['id'])


def test_last_whole_gpu_taken_then_no_valid_host(
    sandbox: stack.Sandbox,
    accel_flavor: Callable[..., str],
    boot: Callable[..., dict[str, Any]],
) -> None:
    host = 'gpu-server-2'
    group = _profile_for(sandbox, host, 'PGPU', 'trait_model')
    capacity = len(helpers.deployables_of(sandbox, host, 'PGPU'))
    flavor_id = accel_flavor([group])
    records = [boot(flavor_id) for _ in range(capacity)]
    assert [r['status'] for r in records] == ['ACTIVE'] * capacity
    assert len({r['attachments'][0]['address'] for r in records}) == capacity
    extra = boot(flavor_id)
    assert extra['status'] == 'ERROR'
    assert 'No valid host was found' in extra['fault']['message']


def test_unknown_device_profile_is_a_bad_request(
    sandbox: stack.Sandbox, member_compute: clients.JsonClient
) -> None:
    compute = sandbox.compute()
    flavor = compute.post(
        '/flavors',
        {
            'flavor': {
                'name': helpers.unique('no-profile'),
                'vcpus': 1,
                'ram': 512,
                'disk': 1,
            }
        },
    )['flavor']
    try:
        compute.post(
            '/flavors/%s/os-extra_specs' % flavor['id'],
            {
                'extra_specs': {
                    'accel:device_profile': helpers.unique('nope')
                },
            },
        )
        with pytest.raises(clients.ApiError) as err:
            member_compute.post(
                '/servers',
                {
                    'server': {
                        'name': helpers.unique('bad'),
                        'flavorRef': flavor['id'],
                    }
                },
            )
        assert err.value.status == 400
        assert 'device profile' in err.value.json()['badRequest']['message']
    finally:
        compute.delete('/flavors/%s' % flavor['id'])
