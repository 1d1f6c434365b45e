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

"""Typed, frozen facts about the accelerators of one host.

Backends (NVML today, other vendors' libraries later) produce these models;
everything downstream (the report planner, the CLI, the state file) handles
them and never a library's own objects or dicts of strings. The models are
vendor-neutral: a vendor id, a model name, memory, compute capability,
partitioning (MIG) and virtualization facts, health, and a PCI address.
"""

from __future__ import annotations

import dataclasses
import enum
import re
from typing import Any

_PCI_ADDRESS = re.compile(
    r'^(?P<domain>[0-9a-fA-F]{4,8}):(?P<bus>[0-9a-fA-F]{2}):'
    r'(?P<device>[0-9a-fA-F]{2})\.(?P<function>[0-7])$'
)


@dataclasses.dataclass(frozen=True, order=True)
class PciAddress:
    """A PCI address (bus/device/function) in a PCI domain."""

    domain: int
    bus: int
    device: int
    function: int

    @classmethod
    def parse(cls, text: str) -> PciAddress:
        """Parse ``0000:18:00.0`` or NVML's ``00000000:18:00.0``.

        :raises ValueError: if *text* is not a PCI address.
        """
        match = _PCI_ADDRESS.match(text.strip())
        if match is None:
            raise ValueError('%r is not a PCI address' % text)
        return cls(
            domain=int(match['domain'], 16),
            bus=int(match['bus'], 16),
            device=int(match['device'], 16),
            function=int(match['function'], 16),
        )

    @staticmethod
    def is_valid(text: str) -> bool:
        return _PCI_ADDRESS.match(text.strip()) is not None

    def __str__(self) -> str:
        return '%04x:%02x:%02x.%x' % (
            self.domain,
            self.bus,
            self.device,
            self.function,
        )

    def cyborg_fields(self) -> dict[str, str]:
        """The address in Cyborg's attach-handle form (strings, no 0x)."""
        return {
            'domain': '%04x' % self.domain,
            'bus': '%02x' % self.bus,
            'device': '%02x' % self.device,
            'function': '%x' % self.function,
        }


@dataclasses.dataclass(frozen=True, order=True)
class ComputeCapability:
    """CUDA compute capability (9.0 for Hopper, 8.0 for A100, ...)."""

    major: int
    minor: int

    def __str__(self) -> str:
        return '%d.%d' % (self.major, self.minor)


class HostVgpuMode(enum.Enum):
    """How the host's vGPU manager exposes vGPUs of a GPU."""

    #: Not a vGPU host (no vGPU manager driver, or vGPU not supported).
    NONE = 'none'
    #: Mediated devices under mdev_supported_types (pre-Ada GPUs).
    MDEV = 'mdev'
    #: SR-IOV virtual functions with a vGPU type each (Ada, Hopper).
    SRIOV = 'sriov'


class VirtualizationMode(enum.Enum):
    """NVML's virtualization mode of a GPU."""

    NONE = 'none'
    PASSTHROUGH = 'passthrough'
    VGPU = 'vgpu'
    HOST_VGPU = 'host_vgpu'
    HOST_VSGA = 'host_vsga'


class HealthState(enum.Enum):
    HEALTHY = 'healthy'
    UNHEALTHY = 'unhealthy'


@dataclasses.dataclass(frozen=True)
class Health:
    """Health of a GPU with the reasons that made it unhealthy."""

    state: HealthState = HealthState.HEALTHY
    reasons: tuple[str, ...] = ()

    @property
    def healthy(self) -> bool:
        return self.state is HealthState.HEALTHY

    @classmethod
    def unhealthy(cls, *reasons: str) -> Health:
        return cls(HealthState.UNHEALTHY, tuple(reasons))


@dataclasses.dataclass(frozen=True)
class MigDevice:
    """A MIG device (a GPU instance with a compute instance) of a GPU."""

    uuid: str
    profile: str
    """MIG profile name without the ``MIG `` prefix, e.g. ``1g.18gb``."""
    gpu_instance_id: int | None
    """``None`` when the library could not say (see :attr:`HardwareGpu.warnings`)."""
    compute_instance_id: int | None
    memory_mib: int | None


@dataclasses.dataclass(frozen=True)
class VgpuType:
    """An NVIDIA vGPU type a GPU supports."""

    type_id: int
    name: str
    """The name NVML reports, e.g. ``NVIDIA H200X-35C``."""
    type_class: str
    """``Compute``, ``Quadro``, ``NVS``, ..."""
    framebuffer_mib: int
    max_instances: int
    """Instances of this type one GPU can hold."""
    creatable: bool
    """Whether an instance can be created now (homogeneous GPUs only
    offer the type already in use)."""
    gpu_instance_profile_id: int | None = None
    """The MIG GPU-instance profile of a MIG-backed type."""

    @property
    def mdev_type(self) -> str:
        """The mdev type directory name of this type (``nvidia-<id>``)."""
        return 'nvidia-%d' % self.type_id


@dataclasses.dataclass(frozen=True)
class PartitionProfile:
    """A way a vendor splits one device into several.

    An AMD compute partition mode (``CPX``: eight devices of one XCD each)
    or memory partition mode (``NPS4``), or an Ascend vNPU template
    (``vir05_1c_16g``).
    """

    name: str
    kind: str
    """``compute-partition``, ``memory-partition`` or ``vnpu``."""
    instances: int
    """Devices one device becomes in this mode, or vNPUs it can hold."""
    memory_mib: int | None = None
    """Memory of each resulting device, when the vendor documents it."""


@dataclasses.dataclass(frozen=True)
class SriovVf:
    """An SR-IOV virtual function that is a partition of its GPU.

    AMD MxGPU (the GIM host driver) splits a GPU into VFs of fixed size,
    each passed through whole; they are read from sysfs, since the ROCm
    AMD SMI library does not list them.
    """

    address: PciAddress
    pci_device_id: str
    """The VF's own PCI device id (``74b5`` for an MI300X VF)."""
    driver: str | None
    """Kernel driver bound to the VF (``vfio-pci`` when handed to a VM)."""
    memory_mib: int | None
    """Framebuffer of the VF: the GPU's memory divided by the VFs
    enabled (see :mod:`orionx_cyborg.gpu.amd_sriov`)."""


@dataclasses.dataclass(frozen=True)
class HardwareGpu:
    """One physical GPU as its management library describes it."""

    vendor_id: str
    """PCI vendor id, four lower-case hex digits (``10de``)."""
    index: int
    uuid: str
    name: str
    """Model name as the vendor library reports it (``NVIDIA H200``)."""
    pci_address: PciAddress
    pci_device_id: str
    """PCI device id, four lower-case hex digits (``2335``)."""
    memory_mib: int
    compute_capability: ComputeCapability | None = None
    mig_enabled: bool = False
    mig_devices: tuple[MigDevice, ...] = ()
    virtualization_mode: VirtualizationMode = VirtualizationMode.NONE
    host_vgpu_mode: HostVgpuMode = HostVgpuMode.NONE
    vgpu_types: tuple[VgpuType, ...] = ()
    numa_node: int | None = None
    health: Health = Health()
    partition_mode: str | None = None
    """The vendor's current partitioning (``CPX/NPS4`` on an AMD MI300X)."""
    partition_profiles: tuple[PartitionProfile, ...] = ()
    driver_version: str | None = None
    pf_driver: str | None = None
    """Kernel driver of the GPU's PCI function when it matters to the
    report: ``gim`` for an AMD GPU owned by the MxGPU host driver (which
    cannot be passed through; its VFs can)."""
    sriov_vfs: tuple[SriovVf, ...] = ()
    """Enabled SR-IOV virtual functions that are partitions of the GPU,
    each reported as its own deployable."""
    warnings: tuple[str, ...] = ()
    """Optional facts the library failed to give (``MIG devices: Function
    Not Found``): the description is incomplete, the GPU still usable."""


@dataclasses.dataclass(frozen=True)
class HealthEvent:
    """An event that makes a GPU unhealthy until an operator clears it."""

    pci_address: PciAddress
    reason: str
    """E.g. ``xid 79`` or ``double-bit ECC error``."""


@dataclasses.dataclass(frozen=True)
class UnreachableGpu:
    """A GPU the library enumerates but cannot describe.

    It is lost, has fallen off the bus, or fails every call.
    """

    index: int
    error: str
    pci_address: PciAddress | None = None
    uuid: str | None = None


@dataclasses.dataclass(frozen=True)
class HostInventory:
    """Everything one discovery pass learnt about the host's GPUs."""

    backend: str
    driver_version: str | None = None
    gpus: tuple[HardwareGpu, ...] = ()
    unreachable: tuple[UnreachableGpu, ...] = ()
    health_events: tuple[HealthEvent, ...] = ()
    calls: int = 0
    """Library calls made by the pass (for benchmarks and logs)."""
    failures: tuple[str, ...] = ()
    """Vendor libraries that failed as a whole while others worked."""
    failed_vendors: tuple[str, ...] = ()
    """PCI vendor ids of those libraries: their devices keep their last
    report instead of looking vanished."""


def to_jsonable(value: Any) -> Any:
    """Turn models (dataclasses, enums, tuples) into JSON-ready values."""
    if isinstance(value, PciAddress):
        return str(value)
    if isinstance(value, ComputeCapability):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            field.name: to_jsonable(getattr(value, field.name))
            for field in dataclasses.fields(value)
        }
    if isinstance(value, (list, tuple)):
        return [to_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {str(key): to_jsonable(item) for key, item in value.items()}
    return value
