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

"""A simulated ``libmtml.so``: Moore Threads MTML's C symbols in Python.

:class:`FakeMtmlLibrary` stands where Moore Threads' ``pymtml`` binding
(PyPI ``mthreads-ml-py``) expects the loaded library (``pymtml.mtmlLib``):
the binding's own wrappers, handle types and return-code mapping run.
A symbol the library lacks raises ``AttributeError``, which pymtml turns
into ``MTMLError_FunctionNotFound``. Return codes are MTML's.

Catalogue: model names as MTML reports them and memory from Moore
Threads' published specifications (MTT S4000: 48 GB GDDR6; MTT S3000:
32 GB GDDR6); the PCI vendor id ``1ed5`` is pci.ids'. The PCI *device*
ids of these two boards could not be established from public sources;
the ones below are placeholders, marked as such. Verified only against
this fake.
"""

from __future__ import annotations

import ctypes
import dataclasses
import uuid
from collections.abc import Callable
from collections.abc import Mapping
from typing import Any

from orionx_cyborg.gpu.fake import cabi

CODES = {
    'DRIVER_NOT_LOADED': 1,
    'INVALID_ARGUMENT': 3,
    'NOT_SUPPORTED': 4,
    'NO_PERMISSION': 5,
    'NOT_FOUND': 7,
    'UNKNOWN': 999,
    'GPU_IS_LOST': 669,
}

_LIBRARY_HANDLE = 0x4D000
_DEVICE_BASE = 0x4E000
_MEMORY_BASE = 0x4F000
_SYSTEM_HANDLE = 0x4C000


@dataclasses.dataclass(frozen=True)
class MthreadsModel:
    key: str
    name: str
    pci_device_id: int
    """Placeholder: not established from public sources."""
    memory_mib: int
    gpu_cores: int


MTT_S4000 = MthreadsModel('MTT-S4000', 'MTT S4000', 0x0400, 49152, 8192)
MTT_S3000 = MthreadsModel('MTT-S3000', 'MTT S3000', 0x0300, 32768, 4096)

MODELS: dict[str, MthreadsModel] = {m.key: m for m in (MTT_S3000, MTT_S4000)}


@dataclasses.dataclass(frozen=True)
class SimulatedMthreadsGpu:
    model: MthreadsModel
    pci_address: str
    uuid: str
    lost: bool = False
    errors: Mapping[str, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class SimulatedMthreadsHost:
    gpus: tuple[SimulatedMthreadsGpu, ...] = ()
    driver_version: str = '2.7.0'
    library: str = 'ok'
    """ok | driver-not-loaded"""


def mthreads_host(
    *gpus: Mapping[str, Any], **kwargs: Any
) -> SimulatedMthreadsHost:
    """A simulated host: each item a ``model`` key, optional ``count``
    and :class:`SimulatedMthreadsGpu` fields.
    """
    built: list[SimulatedMthreadsGpu] = []
    for item in gpus:
        item = dict(item)
        model = MODELS[item.pop('model')]
        for _ in range(int(item.pop('count', 1))):
            domain, slot = divmod(len(built), 8)
            address = '%04x:%02x:00.0' % (domain, 0x3B + 0x10 * slot)
            seed = 'orionx-cyborg-simulated-mthreads:%s' % address
            built.append(
                SimulatedMthreadsGpu(
                    model=model,
                    pci_address=address,
                    uuid=str(uuid.uuid5(uuid.NAMESPACE_URL, seed)),
                    **item,
                )
            )
    return SimulatedMthreadsHost(gpus=tuple(built), **kwargs)


class FakeMtmlError(cabi.ReturnCode):
    """Carries an MTML return code out of a simulated call."""


def _pointer_value(handle: Any) -> int:
    return ctypes.cast(handle, ctypes.c_void_p).value or 0


class FakeMtmlLibrary(cabi.SimulatedLibrary):
    """The MTML C library of one simulated host."""

    def __init__(self, host: SimulatedMthreadsHost) -> None:
        super().__init__(_SYMBOLS)
        self.host = host
        self._initialized = 0
        self._failures: dict[str, int] = {}

    def fail(self, symbol: str, code: str) -> None:
        self._failures[symbol] = CODES[code]

    def _before_call(self, name: str) -> None:
        if name in self._failures:
            raise FakeMtmlError(self._failures[name])

    def __getattr__(self, name: str) -> Any:
        if name == 'mtmlErrorString':
            return _error_string
        return super().__getattr__(name)

    def _gpu(self, name: str, handle: Any, base: int) -> SimulatedMthreadsGpu:
        if self._initialized <= 0:
            raise FakeMtmlError(CODES['INVALID_ARGUMENT'])
        index = _pointer_value(handle) - base
        if not 0 <= index < len(self.host.gpus):
            raise FakeMtmlError(CODES['INVALID_ARGUMENT'])
        gpu = self.host.gpus[index]
        if gpu.lost:
            raise FakeMtmlError(CODES['GPU_IS_LOST'])
        if name in gpu.errors:
            raise FakeMtmlError(CODES[gpu.errors[name]])
        return gpu


def _error_string(code: Any) -> bytes:
    names = {value: key for key, value in CODES.items()}
    return names.get(int(getattr(code, 'value', code)), 'Unknown').encode()


def _init(lib: FakeMtmlLibrary, name: str, out: Any) -> None:
    if lib.host.library == 'driver-not-loaded':
        raise FakeMtmlError(CODES['DRIVER_NOT_LOADED'])
    lib._initialized += 1
    cabi.write_handle(out, _LIBRARY_HANDLE)


def _shutdown(lib: FakeMtmlLibrary, name: str, handle: Any) -> None:
    lib._initialized -= 1


def _count(lib: FakeMtmlLibrary, name: str, handle: Any, out: Any) -> None:
    if _pointer_value(handle) != _LIBRARY_HANDLE or lib._initialized <= 0:
        raise FakeMtmlError(CODES['INVALID_ARGUMENT'])
    out._obj.value = len(lib.host.gpus)


def _device_by_index(
    lib: FakeMtmlLibrary, name: str, handle: Any, index: Any, out: Any
) -> None:
    position = int(getattr(index, 'value', index))
    if not 0 <= position < len(lib.host.gpus):
        raise FakeMtmlError(CODES['INVALID_ARGUMENT'])
    cabi.write_handle(out, _DEVICE_BASE + position)


def _system(lib: FakeMtmlLibrary, name: str, handle: Any, out: Any) -> None:
    cabi.write_handle(out, _SYSTEM_HANDLE)


def _driver_version(
    lib: FakeMtmlLibrary, name: str, system: Any, buffer: Any, size: Any
) -> None:
    buffer.value = lib.host.driver_version.encode()


def _uuid(
    lib: FakeMtmlLibrary, name: str, device: Any, out: Any, size: Any
) -> None:
    gpu = lib._gpu(name, device, _DEVICE_BASE)
    out._obj.value = gpu.uuid.encode()


def _name(
    lib: FakeMtmlLibrary, name: str, device: Any, buffer: Any, size: Any
) -> None:
    buffer.value = lib._gpu(name, device, _DEVICE_BASE).model.name.encode()


def _pci_info(lib: FakeMtmlLibrary, name: str, device: Any, out: Any) -> None:
    gpu = lib._gpu(name, device, _DEVICE_BASE)
    domain, bus, rest = gpu.pci_address.split(':')
    slot, _ = rest.split('.')
    info = out._obj
    info.sbdf = gpu.pci_address.encode()
    info.segment = int(domain, 16)
    info.bus = int(bus, 16)
    info.device = int(slot, 16)
    info.pciDeviceId = (gpu.model.pci_device_id << 16) | 0x1ED5


def _init_memory(
    lib: FakeMtmlLibrary, name: str, device: Any, out: Any
) -> None:
    gpu = lib._gpu(name, device, _DEVICE_BASE)
    cabi.write_handle(out, _MEMORY_BASE + lib.host.gpus.index(gpu))


def _memory_total(
    lib: FakeMtmlLibrary, name: str, memory: Any, out: Any
) -> None:
    gpu = lib._gpu(name, memory, _MEMORY_BASE)
    out._obj.value = gpu.model.memory_mib * 1024 * 1024


def _free_memory(lib: FakeMtmlLibrary, name: str, memory: Any) -> None:
    lib._gpu(name, memory, _MEMORY_BASE)


def _gpu_cores(lib: FakeMtmlLibrary, name: str, device: Any, out: Any) -> None:
    out._obj.value = lib._gpu(name, device, _DEVICE_BASE).model.gpu_cores


_SYMBOLS: dict[str, Callable[..., None]] = {
    'mtmlLibraryInit': _init,
    'mtmlLibraryShutDown': _shutdown,
    'mtmlLibraryCountDevice': _count,
    'mtmlLibraryInitDeviceByIndex': _device_by_index,
    'mtmlLibraryInitSystem': _system,
    'mtmlSystemGetDriverVersion': _driver_version,
    'mtmlDeviceGetUUID': _uuid,
    'mtmlDeviceGetName': _name,
    'mtmlDeviceGetPciInfo': _pci_info,
    'mtmlDeviceInitMemory': _init_memory,
    'mtmlMemoryGetTotal': _memory_total,
    'mtmlDeviceFreeMemory': _free_memory,
    'mtmlDeviceCountGpuCores': _gpu_cores,
}
