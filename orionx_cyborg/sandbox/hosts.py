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

"""The hosts of a sandbox and the Cyborg drivers each of them runs.

A host is a Nova compute node (a root resource provider with VCPU,
MEMORY_MB and DISK_GB, like nova-compute reports) with a Cyborg agent of
its own. The agent runs the drivers named in :class:`DriverSpec`; each
driver instance gets its own configuration, written to the host's
``agent.conf``. Option values may use ``{host_dir}``, the host's private
directory in the state directory (simulated sysfs, driver state, topology
files), so that hosts never share files.

The fleet (:func:`orionx_fleet`) runs ``orionx_gpu_driver`` on its fake
NVML; one host also runs Cyborg's own ``fake_driver``, because an agent's
report is the union of its drivers' devices and ours must share it.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping

from orionx_cyborg.gpu import backends

FAKE_DRIVER = 'fake_driver'
ORIONX_DRIVER = 'orionx_gpu_driver'
ORIONX_GROUP = 'orionx_gpu'
POOL_GROUP = 'orionx_pool'
HOST_DIR = '{host_dir}'

Options = Mapping[str, Mapping[str, str]]

TOPOLOGY_NAME = 'topology.yaml'
TOPOLOGY_FILE = HOST_DIR + '/' + TOPOLOGY_NAME
DRIVER_STATE_DIR = HOST_DIR + '/driver-state'


@dataclasses.dataclass(frozen=True)
class DriverSpec:
    """One driver of one host's agent and that instance's options."""

    name: str
    options: Options = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class HostSpec:
    name: str
    drivers: tuple[DriverSpec, ...] = ()
    vcpus: int = 64
    memory_mb: int = 512 * 1024
    disk_gb: int = 2000
    description: str = ''
    sysfs_root: str | None = None
    """Where the host's agent creates and removes mdevs at bind and
    unbind (``{host_dir}`` filled in). By default the tree
    ``orionx_gpu_driver`` renders for the host's simulated topology, or
    ``{host_dir}/sysfs`` for a host without one."""
    topology: str | None = None
    """A simulated GPU topology (a built-in host name of
    :mod:`orionx_cyborg.gpu.fake.topology`, or a YAML file) that the
    sandbox copies to ``{host_dir}/topology.yaml`` at start. The driver
    reads that file at every discovery, so a test can edit it and run an
    agent cycle to simulate a lost GPU or NVML going away."""

    def options(self) -> dict[str, dict[str, str]]:
        """The merged options of every driver: the host's agent.conf."""
        merged: dict[str, dict[str, str]] = {}
        for spec in self.drivers:
            for group, values in spec.options.items():
                merged.setdefault(group, {}).update(values)
        return merged

    def sysfs_root_in(self, host_dir: str | os.PathLike[str]) -> str:
        """The host's sysfs root once its directory is *host_dir*."""
        if self.sysfs_root is not None:
            return self.sysfs_root.format(host_dir=host_dir, host=self.name)
        state_dir = self.options().get(ORIONX_GROUP, {}).get('state_dir')
        if self.topology and state_dir:
            # The driver's own rule (gpu.backends), not a copy of it: the
            # agent must write mdevs where the driver reads its tree.
            return backends.simulated_sysfs_root(
                state_dir.replace(HOST_DIR, str(host_dir)), self.name
            )
        return os.path.join(host_dir, 'sysfs')


def orionx_driver(
    options: Mapping[str, str], pool: Mapping[str, str]
) -> DriverSpec:
    """``orionx_gpu_driver`` on the host's simulated topology."""
    gpu = {
        'sysfs_root': HOST_DIR + '/sysfs',
        'state_dir': DRIVER_STATE_DIR,
        'fake_topology': TOPOLOGY_FILE,
    }
    gpu.update(options)
    return DriverSpec(ORIONX_DRIVER, {ORIONX_GROUP: gpu, POOL_GROUP: pool})


def orionx_fleet() -> tuple[HostSpec, ...]:
    """The planned fleet on ``orionx_gpu_driver`` and its fake NVML.

    GPU server 1: 8x H200 in mixed modes; GPU server 2: 4x A100 80GB and
    4x L40S, plus Cyborg's fake FPGA; a host without GPUs with a
    pooled-vGPU entitlement only.
    """
    return (
        HostSpec(
            name='gpu-server-1',
            description='8x H200: passthrough, vGPU on SR-IOV VFs, pool',
            topology='hgx-h200',
            drivers=(
                orionx_driver(
                    {
                        'default_mode': 'passthrough',
                        'vgpu_devices': '0000:3a:00.0,0000:5d:00.0',
                        'enabled_vgpu_types': (
                            'NVIDIA H200X-35C,NVIDIA H200X-70C'
                        ),
                        'pool_devices': (
                            '0000:9a:00.0,0000:ab:00.0,0000:ba:00.0'
                        ),
                    },
                    {'name': 'default', 'entitlement': '8'},
                ),
            ),
        ),
        HostSpec(
            name='gpu-server-2',
            description=(
                '4x A100 80GB (2 passthrough, 2 mdev vGPU), '
                '4x L40S (1 SR-IOV vGPU, 3 pool), Cyborg\'s fake FPGA'
            ),
            topology='hgx-a100-l40s',
            drivers=(
                orionx_driver(
                    {
                        'default_mode': 'passthrough',
                        'vgpu_devices': (
                            '0000:3a:00.0,0000:5d:00.0,0000:9a:00.0'
                        ),
                        'enabled_vgpu_types': (
                            'NVIDIA A100DX-20C,NVIDIA L40S-12C'
                        ),
                        'pool_devices': (
                            '0000:ab:00.0,0000:ba:00.0,0000:db:00.0'
                        ),
                    },
                    {'name': 'default', 'entitlement': '8'},
                ),
                # Another driver in the same agent: Cyborg replaces a
                # host's devices with the union of its drivers' reports.
                DriverSpec(FAKE_DRIVER),
            ),
        ),
        HostSpec(
            name='cpu-host-1',
            description='no GPU: pooled vGPU entitlement only',
            topology='no-gpu',
            vcpus=32,
            memory_mb=256 * 1024,
            drivers=(
                orionx_driver(
                    {'default_mode': 'off'},
                    {'name': 'default', 'entitlement': '4'},
                ),
            ),
        ),
    )


#: The mixed host's pool members: an H200, an MI300X and an MTT S4000.
MIXED_POOL_DEVICES = ('0000:2a:00.0', '0000:31:00.0', '0000:4b:00.0')
MIXED_HOST = 'gpu-server-3'


def mixed_host() -> HostSpec:
    """``gpu-server-3``: four vendors on one host (topology ``mixed``).

    2x H200, 2x AMD Instinct MI300X, 2x Huawei Ascend 910B3 and 2x Moore
    Threads MTT S4000, each vendor behind its own simulated library. One
    GPU of each of NVIDIA, AMD and Moore Threads is a pool member (the
    pool takes all three vendors); every other device, the NPUs
    included, is passed through whole.
    """
    return HostSpec(
        name=MIXED_HOST,
        description=(
            '2x H200, 2x MI300X, 2x Ascend 910B3, 2x MTT S4000: one GPU '
            'of each GPU vendor in the pool, the rest passthrough'
        ),
        topology='mixed',
        drivers=(
            orionx_driver(
                {
                    'default_mode': 'passthrough',
                    'pool_devices': ','.join(MIXED_POOL_DEVICES),
                },
                {
                    'name': 'default',
                    'entitlement': '8',
                    'vendors': '10de,1002,1ed5',
                },
            ),
        ),
    )


def mixed_fleet() -> tuple[HostSpec, ...]:
    """The planned fleet and the mixed host."""
    return orionx_fleet() + (mixed_host(),)


def region_two_fleet() -> tuple[HostSpec, ...]:
    """The full sandbox's second region: one box of 2x T4, both pooled.

    Another model and size than RegionOne's hosts, so the pools of the
    two regions differ.
    """
    return (
        HostSpec(
            name='gpu-server-r2-1',
            description='RegionTwo: 2x T4, both in the pool',
            topology='t4-box',
            vcpus=32,
            memory_mb=256 * 1024,
            drivers=(
                orionx_driver(
                    {'default_mode': 'pool'},
                    {'name': 'default', 'entitlement': '4'},
                ),
            ),
        ),
    )


def default_fleet() -> tuple[HostSpec, ...]:
    return orionx_fleet()
