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

"""A simulated ``libamd_smi.so``: AMD SMI's C symbols in Python.

:class:`FakeAmdSmiLibrary` stands where AMD's ``amdsmi`` binding expects
the loaded library: the binding's own wrappers build the same ctypes
structures, arrays and two-call size protocols they build for the real
library and call these symbols with them, so the binding's marshalling
and status-to-exception mapping all run. Only the symbols the seam uses
are implemented; calling any other raises ``AttributeError``, as looking
a symbol up on a library that lacks it does. Return codes are
``amdsmi.h``'s ``amdsmi_status_t``.

The catalogue of models is below. Sources: PCI device ids from the
hwdata ``pci.ids`` database (``1002:74a1`` "Aqua Vanjaram [Instinct
MI300X]", ``74a5`` "[Instinct MI325X]", ``7408`` "Aldebaran/MI200
[Instinct MI250X]", ``740f`` "Aldebaran/MI200 [Instinct MI210]");
memory the boards' nominal HBM (192, 256, 128 = 2 x 64 and 64 GB; an
MI250X is two graphics dies, each its own device of 64 GB, as amd-smi
lists it); partition modes from AMD's "AMD GPU/APU Partitioning"
documentation (https://instinct.docs.amd.com/projects/amdgpu-docs/en/
latest/gpu-partitioning/index.html): MI300X and MI325X offer compute
partitions SPX (1 device), DPX (2), QPX (4) and CPX (8, one XCD each)
and memory partitions NPS1 and NPS4 (four 48 GB regions on MI300X);
MI200-series boards do not partition, and the library answers
``AMDSMI_STATUS_NOT_SUPPORTED``. Verified only against this fake.

SR-IOV (MxGPU): a GPU with ``driver: gim`` is owned by AMD's GIM host
driver; like ROCm's real AMD SMI, this library does not list it (nor any
VF). Its ``sriov_vfs`` VFs exist only in the simulated sysfs tree
(:mod:`orionx_cyborg.gpu.fake.sysfs`), where the sysfs seam finds them.
The VF counts GIM supports per model and the VFs' PCI ids are those of
:data:`orionx_cyborg.gpu.amd_sriov.MODELS`, with their sources.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from collections.abc import Mapping
from typing import Any

from orionx_cyborg.gpu import amd_sriov
from orionx_cyborg.gpu import models
from orionx_cyborg.gpu.fake import cabi

STATUS_CODES = {
    'INVAL': 1,
    'NOT_SUPPORTED': 2,
    'NOT_YET_IMPLEMENTED': 3,
    'FAIL_LOAD_SYMBOL': 5,
    'API_FAILED': 7,
    'NO_PERM': 10,
    'IO': 12,
    'INIT_ERROR': 18,
    'NOT_FOUND': 31,
    'NOT_INIT': 32,
    'DRIVER_NOT_LOADED': 34,
    'INSUFFICIENT_SIZE': 41,
    'UNKNOWN_ERROR': 4294967295,
}
_S = STATUS_CODES

_LIBRARY_STATES = {
    'driver-not-loaded': _S['DRIVER_NOT_LOADED'],
    'no-permission': _S['NO_PERM'],
}
_PAGE_STATUS = {'reserved': 0, 'pending': 1, 'unreservable': 2}
_SOCKET_BASE = 0x5000
_PROCESSOR_BASE = 0x9000


@dataclasses.dataclass(frozen=True)
class AmdGpuModel:
    key: str
    market_name: str
    pci_device_id: int
    memory_mib: int
    compute_units: int
    gfx_version: int
    compute_partitions: tuple[models.PartitionProfile, ...] = ()
    memory_partitions: tuple[models.PartitionProfile, ...] = ()


def _partitions(memory_gib: int) -> tuple[models.PartitionProfile, ...]:
    return tuple(
        models.PartitionProfile(
            name, 'compute-partition', count, memory_gib * 1024 // count
        )
        for name, count in (('SPX', 1), ('DPX', 2), ('QPX', 4), ('CPX', 8))
    )


def _nps(memory_gib: int) -> tuple[models.PartitionProfile, ...]:
    return (
        models.PartitionProfile(
            'NPS1', 'memory-partition', 1, memory_gib * 1024
        ),
        models.PartitionProfile(
            'NPS4', 'memory-partition', 4, memory_gib * 1024 // 4
        ),
    )


MI300X = AmdGpuModel(
    key='MI300X',
    market_name='AMD Instinct MI300X',
    pci_device_id=0x74A1,
    memory_mib=192 * 1024,
    compute_units=304,
    gfx_version=0x942,
    compute_partitions=_partitions(192),
    memory_partitions=_nps(192),
)
MI325X = AmdGpuModel(
    key='MI325X',
    market_name='AMD Instinct MI325X',
    pci_device_id=0x74A5,
    memory_mib=256 * 1024,
    compute_units=304,
    gfx_version=0x942,
    compute_partitions=_partitions(256),
    memory_partitions=_nps(256),
)
MI250X = AmdGpuModel(
    key='MI250X',
    market_name='AMD Instinct MI250X',
    pci_device_id=0x7408,
    memory_mib=64 * 1024,
    compute_units=110,
    gfx_version=0x90A,
)
MI210 = AmdGpuModel(
    key='MI210',
    market_name='AMD Instinct MI210',
    pci_device_id=0x740F,
    memory_mib=64 * 1024,
    compute_units=104,
    gfx_version=0x90A,
)

MODELS: dict[str, AmdGpuModel] = {
    m.key: m for m in (MI210, MI250X, MI300X, MI325X)
}


@dataclasses.dataclass(frozen=True)
class SimulatedAmdGpu:
    model: AmdGpuModel
    pci_address: str
    uuid: str
    compute_partition: str | None = None
    memory_partition: str | None = None
    lost: bool = False
    ecc_uncorrected: int = 0
    bad_pages: tuple[str, ...] = ()
    """Status of each retired page: reserved, pending or unreservable."""
    errors: Mapping[str, str] = dataclasses.field(default_factory=dict)
    """AMD SMI symbol -> status name for this GPU."""
    driver: str = 'amdgpu'
    """``amdgpu`` (ROCm; AMD SMI lists it) or ``gim`` (MxGPU host: AMD
    SMI does not see it; sysfs shows it and its VFs)."""
    sriov_vfs: int = 0
    """SR-IOV VFs enabled (``sriov_numvfs``); one of the counts GIM
    supports for the model."""
    vf_driver: str = 'vfio-pci'
    """Kernel driver of every VF (``vfio-pci``: ready for, or in, a VM)."""

    def __post_init__(self) -> None:
        if self.driver not in GPU_DRIVERS:
            raise ValueError(
                'driver must be one of %s' % ', '.join(GPU_DRIVERS)
            )
        if self.sriov_vfs:
            counts = vf_counts(self.model)
            if self.sriov_vfs not in counts:
                raise ValueError(
                    '%s supports %s SR-IOV VFs under GIM, not %d'
                    % (
                        self.model.key,
                        ' or '.join(str(c) for c in counts) or 'no',
                        self.sriov_vfs,
                    )
                )


#: Kernel drivers a simulated AMD GPU can be bound to.
GPU_DRIVERS = ('amdgpu', 'gim')


def vf_counts(model: AmdGpuModel) -> tuple[int, ...]:
    """The VFs per GPU GIM supports for *model* (GIM release notes)."""
    sriov = amd_sriov.MODELS.get('%04x' % model.pci_device_id)
    return sriov.vf_counts if sriov else ()


def vf_device_id(model: AmdGpuModel) -> int:
    """The PCI device id of *model*'s VFs.

    Where no public source gives it (MI210), the PF's id stands in.
    """
    sriov = amd_sriov.MODELS.get('%04x' % model.pci_device_id)
    if sriov is None or sriov.vf_pci_device_id is None:
        return model.pci_device_id
    return int(sriov.vf_pci_device_id, 16)


@dataclasses.dataclass(frozen=True)
class SimulatedAmdHost:
    gpus: tuple[SimulatedAmdGpu, ...] = ()
    library: str = 'ok'
    """ok | driver-not-loaded | no-permission"""
    driver_version: str = '6.10.5'


def amd_host(
    *gpus: Mapping[str, Any], name: str = 'amd', **kwargs: Any
) -> SimulatedAmdHost:
    """A simulated host from short GPU descriptions.

    Each item names a ``model`` (a key of :data:`MODELS`) and may set
    ``count``, ``pci_address`` and any :class:`SimulatedAmdGpu` field.
    """
    built: list[SimulatedAmdGpu] = []
    for item in gpus:
        item = dict(item)
        model = MODELS[item.pop('model')]
        for _ in range(int(item.pop('count', 1))):
            domain, slot = divmod(len(built), 8)
            address = item.get(
                'pci_address', '%04x:%02x:00.0' % (domain, 0x11 + 0x20 * slot)
            )
            seed = 'orionx-cyborg-simulated-amd:%s:%s' % (name, address)
            partitioned = bool(model.compute_partitions)
            fields = {k: v for k, v in item.items() if k != 'pci_address'}
            fields.setdefault(
                'compute_partition', 'SPX' if partitioned else None
            )
            fields.setdefault(
                'memory_partition', 'NPS1' if partitioned else None
            )
            built.append(
                SimulatedAmdGpu(
                    model=model,
                    pci_address=address,
                    uuid=str(uuid.uuid5(uuid.NAMESPACE_URL, seed)),
                    **fields,
                )
            )
    return SimulatedAmdHost(gpus=tuple(built), **kwargs)


class FakeAmdSmiError(cabi.ReturnCode):
    """Carries an AMD SMI status out of a simulated call."""


def _value(arg: Any) -> int:
    return int(getattr(arg, 'value', arg) or 0)


class FakeAmdSmiLibrary(cabi.SimulatedLibrary):
    """The AMD SMI C library of one simulated host."""

    def __init__(self, host: SimulatedAmdHost) -> None:
        super().__init__(_SYMBOLS)
        # ROCm's AMD SMI does not see a GPU that GIM owns.
        self.host = dataclasses.replace(
            host, gpus=tuple(g for g in host.gpus if g.driver == 'amdgpu')
        )
        self._initialized = 0
        self._injections = cabi.Injections()

    def fail(
        self,
        symbol: str,
        status: str,
        pci_address: str | None = None,
        times: int | None = None,
    ) -> None:
        """Make *symbol* return *status* (e.g. ``NOT_SUPPORTED``)."""
        with self._lock:
            self._injections.add(symbol, _S[status], pci_address, times)

    # Helpers ------------------------------------------------------------

    def _check(self, symbol: str, address: str | None = None) -> None:
        if self._initialized <= 0:
            raise FakeAmdSmiError(_S['NOT_INIT'])
        self._injections.check(symbol, address, FakeAmdSmiError)

    def _gpu(self, symbol: str, handle: Any) -> SimulatedAmdGpu:
        index = _value(handle) - _PROCESSOR_BASE
        if not 0 <= index < len(self.host.gpus):
            raise FakeAmdSmiError(_S['INVAL'])
        gpu = self.host.gpus[index]
        self._check(symbol, gpu.pci_address)
        if gpu.lost:
            raise FakeAmdSmiError(_S['NOT_FOUND'])
        if symbol in gpu.errors:
            raise FakeAmdSmiError(_S[gpu.errors[symbol]])
        return gpu


def _write_handles(count: Any, array: Any, values: list[int]) -> None:
    available = count._obj.value
    count._obj.value = len(values)
    if not array:
        return
    if available < len(values):
        raise FakeAmdSmiError(_S['INSUFFICIENT_SIZE'])
    for position, value in enumerate(values):
        array[position] = value


def _write_text(buffer: Any, size: int, text: str) -> None:
    data = text.encode('utf-8')
    if len(data) + 1 > size:
        raise FakeAmdSmiError(_S['INSUFFICIENT_SIZE'])
    buffer.value = data


def _init(lib: FakeAmdSmiLibrary, name: str, flags: Any) -> None:
    state = lib.host.library
    if state in _LIBRARY_STATES:
        raise FakeAmdSmiError(_LIBRARY_STATES[state])
    lib._initialized += 1
    lib._check(name)


def _shut_down(lib: FakeAmdSmiLibrary, name: str) -> None:
    lib._check(name)
    lib._initialized -= 1


def _socket_handles(
    lib: FakeAmdSmiLibrary, name: str, count: Any, array: Any
) -> None:
    lib._check(name)
    # One socket per GPU (an OAM module), as amd-smi lists MI300X.
    _write_handles(
        count, array, [_SOCKET_BASE + i for i in range(len(lib.host.gpus))]
    )


def _processor_handles(
    lib: FakeAmdSmiLibrary, name: str, socket: Any, count: Any, array: Any
) -> None:
    lib._check(name)
    index = _value(socket) - _SOCKET_BASE
    if not 0 <= index < len(lib.host.gpus):
        raise FakeAmdSmiError(_S['INVAL'])
    _write_handles(count, array, [_PROCESSOR_BASE + index])


def _bdf(lib: FakeAmdSmiLibrary, name: str, handle: Any, out: Any) -> None:
    gpu = lib._gpu(name, handle)
    address = models.PciAddress.parse(gpu.pci_address)
    out._obj.as_uint = (
        address.function
        | address.device << 3
        | address.bus << 8
        | address.domain << 16
    )


def _uuid(
    lib: FakeAmdSmiLibrary, name: str, handle: Any, length: Any, buffer: Any
) -> None:
    gpu = lib._gpu(name, handle)
    _write_text(buffer, length._obj.value, gpu.uuid)


def _asic_info(
    lib: FakeAmdSmiLibrary, name: str, handle: Any, out: Any
) -> None:
    gpu = lib._gpu(name, handle)
    info = out._obj
    info.market_name = gpu.model.market_name.encode()
    info.vendor_id = 0x1002
    info.vendor_name = b'Advanced Micro Devices Inc. [AMD/ATI]'
    info.subvendor_id = 0x1002
    info.device_id = gpu.model.pci_device_id
    info.rev_id = 0
    info.asic_serial = b'%016X' % (uuid.UUID(gpu.uuid).int & (2**64 - 1))
    info.oam_id = lib.host.gpus.index(gpu)
    info.num_of_compute_units = gpu.model.compute_units
    info.target_graphics_version = gpu.model.gfx_version
    info.subsystem_id = 0x0C34


def _memory_total(
    lib: FakeAmdSmiLibrary, name: str, handle: Any, mem_type: Any, out: Any
) -> None:
    gpu = lib._gpu(name, handle)
    vram = _value(mem_type) == 0
    out._obj.value = gpu.model.memory_mib * 1024 * 1024 if vram else 0


def _partition(attribute: str) -> Callable[..., None]:
    def query(
        lib: FakeAmdSmiLibrary, name: str, handle: Any, buffer: Any, size: Any
    ) -> None:
        gpu = lib._gpu(name, handle)
        mode = getattr(gpu, attribute)
        if mode is None:
            raise FakeAmdSmiError(_S['NOT_SUPPORTED'])
        _write_text(buffer, _value(size), mode)

    return query


def _ecc(lib: FakeAmdSmiLibrary, name: str, handle: Any, out: Any) -> None:
    gpu = lib._gpu(name, handle)
    out._obj.correctable_count = 0
    out._obj.uncorrectable_count = gpu.ecc_uncorrected
    out._obj.deferred_count = 0


def _bad_pages(
    lib: FakeAmdSmiLibrary, name: str, handle: Any, count: Any, array: Any
) -> None:
    gpu = lib._gpu(name, handle)
    count._obj.value = len(gpu.bad_pages)
    if not array:
        return
    for position, status in enumerate(gpu.bad_pages):
        array[position].page_address = 0x1000000 * (position + 1)
        array[position].page_size = 4096
        array[position].status = _PAGE_STATUS[status]


def _numa(lib: FakeAmdSmiLibrary, name: str, handle: Any, out: Any) -> None:
    gpu = lib._gpu(name, handle)
    out._obj.value = (
        0 if models.PciAddress.parse(gpu.pci_address).bus < 0x80 else 1
    )


def _driver_info(
    lib: FakeAmdSmiLibrary, name: str, handle: Any, out: Any
) -> None:
    lib._gpu(name, handle)
    out._obj.driver_name = b'amdgpu'
    out._obj.driver_version = lib.host.driver_version.encode()
    out._obj.driver_date = b'2025/01/01 00:00'


_SYMBOLS: dict[str, Callable[..., None]] = {
    'amdsmi_init': _init,
    'amdsmi_shut_down': _shut_down,
    'amdsmi_get_socket_handles': _socket_handles,
    'amdsmi_get_processor_handles': _processor_handles,
    'amdsmi_get_gpu_device_bdf': _bdf,
    'amdsmi_get_gpu_device_uuid': _uuid,
    'amdsmi_get_gpu_asic_info': _asic_info,
    'amdsmi_get_gpu_memory_total': _memory_total,
    'amdsmi_get_gpu_compute_partition': _partition('compute_partition'),
    'amdsmi_get_gpu_memory_partition': _partition('memory_partition'),
    'amdsmi_get_gpu_total_ecc_count': _ecc,
    'amdsmi_get_gpu_bad_page_info': _bad_pages,
    'amdsmi_topo_get_numa_node_number': _numa,
    'amdsmi_get_gpu_driver_info': _driver_info,
}
