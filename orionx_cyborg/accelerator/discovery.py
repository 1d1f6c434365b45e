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

"""One discovery pass of a host, from hardware to the final report.

:class:`HostReporter` wires the pieces: the GPU backend (NVML), the sysfs
seam, the planner, the reconciler and the state store. The Cyborg driver
runs it every agent cycle; ``orionx-cyborg discover`` runs it once,
without writing the state, to show an operator what would be reported.
"""

from __future__ import annotations

import dataclasses

from oslo_log import log as logging

from orionx_cyborg import exception
from orionx_cyborg.accelerator import planner as planner_mod
from orionx_cyborg.accelerator import reconcile
from orionx_cyborg.accelerator import settings as settings_mod
from orionx_cyborg.accelerator import spec
from orionx_cyborg.accelerator import state as state_mod
from orionx_cyborg.gpu import amd_sriov
from orionx_cyborg.gpu import backends
from orionx_cyborg.gpu import models
from orionx_cyborg.gpu import sysfs

LOG = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class DiscoveryResult:
    report: spec.Report
    inventory: models.HostInventory | None
    """None when the GPU backend failed or was not needed."""
    failure: str | None = None
    """Why the backend failed as a whole."""
    modes: dict[str, settings_mod.Mode] = dataclasses.field(
        default_factory=dict
    )


class HostReporter:
    """Runs discovery passes for one host."""

    def __init__(
        self,
        host: str,
        settings: settings_mod.DriverSettings,
        backend: backends.GpuBackend,
        sysfs_reader: sysfs.SysfsReader,
        store: state_mod.StateStore,
        usage: reconcile.UsageLookup,
        persist: bool = True,
    ) -> None:
        self.host = host
        self.settings = settings
        self.backend = backend
        self.store = store
        self.persist = persist
        self._sysfs = sysfs_reader
        self._planner = planner_mod.Planner(host, settings, self._describe)
        self._reconciler = reconcile.ReportReconciler(usage, self._describe)
        self._fallback_state = state_mod.DriverState()

    def _describe(
        self,
        address: models.PciAddress,
        mdev_types: frozenset[str] | None = None,
    ) -> sysfs.PciFunctionState:
        try:
            return self._sysfs.describe(address, mdev_types)
        except exception.SysfsError as err:
            LOG.warning('%s', err)
            return sysfs.PciFunctionState(address, present=True, driver=None)

    def run(self) -> DiscoveryResult:
        """Discover, plan, reconcile and (if persisting) save the state."""
        with self.store.locked():
            previous = self._load_state()
            inventory, failure = self._discover()
            if inventory is None:
                outcome = self._reconciler.after_failure(
                    previous, self._planner.entitlement_device()
                )
                plan_warnings: tuple[str, ...] = ()
                modes: dict[str, settings_mod.Mode] = {}
            else:
                previous = _with_health_events(previous, inventory)
                plan = self._planner.plan(
                    inventory.gpus, unhealthy=previous.sticky_health
                )
                outcome = self._reconciler.merge(
                    previous,
                    plan.devices,
                    visible=frozenset(
                        str(g.pci_address) for g in inventory.gpus
                    ),
                    conflicts=plan.conflicts
                    | _of_failed_vendors(previous, inventory),
                )
                plan_warnings = inventory.failures + plan.warnings
                modes = dict(plan.modes)
            changed = outcome.state != previous
            if changed and self.persist:
                self.store.save(outcome.state)
            self._fallback_state = outcome.state
        warnings = list(plan_warnings) + list(outcome.warnings)
        if failure:
            warnings.insert(0, failure)
        return DiscoveryResult(
            report=spec.Report(outcome.devices, tuple(warnings)),
            inventory=inventory,
            failure=failure,
            modes=modes,
        )

    def _load_state(self) -> state_mod.DriverState:
        try:
            return self.store.load()
        except exception.StateError as err:
            # Never forget what was reported because a file broke: use the
            # last state this process knows and rewrite the file.
            LOG.error('%s; using the state in memory.', err)
            return self._fallback_state

    def _discover(self) -> tuple[models.HostInventory | None, str | None]:
        if not self.settings.uses_gpus:
            return models.HostInventory(backend='none'), None
        amd = 'amdsmi' in self.settings.vendor_libraries
        try:
            inventory = self.backend.discover()
        except exception.NvmlUnavailable as err:
            if not (amd and err.missing):
                return None, str(err)
            # No library on this host; an MxGPU host has no ROCm, only
            # GIM, whose GPUs sysfs shows.
            gim = amd_sriov.augment(
                models.HostInventory(backend='sysfs'), self._sysfs
            )
            if not gim.gpus:
                return None, str(err)
            return gim, None
        if amd:
            inventory = amd_sriov.augment(inventory, self._sysfs)
        return inventory, None


def _of_failed_vendors(
    state: state_mod.DriverState, inventory: models.HostInventory
) -> frozenset[str]:
    """Addresses reported before by a vendor library that failed now.

    They keep their last report, as every device does when the only
    library fails: a failing library says nothing about its devices.
    """
    failed = set(inventory.failed_vendors)
    return frozenset(
        device.pci_address
        for device in state.devices.values()
        if device.pci_address is not None and device.vendor in failed
    )


def _with_health_events(
    state: state_mod.DriverState, inventory: models.HostInventory
) -> state_mod.DriverState:
    """Make the inventory's health events sticky in *state*."""
    if not inventory.health_events:
        return state
    sticky = dict(state.sticky_health)
    for event in inventory.health_events:
        address = str(event.pci_address)
        reasons = sticky.get(address, ())
        if event.reason not in reasons:
            sticky[address] = reasons + (event.reason,)
    return dataclasses.replace(state, sticky_health=sticky)


def build_reporter(
    host: str,
    settings: settings_mod.DriverSettings,
    usage: reconcile.UsageLookup,
    persist: bool = True,
    backend: backends.GpuBackend | None = None,
    sysfs_reader: sysfs.SysfsReader | None = None,
    store: state_mod.StateStore | None = None,
) -> HostReporter:
    """A reporter with the collaborators the settings ask for."""
    sysfs_root = settings.sysfs_root
    if backend is None:
        backend, simulated_root = backends.make_backend(
            host,
            settings.state_dir,
            nvml_library=settings.nvml_library,
            fake_topology=settings.fake_topology,
            ignored_xids=settings.ignored_xids,
            vendor_libraries=settings.vendor_libraries,
        )
        sysfs_root = simulated_root or sysfs_root
    return HostReporter(
        host=host,
        settings=settings,
        backend=backend,
        sysfs_reader=sysfs_reader or sysfs.SysfsReader(sysfs_root),
        store=store or state_mod.StateStore(settings.state_dir, host),
        usage=usage,
        persist=persist,
    )
