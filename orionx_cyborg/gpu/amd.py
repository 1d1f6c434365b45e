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

"""The AMD SMI seam: the only module of orionx-cyborg that imports amdsmi.

AMD's ``amdsmi`` package (PyPI) wraps ``libamd_smi.so`` with ctypes: its
``amdsmi_wrapper`` module loads the library and looks up every symbol
when it is imported. So that one process can serve the system library or
simulated ones (one per simulated host), the binding is imported once,
bound to a dispatcher that forwards each call to the library installed
for the current call, under a process-wide lock, exactly as the NVML
seam swaps pynvml's library. The system library is found where the
binding looks for it (``$ROCM_PATH/lib``, the loader path,
``/opt/rocm/lib``).

AMD SMI errors become :mod:`orionx_cyborg.exception` errors here; a
missing binding or library is "missing", which the multi-vendor backend
treats as a host without AMD GPUs. Only the bus address, UUID, ASIC
description and VRAM size identify a GPU; partitions, ECC, bad pages,
NUMA node and driver version degrade the description with a warning
when they fail.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import os
import sys
import threading
from collections.abc import Iterator
from types import ModuleType
from typing import Any
from typing import TypeVar

from oslo_log import log as logging

from orionx_cyborg import exception
from orionx_cyborg.gpu import models

LOG = logging.getLogger(__name__)

T = TypeVar('T')

VENDOR_ID = '1002'

# amdsmi_status_t values this seam interprets.
_NOT_SUPPORTED = 2
_NOT_YET_IMPLEMENTED = 3
_FAIL_LOAD_SYMBOL = 5
_NO_PERM = 10
_NOT_FOUND = 31
_DRIVER_NOT_LOADED = 34

_HINTS = {
    _DRIVER_NOT_LOADED: 'Load the amdgpu kernel driver ("modprobe amdgpu").',
    _NO_PERM: 'Run the agent as a user that may open /dev/kfd and /dev/dri/*.',
}

# Answers that mean "this GPU or library cannot tell": the fact is absent.
_CANNOT_TELL = frozenset({_NOT_SUPPORTED, _NOT_YET_IMPLEMENTED})

_LOCK = threading.RLock()
_DISPATCHER: _Dispatcher | None = None


class _Symbol:
    """One C symbol as the binding sees it; calls the installed library."""

    def __init__(self, dispatcher: _Dispatcher, name: str) -> None:
        self._dispatcher = dispatcher
        self._name = name
        self.restype: Any = ctypes.c_int
        self.argtypes: Any = None

    def __call__(self, *args: Any) -> Any:
        library = self._dispatcher.library
        if library is None:
            raise AttributeError(self._name)
        function = getattr(library, self._name)
        if isinstance(library, ctypes.CDLL):
            function.restype = self.restype
            if self.argtypes is not None:
                function.argtypes = self.argtypes
        return function(*args)


class _Dispatcher:
    """Stands for ``libamd_smi.so`` inside the binding."""

    def __init__(self) -> None:
        self.library: object | None = None
        self._symbols: dict[str, _Symbol] = {}

    def __getattr__(self, name: str) -> _Symbol:
        if name.startswith('_'):
            raise AttributeError(name)
        symbol = self._symbols.get(name)
        if symbol is None:
            symbol = self._symbols[name] = _Symbol(self, name)
        return symbol


def _missing(error: str) -> exception.AcceleratorLibraryUnavailable:
    return exception.AcceleratorLibraryUnavailable(
        library='AMD SMI',
        error=error,
        hint='Install amd-smi-lib (ROCm) and the amdsmi Python package, '
        'or remove amdsmi from [orionx_gpu] vendor_libraries.',
        missing=True,
    )


def _import_binding() -> tuple[ModuleType, _Dispatcher]:
    """The amdsmi binding, bound to this seam's dispatcher.

    :raises AcceleratorLibraryUnavailable: (missing) it is not installed,
        or it was imported elsewhere, bound to a library of its own.
    """
    global _DISPATCHER
    with _LOCK:
        if _DISPATCHER is not None:
            return sys.modules['amdsmi'], _DISPATCHER
        if 'amdsmi' in sys.modules:
            raise exception.AcceleratorLibraryUnavailable(
                library='AMD SMI',
                error='the amdsmi binding was imported outside '
                'orionx_cyborg.gpu.amd',
                hint='Import amdsmi only through this seam.',
            )
        dispatcher = _Dispatcher()
        # The binding loads its library with ctypes.CDLL(path) at import
        # time; hand it the dispatcher instead, for this import only.
        real_cdll = ctypes.CDLL
        ctypes.CDLL = lambda *args, **kwargs: dispatcher  # type: ignore
        try:
            binding = importlib.import_module('amdsmi')
        except ImportError as err:
            raise _missing('no amdsmi Python package: %s' % err) from err
        finally:
            ctypes.CDLL = real_cdll  # type: ignore[misc]
        _DISPATCHER = dispatcher
        return binding, dispatcher


def load_system_library(path: str | None = None) -> ctypes.CDLL:
    """``libamd_smi.so`` from *path* or where the amdsmi binding looks.

    :raises AcceleratorLibraryUnavailable: (missing) nowhere to be found.
    """
    if path:
        candidates = [path]
    else:
        rocm = os.environ.get('ROCM_HOME', os.environ.get('ROCM_PATH'))
        candidates = (
            [os.path.join(rocm, 'lib', 'libamd_smi.so')] if rocm else []
        ) + ['libamd_smi.so', '/opt/rocm/lib/libamd_smi.so']
    errors = []
    for candidate in candidates:
        try:
            return ctypes.CDLL(candidate)
        except OSError as err:
            errors.append(str(err))
    raise _missing('cannot load libamd_smi.so: %s' % '; '.join(errors))


class _Describer:
    """Calls of one discovery pass, and what failed among optional ones."""

    def __init__(self, binding: ModuleType) -> None:
        self.binding = binding
        self.calls = 0
        self.warnings: list[str] = []

    def __call__(self, name: str, *args: Any) -> Any:
        self.calls += 1
        try:
            return getattr(self.binding, name)(*args)
        except AttributeError as err:
            # The library lacks the symbol: AMD SMI's "function not found".
            raise self.binding.AmdSmiLibraryException(
                _FAIL_LOAD_SYMBOL
            ) from err

    def optional(self, fact: str, name: str, *args: Any) -> Any:
        """A fact that does not identify the GPU; None when unavailable.

        "Not supported" is an answer (the GPU has no such thing); any
        other failure is a warning on the GPU's description.
        """
        try:
            return self(name, *args)
        except self.binding.AmdSmiLibraryException as err:
            code = err.get_error_code()
            if code == _NOT_FOUND:
                raise
            if code not in _CANNOT_TELL:
                self.warnings.append('%s: %s' % (fact, _describe(err)))
            return None


def _describe(err: Any) -> str:
    info = getattr(err, 'get_error_info', None)
    return str(info(detailed=False)) if info else str(err)


class AmdSmiBackend:
    """Discovers the AMD Instinct GPUs of this host through AMD SMI."""

    name = 'amdsmi'
    vendor_id = VENDOR_ID

    def __init__(
        self, library_path: str | None = None, library: object | None = None
    ) -> None:
        """:param library_path: load ``libamd_smi.so`` from this path.
        :param library: an object implementing AMD SMI's C symbols (the
            simulated library); takes precedence over *library_path*.
        """
        self._library_path = library_path
        self._library = library

    def close(self) -> None:
        """Nothing is held between passes: each initialises and shuts down."""

    def discover(self) -> models.HostInventory:
        """Describe every GPU AMD SMI enumerates.

        :raises AcceleratorLibraryUnavailable: the binding or library is
            missing (``missing``), or AMD SMI cannot initialise or
            enumerate.
        """
        with self._installed() as binding:
            describer = _Describer(binding)
            try:
                describer('amdsmi_init', binding.AmdSmiInitFlags.INIT_AMD_GPUS)
            except binding.AmdSmiLibraryException as err:
                raise _unavailable(err) from err
            try:
                return self._discover(describer)
            finally:
                try:
                    describer('amdsmi_shut_down')
                except binding.AmdSmiLibraryException as err:
                    LOG.debug('Ignoring AMD SMI shutdown error: %s', err)

    @contextlib.contextmanager
    def _installed(self) -> Iterator[ModuleType]:
        binding, dispatcher = _import_binding()
        with _LOCK:
            library = self._library
            if library is None:
                library = self._library = load_system_library(
                    self._library_path
                )
            saved = dispatcher.library
            dispatcher.library = library
            try:
                yield binding
            finally:
                dispatcher.library = saved

    def _discover(self, describer: _Describer) -> models.HostInventory:
        binding = describer.binding
        try:
            handles = describer('amdsmi_get_processor_handles')
        except binding.AmdSmiLibraryException as err:
            raise _unavailable(err) from err
        gpus: list[models.HardwareGpu] = []
        unreachable: list[models.UnreachableGpu] = []
        driver_version = None
        for index, handle in enumerate(handles):
            describer.warnings = []
            try:
                gpu = _describe_gpu(describer, index, handle)
            except binding.AmdSmiLibraryException as err:
                LOG.warning(
                    'AMD GPU %d cannot be described by AMD SMI: %s',
                    index,
                    _describe(err),
                )
                unreachable.append(
                    models.UnreachableGpu(index=index, error=_describe(err))
                )
                continue
            for warning in gpu.warnings:
                LOG.warning('AMD GPU %s: %s', gpu.pci_address, warning)
            driver_version = driver_version or gpu.driver_version
            gpus.append(gpu)
        return models.HostInventory(
            backend=self.name,
            driver_version=driver_version,
            gpus=tuple(gpus),
            unreachable=tuple(unreachable),
            calls=describer.calls,
        )


def _unavailable(err: Any) -> exception.AcceleratorLibraryUnavailable:
    code = err.get_error_code()
    return exception.AcceleratorLibraryUnavailable(
        library='AMD SMI',
        error='%s (AMD SMI status %d)' % (_describe(err), code),
        hint=_HINTS.get(code, 'See the amdgpu driver and kernel logs.'),
    )


def _describe_gpu(
    describer: _Describer, index: int, handle: Any
) -> models.HardwareGpu:
    binding = describer.binding
    address = models.PciAddress.parse(
        describer('amdsmi_get_gpu_device_bdf', handle)
    )
    uuid = describer('amdsmi_get_gpu_device_uuid', handle)
    asic = describer('amdsmi_get_gpu_asic_info', handle)
    vram = describer(
        'amdsmi_get_gpu_memory_total', handle, binding.AmdSmiMemoryType.VRAM
    )
    compute = describer.optional(
        'compute partition', 'amdsmi_get_gpu_compute_partition', handle
    )
    memory = describer.optional(
        'memory partition', 'amdsmi_get_gpu_memory_partition', handle
    )
    numa = describer.optional(
        'NUMA node', 'amdsmi_topo_get_numa_node_number', handle
    )
    driver = describer.optional(
        'driver version', 'amdsmi_get_gpu_driver_info', handle
    )
    return models.HardwareGpu(
        vendor_id=VENDOR_ID,
        index=index,
        uuid=str(uuid),
        name=str(asic['market_name']),
        pci_address=address,
        pci_device_id='%04x' % int(str(asic['device_id']), 16),
        memory_mib=int(vram) // (1024 * 1024),
        numa_node=numa,
        health=_health(describer, handle),
        partition_mode=_partition_mode(compute, memory),
        driver_version=driver['driver_version'] if driver else None,
        warnings=tuple(describer.warnings),
    )


def _partition_mode(compute: str | None, memory: str | None) -> str | None:
    modes = [m for m in (compute, memory) if m and m != 'N/A']
    return '/'.join(modes) or None


def _health(describer: _Describer, handle: Any) -> models.Health:
    reasons = []
    ecc = describer.optional(
        'ECC error count', 'amdsmi_get_gpu_total_ecc_count', handle
    )
    if ecc and ecc['uncorrectable_count']:
        reasons.append(
            '%d uncorrectable ECC errors' % ecc['uncorrectable_count']
        )
    pages = describer.optional(
        'bad pages', 'amdsmi_get_gpu_bad_page_info', handle
    )
    unreservable = [
        page
        for page in pages or ()
        if page['status']
        == describer.binding.AmdSmiMemoryPageStatus.UNRESERVABLE
    ]
    if unreservable:
        reasons.append('%d bad pages could not be retired' % len(unreservable))
    if reasons:
        return models.Health.unhealthy(*reasons)
    return models.Health()
