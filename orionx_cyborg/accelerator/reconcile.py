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

"""Merge what the hardware asks to report with what was reported before.

This is where the driver keeps its promises to Cyborg and Placement:

* a GPU that was reported and has vanished (lost, fallen off the bus) is
  reported again from the last good report, every deployable marked
  ``CUSTOM_ORIONX_UNHEALTHY``, until an operator asks to forget it and
  Placement shows it holds no allocation;
* a GPU handed to a VM (bound to ``vfio-pci``, so invisible to NVML) is
  reported exactly as before: it is in use, not lost;
* nothing that holds allocations is ever dropped or shrunk below its use
  (Placement would refuse, and the conductor would then fail the report of
  the whole host every cycle): a configuration change waits, the old
  report stays, marked unhealthy so that nothing new lands there;
* when NVML fails as a whole, the last good report goes out again as
  stubs, which the conductor leaves untouched.

All of it is pure: the caller passes the usage lookup and sysfs lookup.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping

from orionx_cyborg import resources
from orionx_cyborg.accelerator import spec
from orionx_cyborg.accelerator import state as state_mod
from orionx_cyborg.gpu import models
from orionx_cyborg.gpu import sysfs

#: Placement usage by deployable (resource provider) name; None when it
#: cannot be known (Placement unreachable), which counts as "in use".
UsageLookup = Callable[[list[str]], Mapping[str, int] | None]
SysfsLookup = Callable[
    [models.PciAddress, frozenset[str] | None], sysfs.PciFunctionState
]


@dataclasses.dataclass(frozen=True)
class Outcome:
    devices: tuple[spec.DeviceSpec, ...]
    state: state_mod.DriverState
    warnings: tuple[str, ...]


def mark_unhealthy(device: spec.DeviceSpec, reason: str) -> spec.DeviceSpec:
    """*device* with every deployable unhealthy and *reason* recorded."""
    info = device.board_info()
    reasons = list(info.get('health_reasons', ()))
    if reason not in reasons:
        reasons.append(reason)
    deployables = [
        d.with_trait(resources.HEALTH_TRAIT_KEY, resources.TRAIT_UNHEALTHY)
        for d in device.deployables
    ]
    return device.with_deployables(deployables).with_board_info(
        health='unhealthy', health_reasons=reasons
    )


def as_stub(device: spec.DeviceSpec) -> spec.DeviceSpec:
    return dataclasses.replace(device, stub=True)


class ReportReconciler:
    """Decides the final report of one discovery."""

    def __init__(self, usage: UsageLookup, describe_sysfs: SysfsLookup):
        self._usage = usage
        self._describe_sysfs = describe_sysfs

    def after_failure(
        self,
        previous: state_mod.DriverState,
        entitlement: spec.DeviceSpec | None,
    ) -> Outcome:
        """NVML failed as a whole: freeze every GPU as a stub."""
        devices = {
            key: device
            for key, device in previous.devices.items()
            if device.pci_address is not None
        }
        report = [as_stub(device) for device in devices.values()]
        warnings: list[str] = []
        others = self._merge_others(previous, entitlement, warnings)
        report += others
        devices.update({d.key: d for d in others})
        new_state = dataclasses.replace(previous, devices=devices)
        return Outcome(_sorted(report), new_state, tuple(warnings))

    def merge(
        self,
        previous: state_mod.DriverState,
        planned: Iterable[spec.DeviceSpec],
        visible: frozenset[str],
        conflicts: frozenset[str],
    ) -> Outcome:
        """Merge the planned devices with the previous report.

        :param visible: PCI addresses of the GPUs NVML described now.
        :param conflicts: addresses whose mode is in conflict (kept as
            they were).
        """
        warnings: list[str] = []
        planned_by_key = {d.key: d for d in planned}
        entitlement = next(
            (d for d in planned_by_key.values() if d.pci_address is None),
            None,
        )
        result: dict[str, spec.DeviceSpec] = {}
        forgotten: set[str] = set()
        for key, device in planned_by_key.items():
            if device.pci_address is not None:
                result[key] = device
        for key, old in previous.devices.items():
            address = old.pci_address
            if address is None:
                continue
            if address in conflicts:
                result[key] = old
            elif address in visible:
                kept = self._guard_change(old, result.get(key), warnings)
                if kept is not None:
                    result[key] = kept
                else:
                    result.pop(key, None)
            else:
                kept = self._vanished(previous, old, address, warnings)
                if kept is None:
                    forgotten.add(address)
                else:
                    result[key] = kept
        for device in self._merge_others(previous, entitlement, warnings):
            result[device.key] = device
        new_state = state_mod.DriverState(
            devices=result,
            sticky_health={
                address: reasons
                for address, reasons in previous.sticky_health.items()
                if address not in forgotten
            },
            forget=previous.forget - forgotten,
        )
        return Outcome(_sorted(result.values()), new_state, tuple(warnings))

    # Changes of GPUs that are still here ---------------------------------

    def _guard_change(
        self,
        old: spec.DeviceSpec,
        new: spec.DeviceSpec | None,
        warnings: list[str],
    ) -> spec.DeviceSpec | None:
        """The device to report when a visible GPU's report changes."""
        new_names = set(new.deployable_names) if new else set()
        dropped = [d for d in old.deployables if d.name not in new_names]
        shrunk = self._shrunk(old, new) if new else []
        if not dropped and not shrunk:
            return new
        names = [d.name for d in dropped] + [d.name for d in shrunk]
        usage = self._usage(names)
        busy = _busy(names, usage)
        if dropped and any(d.name in busy for d in dropped):
            warnings.append(
                'GPU %s: its report changes but %s still hold allocations; '
                'the old report stays, marked unhealthy, until they are '
                'released.' % (old.pci_address, ', '.join(sorted(busy)))
            )
            return mark_unhealthy(old, 'draining before a change of mode')
        if new is None:
            return None
        return self._keep_busy_totals(old, new, busy, usage, warnings)

    @staticmethod
    def _shrunk(
        old: spec.DeviceSpec, new: spec.DeviceSpec
    ) -> list[spec.DeployableSpec]:
        totals = {d.name: d.total for d in new.deployables}
        return [
            d
            for d in old.deployables
            if d.name in totals and totals[d.name] < d.total
        ]

    @staticmethod
    def _keep_busy_totals(
        old: spec.DeviceSpec,
        new: spec.DeviceSpec,
        busy: set[str],
        usage: Mapping[str, int] | None,
        warnings: list[str],
    ) -> spec.DeviceSpec:
        old_by_name = {d.name: d for d in old.deployables}
        deployables = []
        for deployable in new.deployables:
            previous = old_by_name.get(deployable.name)
            used = None if usage is None else usage.get(deployable.name, 0)
            if (
                previous is not None
                and deployable.name in busy
                and deployable.total < previous.total
                and (used is None or used > deployable.total)
            ):
                warnings.append(
                    '%s: keeping total %d (in use: %s) instead of %d until '
                    'enough is released.'
                    % (
                        deployable.name,
                        previous.total,
                        '?' if used is None else used,
                        deployable.total,
                    )
                )
                deployable = dataclasses.replace(
                    deployable,
                    total=previous.total,
                    attach_handles=previous.attach_handles,
                )
            deployables.append(deployable)
        return new.with_deployables(deployables)

    # GPUs that NVML no longer describes --------------------------------

    def _vanished(
        self,
        previous: state_mod.DriverState,
        old: spec.DeviceSpec,
        address: str,
        warnings: list[str],
    ) -> spec.DeviceSpec | None:
        state = self._describe_sysfs(
            models.PciAddress.parse(address), frozenset()
        )
        if state.present and state.driver == 'vfio-pci':
            # Handed to a VM with its whole PCI function: in use, healthy.
            return old.with_board_info(state='assigned (vfio-pci)')
        if address in previous.forget:
            names = list(old.deployable_names)
            busy = _busy(names, self._usage(names))
            if not busy:
                warnings.append(
                    'GPU %s is forgotten as requested: it is no longer '
                    'reported.' % address
                )
                return None
            warnings.append(
                'GPU %s cannot be forgotten yet: %s still hold allocations.'
                % (address, ', '.join(sorted(busy)))
            )
        warnings.append(
            'GPU %s (%s) is lost; it stays reported as unhealthy until it '
            'is drained and "orionx-cyborg gpu forget %s" is run.'
            % (address, old.model, address)
        )
        lost = mark_unhealthy(old, 'lost')
        return lost.with_board_info(state='lost')

    # The entitlement and anything else not tied to a GPU --------------

    def _merge_others(
        self,
        previous: state_mod.DriverState,
        entitlement: spec.DeviceSpec | None,
        warnings: list[str],
    ) -> list[spec.DeviceSpec]:
        result = []
        if entitlement is not None:
            old = previous.devices.get(entitlement.key)
            if old is not None:
                guarded = self._guard_change(old, entitlement, warnings)
                entitlement = guarded if guarded is not None else entitlement
            result.append(entitlement)
        for key, old in previous.devices.items():
            if old.pci_address is not None:
                continue
            if entitlement is not None and key == entitlement.key:
                continue
            names = list(old.deployable_names)
            busy = _busy(names, self._usage(names))
            if busy:
                warnings.append(
                    '%s is no longer configured but %s still hold '
                    'allocations: it stays until they are released.'
                    % (key, ', '.join(sorted(busy)))
                )
                result.append(old)
        return result


def _busy(names: list[str], usage: Mapping[str, int] | None) -> set[str]:
    if not names:
        return set()
    if usage is None:
        return set(names)
    return {name for name in names if usage.get(name, 0) > 0}


def _sorted(devices: Iterable[spec.DeviceSpec]) -> tuple[spec.DeviceSpec, ...]:
    return tuple(sorted(devices, key=lambda d: d.key))
