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

"""What exists in the cloud, and which of it the tool owns.

Ownership is written where operators can see it and where Cyborg and Nova
keep it: a device profile's description ends with
``[orionx:managed profile=<name> rev=<n>]`` (Cyborg cannot update a
profile, so the revision is part of its identity), and a flavor carries
the extra specs ``orionx:managed=true`` and ``orionx:profile=<name>``.
Nothing without these marks is ever changed or deleted.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from collections.abc import Mapping

DEVICE_PROFILE_SPEC = 'accel:device_profile'
#: A Placement provider without inventory that holds the unhealthy trait.
#: Every generated profile forbids CUSTOM_ORIONX_UNHEALTHY, Placement
#: answers 400 to a query that names an unknown trait (Nova then finds no
#: host), and Cyborg deletes a custom trait when its last provider loses
#: it: this provider keeps the trait known. Having no inventory, it is
#: never a candidate for anything.
TRAIT_KEEPER = 'orionx-cyborg-trait-keeper'
MANAGED_SPEC = 'orionx:managed'
PROFILE_SPEC = 'orionx:profile'
_MARK_RE = re.compile(
    r'\[orionx:managed profile=(?P<name>[A-Za-z0-9_-]+) rev=(?P<rev>\d+)\]'
)


@dataclasses.dataclass(frozen=True)
class Owner:
    """A managed device profile's logical name and revision."""

    profile: str
    revision: int


def describe(description: str, owner: Owner) -> str:
    """A managed profile's description: the operator's text, then the mark."""
    mark = '[orionx:managed profile=%s rev=%d]' % (
        owner.profile,
        owner.revision,
    )
    return ('%s %s' % (description, mark)) if description else mark


def owner_of(description: str | None) -> Owner | None:
    match = _MARK_RE.search(description or '')
    if match is None:
        return None
    return Owner(match.group('name'), int(match.group('rev')))


def same_groups(
    left: Iterable[Mapping[str, str]], right: Iterable[Mapping[str, str]]
) -> bool:
    """Equal request groups, whatever the order of groups and keys."""

    def normal(
        groups: Iterable[Mapping[str, str]],
    ) -> list[list[tuple[str, str]]]:
        return sorted(
            sorted((str(k), str(v)) for k, v in g.items()) for g in groups
        )

    return normal(left) == normal(right)


@dataclasses.dataclass(frozen=True)
class DeviceProfile:
    """A device profile in Cyborg."""

    uuid: str
    name: str
    groups: tuple[Mapping[str, str], ...]
    description: str = ''

    @property
    def owner(self) -> Owner | None:
        return owner_of(self.description)


@dataclasses.dataclass(frozen=True)
class Flavor:
    """A Nova flavor, with its extra specs."""

    id: str
    name: str
    vcpus: int
    ram: int
    disk: int
    ephemeral: int
    swap: int
    is_public: bool
    extra_specs: Mapping[str, str]

    @property
    def managed(self) -> bool:
        return self.extra_specs.get(MANAGED_SPEC) == 'true'

    @property
    def device_profile(self) -> str | None:
        return self.extra_specs.get(DEVICE_PROFILE_SPEC)

    def shape(self) -> tuple[int, int, int, int, int, bool]:
        return (
            self.vcpus,
            self.ram,
            self.disk,
            self.ephemeral,
            self.swap,
            self.is_public,
        )


@dataclasses.dataclass(frozen=True)
class Usage:
    """Who still needs a device profile by name."""

    arqs: int = 0
    """Accelerator requests made from it (they keep a copy of its
    groups, but rebuild, evacuate and unshelve look it up again)."""
    servers: int = 0
    """Servers whose flavor names it, shelved ones included."""

    @property
    def in_use(self) -> bool:
        return self.arqs > 0 or self.servers > 0

    def __str__(self) -> str:
        parts = []
        if self.arqs:
            parts.append('%d accelerator request(s)' % self.arqs)
        if self.servers:
            parts.append('%d server(s)' % self.servers)
        return ' and '.join(parts) or 'nothing'


@dataclasses.dataclass(frozen=True)
class CloudState:
    """The device profiles and flavors the plan starts from."""

    profiles: tuple[DeviceProfile, ...]
    flavors: tuple[Flavor, ...]
    trait_kept: bool = True
    """Whether Placement's trait keeper holds the unhealthy trait."""

    def profile_named(self, name: str) -> DeviceProfile | None:
        for profile in self.profiles:
            if profile.name == name:
                return profile
        return None

    def flavor_named(self, name: str) -> Flavor | None:
        for flavor in self.flavors:
            if flavor.name == name:
                return flavor
        return None

    def revisions(self) -> dict[str, list[DeviceProfile]]:
        """Managed profiles by logical name, oldest revision first."""
        result: dict[str, list[DeviceProfile]] = {}
        for profile in self.profiles:
            owner = profile.owner
            if owner is not None:
                result.setdefault(owner.profile, []).append(profile)
        for revisions in result.values():
            revisions.sort(key=lambda p: p.owner.revision if p.owner else 0)
        return result

    def flavors_using(self, profile: str) -> list[Flavor]:
        return [f for f in self.flavors if f.device_profile == profile]
