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

"""Render a simulated host as a sysfs tree, for the sysfs seam to read.

The tree holds what :class:`~orionx_cyborg.gpu.sysfs.SysfsReader` reads on
a real host: ``bus/pci/devices/<address>`` with ``vendor``, ``device``,
``class`` and a ``driver`` link per GPU; ``virtfn<N>`` links to the SR-IOV
virtual functions; ``mdev_supported_types`` on Turing GPUs and on Ampere
virtual functions; ``nvidia/creatable_vgpu_types`` and
``nvidia/current_vgpu_type`` on the virtual functions of Ada and Hopper;
``bus/mdev/devices/<uuid>`` (``mdev_type``, ``parent``) for each mediated
device the topology records;
for AMD GPUs (``amd_gpus``), the PF bound to ``amdgpu`` or ``gim`` and,
under GIM, ``sriov_totalvfs``, ``sriov_numvfs`` and the VFs (``physfn``
links back), each bound to its ``vf_driver``.
The tree is rebuilt from the topology, which stays the one source of
truth: creating a mediated device means changing the topology.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid

from orionx_cyborg.gpu.fake import amd
from orionx_cyborg.gpu.fake import catalogue
from orionx_cyborg.gpu.fake import topology

_FRAMEWORK = catalogue.VgpuFramework
#: Virtual functions rendered per Ampere GPU (mdev on VFs): each holds one
#: vGPU, so this caps the vGPUs of a simulated A100.
MDEV_VF_COUNT = 8
#: Unconfigured virtual functions rendered per Ada/Hopper GPU beside the
#: configured ones (enough to show what a free VF looks like).
SPARE_VF_COUNT = 2


def write_tree(host: topology.SimulatedHost, root: str) -> None:
    """Replace the tree under *root* with one rendering *host*."""
    parent = os.path.dirname(os.path.abspath(root)) or '.'
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix='.sysfs-', dir=parent)
    try:
        _render(host, staging)
        old = None
        if os.path.exists(root):
            old = tempfile.mkdtemp(prefix='.sysfs-old-', dir=parent)
            os.rename(root, os.path.join(old, 'tree'))
        os.rename(staging, root)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _render(host: topology.SimulatedHost, root: str) -> None:
    devices = os.path.join(root, 'bus', 'pci', 'devices')
    drivers = os.path.join(root, 'bus', 'pci', 'drivers')
    os.makedirs(devices)
    for driver in topology.HOST_DRIVERS:
        os.makedirs(os.path.join(drivers, driver))
    for gpu in host.gpus:
        path = _function(devices, drivers, gpu.pci_address, gpu.driver, gpu)
        if host.vgpu_manager:
            _render_vgpu(devices, drivers, path, gpu)
            _render_mdev_devices(root, gpu)
    if host.amd_gpus:
        for driver in amd.GPU_DRIVERS:
            os.makedirs(os.path.join(drivers, driver), exist_ok=True)
        for amd_gpu in amd.amd_host(*host.amd_gpus, name=host.name).gpus:
            _render_amd(devices, drivers, amd_gpu)


#: PCI class of an AMD Instinct GPU: processing accelerator.
_AMD_CLASS = '0x120000'


def _render_amd(devices: str, drivers: str, gpu: amd.SimulatedAmdGpu) -> None:
    path = os.path.join(devices, gpu.pci_address)
    os.makedirs(path)
    _write(path, 'vendor', '0x1002')
    _write(path, 'device', '0x%04x' % gpu.model.pci_device_id)
    _write(path, 'class', _AMD_CLASS)
    os.symlink(os.path.join(drivers, gpu.driver), os.path.join(path, 'driver'))
    if gpu.driver != 'gim':
        return
    _write(path, 'sriov_totalvfs', str(max(amd.vf_counts(gpu.model) or (0,))))
    _write(path, 'sriov_numvfs', str(gpu.sriov_vfs))
    os.makedirs(os.path.join(drivers, gpu.vf_driver), exist_ok=True)
    for number in range(gpu.sriov_vfs):
        address = topology.vf_address(gpu.pci_address, number)
        vf_path = os.path.join(devices, address)
        os.makedirs(vf_path)
        _write(vf_path, 'vendor', '0x1002')
        _write(vf_path, 'device', '0x%04x' % amd.vf_device_id(gpu.model))
        _write(vf_path, 'class', _AMD_CLASS)
        os.symlink(
            os.path.join(drivers, gpu.vf_driver),
            os.path.join(vf_path, 'driver'),
        )
        os.symlink(
            os.path.join('..', gpu.pci_address),
            os.path.join(vf_path, 'physfn'),
        )
        os.symlink(
            os.path.join('..', address),
            os.path.join(path, 'virtfn%d' % number),
        )


def _function(
    devices: str,
    drivers: str,
    address: str,
    driver: str,
    gpu: topology.SimulatedGpu,
) -> str:
    path = os.path.join(devices, address)
    os.makedirs(path)
    _write(path, 'vendor', '0x10de')
    _write(path, 'device', '0x%04x' % gpu.model.pci_device_id)
    _write(path, 'class', '0x030200')
    os.symlink(os.path.join(drivers, driver), os.path.join(path, 'driver'))
    return path


def _render_vgpu(
    devices: str, drivers: str, path: str, gpu: topology.SimulatedGpu
) -> None:
    framework = gpu.model.vgpu_framework
    if framework is _FRAMEWORK.MDEV_PF:
        _render_mdev_types(
            path, gpu, _mdev_capacity(gpu, parents=1), gpu.pci_address
        )
    elif framework in (_FRAMEWORK.MDEV_VF, _FRAMEWORK.SRIOV):
        if framework is _FRAMEWORK.SRIOV:
            count = len(gpu.vf_vgpu_types) + SPARE_VF_COUNT
        else:
            count = MDEV_VF_COUNT
        count = min(count, gpu.model.max_virtual_functions)
        vfs = [topology.vf_address(gpu.pci_address, n) for n in range(count)]
        mdev_capacity = (
            _vf_mdev_capacity(gpu, vfs)
            if framework is _FRAMEWORK.MDEV_VF
            else {}
        )
        for number, address in enumerate(vfs):
            vf_path = _function(devices, drivers, address, 'nvidia', gpu)
            os.symlink(
                os.path.join('..', address),
                os.path.join(path, 'virtfn%d' % number),
            )
            if framework is _FRAMEWORK.SRIOV:
                _render_vendor_vf(vf_path, gpu, number)
            else:
                _render_mdev_types(
                    vf_path, gpu, mdev_capacity[address], address
                )


def _render_mdev_devices(root: str, gpu: topology.SimulatedGpu) -> None:
    """``bus/mdev/devices/<uuid>`` of each mdev the topology records.

    The kernel lists every mediated device there, and a tree rendered
    again after an mdev was created must still show it.
    """
    for mdev_uuid, record in gpu.mdevs.items():
        spec = gpu.model.vgpu_type(topology.vgpu_type_key(record['type']))
        path = os.path.join(root, 'bus', 'mdev', 'devices', mdev_uuid)
        os.makedirs(path)
        _write(path, 'mdev_type', 'nvidia-%d' % spec.type_id)
        _write(path, 'parent', str(record['parent']))


def _supported(gpu: topology.SimulatedGpu) -> list[catalogue.VgpuTypeSpec]:
    return [
        spec
        for spec in gpu.model.vgpu_types
        if (spec.mig_profile_id is not None) == gpu.mig_mode
    ]


def _created(gpu: topology.SimulatedGpu) -> dict[str, int]:
    """Created mediated devices per type name, anonymous and named."""
    created = {
        name: count for name, count in gpu.mdev_instances.items() if count
    }
    for record in gpu.mdevs.values():
        name = gpu.model.vgpu_type(topology.vgpu_type_key(record['type'])).name
        created[name] = created.get(name, 0) + 1
    return created


def _named_mdevs(
    gpu: topology.SimulatedGpu, parent: str, spec: catalogue.VgpuTypeSpec
) -> list[str]:
    return sorted(
        mdev_uuid
        for mdev_uuid, record in gpu.mdevs.items()
        if record['parent'] == parent
        and gpu.model.vgpu_type(topology.vgpu_type_key(record['type'])).type_id
        == spec.type_id
    )


def _mdev_capacity(
    gpu: topology.SimulatedGpu, parents: int
) -> dict[str, tuple[int, int]]:
    """(available, created) per type name, homogeneous like the driver."""
    counts = _created(gpu)
    in_use = set(counts)
    capacity = {}
    for spec in _supported(gpu):
        created = counts.get(spec.name, 0)
        if in_use and spec.name not in in_use:
            available = 0
        else:
            available = max(spec.max_instances - created, 0)
        capacity[spec.name] = (available, created)
    return capacity


def _render_mdev_types(
    path: str,
    gpu: topology.SimulatedGpu,
    capacity: dict[str, tuple[int, int]],
    parent: str,
) -> None:
    base = os.path.join(path, 'mdev_supported_types')
    for spec in _supported(gpu):
        available, created = capacity[spec.name]
        type_path = os.path.join(base, 'nvidia-%d' % spec.type_id)
        os.makedirs(os.path.join(type_path, 'devices'))
        _write(type_path, 'name', spec.name)
        _write(type_path, 'available_instances', str(available))
        _write(type_path, 'device_api', 'vfio-pci')
        _write(
            type_path,
            'description',
            'framebuffer=%dM, max_instance=%d'
            % (spec.framebuffer_mib, spec.max_instances),
        )
        named = _named_mdevs(gpu, parent, spec)
        anonymous = [
            str(
                uuid.uuid5(
                    uuid.NAMESPACE_URL,
                    '%s/%s/%d' % (gpu.uuid, spec.name, number),
                )
            )
            for number in range(created - len(named))
        ]
        for mdev in named + anonymous:
            os.makedirs(os.path.join(type_path, 'devices', mdev))


def _vf_mdev_capacity(
    gpu: topology.SimulatedGpu, vfs: list[str]
) -> dict[str, dict[str, tuple[int, int]]]:
    """(available, created) per type name, for each VF of an Ampere GPU.

    Each VF holds at most one vGPU. Named mdevs stay on their VF;
    anonymous ones take the first free VFs; a free VF then offers each
    type while the GPU has room for one more of it.
    """
    holds: dict[str, str] = {}
    for record in gpu.mdevs.values():
        spec = gpu.model.vgpu_type(topology.vgpu_type_key(record['type']))
        holds[record['parent']] = spec.name
    free = [vf for vf in vfs if vf not in holds]
    for name in sorted(gpu.mdev_instances):
        for _ in range(gpu.mdev_instances[name]):
            if free:
                holds[free.pop(0)] = name
    totals = _mdev_capacity(gpu, parents=len(vfs))
    result: dict[str, dict[str, tuple[int, int]]] = {}
    for vf in vfs:
        held = holds.get(vf)
        result[vf] = {
            name: (
                0 if held else int(free.index(vf) < available),
                1 if held == name else 0,
            )
            for name, (available, _) in totals.items()
        }
    return result


def _render_vendor_vf(
    path: str, gpu: topology.SimulatedGpu, number: int
) -> None:
    nvidia = os.path.join(path, 'nvidia')
    os.makedirs(nvidia)
    current = 0
    if number < len(gpu.vf_vgpu_types):
        current = gpu.model.vgpu_type(gpu.vf_vgpu_types[number]).type_id
    lines = ['ID    : vGPU Name']
    if not current:
        lines += [
            '%-5d : %s' % (spec.type_id, spec.name) for spec in _supported(gpu)
        ]
    _write(nvidia, 'creatable_vgpu_types', '\n'.join(lines))
    _write(nvidia, 'current_vgpu_type', str(current))


def _write(directory: str, name: str, text: str) -> None:
    with open(os.path.join(directory, name), 'w', encoding='utf-8') as f:
        f.write(text + '\n')
