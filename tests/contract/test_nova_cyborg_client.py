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

"""The contract with Nova: nova 34's Cyborg client reads our profiles,
creates and binds ARQs on our deployables and gets them back resolved.

Each bind is for an instance that exists in the Nova stand-in and runs
on the bound host (booted with a plain flavor), so Cyborg's
``accelerator-request-bound`` event reaches a real server record, as in
Nova, where the conductor binds for an instance it has scheduled. The
device RP of each ARQ comes from Placement's allocation candidates for
the request groups Nova itself built from the device profile, mapped to
the ARQs by Nova's ``create_arqs_and_match_resource_providers``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any

import pytest

from orionx_cyborg.gpu.fake import topology
from orionx_cyborg.sandbox import identity
from orionx_cyborg.sandbox import stack

cyborg = pytest.importorskip('nova.accelerator.cyborg')
nova_exception = pytest.importorskip('nova.exception')

POOLED = {
    'resources:CUSTOM_ORIONX_VGPU': '1',
    'trait:CUSTOM_ORIONX_POOL_DEFAULT': 'required',
    'accel:orionx_gmem_mib': '16384',
    'accel:orionx_compute_pct': '25',
}
# Profile group, host to bind on, handle type Nova gets back.
KINDS = {
    'whole-gpu': (
        {'resources:PGPU': '1', 'trait:CUSTOM_GPU_MODEL_H200': 'required'},
        'gpu-server-1',
        'PCI',
    ),
    'sriov-vgpu': (
        {
            'resources:VGPU': '1',
            'trait:CUSTOM_NVIDIA_VGPU_L40S_12C': 'required',
        },
        'gpu-server-2',
        'PCI',
    ),
    'mdev-vgpu': (
        {
            'resources:VGPU': '1',
            'trait:CUSTOM_NVIDIA_VGPU_A100DX_20C': 'required',
        },
        'gpu-server-2',
        'MDEV',
    ),
    'pooled-vgpu': (POOLED, 'cpu-host-1', 'TEST_PCI'),
}


@pytest.fixture
def device_profile(
    sandbox: stack.Sandbox,
) -> Iterator[Callable[[dict[str, str]], str]]:
    created: list[str] = []

    def make(group: dict[str, str]) -> str:
        name = 'contract-%s' % uuid.uuid4().hex[:8]
        sandbox.cyborg().post(
            '/device_profiles', [{'name': name, 'groups': [group]}]
        )
        created.append(name)
        return name

    yield make
    for name in created:
        sandbox.cyborg().delete('/device_profiles/%s' % name)


@pytest.fixture
def instance(sandbox: stack.Sandbox) -> Iterator[Callable[[str], str]]:
    """A server of the stand-in on a given host (no accelerator)."""
    compute = sandbox.compute(identity.MEMBER_TOKEN)
    booted: list[str] = []

    def make(host: str) -> str:
        server = compute.post(
            '/servers',
            {
                'server': {
                    'name': 'contract-%s' % uuid.uuid4().hex[:8],
                    'flavorRef': '1',
                    'availability_zone': 'nova:%s' % host,
                }
            },
        )['server']
        booted.append(server['id'])
        record = _wait_active(sandbox, server['id'])
        assert record['host'] == host
        return str(server['id'])

    yield make
    for server_id in booted:
        compute.request('DELETE', '/servers/%s' % server_id, expect=(204,))


def _wait_active(sandbox: stack.Sandbox, server_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        record: dict[str, Any] = sandbox.nova_sandbox().get(
            '/sandbox/servers/%s' % server_id
        )['server']
        if record['status'] == 'ACTIVE':
            return record
        assert record['status'] == 'BUILD', record['fault']
        assert time.monotonic() < deadline, 'server never became ACTIVE'
        time.sleep(0.05)


def _candidate_map(
    sandbox: stack.Sandbox, groups: list[Any], host: str
) -> dict[str, list[str]]:
    """Placement's first candidate on *host*: requester id -> RPs.

    The query Nova's scheduler makes for the request groups (suffixed by
    their requester ids), restricted to the host's tree.
    """
    root = sandbox.manifest.host(host).rp_uuid
    params: list[tuple[str, str]] = [
        # The flavor's own resources: the unsuffixed group.
        ('resources', 'VCPU:1,MEMORY_MB:512'),
        ('in_tree', root),
        ('group_policy', 'none'),
        ('limit', '1'),
    ]
    for group in groups:
        suffix = group.requester_id
        params.append(('in_tree' + suffix, root))
        params.append(
            (
                'resources' + suffix,
                ','.join(
                    '%s:%d' % item for item in sorted(group.resources.items())
                ),
            )
        )
        if group.required_traits:
            params.append(
                ('required' + suffix, ','.join(sorted(group.required_traits)))
            )
    answer = sandbox.placement().get('/allocation_candidates', params=params)
    [candidate] = answer['allocation_requests']
    mappings: dict[str, list[str]] = candidate['mappings']
    return mappings


def test_nova_reads_our_device_profiles_as_request_groups(
    nova_context: Any, device_profile: Callable[[dict[str, str]], str]
) -> None:
    name = device_profile(POOLED)
    assert cyborg.get_client(nova_context).get_device_profile_groups(name) == [
        POOLED
    ]
    [group] = cyborg.get_device_profile_request_groups(nova_context, name)
    assert group.requester_id == 'device_profile_0'
    assert group.resources == {'CUSTOM_ORIONX_VGPU': 1}
    assert group.required_traits == {'CUSTOM_ORIONX_POOL_DEFAULT'}
    # accel: keys are for Cyborg and the attach service, not the scheduler.
    assert cyborg.get_device_amount_of_dp_groups([POOLED]) == 1
    with pytest.raises(nova_exception.DeviceProfileError):
        cyborg.get_device_profile_request_groups(nova_context, 'no-such-dp')


@pytest.mark.parametrize('kind', sorted(KINDS))
def test_nova_creates_binds_and_gets_resolved_arqs(
    sandbox: stack.Sandbox,
    nova_context: Any,
    device_profile: Callable[[dict[str, str]], str],
    instance: Callable[[str], str],
    kind: str,
) -> None:
    group, host, handle_type = KINDS[kind]
    name = device_profile(group)
    server_id = instance(host)
    client = cyborg.get_client(nova_context)
    request_groups = cyborg.get_device_profile_request_groups(
        nova_context, name
    )
    mappings = _candidate_map(sandbox, request_groups, host)

    [arq] = client.create_arqs_and_match_resource_providers(name, mappings)
    assert arq['state'] == 'Initial'
    assert arq['device_rp_uuid'] == mappings['device_profile_0'][0]
    client.bind_arqs(
        {
            arq['uuid']: {
                'hostname': host,
                'device_rp_uuid': arq['device_rp_uuid'],
                'instance_uuid': server_id,
            }
        }
    )
    [resolved] = client.get_arqs_for_instance(server_id, only_resolved=True)
    assert resolved['uuid'] == arq['uuid']
    assert resolved['state'] == 'Bound'
    assert resolved['hostname'] == host
    assert resolved['attach_handle_type'] == handle_type
    assert client.get_arq_uuids_for_instance(_Instance(server_id)) == [
        arq['uuid']
    ]
    # Cyborg told Nova (the stand-in's record of that server).
    events = sandbox.nova_sandbox().get('/sandbox/servers/%s' % server_id)[
        'server'
    ]['events']
    assert [(e['name'], e['tag'], e['status']) for e in events] == [
        ('accelerator-request-bound', arq['uuid'], 'completed')
    ]
    if handle_type == 'MDEV':
        _assert_mdev_recorded(sandbox, host, resolved)

    client.delete_arqs_for_instance(server_id)
    with pytest.raises(nova_exception.AcceleratorRequestOpFailed):
        client.get_arqs_for_instance(server_id)
    if handle_type == 'MDEV':
        assert resolved['attach_handle_uuid'] not in _mdevs(sandbox, host)


class _Instance:
    """The one attribute of an Instance the client reads."""

    def __init__(self, instance_uuid: str) -> None:
        self.uuid = instance_uuid


def _mdevs(sandbox: stack.Sandbox, host: str) -> dict[str, dict[str, str]]:
    simulated = topology.load(str(sandbox.topology_file(host)), host)
    return {
        mdev_uuid: dict(record)
        for gpu in simulated.gpus
        for mdev_uuid, record in gpu.mdevs.items()
    }


def _assert_mdev_recorded(
    sandbox: stack.Sandbox, host: str, arq: dict[str, Any]
) -> None:
    """Cyborg's agent of *host* created the mdev Nova will look for."""
    info = arq['attach_handle_info']
    parent = '%s:%s:%s.%s' % (
        info['domain'],
        info['bus'],
        info['device'],
        info['function'],
    )
    assert _mdevs(sandbox, host)[arq['attach_handle_uuid']] == {
        'type': info['asked_type'],
        'parent': parent,
    }
