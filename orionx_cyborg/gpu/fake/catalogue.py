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

"""A catalogue of real NVIDIA data-centre GPU models for the simulated NVML.

Each entry states what NVML reports for that board: the model name, the PCI
device id, the memory total in MiB, the CUDA compute capability, the MIG
GPU-instance profiles (id, name, slices, instances, memory as
``nvidia-smi mig -lgip`` lists them) and the NVIDIA vGPU types with their
framebuffer and instances per GPU, plus how the vGPU manager exposes them
(mediated devices, or SR-IOV virtual functions on Ada and Hopper).

Sources: PCI ids from the pci.ids database and NVIDIA's mig-parted device
filters; memory totals and MIG GPU-instance tables from nvidia-smi output
published in NVIDIA's mig-parted and gpu-operator repositories.

Every vGPU type name, framebuffer (MiB) and maximum instance count per
GPU (equal-size mode) is NVIDIA's published table, "NVIDIA AI Enterprise
and NVIDIA vGPU (C-Series)", NVIDIA AI Enterprise 6 documentation
(https://docs.nvidia.com/ai-enterprise/release-6/latest/appendix/vgpu.html):
tables 39 (L40S), 69-70 (A100 HGX 80GB), 73-74 (A100 HGX 40GB), 87-88
(H200 PCIe 141GB, H200 NVL), 89-90 (H200 SXM5 141GB), 97-98 (H100 SXM5
80GB) and 105 (Tesla T4); the release-7.5 "Hopper Architecture vGPU
Types" page
(https://docs.nvidia.com/ai-enterprise/release-7/7.5/infra-software/vgpu/reference/hopper.html)
lists the same Hopper types. Board names matter: SXM boards carry their
own prefixes (``H200X-``, ``H100XM-``, ``A100X-``, ``A100DX-``), the PCIe
and NVL boards the plain ones (``H200-``, ``A100-``, ``A100D-``). NVML
reports a type as ``NVIDIA <type>`` (vGPU 13 and later; older drivers said
``GRID <type>``). The Q-series types of L40S and T4 (graphics types,
outside those C-series tables) are not checked against NVIDIA's tables:
their counts are the board memory divided by the size, capped at the 32
virtual functions of an L40S. vGPU type *ids* differ between vGPU
releases; the ids here are illustrative (stable within this catalogue),
and so are MIG memory figures marked as derived.
"""

from __future__ import annotations

import dataclasses
import enum


class VgpuFramework(enum.Enum):
    """Where the host's vGPU manager exposes the vGPUs of a GPU."""

    #: No NVIDIA vGPU support.
    NONE = 'none'
    #: mdev types under the GPU's own PCI function (Turing, Volta).
    MDEV_PF = 'mdev-pf'
    #: mdev types under each SR-IOV virtual function (Ampere).
    MDEV_VF = 'mdev-vf'
    #: NVIDIA's vendor VFIO framework: a vGPU type is written to a virtual
    #: function's nvidia/current_vgpu_type (Ada, Hopper, Blackwell).
    SRIOV = 'sriov'


@dataclasses.dataclass(frozen=True)
class MigProfile:
    profile_id: int
    name: str
    """E.g. ``1g.18gb``."""
    slices: int
    instances: int
    memory_mib: int
    multiprocessors: int | None = None
    """Where measured; otherwise 16 per slice is assumed."""


@dataclasses.dataclass(frozen=True)
class VgpuTypeSpec:
    type_id: int
    name: str
    """E.g. ``NVIDIA H200-35C``."""
    type_class: str
    framebuffer_mib: int
    max_instances: int
    mig_profile_id: int | None = None


@dataclasses.dataclass(frozen=True)
class GpuModel:
    key: str
    name: str
    pci_device_id: int
    memory_mib: int
    compute_capability: tuple[int, int]
    mig_profiles: tuple[MigProfile, ...] = ()
    vgpu_framework: VgpuFramework = VgpuFramework.NONE
    max_virtual_functions: int = 0
    vgpu_types: tuple[VgpuTypeSpec, ...] = ()
    ecc: bool = True
    row_remapping: bool = True
    pci_subsystem_id: int = 0x1000
    """The board's PCI subsystem device id where one was recorded from
    real hardware; 0x1000 stands for "not recorded"."""

    @property
    def mig_capable(self) -> bool:
        return bool(self.mig_profiles)

    def mig_profile(self, name: str) -> MigProfile:
        for profile in self.mig_profiles:
            if profile.name == name:
                return profile
        raise KeyError('%s has no MIG profile %s' % (self.key, name))

    def vgpu_type(self, name_or_id: str | int) -> VgpuTypeSpec:
        for spec in self.vgpu_types:
            if name_or_id in (spec.type_id, spec.name):
                return spec
        raise KeyError('%s has no vGPU type %s' % (self.key, name_or_id))


def _gib(value: float) -> int:
    return int(round(value * 1024))


def _types(
    first_id: int,
    prefix: str,
    rows: tuple[tuple[int, int], ...],
    suffix: str = 'C',
    type_class: str = 'Compute',
) -> tuple[VgpuTypeSpec, ...]:
    """Time-sliced vGPU types ``NVIDIA <prefix>-<size><suffix>``.

    *rows* are NVIDIA's table rows ``(size in GB of the name, maximum
    vGPUs per GPU)``; the framebuffer is the table's MiB figure, which is
    the name's size times 1024 on every board listed here.
    """
    return tuple(
        VgpuTypeSpec(
            type_id=first_id + offset,
            name='NVIDIA %s-%d%s' % (prefix, size, suffix),
            type_class=type_class,
            framebuffer_mib=size * 1024,
            max_instances=max_instances,
        )
        for offset, (size, max_instances) in enumerate(rows)
    )


def _mig_types(
    first_id: int, prefix: str, profiles: tuple[MigProfile, ...]
) -> tuple[VgpuTypeSpec, ...]:
    """MIG-backed vGPU types ``NVIDIA <prefix>-<slices>-<size>C``.

    A ``+me`` (media extensions) profile gives the ``...CME`` type. The
    framebuffer is NVIDIA's table figure (the size in the name, in GiB),
    which exceeds what nvidia-smi reports as the instance's memory; the
    maximum is the profile's instance count, as in NVIDIA's tables.
    """
    types = []
    for offset, profile in enumerate(profiles):
        size = int(profile.name.split('.')[1].split('gb')[0])
        media = 'ME' if profile.name.endswith('+me') else ''
        types.append(
            VgpuTypeSpec(
                type_id=first_id + offset,
                name='NVIDIA %s-%d-%dC%s'
                % (prefix, profile.slices, size, media),
                type_class='Compute',
                framebuffer_mib=size * 1024,
                max_instances=profile.instances,
                mig_profile_id=profile.profile_id,
            )
        )
    return tuple(types)


# NVIDIA's time-sliced C-series rows, (size GB, maximum vGPUs per GPU).
# H200: the ids of the 4, 8, 35, 70 and 141 GB types stay those of
# earlier catalogues, so the 7, 17 and 28 GB types come last.
_H200_141GB_TYPES = (
    (4, 32),
    (8, 16),
    (14, 10),
    (35, 4),
    (70, 2),
    (141, 1),
    (7, 20),
    (17, 8),
    (28, 5),
)
_H100_80GB_TYPES = (
    (4, 20),
    (5, 16),
    (8, 10),
    (10, 8),
    (16, 6),
    (20, 4),
    (40, 2),
    (80, 1),
)
_A100_40GB_TYPES = ((4, 10), (5, 8), (8, 5), (10, 4), (20, 2), (40, 1))
_A100_80GB_TYPES = (
    (4, 20),
    (8, 10),
    (10, 8),
    (16, 5),
    (20, 4),
    (40, 2),
    (80, 1),
)
_L40S_C_TYPES = (
    (4, 12),
    (6, 8),
    (8, 6),
    (12, 4),
    (16, 3),
    (24, 2),
    (48, 1),
)
# Not in the C-series tables: memory // size, at most the 32 VFs.
_L40S_Q_TYPES = ((1, 32), (2, 24), (4, 12), (8, 6), (24, 2), (48, 1))
_T4_Q_TYPES = ((1, 16), (2, 8), (4, 4), (8, 2), (16, 1))
_T4_C_TYPES = ((4, 4), (8, 2), (16, 1))


_H200_MIG = (
    # Measured: nvmlDeviceGetGpuInstanceProfileInfo on an H200 SXM,
    # driver 580.159.04 (tests/unit/gpu/recorded/h200-sxm-580.159.04);
    # memorySizeMB and multiprocessorCount as that driver answered.
    MigProfile(19, '1g.18gb', 1, 7, 16384, multiprocessors=16),
    MigProfile(20, '1g.18gb+me', 1, 1, 16384, multiprocessors=16),
    MigProfile(15, '1g.35gb', 1, 4, 33280, multiprocessors=26),
    MigProfile(14, '2g.35gb', 2, 3, 33280, multiprocessors=32),
    MigProfile(9, '3g.71gb', 3, 2, 71424, multiprocessors=60),
    MigProfile(5, '4g.71gb', 4, 1, 71424, multiprocessors=64),
    MigProfile(0, '7g.141gb', 7, 1, 143360, multiprocessors=132),
)

_H100_MIG = (
    MigProfile(19, '1g.10gb', 1, 7, _gib(9.75)),
    MigProfile(20, '1g.10gb+me', 1, 1, _gib(9.75)),
    MigProfile(15, '1g.20gb', 1, 4, _gib(19.75)),
    MigProfile(14, '2g.20gb', 2, 3, _gib(19.75)),
    MigProfile(9, '3g.40gb', 3, 2, _gib(39.25)),
    MigProfile(5, '4g.40gb', 4, 1, _gib(39.25)),
    MigProfile(0, '7g.80gb', 7, 1, _gib(79.25)),
)

_A100_40_MIG = (
    MigProfile(19, '1g.5gb', 1, 7, _gib(4.75)),
    MigProfile(20, '1g.5gb+me', 1, 1, _gib(4.75)),
    MigProfile(15, '1g.10gb', 1, 4, _gib(9.75)),
    MigProfile(14, '2g.10gb', 2, 3, _gib(9.75)),
    MigProfile(9, '3g.20gb', 3, 2, _gib(19.62)),
    MigProfile(5, '4g.20gb', 4, 1, _gib(19.62)),
    MigProfile(0, '7g.40gb', 7, 1, _gib(39.38)),
)

_A100_80_MIG = (
    MigProfile(19, '1g.10gb', 1, 7, _gib(9.75)),
    MigProfile(20, '1g.10gb+me', 1, 1, _gib(9.75)),
    MigProfile(15, '1g.20gb', 1, 4, _gib(19.62)),
    MigProfile(14, '2g.20gb', 2, 3, _gib(19.62)),
    MigProfile(9, '3g.40gb', 3, 2, _gib(39.25)),
    MigProfile(5, '4g.40gb', 4, 1, _gib(39.25)),
    MigProfile(0, '7g.80gb', 7, 1, _gib(79.25)),
)

H200_SXM5_141GB = GpuModel(
    key='H200-SXM5-141GB',
    name='NVIDIA H200',
    pci_device_id=0x2335,
    # Recorded on an HGX H200 board (tests/unit/gpu/recorded/).
    pci_subsystem_id=0x18BF,
    memory_mib=143771,
    compute_capability=(9, 0),
    mig_profiles=_H200_MIG,
    vgpu_framework=VgpuFramework.SRIOV,
    max_virtual_functions=32,
    vgpu_types=_types(1100, 'H200X', _H200_141GB_TYPES)
    + _mig_types(1120, 'H200X', _H200_MIG),
)

# The PCIe board (H200 NVL) has the same tables under the plain prefix.
H200_NVL_141GB = dataclasses.replace(
    H200_SXM5_141GB,
    key='H200-NVL-141GB',
    name='NVIDIA H200 NVL',
    pci_device_id=0x233B,
    pci_subsystem_id=0x1000,
    vgpu_types=_types(1140, 'H200', _H200_141GB_TYPES)
    + _mig_types(1160, 'H200', _H200_MIG),
)

H100_SXM5_80GB = GpuModel(
    key='H100-SXM5-80GB',
    name='NVIDIA H100 80GB HBM3',
    pci_device_id=0x2330,
    memory_mib=81559,
    compute_capability=(9, 0),
    mig_profiles=_H100_MIG,
    vgpu_framework=VgpuFramework.SRIOV,
    max_virtual_functions=32,
    vgpu_types=_types(1000, 'H100XM', _H100_80GB_TYPES)
    + _mig_types(1020, 'H100XM', _H100_MIG),
)

A100_SXM4_40GB = GpuModel(
    key='A100-SXM4-40GB',
    name='NVIDIA A100-SXM4-40GB',
    pci_device_id=0x20B0,
    memory_mib=40960,
    compute_capability=(8, 0),
    mig_profiles=_A100_40_MIG,
    vgpu_framework=VgpuFramework.MDEV_VF,
    max_virtual_functions=16,
    vgpu_types=_types(457, 'A100X', _A100_40GB_TYPES)
    + _mig_types(463, 'A100X', _A100_40_MIG),
)

A100_SXM4_80GB = GpuModel(
    key='A100-SXM4-80GB',
    name='NVIDIA A100-SXM4-80GB',
    pci_device_id=0x20B2,
    memory_mib=81920,
    compute_capability=(8, 0),
    mig_profiles=_A100_80_MIG,
    vgpu_framework=VgpuFramework.MDEV_VF,
    max_virtual_functions=20,
    vgpu_types=_types(615, 'A100DX', _A100_80GB_TYPES)
    + _mig_types(622, 'A100DX', _A100_80_MIG),
)

L40S = GpuModel(
    key='L40S',
    name='NVIDIA L40S',
    pci_device_id=0x26B9,
    memory_mib=46068,
    compute_capability=(8, 9),
    vgpu_framework=VgpuFramework.SRIOV,
    max_virtual_functions=32,
    vgpu_types=_types(900, 'L40S', _L40S_C_TYPES)
    + _types(920, 'L40S', _L40S_Q_TYPES, suffix='Q', type_class='Quadro'),
    row_remapping=False,
)

T4 = GpuModel(
    key='T4',
    name='Tesla T4',
    pci_device_id=0x1EB8,
    memory_mib=15360,
    compute_capability=(7, 5),
    vgpu_framework=VgpuFramework.MDEV_PF,
    vgpu_types=_types(222, 'T4', _T4_Q_TYPES, suffix='Q', type_class='Quadro')
    + _types(232, 'T4', _T4_C_TYPES),
    row_remapping=False,
)

MODELS: dict[str, GpuModel] = {
    model.key: model
    for model in (
        A100_SXM4_40GB,
        A100_SXM4_80GB,
        H100_SXM5_80GB,
        H200_NVL_141GB,
        H200_SXM5_141GB,
        L40S,
        T4,
    )
}


def get_model(key: str) -> GpuModel:
    """Look a model up by key, case-insensitively.

    :raises KeyError: with the list of known keys.
    """
    for known, model in MODELS.items():
        if known.lower() == key.lower():
            return model
    raise KeyError(
        'unknown GPU model %r; known models: %s'
        % (key, ', '.join(sorted(MODELS)))
    )
