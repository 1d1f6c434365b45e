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

"""What the driver reports, as typed frozen models.

The planner produces these specs from hardware facts and configuration;
:mod:`orionx_cyborg.accelerator.objects` turns them into Cyborg's driver
objects; the state store keeps the last good ones as JSON. Keeping the
report in our own models means the CLI and the tests need no Cyborg, and
the state file survives Cyborg object version changes. The names in
them (resource classes, traits) come from :mod:`orionx_cyborg.resources`.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from typing import Any

#: Cyborg's column limit for attach_info and cpid_info.
MAX_INFO_LENGTH = 255


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces: equal values, equal text."""
    return json.dumps(value, sort_keys=True, separators=(',', ':'))


def cyborg_json(value: dict[str, str]) -> str:
    """JSON as Cyborg's own ``pci_str_to_json`` writes it.

    Sorted keys and default separators, so that PCI identities match the
    ones Cyborg's in-tree drivers report.
    """
    return json.dumps(dict(sorted(value.items())))


@dataclasses.dataclass(frozen=True, order=True)
class AttachHandleSpec:
    attach_type: str
    attach_info: str


@dataclasses.dataclass(frozen=True)
class DeployableSpec:
    name: str
    resource_class: str
    total: int
    traits: tuple[tuple[str, str], ...]
    """(attribute key, trait) pairs, sorted by key."""
    attach_handles: tuple[AttachHandleSpec, ...] = ()

    @property
    def trait_names(self) -> tuple[str, ...]:
        return tuple(trait for _, trait in self.traits)

    def with_trait(self, key: str, trait: str) -> DeployableSpec:
        traits = dict(self.traits)
        traits[key] = trait
        return dataclasses.replace(self, traits=tuple(sorted(traits.items())))


@dataclasses.dataclass(frozen=True)
class DeviceSpec:
    key: str
    """Identity across reports: ``gpu:<address>`` or
    ``entitlement:<pool>``."""
    vendor: str
    model: str
    cpid_info: str
    std_board_info: str
    vendor_board_info: str
    deployables: tuple[DeployableSpec, ...]
    device_type: str = 'GPU'
    stub: bool = False

    @property
    def deployable_names(self) -> tuple[str, ...]:
        return tuple(d.name for d in self.deployables)

    @property
    def pci_address(self) -> str | None:
        kind, _, rest = self.key.partition(':')
        return rest if kind == 'gpu' else None

    def with_deployables(
        self, deployables: Iterable[DeployableSpec]
    ) -> DeviceSpec:
        return dataclasses.replace(
            self, deployables=tuple(sorted(deployables, key=_by_name))
        )

    def board_info(self) -> dict[str, Any]:
        info: dict[str, Any] = json.loads(self.vendor_board_info)
        return info

    def with_board_info(self, **changes: Any) -> DeviceSpec:
        info = self.board_info()
        info.update(changes)
        return dataclasses.replace(
            self, vendor_board_info=canonical_json(info)
        )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DeviceSpec:
        deployables = tuple(
            DeployableSpec(
                name=d['name'],
                resource_class=d['resource_class'],
                total=int(d['total']),
                traits=tuple((str(k), str(v)) for k, v in d['traits']),
                attach_handles=tuple(
                    AttachHandleSpec(h['attach_type'], h['attach_info'])
                    for h in d['attach_handles']
                ),
            )
            for d in data['deployables']
        )
        return cls(
            key=data['key'],
            vendor=data['vendor'],
            model=data['model'],
            cpid_info=data['cpid_info'],
            std_board_info=data['std_board_info'],
            vendor_board_info=data['vendor_board_info'],
            deployables=deployables,
            device_type=data.get('device_type', 'GPU'),
            stub=bool(data.get('stub', False)),
        )


def _by_name(deployable: DeployableSpec) -> str:
    return deployable.name


@dataclasses.dataclass(frozen=True)
class Report:
    """One discovery's outcome.

    The devices to report, and what an operator should know about them.
    """

    devices: tuple[DeviceSpec, ...]
    warnings: tuple[str, ...] = ()

    def deployables(self) -> Iterable[DeployableSpec]:
        for device in self.devices:
            yield from device.deployables
