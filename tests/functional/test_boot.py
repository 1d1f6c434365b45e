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

from orionx_cyborg.gpu.fake import topology
from orionx_cyborg.sandbox import clients
from orionx_cyborg.sandbox import identity
from orionx_cyborg.sandbox import stack
from tests.functional import helpers
from tests.functional import report_oracle

BOUND_EVENT = 'accelerator-request-bound'
A100_VGPU = {
    'resources:VGPU': '1',
    'trait:CUSTOM_NVIDIA_VGPU_A100DX_20C': 'required',
}


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


def _gpu_of_provider(sandbox: stack.Sandbox, host: str, rp_uuid: str) -> str:
    """The PCI address of the GPU whose provider *rp_uuid* is."""
    [name] = [
        name
        for name, rp in report_oracle.placement_view(sandbox, host).items()
        if rp['uuid'] == rp_uuid
    ]
    simulated = topology.load(str(sandbox.topology_file(host)), host)
    [address] = [
        gpu.pci_address
        for gpu in simulated.gpus
        if name.startswith(report_oracle.gpu_prefix(host, gpu.pci_address))
    ]
    return address


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
    # The attached BDF is the GPU whose whole-GPU provider was claimed.
    assert hostdev['address'] == _gpu_of_provider(
        sandbox, 'gpu-server-1', arqs[0]['device_rp_uuid']
    )
    _delete(sandbox, record['id'])
    _assert_released(sandbox, record['id'])


@pytest.mark.parametrize(
    'host, vgpu_type',
    [
        ('gpu-server-1', 'CUSTOM_NVIDIA_VGPU_H200X_35C'),
        ('gpu-server-2', 'CUSTOM_NVIDIA_VGPU_L40S_12C'),
    ],
)
def test_sriov_vgpu_is_attached_as_its_virtual_function(
    sandbox: stack.Sandbox,
    accel_flavor: Callable[..., str],
    boot: Callable[..., dict[str, Any]],
    host: str,
    vgpu_type: str,
) -> None:
    group = {'resources:VGPU': '1', 'trait:%s' % vgpu_type: 'required'}
    record = boot(accel_flavor([group]))
    assert record['status'] == 'ACTIVE', record['fault']
    assert record['host'] == host
    arqs = _assert_bound_and_notified(sandbox, record)
    assert arqs[0]['attach_handle_type'] == 'PCI'
    [hostdev] = record['attachments']
    assert hostdev['type'] == 'hostdev'
    # A virtual function of the GPU whose vGPU provider was claimed.
    simulated = topology.load(str(sandbox.topology_file(host)), host)
    gpu = _gpu_of_provider(sandbox, host, arqs[0]['device_rp_uuid'])
    assert hostdev['address'] != gpu
    assert topology.gpu_of_function(simulated, hostdev['address']) == gpu
    _assert_allocations(sandbox, record, arqs)


def test_mdev_vgpu_is_created_by_the_agent_of_the_bound_host(
    sandbox: stack.Sandbox,
    accel_flavor: Callable[..., str],
    boot: Callable[..., dict[str, Any]],
) -> None:
    record = boot(accel_flavor([A100_VGPU]))
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
    _delete(sandbox, record['id'])
    _assert_released(sandbox, record['id'])
    assert not os.path.exists(os.path.join(mine, device))


def test_an_mdev_survives_a_topology_edit_and_an_agent_cycle(
    sandbox: stack.Sandbox,
    accel_flavor: Callable[..., str],
    boot: Callable[..., dict[str, Any]],
) -> None:
    host = sandbox.manifest.host('gpu-server-2')
    record = boot(accel_flavor([A100_VGPU]))
    assert record['status'] == 'ACTIVE', record['fault']
    [mdev] = record['attachments']
    gpu = _gpu_of_provider(sandbox, host.name, mdev['device_rp_uuid'])
    recorded = (gpu, {'type': mdev['mdev_type'], 'parent': mdev['parent']})
    assert _recorded_mdevs(sandbox, host.name)[mdev['uuid']] == recorded
    handles = _handles(sandbox, host.name, mdev['device_rp_uuid'])
    rendered = os.path.join(
        host.sysfs_root,
        'bus',
        'pci',
        'devices',
        mdev['parent'],
        'mdev_supported_types',
        mdev['mdev_type'],
        'devices',
        mdev['uuid'],
    )
    written = os.path.join(
        host.sysfs_root, 'bus', 'mdev', 'devices', mdev['uuid']
    )
    assert os.path.isdir(written)  # as the agent wrote it at bind
    assert os.path.islink(rendered)  # the agent's link to it
    lost = '0000:18:00.0'  # another A100 of the host
    assert lost != gpu
    try:
        sandbox.edit_topology(host.name, _lost(lost, True))
        sandbox.update_resources([host.name])
        # The driver rendered the tree again from the topology (the
        # agent's own link is gone) and the mdev is in it, where the
        # kernel lists it too...
        assert not os.path.islink(rendered)
        assert os.path.isdir(rendered)
        assert os.path.isdir(written)
        assert _recorded_mdevs(sandbox, host.name)[mdev['uuid']] == recorded
        # ...and nothing moved in Cyborg: same handles, still bound.
        assert _handles(sandbox, host.name, mdev['device_rp_uuid']) == (
            handles
        )
        [arq] = helpers.arqs_of(sandbox, record['id'])
        assert arq['state'] == 'Bound'
        # Unbind after the re-render removes it from both.
        _delete(sandbox, record['id'])
        _assert_released(sandbox, record['id'])
        assert mdev['uuid'] not in _recorded_mdevs(sandbox, host.name)
        assert not os.path.exists(rendered)
        assert not os.path.exists(written)
    finally:
        sandbox.edit_topology(host.name, _lost(lost, False))
        sandbox.update_resources([host.name])


def _lost(
    address: str, lost: bool
) -> Callable[[topology.SimulatedHost], topology.SimulatedHost]:
    return lambda host: host.replace_gpu(address, lost=lost)


def _recorded_mdevs(
    sandbox: stack.Sandbox, host: str
) -> dict[str, tuple[str, dict[str, str]]]:
    simulated = topology.load(str(sandbox.topology_file(host)), host)
    return {
        mdev_uuid: (gpu.pci_address, dict(record))
        for gpu in simulated.gpus
        for mdev_uuid, record in gpu.mdevs.items()
    }


def _handles(
    sandbox: stack.Sandbox, host: str, rp_uuid: str
) -> list[tuple[str, str]]:
    [handles] = [
        dep['handles']
        for dep in report_oracle.cyborg_view(sandbox, host)[
            'deployables'
        ].values()
        if dep['rp_uuid'] == rp_uuid
    ]
    assert handles
    return list(handles)


@pytest.mark.parametrize('host', ['cpu-host-1', None])
def test_pooled_vgpu_entitlement_attaches_nothing(
    sandbox: stack.Sandbox,
    accel_flavor: Callable[..., str],
    boot: Callable[..., dict[str, Any]],
    host: str | None,
) -> None:
    group = {
        'resources:CUSTOM_ORIONX_VGPU': '1',
        'trait:CUSTOM_ORIONX_POOL_DEFAULT': 'required',
        'accel:orionx_gmem_mib': '16384',
        'accel:orionx_compute_pct': '25',
    }
    where = {'availability_zone': 'nova:%s' % host} if host else {}
    record = boot(accel_flavor([group]), **where)
    assert record['status'] == 'ACTIVE', record['fault']
    assert record['host'] == (host or record['host'])
    arqs = _assert_bound_and_notified(sandbox, record)
    assert record['attachments'] == []
    [ignored] = record['ignored_accelerators']
    assert ignored['attach_handle_type'] == arqs[0]['attach_handle_type']
    assert ignored['attach_handle_type'] == 'TEST_PCI'
    # It landed on the chosen host's entitlement provider.
    entitlement = report_oracle.placement_view(sandbox, record['host'])[
        '%s_ORIONX_VGPU_default' % record['host']
    ]
    assert arqs[0]['device_rp_uuid'] == entitlement['uuid']
    assert entitlement['resource_class'] == 'CUSTOM_ORIONX_VGPU'
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
