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

"""A simulated ``libnvidia-ml.so.1``: NVML's C symbols in Python.

:class:`FakeNvmlLibrary` stands where pynvml expects the loaded NVML
library (``pynvml.nvmlLib``): pynvml looks each C symbol up on it and calls
it with the same ctypes arguments it passes to the real library, so
pynvml's own wrappers, struct marshalling, two-call size protocol and
return-code-to-exception mapping all run. Only the symbols the driver uses
are implemented; any other raises ``AttributeError``, which pynvml turns
into ``NVMLError_FunctionNotFound`` exactly as an older real driver does.

The library is driven by a :class:`~orionx_cyborg.gpu.fake.topology.SimulatedHost`
and returns real NVML return codes: ``UNINITIALIZED`` before init,
``INVALID_ARGUMENT`` for a bad handle or index, ``NOT_SUPPORTED`` for what
a model or host cannot do, ``GPU_IS_LOST`` for a lost GPU, and whatever
the topology or :meth:`FakeNvmlLibrary.fail` injects. Like the real
library it knows nothing of pynvml: the return codes below are nvml.h's.
"""

from __future__ import annotations

import ctypes
import uuid
from collections.abc import Callable
from typing import Any

from orionx_cyborg.gpu.fake import cabi
from orionx_cyborg.gpu.fake import catalogue
from orionx_cyborg.gpu.fake import topology

# Return codes of nvml.h (nvmlReturn_t) other than success.
ERROR_CODES = {
    'UNINITIALIZED': 1,
    'INVALID_ARGUMENT': 2,
    'NOT_SUPPORTED': 3,
    'NO_PERMISSION': 4,
    'ALREADY_INITIALIZED': 5,
    'NOT_FOUND': 6,
    'INSUFFICIENT_SIZE': 7,
    'INSUFFICIENT_POWER': 8,
    'DRIVER_NOT_LOADED': 9,
    'TIMEOUT': 10,
    'IRQ_ISSUE': 11,
    'LIBRARY_NOT_FOUND': 12,
    'FUNCTION_NOT_FOUND': 13,
    'CORRUPTED_INFOROM': 14,
    'GPU_IS_LOST': 15,
    'RESET_REQUIRED': 16,
    'OPERATING_SYSTEM': 17,
    'LIB_RM_VERSION_MISMATCH': 18,
    'IN_USE': 19,
    'MEMORY': 20,
    'NO_DATA': 21,
    'INSUFFICIENT_RESOURCES': 23,
    'UNKNOWN': 999,
}
_E = ERROR_CODES

# Enumerations of nvml.h used by the simulated answers.
_VIRTUALIZATION_NONE = 0
_VIRTUALIZATION_HOST_VGPU = 3
_HOST_VGPU_NON_SRIOV = 0
_HOST_VGPU_SRIOV = 1
_MIG_ENABLED = 1
_EVENT_XID_CRITICAL = 0x8
_EVENT_DOUBLE_BIT_ECC = 0x2
_INVALID_PROFILE_ID = 0xFFFFFFFF
_MEMORY_ERROR_UNCORRECTED = 1

_NVML_STATE_ERRORS = {
    'library-missing': _E['LIBRARY_NOT_FOUND'],
    'driver-not-loaded': _E['DRIVER_NOT_LOADED'],
}

_GPU_HANDLE_BASE = 0x10000
_MIG_HANDLE_STRIDE = 0x10
_EVENT_SET_BASE = 0x7E000000


class FakeNvmlError(cabi.ReturnCode):
    """Carries an NVML return code out of a simulated call."""


def _value(arg: Any) -> int:
    """The integer value of a ctypes scalar or a Python int."""
    return int(getattr(arg, 'value', arg))


def _handle_value(handle: Any) -> int | None:
    return ctypes.cast(handle, ctypes.c_void_p).value


def _write_string(buffer: Any, size: int, text: str) -> None:
    data = text.encode('utf-8')
    if len(data) + 1 > size:
        raise FakeNvmlError(_E['INSUFFICIENT_SIZE'])
    buffer.value = data


class FakeNvmlLibrary(cabi.SimulatedLibrary):
    """The NVML C library of one simulated host."""

    def __init__(self, host: topology.SimulatedHost) -> None:
        super().__init__(_SYMBOLS)
        self._host = host
        self._visible: list[topology.SimulatedGpu] = []
        self._types: dict[int, catalogue.VgpuTypeSpec] = {}
        self._index_host(host)
        self._refcount = 0
        self._injections = cabi.Injections()
        self._event_sets: dict[int, set[str]] = {}
        self._delivered: set[tuple[str, int]] = set()
        self._next_event_set = 0

    # Simulation control (not part of NVML) ------------------------------

    @property
    def host(self) -> topology.SimulatedHost:
        return self._host

    def load(self, host: topology.SimulatedHost) -> None:
        """Switch to a new state of the host, as hardware changes would."""
        with self._lock:
            self._host = host
            self._index_host(host)
            if host.nvml != 'ok':
                # The driver went away: every session ends with it.
                self._refcount = 0
                self._event_sets.clear()

    def _index_host(self, host: topology.SimulatedHost) -> None:
        # NVML enumerates the GPUs bound to the nvidia driver in PCI order.
        self._visible = sorted(
            (gpu for gpu in host.gpus if gpu.visible_to_nvml),
            key=lambda gpu: gpu.pci_address,
        )
        self._types = {
            spec.type_id: spec
            for gpu in host.gpus
            for spec in gpu.model.vgpu_types
        }

    def fail(
        self,
        symbol: str,
        error: str,
        pci_address: str | None = None,
        times: int | None = None,
    ) -> None:
        """Make *symbol* return NVML error *error* (e.g. ``GPU_IS_LOST``).

        :param pci_address: only for calls about this GPU.
        :param times: only the next *times* calls; forever when None.
        """
        with self._lock:
            self._injections.add(symbol, _E[error], pci_address, times)

    # Helpers ------------------------------------------------------------

    def _check_initialized(self, symbol: str) -> None:
        if self._refcount <= 0:
            raise FakeNvmlError(_E['UNINITIALIZED'])
        self._check_injected(symbol, None)
        if self._host.nvml == 'failing' and symbol != 'nvmlShutdown':
            raise FakeNvmlError(_E['UNKNOWN'])

    def _check_injected(self, symbol: str, address: str | None) -> None:
        errors = self._host.errors
        if symbol in errors:
            raise FakeNvmlError(_E[errors[symbol]])
        self._injections.check(symbol, address, FakeNvmlError)

    def _visible_gpus(self) -> list[topology.SimulatedGpu]:
        return self._visible

    def _gpu(
        self, symbol: str, handle: Any, allow_lost: bool = False
    ) -> topology.SimulatedGpu:
        self._check_initialized(symbol)
        value = _handle_value(handle) or 0
        index, remainder = divmod(value - _GPU_HANDLE_BASE, _GPU_HANDLE_BASE)
        gpus = self._visible_gpus()
        if remainder or not 0 <= index < len(gpus):
            raise FakeNvmlError(_E['INVALID_ARGUMENT'])
        gpu = gpus[index]
        self._check_gpu(symbol, gpu, allow_lost)
        return gpu

    def _is_gpu_handle(self, handle: Any) -> bool:
        """Whether *handle* names a whole GPU (not a MIG device)."""
        value = _handle_value(handle) or 0
        return (value - _GPU_HANDLE_BASE) % _GPU_HANDLE_BASE == 0

    def _check_gpu(
        self, symbol: str, gpu: topology.SimulatedGpu, allow_lost: bool
    ) -> None:
        if gpu.lost and not allow_lost:
            raise FakeNvmlError(_E['GPU_IS_LOST'])
        if symbol in gpu.errors:
            raise FakeNvmlError(_E[gpu.errors[symbol]])
        self._check_injected(symbol, gpu.pci_address)

    def _mig(
        self, symbol: str, handle: Any
    ) -> tuple[topology.SimulatedGpu, catalogue.MigProfile, int]:
        self._check_initialized(symbol)
        value = _handle_value(handle) or 0
        index, offset = divmod(value - _GPU_HANDLE_BASE, _GPU_HANDLE_BASE)
        slot, remainder = divmod(offset, _MIG_HANDLE_STRIDE)
        gpus = self._visible_gpus()
        if remainder or not 0 <= index < len(gpus) or slot < 1:
            raise FakeNvmlError(_E['INVALID_ARGUMENT'])
        gpu = gpus[index]
        if slot > len(gpu.mig_devices):
            raise FakeNvmlError(_E['INVALID_ARGUMENT'])
        self._check_gpu(symbol, gpu, allow_lost=False)
        profile = gpu.model.mig_profile(gpu.mig_devices[slot - 1])
        return gpu, profile, slot

    def _vgpu_spec(self, symbol: str, type_id: Any) -> catalogue.VgpuTypeSpec:
        self._check_initialized(symbol)
        spec = self._types.get(_value(type_id))
        if spec is None:
            raise FakeNvmlError(_E['INVALID_ARGUMENT'])
        return spec

    def _vgpu_capable(self, gpu: topology.SimulatedGpu) -> None:
        if not self._host.vgpu_manager or (
            gpu.model.vgpu_framework is catalogue.VgpuFramework.NONE
        ):
            raise FakeNvmlError(_E['NOT_SUPPORTED'])

    def _supported_types(
        self, gpu: topology.SimulatedGpu
    ) -> list[catalogue.VgpuTypeSpec]:
        # In MIG mode a GPU offers only MIG-backed types, otherwise only
        # time-sliced ones.
        return [
            spec
            for spec in gpu.model.vgpu_types
            if (spec.mig_profile_id is not None) == gpu.mig_mode
        ]

    def _creatable_types(
        self, gpu: topology.SimulatedGpu
    ) -> list[catalogue.VgpuTypeSpec]:
        supported = self._supported_types(gpu)
        in_use = set(gpu.vf_vgpu_types) | {
            name for name, count in gpu.mdev_instances.items() if count
        }
        if not in_use:
            return supported
        # Homogeneous mode: once a type is in use only it can be added.
        return [
            spec
            for spec in supported
            if spec.name in in_use
            and self._used_instances(gpu, spec) < spec.max_instances
        ]

    @staticmethod
    def _used_instances(
        gpu: topology.SimulatedGpu, spec: catalogue.VgpuTypeSpec
    ) -> int:
        return gpu.vf_vgpu_types.count(spec.name) + gpu.mdev_instances.get(
            spec.name, 0
        )

    @staticmethod
    def _write_type_ids(
        count_out: Any, array: Any, specs: list[catalogue.VgpuTypeSpec]
    ) -> None:
        available = count_out._obj.value
        count_out._obj.value = len(specs)
        if array is None or available < len(specs):
            if specs:
                raise FakeNvmlError(_E['INSUFFICIENT_SIZE'])
            return
        for position, spec in enumerate(specs):
            array[position] = spec.type_id


# The C symbols. Each takes the library, its own name, then the C
# arguments; it raises FakeNvmlError for a non-zero return code.


def _init_with_flags(lib: FakeNvmlLibrary, name: str, flags: Any) -> None:
    state = lib._host.nvml
    if state in _NVML_STATE_ERRORS:
        raise FakeNvmlError(_NVML_STATE_ERRORS[state])
    lib._check_injected(name, None)
    lib._refcount += 1


def _shutdown(lib: FakeNvmlLibrary, name: str) -> None:
    lib._check_initialized(name)
    lib._refcount -= 1
    if lib._refcount == 0:
        lib._event_sets.clear()


def _driver_version(
    lib: FakeNvmlLibrary, name: str, buffer: Any, size: Any
) -> None:
    lib._check_initialized(name)
    _write_string(buffer, _value(size), lib._host.driver_version)


def _device_count(lib: FakeNvmlLibrary, name: str, out: Any) -> None:
    lib._check_initialized(name)
    out._obj.value = len(lib._visible_gpus())


def _handle_by_index(
    lib: FakeNvmlLibrary, name: str, index: Any, out: Any
) -> None:
    lib._check_initialized(name)
    position = _value(index)
    gpus = lib._visible_gpus()
    if not 0 <= position < len(gpus):
        raise FakeNvmlError(_E['INVALID_ARGUMENT'])
    lib._check_gpu(name, gpus[position], allow_lost=True)
    cabi.write_handle(out, _GPU_HANDLE_BASE * (position + 1))


def _name(
    lib: FakeNvmlLibrary, name: str, handle: Any, buffer: Any, size: Any
) -> None:
    value = _handle_value(handle) or 0
    if (value - _GPU_HANDLE_BASE) % _GPU_HANDLE_BASE:
        gpu, profile, _ = lib._mig(name, handle)
        text = '%s MIG %s' % (gpu.model.name, profile.name)
    else:
        text = lib._gpu(name, handle).model.name
    _write_string(buffer, _value(size), text)


def _uuid(
    lib: FakeNvmlLibrary, name: str, handle: Any, buffer: Any, size: Any
) -> None:
    value = _handle_value(handle) or 0
    if (value - _GPU_HANDLE_BASE) % _GPU_HANDLE_BASE:
        gpu, _, slot = lib._mig(name, handle)
        seed = '%s/mig/%d' % (gpu.uuid, slot)
        text = 'MIG-%s' % uuid.uuid5(uuid.NAMESPACE_URL, seed)
    else:
        text = lib._gpu(name, handle).uuid
    _write_string(buffer, _value(size), text)


def _pci_info(lib: FakeNvmlLibrary, name: str, handle: Any, out: Any) -> None:
    gpu = lib._gpu(name, handle)
    domain, bus, rest = gpu.pci_address.split(':')
    device, _ = rest.split('.')
    info = out._obj
    bus_id = ('%08x:%s:%s' % (int(domain, 16), bus, rest)).upper()
    info.busId = bus_id.encode()
    info.busIdLegacy = bus_id.encode()
    info.domain = int(domain, 16)
    info.bus = int(bus, 16)
    info.device = int(device, 16)
    info.pciDeviceId = (gpu.model.pci_device_id << 16) | 0x10DE
    info.pciSubSystemId = (gpu.model.pci_subsystem_id << 16) | 0x10DE


def _memory_info(
    lib: FakeNvmlLibrary, name: str, handle: Any, out: Any
) -> None:
    gpu = lib._gpu(name, handle)
    total = gpu.model.memory_mib * 1024 * 1024
    out._obj.total = total
    out._obj.used = 0
    out._obj.free = total


def _compute_capability(
    lib: FakeNvmlLibrary, name: str, handle: Any, major: Any, minor: Any
) -> None:
    gpu = lib._gpu(name, handle)
    major._obj.value, minor._obj.value = gpu.model.compute_capability


def _mig_mode(
    lib: FakeNvmlLibrary, name: str, handle: Any, current: Any, pending: Any
) -> None:
    gpu = lib._gpu(name, handle)
    if not gpu.model.mig_capable:
        raise FakeNvmlError(_E['NOT_SUPPORTED'])
    mode = _MIG_ENABLED if gpu.mig_mode else 0
    current._obj.value = mode
    pending._obj.value = mode


def _max_mig_devices(
    lib: FakeNvmlLibrary, name: str, handle: Any, out: Any
) -> None:
    gpu = lib._gpu(name, handle)
    if not gpu.model.mig_capable:
        raise FakeNvmlError(_E['NOT_SUPPORTED'])
    # As a real H200 answers: no MIG device can exist while MIG is off.
    out._obj.value = 7 if gpu.mig_mode else 0


def _mig_handle_by_index(
    lib: FakeNvmlLibrary, name: str, handle: Any, index: Any, out: Any
) -> None:
    gpu = lib._gpu(name, handle)
    if not gpu.mig_mode:
        raise FakeNvmlError(_E['INVALID_ARGUMENT'])
    slot = _value(index)
    if slot >= 7:
        raise FakeNvmlError(_E['INVALID_ARGUMENT'])
    if slot >= len(gpu.mig_devices):
        raise FakeNvmlError(_E['NOT_FOUND'])
    base = _handle_value(handle) or 0
    cabi.write_handle(out, base + _MIG_HANDLE_STRIDE * (slot + 1))


def _attributes(
    lib: FakeNvmlLibrary, name: str, handle: Any, out: Any
) -> None:
    if lib._is_gpu_handle(handle):
        # A whole GPU has no MIG attributes: a real H200 answers so.
        lib._gpu(name, handle)
        raise FakeNvmlError(_E['NOT_SUPPORTED'])
    _, profile, _ = lib._mig(name, handle)
    out._obj.memorySizeMB = profile.memory_mib
    out._obj.gpuInstanceSliceCount = profile.slices
    out._obj.computeInstanceSliceCount = profile.slices
    out._obj.multiprocessorCount = (
        profile.multiprocessors or 16 * profile.slices
    )


def _gpu_instance_id(
    lib: FakeNvmlLibrary, name: str, handle: Any, out: Any
) -> None:
    _, _, slot = lib._mig(name, handle)
    out._obj.value = slot


def _compute_instance_id(
    lib: FakeNvmlLibrary, name: str, handle: Any, out: Any
) -> None:
    lib._mig(name, handle)
    out._obj.value = 0


def _virtualization_mode(
    lib: FakeNvmlLibrary, name: str, handle: Any, out: Any
) -> None:
    gpu = lib._gpu(name, handle)
    vgpu_host = lib._host.vgpu_manager and (
        gpu.model.vgpu_framework is not catalogue.VgpuFramework.NONE
    )
    out._obj.value = (
        _VIRTUALIZATION_HOST_VGPU if vgpu_host else _VIRTUALIZATION_NONE
    )


def _host_vgpu_mode(
    lib: FakeNvmlLibrary, name: str, handle: Any, out: Any
) -> None:
    gpu = lib._gpu(name, handle)
    lib._vgpu_capable(gpu)
    framework = gpu.model.vgpu_framework
    # Ampere's mdev-on-VF and Hopper's vendor VFIO are both SR-IOV.
    out._obj.value = (
        _HOST_VGPU_NON_SRIOV
        if framework is catalogue.VgpuFramework.MDEV_PF
        else _HOST_VGPU_SRIOV
    )


def _supported_vgpus(
    lib: FakeNvmlLibrary, name: str, handle: Any, count: Any, array: Any
) -> None:
    gpu = lib._gpu(name, handle)
    lib._vgpu_capable(gpu)
    lib._write_type_ids(count, array, lib._supported_types(gpu))


def _creatable_vgpus(
    lib: FakeNvmlLibrary, name: str, handle: Any, count: Any, array: Any
) -> None:
    gpu = lib._gpu(name, handle)
    lib._vgpu_capable(gpu)
    lib._write_type_ids(count, array, lib._creatable_types(gpu))


def _vgpu_type_name(
    lib: FakeNvmlLibrary, name: str, type_id: Any, buffer: Any, size: Any
) -> None:
    spec = lib._vgpu_spec(name, type_id)
    _write_string(buffer, size._obj.value, spec.name)


def _vgpu_type_class(
    lib: FakeNvmlLibrary, name: str, type_id: Any, buffer: Any, size: Any
) -> None:
    spec = lib._vgpu_spec(name, type_id)
    _write_string(buffer, size._obj.value, spec.type_class)


def _vgpu_framebuffer(
    lib: FakeNvmlLibrary, name: str, type_id: Any, out: Any
) -> None:
    spec = lib._vgpu_spec(name, type_id)
    out._obj.value = spec.framebuffer_mib * 1024 * 1024


def _vgpu_max_instances(
    lib: FakeNvmlLibrary, name: str, handle: Any, type_id: Any, out: Any
) -> None:
    gpu = lib._gpu(name, handle)
    spec = lib._vgpu_spec(name, type_id)
    if spec not in gpu.model.vgpu_types:
        raise FakeNvmlError(_E['INVALID_ARGUMENT'])
    out._obj.value = spec.max_instances


def _vgpu_gpu_instance_profile(
    lib: FakeNvmlLibrary, name: str, type_id: Any, out: Any
) -> None:
    spec = lib._vgpu_spec(name, type_id)
    profile = spec.mig_profile_id
    out._obj.value = _INVALID_PROFILE_ID if profile is None else profile


def _total_ecc_errors(
    lib: FakeNvmlLibrary,
    name: str,
    handle: Any,
    error_type: Any,
    counter_type: Any,
    out: Any,
) -> None:
    gpu = lib._gpu(name, handle)
    if not gpu.model.ecc:
        raise FakeNvmlError(_E['NOT_SUPPORTED'])
    uncorrected = _value(error_type) == _MEMORY_ERROR_UNCORRECTED
    out._obj.value = gpu.ecc_uncorrected if uncorrected else 0


def _remapped_rows(
    lib: FakeNvmlLibrary,
    name: str,
    handle: Any,
    corrected: Any,
    uncorrected: Any,
    pending: Any,
    failure: Any,
) -> None:
    gpu = lib._gpu(name, handle)
    if not gpu.model.row_remapping:
        raise FakeNvmlError(_E['NOT_SUPPORTED'])
    corrected._obj.value = 0
    uncorrected._obj.value = 0
    pending._obj.value = 0
    failure._obj.value = 1 if gpu.remap_failure else 0


def _numa_node(lib: FakeNvmlLibrary, name: str, handle: Any, out: Any) -> None:
    gpu = lib._gpu(name, handle)
    bus = int(gpu.pci_address.split(':')[1], 16)
    out._obj.value = 0 if bus < 0x80 else 1


def _event_set_create(lib: FakeNvmlLibrary, name: str, out: Any) -> None:
    lib._check_initialized(name)
    lib._next_event_set += 1
    value = _EVENT_SET_BASE + lib._next_event_set
    lib._event_sets[value] = set()
    cabi.write_handle(out, value)


def _event_set(lib: FakeNvmlLibrary, event_set: Any) -> set[str]:
    registered = lib._event_sets.get(_handle_value(event_set) or 0)
    if registered is None:
        raise FakeNvmlError(_E['INVALID_ARGUMENT'])
    return registered


def _supported_event_types(
    lib: FakeNvmlLibrary, name: str, handle: Any, out: Any
) -> None:
    gpu = lib._gpu(name, handle)
    supported = _EVENT_XID_CRITICAL
    if gpu.model.ecc:
        supported |= _EVENT_DOUBLE_BIT_ECC
    out._obj.value = supported


def _register_events(
    lib: FakeNvmlLibrary, name: str, handle: Any, types: Any, event_set: Any
) -> None:
    gpu = lib._gpu(name, handle)
    _event_set(lib, event_set).add(gpu.pci_address)


def _event_set_wait(
    lib: FakeNvmlLibrary, name: str, event_set: Any, out: Any, timeout: Any
) -> None:
    lib._check_initialized(name)
    registered = _event_set(lib, event_set)
    gpus = lib._visible_gpus()
    for position, gpu in enumerate(gpus):
        if gpu.pci_address not in registered:
            continue
        for number, xid in enumerate(gpu.xid_events):
            key = (gpu.uuid, number)
            if key in lib._delivered:
                continue
            lib._delivered.add(key)
            data = out._obj
            data.device = ctypes.cast(
                ctypes.c_void_p(_GPU_HANDLE_BASE * (position + 1)),
                type(data.device),
            )
            data.eventType = _EVENT_XID_CRITICAL
            data.eventData = xid
            data.gpuInstanceId = _INVALID_PROFILE_ID
            data.computeInstanceId = _INVALID_PROFILE_ID
            return
    raise FakeNvmlError(_E['TIMEOUT'])


def _event_set_free(lib: FakeNvmlLibrary, name: str, event_set: Any) -> None:
    lib._check_initialized(name)
    _event_set(lib, event_set)
    del lib._event_sets[_handle_value(event_set) or 0]


_SYMBOLS: dict[str, Callable[..., None]] = {
    'nvmlInitWithFlags': _init_with_flags,
    'nvmlShutdown': _shutdown,
    'nvmlSystemGetDriverVersion': _driver_version,
    'nvmlDeviceGetCount_v2': _device_count,
    'nvmlDeviceGetHandleByIndex_v2': _handle_by_index,
    'nvmlDeviceGetName': _name,
    'nvmlDeviceGetUUID': _uuid,
    'nvmlDeviceGetPciInfo_v3': _pci_info,
    'nvmlDeviceGetMemoryInfo': _memory_info,
    'nvmlDeviceGetCudaComputeCapability': _compute_capability,
    'nvmlDeviceGetMigMode': _mig_mode,
    'nvmlDeviceGetMaxMigDeviceCount': _max_mig_devices,
    'nvmlDeviceGetMigDeviceHandleByIndex': _mig_handle_by_index,
    'nvmlDeviceGetAttributes_v2': _attributes,
    'nvmlDeviceGetGpuInstanceId': _gpu_instance_id,
    'nvmlDeviceGetComputeInstanceId': _compute_instance_id,
    'nvmlDeviceGetVirtualizationMode': _virtualization_mode,
    'nvmlDeviceGetHostVgpuMode': _host_vgpu_mode,
    'nvmlDeviceGetSupportedVgpus': _supported_vgpus,
    'nvmlDeviceGetCreatableVgpus': _creatable_vgpus,
    'nvmlVgpuTypeGetName': _vgpu_type_name,
    'nvmlVgpuTypeGetClass': _vgpu_type_class,
    'nvmlVgpuTypeGetFramebufferSize': _vgpu_framebuffer,
    'nvmlVgpuTypeGetMaxInstances': _vgpu_max_instances,
    'nvmlVgpuTypeGetGpuInstanceProfileId': _vgpu_gpu_instance_profile,
    'nvmlDeviceGetTotalEccErrors': _total_ecc_errors,
    'nvmlDeviceGetRemappedRows': _remapped_rows,
    'nvmlDeviceGetNumaNodeId': _numa_node,
    'nvmlEventSetCreate': _event_set_create,
    'nvmlDeviceGetSupportedEventTypes': _supported_event_types,
    'nvmlDeviceRegisterEvents': _register_events,
    'nvmlEventSetWait_v2': _event_set_wait,
    'nvmlEventSetFree': _event_set_free,
}

_MESSAGES = {
    code: name.replace('_', ' ').capitalize()
    for name, code in ERROR_CODES.items()
}


def _nvml_error_string(code: Any) -> bytes:
    return _MESSAGES.get(_value(code), 'Unknown Error').encode()


# nvmlErrorString returns a char* instead of a return code; it works
# before init, as the real one does.
FakeNvmlLibrary.nvmlErrorString = staticmethod(  # type: ignore[attr-defined]
    _nvml_error_string
)
