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

"""The stack: planned hosts, their providers in Placement, their agents."""

from __future__ import annotations

from typing import Any

import pytest

from orionx_cyborg.sandbox import clients
from orionx_cyborg.sandbox import stack
from tests.functional import helpers

PLANNED_HOSTS = ('gpu-server-1', 'gpu-server-2', 'cpu-host-1')


def test_compute_nodes_are_registered_like_nova_compute(
    sandbox: stack.Sandbox,
) -> None:
    placement = sandbox.placement()
    roots = {
        rp['name']: rp
        for rp in placement.get('/resource_providers')['resource_providers']
        if rp['parent_provider_uuid'] is None
    }
    assert set(roots) == set(PLANNED_HOSTS)
    for name, rp in roots.items():
        path = '/resource_providers/%s' % rp['uuid']
        inventories = placement.get(path + '/inventories')['inventories']
        assert {'VCPU', 'MEMORY_MB', 'DISK_GB'} <= set(inventories), name
        traits = placement.get(path + '/traits')['traits']
        assert 'COMPUTE_ACCELERATORS' in traits, name


def test_every_deployable_is_a_provider_under_its_host(
    sandbox: stack.Sandbox,
) -> None:
    placement = sandbox.placement()
    deployables = helpers.deployables(sandbox)
    by_rp = {dep['rp_uuid']: dep for dep in deployables}
    assert None not in by_rp
    for host in sandbox.manifest.hosts:
        tree = helpers.provider_tree(placement, host.rp_uuid)
        children = {
            uuid
            for uuid, rp in tree.items()
            if rp['parent_provider_uuid'] == host.rp_uuid
        }
        mine = {
            dep['rp_uuid']
            for dep in deployables
            if dep['name'].startswith(host.name + '_')
        }
        assert children == mine, host.name
        for uuid in children:
            inventories = placement.get(
                '/resource_providers/%s/inventories' % uuid
            )['inventories']
            rc = by_rp[uuid]['attributes']['rc']
            assert inventories[rc]['total'] == by_rp[uuid]['num_accelerators']


def test_gpu_servers_report_gpus_and_the_cpu_host_only_an_entitlement(
    sandbox: stack.Sandbox,
) -> None:
    classes = {
        host: {
            dep['attributes']['rc']
            for dep in helpers.deployables(sandbox)
            if dep['name'].startswith(host + '_')
        }
        for host in PLANNED_HOSTS
    }
    gpu_classes = {
        'PGPU',
        'VGPU',
        'CUSTOM_ORIONX_GMEM_MIB',
        'CUSTOM_ORIONX_COMPUTE_PCT',
        'CUSTOM_ORIONX_VGPU',
    }
    assert classes['gpu-server-1'] == gpu_classes
    # Cyborg's fake driver shares gpu-server-2's agent with ours.
    assert classes['gpu-server-2'] == gpu_classes | {'FPGA'}
    assert classes['cpu-host-1'] == {'CUSTOM_ORIONX_VGPU'}
    devices = sandbox.cyborg().get('/devices')['devices']
    models = {
        (d['hostname'], d['model'])
        for d in devices
        if d['model'].startswith('NVIDIA')
    }
    assert {m for h, m in models if h == 'gpu-server-1'} == {'NVIDIA H200'}
    assert {m for h, m in models if h == 'gpu-server-2'} == {
        'NVIDIA A100-SXM4-80GB',
        'NVIDIA L40S',
    }
    assert not {m for h, m in models if h == 'cpu-host-1'}


def test_agent_cycle_on_demand(sandbox: stack.Sandbox) -> None:
    before = {dep['name'] for dep in helpers.deployables(sandbox)}
    assert sandbox.update_resources(['cpu-host-1']) == ['cpu-host-1']
    assert sorted(sandbox.update_resources()) == sorted(PLANNED_HOSTS)
    assert {dep['name'] for dep in helpers.deployables(sandbox)} == before
    with pytest.raises(clients.ApiError) as err:
        sandbox.update_resources(['no-such-host'])
    assert err.value.status == 404


def test_noauth_maps_tokens_to_identities(sandbox: stack.Sandbox) -> None:
    anonymous = clients.plain(sandbox.manifest.cyborg_url + '/v2')
    with pytest.raises(clients.ApiError) as err:
        anonymous.get('/devices')
    assert err.value.status == 401
    assert anonymous.get('')['id'] == 'v2.0'
    with pytest.raises(clients.ApiError) as err:
        sandbox.cyborg('demo').post(
            '/device_profiles',
            [
                {
                    'name': helpers.unique('forbidden'),
                    'groups': [{'resources:PGPU': '1'}],
                }
            ],
        )
    assert err.value.status == 403


def test_device_profile_lifecycle_through_openstacksdk(
    admin_conn: Any,
) -> None:
    name = helpers.unique('sdk-profile')
    group = {
        'resources:CUSTOM_ORIONX_VGPU': '1',
        'trait:CUSTOM_ORIONX_POOL_DEFAULT': 'required',
        'accel:orionx_gmem_mib': '8192',
    }
    created = admin_conn.accelerator.create_device_profile(
        name=name, groups=[group], description='sandbox test'
    )
    try:
        fetched = admin_conn.accelerator.get_device_profile(created.uuid)
        assert fetched.name == name
        assert fetched.groups == [group]
        listed = {p.name for p in admin_conn.accelerator.device_profiles()}
        assert name in listed
    finally:
        admin_conn.accelerator.delete_device_profile(created.uuid)
    listed = {p.name for p in admin_conn.accelerator.device_profiles()}
    assert name not in listed
