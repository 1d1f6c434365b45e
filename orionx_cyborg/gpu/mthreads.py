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

"""The MTML seam: the only module of orionx-cyborg that imports pymtml.

Moore Threads' ``pymtml`` (PyPI ``mthreads-ml-py``) wraps ``libmtml.so``
the way pynvml wraps NVML: the loaded library, its function-pointer
cache and the library handle are module globals. A backend installs its
library (the system one or a simulated one) for the duration of a pass
under a process-wide lock, initialises MTML, reads every GPU and shuts
MTML down again. MTML errors become :mod:`orionx_cyborg.exception`
errors here. Index, UUID, name, PCI info and memory identify a GPU; the
driver version and releasing the memory handle only degrade the pass.
MTML health queries are not read yet.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import threading
from collections.abc import Iterator
from types import ModuleType
from typing import Any

from oslo_log import log as logging

from orionx_cyborg import exception
from orionx_cyborg.gpu import models

LOG = logging.getLogger(__name__)

VENDOR_ID = '1ed5'

_LOCK = threading.RLock()
_LIBRARY_NAMES = ('libmtml.so.2', 'libmtml.so')
_GPU_IS_LOST = 669
_DRIVER_NOT_LOADED = 1
_NO_PERMISSION = 5


def _missing(error: str) -> exception.AcceleratorLibraryUnavailable:
    return exception.AcceleratorLibraryUnavailable(
        library='MTML',
        error=error,
        hint='Install the Moore Threads driver (libmtml.so) and the '
        'mthreads-ml-py package, or remove mtml from [orionx_gpu] '
        'vendor_libraries.',
        missing=True,
    )


def _binding() -> ModuleType:
    try:
        return importlib.import_module('pymtml')
    except ImportError as err:
        raise _missing('no pymtml (mthreads-ml-py): %s' % err) from err


def load_library(path: str | None = None) -> ctypes.CDLL:
    """``libmtml.so`` from *path* or the loader path.

    :raises AcceleratorLibraryUnavailable: (missing) nowhere to be found.
    """
    errors = []
    for candidate in [path] if path else _LIBRARY_NAMES:
        try:
            return ctypes.CDLL(candidate)
        except OSError as err:
            errors.append(str(err))
    raise _missing('cannot load libmtml.so: %s' % '; '.join(errors))


class _Calls:
    """Calls pymtml functions by name and counts them."""

    def __init__(self, mtml: ModuleType) -> None:
        self.mtml = mtml
        self.count = 0

    def __call__(self, name: str, *args: Any) -> Any:
        self.count += 1
        return getattr(self.mtml, name)(*args)


class MtmlBackend:
    """Discovers the Moore Threads GPUs of this host through MTML."""

    name = 'mtml'
    vendor_id = VENDOR_ID

    def __init__(
        self, library_path: str | None = None, library: object | None = None
    ) -> None:
        self._library_path = library_path
        self._library = library

    def close(self) -> None:
        """Nothing is held between passes."""

    def discover(self) -> models.HostInventory:
        """Describe every GPU MTML enumerates.

        :raises AcceleratorLibraryUnavailable: the binding or library is
            missing (``missing``), or MTML cannot initialise or count.
        """
        with self._installed() as mtml:
            calls = _Calls(mtml)
            try:
                calls('mtmlLibraryInit')
            except mtml.MTMLError as err:
                raise _unavailable(err) from err
            try:
                return self._discover(calls)
            finally:
                try:
                    mtml.mtmlLibraryShutDown()
                except mtml.MTMLError as err:
                    LOG.debug('Ignoring MTML shutdown error: %s', err)

    @contextlib.contextmanager
    def _installed(self) -> Iterator[ModuleType]:
        mtml = _binding()
        with _LOCK:
            if self._library is None:
                self._library = load_library(self._library_path)
            names = (
                'mtmlLib',
                'libHandle',
                '_mtmlLib_handles',
                '_mtmlLib_refcount',
            )
            saved = {name: getattr(mtml, name) for name in names}
            fresh: tuple[Any, ...] = (
                self._library,
                mtml.c_mtmlLibrary_t(),
                [],
                0,
            )
            for name, value in zip(names, fresh, strict=True):
                setattr(mtml, name, value)
            mtml._mtmlGetFunctionPointer_cache.clear()
            try:
                yield mtml
            finally:
                for name, value in saved.items():
                    setattr(mtml, name, value)
                mtml._mtmlGetFunctionPointer_cache.clear()

    def _discover(self, calls: _Calls) -> models.HostInventory:
        mtml = calls.mtml
        try:
            count = calls('mtmlLibraryCountDevice')
        except mtml.MTMLError as err:
            raise _unavailable(err) from err
        gpus: list[models.HardwareGpu] = []
        unreachable: list[models.UnreachableGpu] = []
        for index in range(count):
            try:
                gpus.append(_describe(calls, index))
            except mtml.MTMLError as err:
                LOG.warning('MTML GPU %d cannot be described: %s', index, err)
                unreachable.append(
                    models.UnreachableGpu(index=index, error=str(err))
                )
        driver_version = _driver_version(calls)
        return models.HostInventory(
            backend=self.name,
            driver_version=driver_version,
            gpus=tuple(gpus),
            unreachable=tuple(unreachable),
            calls=calls.count,
        )


def _unavailable(err: Any) -> exception.AcceleratorLibraryUnavailable:
    hints = {
        _DRIVER_NOT_LOADED: 'Load the Moore Threads kernel driver (mtgpu).',
        _NO_PERMISSION: 'Run the agent as a user that may open /dev/mtgpu*.',
    }
    return exception.AcceleratorLibraryUnavailable(
        library='MTML',
        error='%s (MTML error %d)' % (err, err.value),
        hint=hints.get(err.value, 'See "mthreads-gmi" and the kernel log.'),
    )


def _text(value: bytes | str) -> str:
    if isinstance(value, bytes):
        return value.decode('utf-8', 'replace')
    return value


def _describe(calls: _Calls, index: int) -> models.HardwareGpu:
    mtml = calls.mtml
    device = calls('mtmlLibraryInitDeviceByIndex', index)
    pci = calls('mtmlDeviceGetPciInfo', device)
    warnings = []
    memory = calls('mtmlDeviceInitMemory', device)
    total = calls('mtmlMemoryGetTotal', memory)
    try:
        calls('mtmlDeviceFreeMemory', memory)
    except mtml.MTMLError as err:
        if err.value == _GPU_IS_LOST:
            raise
        warnings.append('releasing the memory handle: %s' % err)
    return models.HardwareGpu(
        vendor_id=VENDOR_ID,
        index=index,
        uuid=_text(calls('mtmlDeviceGetUUID', device)),
        name=_text(calls('mtmlDeviceGetName', device)),
        pci_address=models.PciAddress(
            domain=pci.segment, bus=pci.bus, device=pci.device, function=0
        ),
        pci_device_id='%04x' % ((pci.pciDeviceId >> 16) & 0xFFFF),
        memory_mib=int(total) // (1024 * 1024),
        warnings=tuple(warnings),
    )


def _driver_version(calls: _Calls) -> str | None:
    try:
        system = calls('mtmlLibraryInitSystem')
        return _text(calls('mtmlSystemGetDriverVersion', system)) or None
    except calls.mtml.MTMLError as err:
        LOG.warning('MTML cannot give the driver version: %s', err)
        return None
