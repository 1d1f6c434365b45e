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

"""The NVML seam: the only module of orionx-cyborg that imports pynvml.

It turns NVML (through NVIDIA's ``nvidia-ml-py`` bindings, so their
marshalling and error mapping always run) into the typed models of
:mod:`orionx_cyborg.gpu.models`, and NVML errors into
:mod:`orionx_cyborg.exception` errors.

The library behind pynvml is the system's ``libnvidia-ml.so.1`` unless a
path (``[orionx_gpu] nvml_library``) or a library object (the simulated one
of :mod:`orionx_cyborg.gpu.fake`) is given. pynvml keeps the loaded library
in module globals, so a backend with its own library installs it only for
the duration of a call, under a process-wide lock; several backends (one per
simulated host in the sandbox) can then share one process.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import re
import threading
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any
from typing import TypeVar

import pynvml
from oslo_log import log as logging

from orionx_cyborg import exception
from orionx_cyborg.gpu import models

LOG = logging.getLogger(__name__)

T = TypeVar('T')

#: Xid errors caused by applications rather than the GPU, as the NVIDIA
#: Kubernetes device plugin ignores them (internal/rm/health.go).
APPLICATION_XIDS = frozenset({13, 31, 43, 45, 68, 109})

# NVML errors that mean "this GPU or driver cannot answer that question";
# the fact is then absent, not an error.
_NOT_AVAILABLE = (
    pynvml.NVMLError_NotSupported,
    pynvml.NVMLError_FunctionNotFound,
)

# NVML errors that mean the library as a whole is not usable.
_UNAVAILABLE_HINTS = {
    pynvml.NVML_ERROR_LIBRARY_NOT_FOUND: (
        'Install the NVIDIA driver (libnvidia-ml.so.1) or set '
        '[orionx_gpu] nvml_library to the path of the NVML library.'
    ),
    pynvml.NVML_ERROR_DRIVER_NOT_LOADED: (
        'The NVIDIA kernel driver is not loaded: check "lsmod | grep '
        'nvidia" and the kernel log.'
    ),
    pynvml.NVML_ERROR_NO_PERMISSION: (
        'The agent lacks permission to open /dev/nvidia*: run it as a '
        'user that may.'
    ),
    pynvml.NVML_ERROR_LIB_RM_VERSION_MISMATCH: (
        'The NVML library and the kernel driver differ in version: '
        'reload the driver or reboot after an upgrade.'
    ),
}

_EVENT_TYPES = (
    pynvml.nvmlEventTypeXidCriticalError
    | pynvml.nvmlEventTypeDoubleBitEccError
)

# NVML answers this profile id for vGPU types not backed by MIG.
_INVALID_PROFILE_ID = 0xFFFFFFFF

_MIG_PROFILE = re.compile(r'MIG\s+(?P<profile>\S+)\s*$')

_VIRTUALIZATION_MODES = {
    pynvml.NVML_GPU_VIRTUALIZATION_MODE_NONE: (models.VirtualizationMode.NONE),
    pynvml.NVML_GPU_VIRTUALIZATION_MODE_PASSTHROUGH: (
        models.VirtualizationMode.PASSTHROUGH
    ),
    pynvml.NVML_GPU_VIRTUALIZATION_MODE_VGPU: models.VirtualizationMode.VGPU,
    pynvml.NVML_GPU_VIRTUALIZATION_MODE_HOST_VGPU: (
        models.VirtualizationMode.HOST_VGPU
    ),
    pynvml.NVML_GPU_VIRTUALIZATION_MODE_HOST_VSGA: (
        models.VirtualizationMode.HOST_VSGA
    ),
}

# pynvml's library, its function-pointer cache and its refcount are module
# globals: every use of a library other than the system one swaps them in
# under this lock.
_PYNVML_LOCK = threading.RLock()


def _text(value: bytes | str) -> str:
    if isinstance(value, bytes):
        return value.decode('utf-8', 'replace')
    return value


def _handle_key(handle: Any) -> int | None:
    """A comparable identity for an NVML device handle (its pointer)."""
    return ctypes.cast(handle, ctypes.c_void_p).value


def load_library(path: str) -> ctypes.CDLL:
    """Load an NVML library by path.

    :raises NvmlUnavailable: if the dynamic loader cannot load it.
    """
    try:
        return ctypes.CDLL(path)
    except OSError as err:
        raise exception.NvmlUnavailable(
            error='cannot load %s: %s' % (path, err),
            hint='Check [orionx_gpu] nvml_library.',
            missing=True,
        ) from err


class _Calls:
    """Counts the NVML calls of one discovery pass."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, fn: Callable[..., T], *args: Any) -> T:
        self.count += 1
        return fn(*args)

    def optional(self, fn: Callable[..., T], *args: Any) -> T | None:
        """Call *fn*; ``None`` when the GPU or driver cannot answer."""
        try:
            return self(fn, *args)
        except _NOT_AVAILABLE:
            return None


class NvmlBackend:
    """Discovers the GPUs of this host through NVML.

    NVML stays initialised between passes, so that the event set that
    collects Xid and double-bit ECC events keeps collecting between them;
    a pass that finds NVML unusable shuts it down and the next pass starts
    again from scratch.
    """

    name = 'nvml'
    vendor_id = '10de'

    def __init__(
        self,
        library_path: str | None = None,
        library: object | None = None,
        ignored_xids: frozenset[int] = APPLICATION_XIDS,
    ) -> None:
        """:param library_path: load NVML from this path, not the default.
        :param library: an object implementing NVML's C symbols (the
            simulated library); takes precedence over *library_path*.
        :param ignored_xids: Xid errors that do not make a GPU unhealthy.
        """
        self._library_path = library_path
        self._library = library
        self._ignored_xids = ignored_xids
        self._initialized = False
        self._event_set: Any = None
        # vGPU type attributes are the driver's, not a GPU's: read each
        # once per NVML session, whatever the number of GPUs.
        self._vgpu_type_cache: dict[int, models.VgpuType] = {}

    def discover(self) -> models.HostInventory:
        """Describe every GPU NVML enumerates.

        A GPU that fails while being described is listed as unreachable;
        only a failure of NVML as a whole raises.

        :raises NvmlUnavailable: NVML cannot be loaded or initialised, or
            cannot enumerate GPUs.
        """
        calls = _Calls()
        with self._installed_library():
            resumed = self._initialized
            try:
                return self._discover_once(calls)
            except pynvml.NVMLError as err:
                self._shutdown_quietly()
                if not resumed:
                    raise _unavailable(err) from err
            # A session kept from an earlier pass can outlive the driver
            # (reloaded or upgraded): start once more from scratch, so the
            # error names today's cause.
            try:
                return self._discover_once(calls)
            except pynvml.NVMLError as err:
                self._shutdown_quietly()
                raise _unavailable(err) from err

    def close(self) -> None:
        """Release the event set and NVML."""
        with self._installed_library():
            self._shutdown_quietly()

    @contextlib.contextmanager
    def _installed_library(self) -> Iterator[None]:
        with _PYNVML_LOCK:
            library = self._library
            if library is None and self._library_path:
                library = self._library = load_library(self._library_path)
            if library is None:
                yield
                return
            saved = (pynvml.nvmlLib, pynvml._nvmlLib_refcount)
            pynvml.nvmlLib = library
            pynvml._nvmlGetFunctionPointer_cache.clear()
            try:
                yield
            finally:
                pynvml.nvmlLib, pynvml._nvmlLib_refcount = saved
                pynvml._nvmlGetFunctionPointer_cache.clear()

    def _ensure_initialized(self, calls: _Calls) -> None:
        if self._initialized:
            return
        calls(pynvml.nvmlInit)
        self._initialized = True
        self._event_set = None
        self._vgpu_type_cache.clear()

    def _shutdown_quietly(self) -> None:
        if not self._initialized:
            return
        self._initialized = False
        try:
            if self._event_set is not None:
                pynvml.nvmlEventSetFree(self._event_set)
            pynvml.nvmlShutdown()
        except pynvml.NVMLError as err:
            LOG.debug('Ignoring NVML error during shutdown: %s', err)
        finally:
            self._event_set = None

    def _discover_once(self, calls: _Calls) -> models.HostInventory:
        self._ensure_initialized(calls)
        driver_version = self._driver_version(calls)
        count = calls(pynvml.nvmlDeviceGetCount)
        gpus: list[models.HardwareGpu] = []
        unreachable: list[models.UnreachableGpu] = []
        handles: list[tuple[Any, models.PciAddress]] = []
        for index in range(count):
            try:
                handle = calls(pynvml.nvmlDeviceGetHandleByIndex, index)
                gpu = _describe_gpu(
                    calls, index, handle, self._vgpu_type_cache
                )
            except pynvml.NVMLError as err:
                unreachable.append(_unreachable(calls, index, err))
                continue
            gpus.append(gpu)
            handles.append((handle, gpu.pci_address))
        events = self._collect_health_events(calls, handles)
        return models.HostInventory(
            backend=self.name,
            driver_version=_text(driver_version) if driver_version else None,
            gpus=tuple(gpus),
            unreachable=tuple(unreachable),
            health_events=tuple(events),
            calls=calls.count,
        )

    @staticmethod
    def _driver_version(calls: _Calls) -> Any:
        try:
            return calls.optional(pynvml.nvmlSystemGetDriverVersion)
        except pynvml.NVMLError as err:
            LOG.warning('NVML cannot give the driver version: %s', err)
            return None

    def _collect_health_events(
        self,
        calls: _Calls,
        handles: list[tuple[Any, models.PciAddress]],
    ) -> list[models.HealthEvent]:
        if self._event_set is None:
            self._event_set = self._register_events(calls, handles)
        if self._event_set is None:
            return []
        addresses = {_handle_key(handle): addr for handle, addr in handles}
        events: list[models.HealthEvent] = []
        while True:
            try:
                data = calls(pynvml.nvmlEventSetWait_v2, self._event_set, 0)
            except pynvml.NVMLError_Timeout:
                return events
            except pynvml.NVMLError as err:
                LOG.warning('Reading NVML health events failed: %s', err)
                return events
            event = self._health_event(data, addresses)
            if event is not None:
                events.append(event)

    def _register_events(
        self,
        calls: _Calls,
        handles: list[tuple[Any, models.PciAddress]],
    ) -> Any:
        try:
            event_set = calls.optional(pynvml.nvmlEventSetCreate)
        except pynvml.NVMLError as err:
            LOG.warning('NVML cannot watch for Xid and ECC events: %s', err)
            return None
        if event_set is None:
            return None
        for handle, address in handles:
            try:
                supported = calls(
                    pynvml.nvmlDeviceGetSupportedEventTypes, handle
                )
                wanted = supported & _EVENT_TYPES
                if wanted:
                    calls(
                        pynvml.nvmlDeviceRegisterEvents,
                        handle,
                        wanted,
                        event_set,
                    )
            except pynvml.NVMLError as err:
                LOG.debug('No health events for GPU %s: %s', address, err)
        return event_set

    def _health_event(
        self,
        data: Any,
        addresses: dict[int | None, models.PciAddress],
    ) -> models.HealthEvent | None:
        address = addresses.get(_handle_key(data.device))
        if address is None:
            return None
        if data.eventType & pynvml.nvmlEventTypeDoubleBitEccError:
            return models.HealthEvent(address, 'double-bit ECC error')
        xid = int(data.eventData)
        if xid in self._ignored_xids:
            LOG.info('GPU %s: ignoring application Xid %d', address, xid)
            return None
        return models.HealthEvent(address, 'xid %d' % xid)


def _unavailable(err: pynvml.NVMLError) -> exception.NvmlUnavailable:
    hint = _UNAVAILABLE_HINTS.get(
        err.value, 'See the NVIDIA driver and kernel logs.'
    )
    return exception.NvmlUnavailable(
        error='%s (NVML error %d)' % (err, err.value),
        hint=hint,
        missing=err.value == pynvml.NVML_ERROR_LIBRARY_NOT_FOUND,
    )


def _unreachable(
    calls: _Calls, index: int, err: pynvml.NVMLError
) -> models.UnreachableGpu:
    LOG.warning('GPU %d cannot be described by NVML: %s', index, err)
    return models.UnreachableGpu(index=index, error=str(err))


class _Description:
    """Collects the optional facts of one GPU and what failed among them.

    Only the calls that identify a GPU (handle, PCI info, UUID, name,
    memory) may make it unreachable; every other query degrades the
    description: the fact is absent and a warning says why.
    """

    def __init__(self, calls: _Calls, address: models.PciAddress) -> None:
        self.calls = calls
        self.address = address
        self.warnings: list[str] = []

    def probe(self, fact: str, fn: Callable[..., T], *args: Any) -> T | None:
        """A capability query: "not supported" is an answer, not a fault."""
        try:
            return self.calls.optional(fn, *args)
        except pynvml.NVMLError_GpuIsLost:
            raise
        except pynvml.NVMLError as err:
            self.degrade(fact, err)
            return None

    def fact(self, fact: str, fn: Callable[..., T], *args: Any) -> T | None:
        """A query the GPU's capabilities say must work."""
        try:
            return self.calls(fn, *args)
        except pynvml.NVMLError_GpuIsLost:
            raise
        except pynvml.NVMLError as err:
            self.degrade(fact, err)
            return None

    def degrade(self, fact: str, err: pynvml.NVMLError) -> None:
        LOG.warning(
            'GPU %s: NVML cannot give its %s (%s); describing it without',
            self.address,
            fact,
            err,
        )
        self.warnings.append('%s: %s' % (fact, err))


def _describe_gpu(
    calls: _Calls,
    index: int,
    handle: Any,
    type_cache: dict[int, models.VgpuType],
) -> models.HardwareGpu:
    pci = calls(pynvml.nvmlDeviceGetPciInfo, handle)
    address = models.PciAddress.parse(_text(pci.busId))
    memory = calls(pynvml.nvmlDeviceGetMemoryInfo, handle)
    uuid = _text(calls(pynvml.nvmlDeviceGetUUID, handle))
    name = _text(calls(pynvml.nvmlDeviceGetName, handle))
    described = _Description(calls, address)
    mig_enabled, mig_devices = _mig(described, handle)
    virtualization = _virtualization_mode(described, handle)
    host_vgpu_mode = _host_vgpu_mode(described, handle, virtualization)
    vgpu_types = _vgpu_types(described, handle, host_vgpu_mode, type_cache)
    return models.HardwareGpu(
        vendor_id='10de',
        index=index,
        uuid=uuid,
        name=name,
        pci_address=address,
        pci_device_id='%04x' % ((pci.pciDeviceId >> 16) & 0xFFFF),
        memory_mib=int(memory.total) // (1024 * 1024),
        compute_capability=_compute_capability(described, handle),
        mig_enabled=mig_enabled,
        mig_devices=mig_devices,
        virtualization_mode=virtualization,
        host_vgpu_mode=host_vgpu_mode,
        vgpu_types=vgpu_types,
        numa_node=described.probe(
            'NUMA node', pynvml.nvmlDeviceGetNumaNodeId, handle
        ),
        health=_health(described, handle),
        warnings=tuple(described.warnings),
    )


def _compute_capability(
    described: _Description, handle: Any
) -> models.ComputeCapability | None:
    value = described.probe(
        'compute capability',
        pynvml.nvmlDeviceGetCudaComputeCapability,
        handle,
    )
    if value is None:
        return None
    return models.ComputeCapability(*value)


def _mig(
    described: _Description, handle: Any
) -> tuple[bool, tuple[models.MigDevice, ...]]:
    modes = described.probe('MIG mode', pynvml.nvmlDeviceGetMigMode, handle)
    if not modes or modes[0] != pynvml.NVML_DEVICE_MIG_ENABLE:
        return False, ()
    slots = described.fact(
        'MIG devices', pynvml.nvmlDeviceGetMaxMigDeviceCount, handle
    )
    devices = []
    for slot in range(slots or 0):
        try:
            mig = described.calls(
                pynvml.nvmlDeviceGetMigDeviceHandleByIndex, handle, slot
            )
        except pynvml.NVMLError_NotFound:
            continue
        except pynvml.NVMLError_GpuIsLost:
            raise
        except pynvml.NVMLError as err:
            described.degrade('MIG device %d' % slot, err)
            continue
        device = _describe_mig_device(described, slot, mig)
        if device is not None:
            devices.append(device)
    return True, tuple(devices)


def _describe_mig_device(
    described: _Description, slot: int, mig: Any
) -> models.MigDevice | None:
    fact = 'MIG device %d' % slot
    name = described.fact(fact, pynvml.nvmlDeviceGetName, mig)
    uuid = described.fact(fact, pynvml.nvmlDeviceGetUUID, mig)
    if name is None or uuid is None:
        return None
    name = _text(name)
    match = _MIG_PROFILE.search(name)
    attributes = described.fact(
        '%s attributes' % fact, pynvml.nvmlDeviceGetAttributes, mig
    )
    return models.MigDevice(
        uuid=_text(uuid),
        profile=match['profile'] if match else name,
        gpu_instance_id=described.fact(
            '%s GPU instance' % fact, pynvml.nvmlDeviceGetGpuInstanceId, mig
        ),
        compute_instance_id=described.fact(
            '%s compute instance' % fact,
            pynvml.nvmlDeviceGetComputeInstanceId,
            mig,
        ),
        memory_mib=(
            None if attributes is None else int(attributes.memorySizeMB)
        ),
    )


def _virtualization_mode(
    described: _Description, handle: Any
) -> models.VirtualizationMode:
    mode = described.probe(
        'virtualization mode', pynvml.nvmlDeviceGetVirtualizationMode, handle
    )
    return _VIRTUALIZATION_MODES.get(mode, models.VirtualizationMode.NONE)


def _host_vgpu_mode(
    described: _Description,
    handle: Any,
    virtualization: models.VirtualizationMode,
) -> models.HostVgpuMode:
    if virtualization is not models.VirtualizationMode.HOST_VGPU:
        return models.HostVgpuMode.NONE
    mode = described.probe(
        'host vGPU mode', pynvml.nvmlDeviceGetHostVgpuMode, handle
    )
    if mode == pynvml.NVML_HOST_VGPU_MODE_SRIOV:
        return models.HostVgpuMode.SRIOV
    # Drivers that predate SR-IOV vGPU do not know the call: mdev.
    return models.HostVgpuMode.MDEV


def _vgpu_types(
    described: _Description,
    handle: Any,
    host_vgpu_mode: models.HostVgpuMode,
    type_cache: dict[int, models.VgpuType],
) -> tuple[models.VgpuType, ...]:
    if host_vgpu_mode is models.HostVgpuMode.NONE:
        return ()
    supported = described.fact(
        'vGPU types', pynvml.nvmlDeviceGetSupportedVgpus, handle
    )
    creatable = described.fact(
        'creatable vGPU types', pynvml.nvmlDeviceGetCreatableVgpus, handle
    )
    creatable_ids = {int(type_id) for type_id in creatable or ()}
    types = []
    for raw_id in supported or ():
        type_id = int(raw_id)
        cached = type_cache.get(type_id)
        if cached is None:
            cached = _describe_vgpu_type(described, type_id)
            if cached is None:
                continue
            type_cache[type_id] = cached
        max_instances = described.fact(
            'vGPU type %d instances' % type_id,
            pynvml.nvmlVgpuTypeGetMaxInstances,
            handle,
            type_id,
        )
        if max_instances is None:
            continue
        types.append(
            dataclasses.replace(
                cached,
                max_instances=max_instances,
                creatable=type_id in creatable_ids,
            )
        )
    return tuple(types)


def _describe_vgpu_type(
    described: _Description, type_id: int
) -> models.VgpuType | None:
    """The attributes of a vGPU type that do not depend on the GPU.

    ``None`` when its name or framebuffer cannot be read: a type the
    report cannot name or size is left out.
    """
    fact = 'vGPU type %d' % type_id
    name = described.fact(fact, pynvml.nvmlVgpuTypeGetName, type_id)
    framebuffer = described.fact(
        fact, pynvml.nvmlVgpuTypeGetFramebufferSize, type_id
    )
    if name is None or framebuffer is None:
        return None
    profile = described.probe(
        '%s MIG profile' % fact,
        pynvml.nvmlVgpuTypeGetGpuInstanceProfileId,
        type_id,
    )
    type_class = described.probe(
        '%s class' % fact, pynvml.nvmlVgpuTypeGetClass, type_id
    )
    return models.VgpuType(
        type_id=type_id,
        name=_text(name),
        type_class=_text(type_class) if type_class else '',
        framebuffer_mib=int(framebuffer) // (1024 * 1024),
        max_instances=0,
        creatable=False,
        gpu_instance_profile_id=(
            None
            if profile is None or profile == _INVALID_PROFILE_ID
            else profile
        ),
    )


def _health(described: _Description, handle: Any) -> models.Health:
    reasons = []
    uncorrected = described.probe(
        'ECC error count',
        pynvml.nvmlDeviceGetTotalEccErrors,
        handle,
        pynvml.NVML_MEMORY_ERROR_TYPE_UNCORRECTED,
        pynvml.NVML_VOLATILE_ECC,
    )
    if uncorrected:
        reasons.append('%d uncorrectable ECC errors' % uncorrected)
    remapped = described.probe(
        'row remapping', pynvml.nvmlDeviceGetRemappedRows, handle
    )
    if remapped and remapped[3]:
        reasons.append('row remapping failed')
    if reasons:
        return models.Health.unhealthy(*reasons)
    return models.Health()
