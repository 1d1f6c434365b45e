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

"""AMD SR-IOV virtual functions (MxGPU), from the sysfs seam.

ROCm's AMD SMI library lists neither the VFs of an AMD Instinct GPU nor
a GPU that AMD's GIM host driver (``gim.ko``, github.com/amd/MxGPU-
Virtualization) owns: only GIM's own host ``libamdsmi.so`` does. The
kernel, though, shows every SR-IOV VF in sysfs. So, after the vendor
libraries ran, :func:`augment`:

- adds the VFs of every AMD GPU AMD SMI found (``sriov_numvfs``,
  ``virtfn<N>``);
- adds every AMD GPU (PCI vendor ``1002``, display or processing
  accelerator class) bound to ``gim``, which AMD SMI cannot see,
  identified by its PCI device id in :data:`MODELS`, with its VFs.

Each VF becomes its own deployable (see the planner). A VF's memory is
the GPU's memory divided by the VFs enabled: GIM's release notes give the
VF counts per GPU (below), not a per-VF framebuffer table, and a VF
count selects the partition mode that splits memory evenly (8 VFs on an
MI300X run CPX/NPS4: 8 partitions of 24 GB). Verified only against the
simulated host.
"""

from __future__ import annotations

import dataclasses

from oslo_log import log as logging

from orionx_cyborg.gpu import models
from orionx_cyborg.gpu import sysfs

LOG = logging.getLogger(__name__)

VENDOR_ID = '1002'
#: The kernel driver of AMD's MxGPU host (GPU-IOV Module).
GIM_DRIVER = 'gim'
#: PCI base classes of AMD accelerators: display controller (MI210
#: reports 0x0380) and processing accelerator (MI300X: 0x1200).
_ACCELERATOR_CLASSES = ('03', '12')


@dataclasses.dataclass(frozen=True)
class AmdSriovModel:
    """What identifies an AMD GPU and its VFs without AMD SMI."""

    pci_device_id: str
    market_name: str
    memory_mib: int
    vf_counts: tuple[int, ...]
    """VFs per GPU GIM supports (GIM release notes); () when GIM does not
    support the model."""
    vf_pci_device_id: str | None
    """The PCI device id its VFs show, where a public source gives it."""


# Sources. VF counts: GIM release notes 8.5.0.K and 9.2.0.K
# (https://github.com/amd/MxGPU-Virtualization/releases): MI300X "1 or
# 8" VFs per GPU (8 in CPX with NPS4, preview), MI325X 1, MI210X 1;
# MI250X is not supported by GIM. VF device ids: MI300X VF 1002:74b5
# (Red Hat's RHOSO validated architecture for MI300X under GIM), MI325X
# VF 1002:74b9 (libdrm's amdgpu.ids, "AMD Instinct MI325X VF"); no public
# source found for the MI210's VF id. PF ids and memory as the AMD SMI
# catalogue (orionx_cyborg.gpu.fake.amd).
MODELS: dict[str, AmdSriovModel] = {
    m.pci_device_id: m
    for m in (
        AmdSriovModel(
            '74a1', 'AMD Instinct MI300X', 192 * 1024, (1, 8), '74b5'
        ),
        AmdSriovModel('74a5', 'AMD Instinct MI325X', 256 * 1024, (1,), '74b9'),
        AmdSriovModel('740f', 'AMD Instinct MI210', 64 * 1024, (1,), None),
        AmdSriovModel('7408', 'AMD Instinct MI250X', 64 * 1024, (), None),
    )
}


def augment(
    inventory: models.HostInventory, reader: sysfs.SysfsReader
) -> models.HostInventory:
    """*inventory* with AMD VFs and the AMD GPUs GIM owns."""
    gpus = [
        _with_vfs(gpu, reader) if gpu.vendor_id == VENDOR_ID else gpu
        for gpu in inventory.gpus
    ]
    known = {gpu.pci_address for gpu in gpus}
    known |= {u.pci_address for u in inventory.unreachable if u.pci_address}
    functions, warnings = reader.pci_functions(VENDOR_ID)
    for warning in warnings:
        LOG.warning('AMD PCI scan: %s', warning)
    index = len(gpus)
    for function in functions:
        if (
            function.address in known
            or function.driver != GIM_DRIVER
            or function.class_code[:2] not in _ACCELERATOR_CLASSES
        ):
            continue
        gpus.append(_with_vfs(_gim_gpu(index, function), reader))
        index += 1
    if gpus == list(inventory.gpus):
        return inventory
    return dataclasses.replace(inventory, gpus=tuple(gpus))


def _gim_gpu(index: int, function: sysfs.PciFunction) -> models.HardwareGpu:
    model = MODELS.get(function.device_id)
    warnings = []
    if model is None:
        warnings.append(
            'AMD PCI device %s is not in the catalogue: its model and '
            'memory are unknown' % function.device_id
        )
    return models.HardwareGpu(
        vendor_id=VENDOR_ID,
        index=index,
        # AMD SMI's UUID is out of reach without ROCm: a stable name.
        uuid='pci-%s-%s' % (VENDOR_ID, function.address),
        name=model.market_name if model else 'AMD GPU %s' % function.device_id,
        pci_address=function.address,
        pci_device_id=function.device_id,
        memory_mib=model.memory_mib if model else 0,
        pf_driver=function.driver,
        warnings=tuple(warnings),
    )


def _with_vfs(
    gpu: models.HardwareGpu, reader: sysfs.SysfsReader
) -> models.HardwareGpu:
    state = reader.sriov(gpu.pci_address)
    warnings = [
        'SR-IOV state partly unreadable (%s)' % w for w in state.warnings
    ]
    vfs = state.virtual_functions
    if state.num_vfs is not None and state.num_vfs != len(vfs):
        warnings.append(
            'sriov_numvfs says %d VFs, sysfs links %d'
            % (state.num_vfs, len(vfs))
        )
    memory = gpu.memory_mib // len(vfs) if vfs and gpu.memory_mib else None
    sriov_vfs = tuple(
        models.SriovVf(
            address=vf.address,
            pci_device_id=vf.device_id,
            driver=vf.driver,
            memory_mib=memory,
        )
        for vf in vfs
    )
    for warning in warnings:
        LOG.warning('AMD GPU %s: %s', gpu.pci_address, warning)
    if not sriov_vfs and not warnings:
        return gpu
    return dataclasses.replace(
        gpu, sriov_vfs=sriov_vfs, warnings=gpu.warnings + tuple(warnings)
    )
