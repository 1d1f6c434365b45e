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

"""vGPUs on real Nova: an mdev profile and an SR-IOV (VF) profile.

Nova's conductor and compute bind the ARQs with the stock Cyborg; what
``nova-compute`` handed its (recording fake) virt driver at spawn is what
Cyborg bound (:mod:`orionx_cyborg.sandbox.full.virt`). For the mdev,
Cyborg's conductor asked the agent of the ARQ's host to create it at
bind and to remove it at delete, in that host's simulated hardware.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from orionx_cyborg.gpu.fake import topology
from orionx_cyborg.sandbox import hosts as hosts_mod
from orionx_cyborg.sandbox import layout as light_layout
from orionx_cyborg.sandbox import mdevs
from orionx_cyborg.sandbox import sysfs
from orionx_cyborg.sandbox.full import stack
from orionx_cyborg.sandbox.full import virt
from tests.functional import helpers
from tests.functional import report_oracle
from tests.functional.full import conftest
from tests.functional.full import test_full as flows

A100_MDEV = {
    'resources:VGPU': '1',
    'trait:CUSTOM_NVIDIA_VGPU_A100DX_20C': 'required',
}


def pci_address(info: dict[str, str]) -> str:
    return '%s:%s:%s.%s' % (
        info['domain'],
        info['bus'],
        info['device'],
        info['function'],
    )


def as_recorded(arqs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the recording driver keeps of *arqs*."""
    return [{key: arq.get(key) for key in virt.RECORDED_KEYS} for arq in arqs]


def driver_calls(
    sandbox: stack.FullSandbox, host: str, server_id: str, call: str
) -> list[dict[str, Any]]:
    """The recorded *call*s of *host*'s virt driver for the server."""
    return [
        entry
        for entry in virt.read_records(
            sandbox.state.nova_host_dir(host), server_id
        )
        if entry['call'] == call
    ]


def host_entry(
    sandbox: stack.FullSandbox, name: str
) -> light_layout.HostEntry:
    [spec] = [h for h in hosts_mod.orionx_fleet() if h.name == name]
    return sandbox.host_entry(spec)


def provider_name(admin: Any, rp_uuid: str) -> str:
    name: str = admin.placement.get('/resource_providers/%s' % rp_uuid).json()[
        'name'
    ]
    return name


def assert_bound_and_spawned(
    sandbox: stack.FullSandbox, admin: Any, server: Any, host: str
) -> dict[str, Any]:
    """One ARQ, bound on *host*; the driver spawned it with that ARQ."""
    assert admin.compute.get_server(server.id).compute_host == host
    [arq] = flows.arqs_of(admin, server.id)
    assert arq['state'] == 'Bound'
    assert arq['hostname'] == host
    assert arq['instance_uuid'] == server.id
    [spawn] = driver_calls(sandbox, host, server.id, 'spawn')
    assert spawn['accel_info'] == as_recorded([arq])
    allocations = flows.allocations_of(admin, server.id)
    assert allocations[arq['device_rp_uuid']]['resources'] == {'VGPU': 1}
    return arq


def delete_and_wait(admin: Any, server: Any) -> None:
    admin.compute.delete_server(server)
    admin.compute.wait_for_delete(server, wait=conftest.BOOT_TIMEOUT)
    helpers.wait_for(
        lambda: not flows.allocations_of(admin, server.id),
        timeout=60,
        what='the allocations of a deleted server to go',
    )
    assert flows.arqs_of(admin, server.id) == []


def test_mdev_vgpu_boots_and_its_host_agent_creates_the_mdev(
    full_sandbox: stack.FullSandbox,
    demo: Any,
    admin: Any,
    accel_flavor: Callable[[dict[str, str]], Any],
    servers: list[str],
) -> None:
    server = flows.boot(
        demo,
        accel_flavor(A100_MDEV),
        full_sandbox.manifest.image_id,
        servers,
    )
    arq = assert_bound_and_spawned(full_sandbox, admin, server, 'gpu-server-2')
    assert arq['attach_handle_type'] == 'MDEV'
    info = arq['attach_handle_info']
    # The mdev's parent: a PCI function (the GPU, or a VF of it, as on
    # an A100) of the GPU whose vGPU provider was claimed...
    parent = pci_address(info)
    mine = host_entry(full_sandbox, 'gpu-server-2')
    assert mine.topology_file is not None
    simulated = topology.load(mine.topology_file, mine.name)
    gpu = topology.gpu_of_function(simulated, parent)
    assert gpu is not None
    assert provider_name(admin, arq['device_rp_uuid']).startswith(
        report_oracle.gpu_prefix('gpu-server-2', gpu)
    )
    # ...and Cyborg's agent on gpu-server-2 (RPC server = the ARQ's
    # hostname) created it at bind, named by the attach handle's UUID,
    # in that host's hardware only.
    other = host_entry(full_sandbox, 'gpu-server-1')
    mdev = arq['attach_handle_uuid']
    assert sysfs.mdev_exists(mine.sysfs_root, mdev)
    assert not sysfs.mdev_exists(other.sysfs_root, mdev)
    [owner] = [g for g in simulated.gpus if mdev in g.mdevs]
    assert owner.pci_address == gpu
    assert dict(owner.mdevs[mdev]) == {
        'type': info['asked_type'],
        'parent': parent,
    }

    delete_and_wait(admin, server)
    # Nova's DELETE ?instance= unbound it: the agent removed the mdev.
    helpers.wait_for(
        lambda: not mdevs.exists(mine, mdev),
        timeout=30,
        what='the mdev of a deleted server to go',
    )


@pytest.mark.parametrize(
    'host, vgpu_type',
    [
        ('gpu-server-1', 'CUSTOM_NVIDIA_VGPU_H200X_35C'),
        ('gpu-server-2', 'CUSTOM_NVIDIA_VGPU_L40S_12C'),
    ],
)
def test_sriov_vgpu_boots_with_a_virtual_function(
    full_sandbox: stack.FullSandbox,
    demo: Any,
    admin: Any,
    accel_flavor: Callable[[dict[str, str]], Any],
    servers: list[str],
    host: str,
    vgpu_type: str,
) -> None:
    server = flows.boot(
        demo,
        accel_flavor(
            {'resources:VGPU': '1', 'trait:%s' % vgpu_type: 'required'}
        ),
        full_sandbox.manifest.image_id,
        servers,
    )
    arq = assert_bound_and_spawned(full_sandbox, admin, server, host)
    # A PCI hostdev for libvirt: a virtual function, not the GPU...
    assert arq['attach_handle_type'] == 'PCI'
    function = pci_address(arq['attach_handle_info'])
    entry = host_entry(full_sandbox, host)
    assert entry.topology_file is not None
    simulated = topology.load(entry.topology_file, host)
    gpu = topology.gpu_of_function(simulated, function)
    assert gpu is not None
    assert function != gpu
    # ...of the GPU whose vGPU provider was claimed.
    assert provider_name(admin, arq['device_rp_uuid']).startswith(
        report_oracle.gpu_prefix(host, gpu)
    )
    delete_and_wait(admin, server)
