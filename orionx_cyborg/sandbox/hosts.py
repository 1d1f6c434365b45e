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

The default fleet (:func:`orionx_fleet`) runs ``orionx_gpu_driver`` on
its fake NVML; :func:`demo_fleet` runs a small sandbox-only driver and
Cyborg's fake driver instead. Which one is only a matter of the specs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

DEMO_DRIVER = 'sandbox_demo'
FAKE_DRIVER = 'fake_driver'
ORIONX_DRIVER = 'orionx_gpu_driver'

Options = Mapping[str, Mapping[str, str]]


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
    sysfs_root: str = '{host_dir}/sysfs'
    """Where the host's agent creates and removes mdevs at bind and
    unbind (the drivers' simulated sysfs tree, ``{host_dir}`` filled in).
    """
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


def demo_fleet() -> tuple[HostSpec, ...]:
    """Two GPU servers and a host without GPUs, on the sandbox demo driver.

    The demo driver reports the three attach handle types Nova treats
    differently: ``PCI`` (whole GPU), ``MDEV`` (vGPU whose mdev the agent
    creates at bind) and ``TEST_PCI`` (a remote entitlement Nova
    ignores). It stands in for ``orionx_gpu_driver`` until that lands.
    """
    return (
        HostSpec(
            name='gpu-server-1',
            description='2 whole GPUs, 1 GPU with 4 vGPUs',
            drivers=(
                DriverSpec(
                    DEMO_DRIVER,
                    {
                        DEMO_DRIVER: {
                            'devices': 'pci:3b,pci:5e,mdev:86:nvidia-1000:4',
                            'sysfs_root': '{host_dir}/sysfs',
                        }
                    },
                ),
            ),
        ),
        HostSpec(
            name='gpu-server-2',
            description='1 whole GPU, 1 GPU with 2 vGPUs, a fake FPGA',
            drivers=(
                DriverSpec(
                    DEMO_DRIVER,
                    {
                        DEMO_DRIVER: {
                            'devices': 'pci:3b,mdev:af:nvidia-1001:2',
                            'sysfs_root': '{host_dir}/sysfs',
                        }
                    },
                ),
                DriverSpec(FAKE_DRIVER),
            ),
        ),
        HostSpec(
            name='cpu-host-1',
            description='no GPU, 4 remote vGPU entitlements',
            vcpus=32,
            memory_mb=256 * 1024,
            drivers=(
                DriverSpec(
                    DEMO_DRIVER,
                    {
                        DEMO_DRIVER: {
                            'devices': 'remote:4',
                            'sysfs_root': '{host_dir}/sysfs',
                        }
                    },
                ),
            ),
        ),
    )


TOPOLOGY_NAME = 'topology.yaml'
TOPOLOGY_FILE = '{host_dir}/' + TOPOLOGY_NAME
# With a fake topology, orionx_gpu_driver renders the host's simulated
# sysfs tree under its state directory, named after the host.
ORIONX_SYSFS_ROOT = '{host_dir}/driver-state/simulated-sysfs-{host}'


def _orionx(options: Mapping[str, str], pool: Mapping[str, str]) -> DriverSpec:
    gpu = {
        'sysfs_root': '{host_dir}/sysfs',
        'state_dir': '{host_dir}/driver-state',
        'fake_topology': TOPOLOGY_FILE,
    }
    gpu.update(options)
    return DriverSpec(ORIONX_DRIVER, {'orionx_gpu': gpu, 'orionx_pool': pool})


def orionx_fleet() -> tuple[HostSpec, ...]:
    """The planned fleet on ``orionx_gpu_driver`` and its fake NVML.

    GPU server 1: 8x H200 in mixed modes; GPU server 2: 4x A100 80GB and
    4x L40S; a host without GPUs with a pooled-vGPU entitlement only.
    """
    return (
        HostSpec(
            name='gpu-server-1',
            description='8x H200: passthrough, vGPU on SR-IOV VFs, pool',
            sysfs_root=ORIONX_SYSFS_ROOT,
            topology='hgx-h200',
            drivers=(
                _orionx(
                    {
                        'default_mode': 'passthrough',
                        'vgpu_devices': '0000:3a:00.0,0000:5d:00.0',
                        'enabled_vgpu_types': (
                            'NVIDIA H200-35C,NVIDIA H200-70C'
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
                '4x L40S (1 SR-IOV vGPU, 3 pool)'
            ),
            sysfs_root=ORIONX_SYSFS_ROOT,
            topology='hgx-a100-l40s',
            drivers=(
                _orionx(
                    {
                        'default_mode': 'passthrough',
                        'vgpu_devices': (
                            '0000:3a:00.0,0000:5d:00.0,0000:9a:00.0'
                        ),
                        'enabled_vgpu_types': (
                            'NVIDIA A100D-20C,NVIDIA L40S-12C'
                        ),
                        'pool_devices': (
                            '0000:ab:00.0,0000:ba:00.0,0000:db:00.0'
                        ),
                    },
                    {'name': 'default', 'entitlement': '8'},
                ),
            ),
        ),
        HostSpec(
            name='cpu-host-1',
            description='no GPU: pooled vGPU entitlement only',
            sysfs_root=ORIONX_SYSFS_ROOT,
            topology='no-gpu',
            vcpus=32,
            memory_mb=256 * 1024,
            drivers=(
                _orionx(
                    {'default_mode': 'off'},
                    {'name': 'default', 'entitlement': '4'},
                ),
            ),
        ),
    )


FLEETS = {'demo': demo_fleet, 'orionx': orionx_fleet}
DEFAULT_FLEET = 'orionx'


def default_fleet() -> tuple[HostSpec, ...]:
    return FLEETS[DEFAULT_FLEET]()
