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

"""Hardware and configuration change; Cyborg and Placement follow.

Hardware changes are edits of a host's topology file followed by an
agent cycle; configuration changes restart the host's agent with a new
agent.conf (the driver reads it when built, as a real agent at start).
Every test puts the host back as it was and checks that it converged.
"""

from __future__ import annotations

import dataclasses
import json
import pathlib
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any

import pytest

from orionx_cyborg.gpu.fake import topology
from orionx_cyborg.sandbox import clients
from orionx_cyborg.sandbox import identity
from orionx_cyborg.sandbox import stack
from tests.functional import helpers
from tests.functional import report_oracle

UNHEALTHY = 'CUSTOM_ORIONX_UNHEALTHY'
GPU_SERVER_1 = 'gpu-server-1'


def _set_gpu(
    address: str, **changes: Any
) -> Callable[[topology.SimulatedHost], topology.SimulatedHost]:
    return lambda host: host.replace_gpu(address, **changes)


def _set_nvml(
    state: str,
) -> Callable[[topology.SimulatedHost], topology.SimulatedHost]:
    return lambda host: dataclasses.replace(host, nvml=state)


@pytest.fixture
def restore(sandbox: stack.Sandbox) -> Iterator[list[str]]:
    """Hosts named here get their fleet configuration back, then a cycle."""
    touched: list[str] = []
    originals = {
        host.name: sandbox.host_options(host.name)
        for host in sandbox.manifest.hosts
    }
    yield touched
    for host in touched:
        sandbox.reconfigure_host(host, originals[host], replace=True)


def test_a_lost_gpu_keeps_its_providers_marked_unhealthy(
    sandbox: stack.Sandbox, tmp_path: pathlib.Path
) -> None:
    # A pool member: two providers. (gpu-server-1: its simulated sysfs
    # renders in 0.1 s, gpu-server-2's A100 mdev types in over 1 s.)
    address = '0000:9a:00.0'
    before = report_oracle.placement_view(sandbox, GPU_SERVER_1)
    names = report_oracle.names_of_gpu(before, GPU_SERVER_1, address)
    assert len(names) == 2
    try:
        sandbox.edit_topology(GPU_SERVER_1, _set_gpu(address, lost=True))
        sandbox.update_resources([GPU_SERVER_1])
        after = report_oracle.placement_view(sandbox, GPU_SERVER_1)
        for name in names:
            assert after[name]['traits'] == sorted(
                before[name]['traits'] + [UNHEALTHY]
            )
            assert after[name]['total'] == before[name]['total']
        [device] = [
            d
            for d in report_oracle.cyborg_view(sandbox, GPU_SERVER_1)[
                'devices'
            ].values()
            if address in d['std_board_info']
        ]
        assert json.loads(device['vendor_board_info'])['state'] == 'lost'
        # The rest of the host is what the planner makes of the topology
        # with that GPU lost.
        report_oracle.assert_host_matches(
            sandbox, GPU_SERVER_1, tmp_path / 'lost', except_gpu=address
        )
    finally:
        sandbox.edit_topology(GPU_SERVER_1, _set_gpu(address, lost=False))
        sandbox.update_resources([GPU_SERVER_1])
    report_oracle.assert_host_matches(sandbox, GPU_SERVER_1, tmp_path)


@pytest.mark.parametrize('nvml', ['library-missing', 'failing'])
def test_nvml_gone_leaves_cyborg_and_placement_as_they_were(
    sandbox: stack.Sandbox, tmp_path: pathlib.Path, nvml: str
) -> None:
    sandbox.update_resources([GPU_SERVER_1])
    placement = report_oracle.placement_view(sandbox, GPU_SERVER_1)
    cyborg = report_oracle.cyborg_view(sandbox, GPU_SERVER_1)
    try:
        sandbox.edit_topology(GPU_SERVER_1, _set_nvml(nvml))
        sandbox.placement_requests(reset=True)
        sandbox.update_resources([GPU_SERVER_1])
        writes = sandbox.placement_requests(reset=True).write_routes()
        assert report_oracle.placement_view(sandbox, GPU_SERVER_1) == (
            placement
        )
        assert report_oracle.cyborg_view(sandbox, GPU_SERVER_1) == cyborg
        assert writes == {}
        # The oracle itself sees no GPU now: the sameness above is the
        # driver's stubs, not a report that happens to be equal.
        document = report_oracle.discover(
            sandbox.manifest.host(GPU_SERVER_1), tmp_path / 'gone'
        )
        assert document['nvml_failure'] and not document['gpus']
    finally:
        sandbox.edit_topology(GPU_SERVER_1, _set_nvml('ok'))
        sandbox.update_resources([GPU_SERVER_1])
    report_oracle.assert_host_matches(sandbox, GPU_SERVER_1, tmp_path)


def test_moving_gpus_between_modes_by_configuration_converges(
    sandbox: stack.Sandbox,
    tmp_path: pathlib.Path,
    restore: list[str],
) -> None:
    before = report_oracle.placement_view(sandbox, GPU_SERVER_1)
    restore.append(GPU_SERVER_1)
    sandbox.placement_requests(reset=True)
    # 2a: passthrough -> pool; 9a: pool -> passthrough (the default);
    # 5d: vGPU -> passthrough.
    sandbox.reconfigure_host(
        GPU_SERVER_1,
        {
            'orionx_gpu': {
                'vgpu_devices': '0000:3a:00.0',
                'pool_devices': '0000:2a:00.0,0000:ab:00.0,0000:ba:00.0',
            }
        },
    )
    assert sandbox.placement_requests().writes > 0
    want = report_oracle.assert_host_matches(
        sandbox, GPU_SERVER_1, tmp_path / 'moved'
    )
    modes = {gpu['pci_address']: gpu['mode'] for gpu in want.discovery['gpus']}
    assert modes['0000:2a:00.0'] == 'pool'
    assert modes['0000:9a:00.0'] == 'passthrough'
    assert modes['0000:5d:00.0'] == 'passthrough'
    after = report_oracle.placement_view(sandbox, GPU_SERVER_1)
    assert set(after) != set(before)


def test_a_configuration_the_driver_refuses_fails_the_restart(
    sandbox: stack.Sandbox, tmp_path: pathlib.Path
) -> None:
    original = sandbox.host_options(GPU_SERVER_1)
    placement = report_oracle.placement_view(sandbox, GPU_SERVER_1)
    cyborg = report_oracle.cyborg_view(sandbox, GPU_SERVER_1)
    try:
        with pytest.raises(clients.ApiError) as err:
            sandbox.reconfigure_host(
                GPU_SERVER_1, {'orionx_gpu': {'default_mode': 'everything'}}
            )
        assert err.value.status == 500
        assert 'default_mode' in err.value.body
        # Like an agent that failed to start: no cycle until it is
        # fixed, and what it reported stays meanwhile.
        with pytest.raises(clients.ApiError):
            sandbox.update_resources([GPU_SERVER_1])
        assert report_oracle.placement_view(sandbox, GPU_SERVER_1) == (
            placement
        )
        assert report_oracle.cyborg_view(sandbox, GPU_SERVER_1) == cyborg
    finally:
        sandbox.reconfigure_host(GPU_SERVER_1, original, replace=True)
    report_oracle.assert_host_matches(sandbox, GPU_SERVER_1, tmp_path)


def _claimed(sandbox: stack.Sandbox, consumer: str) -> dict[str, Any]:
    """Resources per provider of *consumer* (generations left out)."""
    allocations = helpers.allocations_of(sandbox, consumer)['allocations']
    return {rp: a['resources'] for rp, a in allocations.items()}


def _whole_gpu_server(
    sandbox: stack.Sandbox,
    accel_flavor: Callable[..., str],
    boot: Callable[..., dict[str, Any]],
) -> tuple[dict[str, Any], str]:
    record = boot(
        accel_flavor(
            [
                {
                    'resources:PGPU': '1',
                    'trait:CUSTOM_GPU_MODEL_H200': 'required',
                }
            ]
        ),
        availability_zone='nova:%s' % GPU_SERVER_1,
    )
    assert record['status'] == 'ACTIVE', record['fault']
    [hostdev] = record['attachments']
    return record, hostdev['address']


def test_a_gpu_holding_allocations_is_not_deleted_by_a_mode_change(
    sandbox: stack.Sandbox,
    tmp_path: pathlib.Path,
    restore: list[str],
    accel_flavor: Callable[..., str],
    boot: Callable[..., dict[str, Any]],
) -> None:
    record, busy = _whole_gpu_server(sandbox, accel_flavor, boot)
    pgpu = report_oracle.gpu_prefix(GPU_SERVER_1, busy) + 'PGPU'
    before = report_oracle.placement_view(sandbox, GPU_SERVER_1)[pgpu]
    allocations = _claimed(sandbox, record['id'])
    assert before['uuid'] in allocations
    idle = next(
        address
        for address in ('0000:18:00.0', '0000:2a:00.0', '0000:db:00.0')
        if address != busy
    )
    options = sandbox.host_options(GPU_SERVER_1)['orionx_gpu']
    pool = ','.join([options['pool_devices'], busy, idle])

    restore.append(GPU_SERVER_1)
    sandbox.reconfigure_host(
        GPU_SERVER_1, {'orionx_gpu': {'pool_devices': pool}}
    )
    placement = report_oracle.placement_view(sandbox, GPU_SERVER_1)
    # The busy GPU keeps its whole-GPU provider, marked so that nothing
    # new lands there, and the instance keeps its allocation...
    assert placement[pgpu] == dict(
        before, traits=sorted(before['traits'] + [UNHEALTHY])
    )
    assert report_oracle.names_of_gpu(placement, GPU_SERVER_1, busy) == [pgpu]
    assert _claimed(sandbox, record['id']) == allocations
    # ...while the rest of the host's report went through: the idle GPU
    # is a pool member now, as the planner says.
    want = report_oracle.assert_host_matches(
        sandbox, GPU_SERVER_1, tmp_path / 'draining', except_gpu=busy
    )
    assert report_oracle.names_of_gpu(
        want.placement, GPU_SERVER_1, idle
    ) == report_oracle.names_of_gpu(placement, GPU_SERVER_1, idle)
    assert all(
        not name.endswith('_PGPU')
        for name in report_oracle.names_of_gpu(placement, GPU_SERVER_1, idle)
    )

    sandbox.compute(identity.MEMBER_TOKEN).delete('/servers/%s' % record['id'])
    sandbox.update_resources([GPU_SERVER_1])
    want = report_oracle.assert_host_matches(
        sandbox, GPU_SERVER_1, tmp_path / 'drained'
    )
    members = report_oracle.names_of_gpu(want.placement, GPU_SERVER_1, busy)
    assert {want.placement[name]['resource_class'] for name in members} == {
        'CUSTOM_ORIONX_GMEM_MIB',
        'CUSTOM_ORIONX_COMPUTE_PCT',
    }
