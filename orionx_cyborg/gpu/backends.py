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

"""Accelerator backends: the interface and the factory the driver uses.

One seam per vendor library, each the only module that imports its
vendor's binding: NVIDIA through NVML (:mod:`~orionx_cyborg.gpu.nvml`),
AMD through AMD SMI (:mod:`~orionx_cyborg.gpu.amd`), Huawei Ascend
through DCMI (:mod:`~orionx_cyborg.gpu.ascend`), Moore Threads through
MTML (:mod:`~orionx_cyborg.gpu.mthreads`). Each produces a
:class:`~orionx_cyborg.gpu.models.HostInventory`;
:class:`MultiVendorBackend` merges those of the seams a host runs
(``[orionx_gpu] vendor_libraries``, by default every one whose library
loads).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from collections.abc import Sequence
from typing import Protocol

from oslo_log import log as logging

from orionx_cyborg import exception
from orionx_cyborg.gpu import models

LOG = logging.getLogger(__name__)

#: The vendor seams, in the order their devices are listed.
VENDOR_LIBRARIES = ('nvml', 'amdsmi', 'dcmi', 'mtml')


class GpuBackend(Protocol):
    """Discovers the accelerators of this host."""

    name: str

    def discover(self) -> models.HostInventory:
        """Describe the accelerators.

        :raises AcceleratorLibraryUnavailable: the backend cannot work at
            all now (``missing`` when its library is not installed).
        """

    def close(self) -> None:
        """Release the library."""


class MultiVendorBackend:
    """Runs several vendor seams and merges what they found.

    A seam whose library is missing is normal (a host without that
    vendor) and logged at info level. A seam that fails while others
    work leaves a failure in the inventory, and its vendor's devices keep
    their last report. Only when no seam works does discovery fail, with
    the first real failure (or, when every library is missing, the first
    seam's reason).
    """

    def __init__(self, backends: Sequence[GpuBackend]) -> None:
        self._backends = tuple(backends)
        self.name = '+'.join(b.name for b in self._backends)
        # Seams already reported missing: said once at info level, then
        # at debug level every agent cycle.
        self._told_missing: set[str] = set()

    def discover(self) -> models.HostInventory:
        inventories = []
        missing: list[exception.AcceleratorLibraryUnavailable] = []
        failed: list[
            tuple[GpuBackend, exception.AcceleratorLibraryUnavailable]
        ] = []
        for backend in self._backends:
            try:
                inventories.append(backend.discover())
                self._told_missing.discard(backend.name)
            except exception.AcceleratorLibraryUnavailable as err:
                if err.missing:
                    log = (
                        LOG.debug
                        if backend.name in self._told_missing
                        else LOG.info
                    )
                    log('No %s on this host: %s', backend.name, err)
                    self._told_missing.add(backend.name)
                    missing.append(err)
                else:
                    LOG.warning('%s failed: %s', backend.name, err)
                    failed.append((backend, err))
        if not inventories:
            raise (failed[0][1] if failed else missing[0])
        return _merge(
            self.name,
            inventories,
            failures=tuple(str(err) for _, err in failed),
            failed_vendors=tuple(
                getattr(backend, 'vendor_id', '') for backend, _ in failed
            ),
        )

    def close(self) -> None:
        for backend in self._backends:
            backend.close()


def _merge(
    name: str,
    inventories: Sequence[models.HostInventory],
    failures: tuple[str, ...],
    failed_vendors: tuple[str, ...],
) -> models.HostInventory:
    return models.HostInventory(
        backend=name,
        driver_version=next(
            (i.driver_version for i in inventories if i.driver_version),
            None,
        ),
        gpus=tuple(g for i in inventories for g in i.gpus),
        unreachable=tuple(u for i in inventories for u in i.unreachable),
        health_events=tuple(e for i in inventories for e in i.health_events),
        calls=sum(i.calls for i in inventories),
        failures=failures + tuple(f for i in inventories for f in i.failures),
        failed_vendors=failed_vendors,
    )


def vendor_backends(
    names: Sequence[str],
    nvml_factory: Callable[[], GpuBackend],
) -> list[GpuBackend]:
    """The real seams named by *names* (``[orionx_gpu] vendor_libraries``).

    Each seam module is imported here, when asked for: a host never
    imports a binding it was told not to use.
    """
    backends: list[GpuBackend] = []
    for name in names:
        if name == 'nvml':
            backends.append(nvml_factory())
        elif name == 'amdsmi':
            from orionx_cyborg.gpu import amd

            backends.append(amd.AmdSmiBackend())
        elif name == 'dcmi':
            from orionx_cyborg.gpu import ascend

            backends.append(ascend.DcmiBackend())
        elif name == 'mtml':
            from orionx_cyborg.gpu import mthreads

            backends.append(mthreads.MtmlBackend())
        else:
            raise ValueError('unknown vendor library %r' % name)
    return backends


def simulated_sysfs_root(state_dir: str, host: str) -> str:
    """Where a simulated host's sysfs tree is rendered."""
    return os.path.join(state_dir, 'simulated-sysfs-%s' % host)


def make_backend(
    host: str,
    state_dir: str,
    nvml_library: str | None = None,
    fake_topology: str | None = None,
    ignored_xids: frozenset[int] | None = None,
    vendor_libraries: Sequence[str] = ('nvml',),
) -> tuple[GpuBackend, str | None]:
    """The backend for a host, and its own sysfs root if it has one.

    A simulated host (*fake_topology*) renders its sysfs tree under
    *state_dir*; the real backend reads the configured sysfs root.
    """
    from orionx_cyborg.gpu import nvml

    xids = nvml.APPLICATION_XIDS if ignored_xids is None else ignored_xids
    if fake_topology:
        # Imported here: production hosts never load the simulation.
        from orionx_cyborg.gpu.fake import backend as fake_backend

        sysfs_root = simulated_sysfs_root(state_dir, host)
        simulated = fake_backend.SimulatedBackend(
            fake_topology, host, sysfs_root, ignored_xids=xids
        )
        return simulated, sysfs_root
    backends = vendor_backends(
        vendor_libraries,
        lambda: nvml.NvmlBackend(library_path=nvml_library, ignored_xids=xids),
    )
    if len(backends) == 1:
        return backends[0], None
    return MultiVendorBackend(backends), None
