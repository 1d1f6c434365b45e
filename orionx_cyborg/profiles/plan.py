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

"""From the file and the cloud to the changes: a pure planner.

Cyborg cannot update a device profile, and Nova finds a server's profile
by the name in its flavor again for rebuild, evacuate and unshelve. So a
changed profile is replaced in place (deleted and created again under
its name) only while nothing uses it; otherwise a new revision
``<name>--r<n>`` is created, the managed flavors move to it, and the old
revision stays until no server and no accelerator request names it
(every sync deletes superseded revisions once they are unused). A
profile or flavor that the file no longer lists is deleted only with
``prune``, and a profile only once unused. Nothing without the tool's
ownership mark is ever touched.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable
from collections.abc import Mapping

from orionx_cyborg.profiles import inventory as inventory_mod
from orionx_cyborg.profiles import model
from orionx_cyborg.profiles import state as state_mod

UsageLookup = Callable[[str], state_mod.Usage]


class Op(enum.Enum):
    CREATE = 'create'
    REPLACE = 'replace'
    """Delete, then create under the same name."""
    UPDATE = 'update'
    """Flavors only: set and unset extra specs."""
    DELETE = 'delete'


@dataclasses.dataclass(frozen=True)
class ProfileAction:
    op: Op
    name: str
    """The device profile's name in Cyborg."""
    reason: str
    groups: tuple[Mapping[str, str], ...] = ()
    description: str = ''
    uuid: str | None = None
    """Of the existing profile (replace, delete)."""


@dataclasses.dataclass(frozen=True)
class FlavorAction:
    op: Op
    name: str
    reason: str
    flavor: model.FlavorSpec | None = None
    extra_specs: Mapping[str, str] = dataclasses.field(default_factory=dict)
    """All extra specs the flavor should have (create, replace)."""
    set_specs: Mapping[str, str] = dataclasses.field(default_factory=dict)
    unset_specs: tuple[str, ...] = ()
    existing_id: str | None = None


@dataclasses.dataclass(frozen=True)
class Problem:
    subject: str
    message: str


@dataclasses.dataclass
class Plan:
    profile_actions: list[ProfileAction] = dataclasses.field(
        default_factory=list
    )
    flavor_actions: list[FlavorAction] = dataclasses.field(
        default_factory=list
    )
    errors: list[Problem] = dataclasses.field(default_factory=list)
    warnings: list[Problem] = dataclasses.field(default_factory=list)
    notes: list[Problem] = dataclasses.field(default_factory=list)
    """What stays as it is and why (in use, not pruned)."""
    profiles_up_to_date: int = 0
    flavors_up_to_date: int = 0
    keep_trait: bool = False
    """Create the Placement provider that keeps the unhealthy trait."""

    @property
    def changes(self) -> int:
        return (
            len(self.profile_actions)
            + len(self.flavor_actions)
            + int(self.keep_trait)
        )


class Planner:
    """Plans one sync.

    :param usage: who uses a device profile, by Cyborg name; called only
        when a change depends on it (it lists every server).
    :param allow_unsatisfiable: plan profiles that no reported inventory
        can serve anyway (their problems become warnings).
    """

    def __init__(
        self,
        desired: model.ProfileFile,
        current: state_mod.CloudState,
        verdicts: Mapping[str, inventory_mod.Verdict],
        usage: UsageLookup,
        prune: bool = False,
        allow_unsatisfiable: bool = False,
    ) -> None:
        self.desired = desired
        self.current = current
        self.verdicts = verdicts
        self.usage = usage
        self.prune = prune
        self.allow_unsatisfiable = allow_unsatisfiable
        self.plan = Plan()
        self._revisions = current.revisions()
        # Flavors that this plan deletes or points elsewhere, by the
        # profile they name now: they no longer keep it in use.
        self._leaving: dict[str, set[str]] = {}

    def run(self) -> Plan:
        # Every profile forbids the unhealthy trait, and Placement
        # refuses a query naming a trait it does not know.
        self.plan.keep_trait = not self.current.trait_kept
        targets = {}
        for profile in self.desired.profiles:
            target = self._profile(profile)
            if target is not None:
                targets[profile.name] = target
        for profile in self.desired.profiles:
            if profile.name in targets:
                self._flavors(profile, targets[profile.name])
        self._stray_flavors()
        for profile in self.desired.profiles:
            if profile.name in targets:
                self._superseded(profile.name, targets[profile.name])
        self._stray_profiles()
        return self.plan

    # -- device profiles -------------------------------------------------

    def _profile(self, profile: model.ProfileSpec) -> str | None:
        """Plan *profile*; return the Cyborg name its flavors will use."""
        subject = 'device profile %s' % profile.name
        if not self._satisfiable(profile, subject):
            return None
        revisions = self._revisions.get(profile.name, [])
        if not revisions:
            return self._create(profile, 1, subject)
        current = revisions[-1]
        if state_mod.same_groups(current.groups, profile.groups()):
            self.plan.profiles_up_to_date += 1
            self._note_description(profile, current)
            return current.name
        usage = self.usage(current.name)
        if not usage.in_use:
            self._add_profile(
                Op.REPLACE,
                profile,
                current.name,
                _revision(current),
                'request groups changed; nothing uses it',
                current.uuid,
            )
            return current.name
        revision = _revision(current) + 1
        return self._create(
            profile,
            revision,
            subject,
            'request groups changed; %s stays for %s' % (current.name, usage),
        )

    def _note_description(
        self, profile: model.ProfileSpec, current: state_mod.DeviceProfile
    ) -> None:
        owner = current.owner or state_mod.Owner(profile.name, 1)
        if state_mod.describe(profile.description, owner) != (
            current.description
        ):
            self.plan.notes.append(
                Problem(
                    'device profile %s' % current.name,
                    'its description differs from the file; Cyborg cannot '
                    'update a profile, so it changes when the request groups '
                    'do',
                )
            )

    def _satisfiable(self, profile: model.ProfileSpec, subject: str) -> bool:
        verdict = self.verdicts.get(profile.name, inventory_mod.Verdict())
        for warning in verdict.warnings:
            self.plan.warnings.append(Problem(subject, warning))
        if not verdict.errors:
            return True
        problems = [
            Problem(
                subject,
                'no reported inventory can ever satisfy it: %s' % error,
            )
            for error in verdict.errors
        ]
        if self.allow_unsatisfiable:
            self.plan.warnings.extend(problems)
            return True
        self.plan.errors.extend(problems)
        return False

    def _create(
        self,
        profile: model.ProfileSpec,
        revision: int,
        subject: str,
        reason: str = 'new',
    ) -> str | None:
        name = model.revision_name(profile.name, revision)
        clash = self.current.profile_named(name)
        if clash is not None:
            self.plan.errors.append(
                Problem(
                    subject,
                    (
                        'a device profile named %s exists and is not managed by '
                        'orionx-cyborg (its description has no [orionx:managed] '
                        'mark): delete it or rename the profile in the file'
                        % name
                    ),
                )
            )
            return None
        self._add_profile(Op.CREATE, profile, name, revision, reason)
        return name

    def _add_profile(
        self,
        op: Op,
        profile: model.ProfileSpec,
        name: str,
        revision: int,
        reason: str,
        uuid: str | None = None,
    ) -> None:
        owner = state_mod.Owner(profile.name, revision)
        self.plan.profile_actions.append(
            ProfileAction(
                op=op,
                name=name,
                reason=reason,
                groups=tuple(profile.groups()),
                description=state_mod.describe(profile.description, owner),
                uuid=uuid,
            )
        )

    def _superseded(self, logical: str, target: str) -> None:
        for old in self._revisions.get(logical, []):
            if old.name != target:
                self._delete_if_unused(
                    old,
                    'superseded by %s' % target,
                    'superseded by %s but still used by %%s; a later sync '
                    'deletes it' % target,
                )

    def _stray_profiles(self) -> None:
        listed = {p.name for p in self.desired.profiles}
        for logical, revisions in sorted(self._revisions.items()):
            if logical in listed:
                continue
            for old in revisions:
                if not self.prune:
                    self.plan.notes.append(
                        Problem(
                            'device profile %s' % old.name,
                            'not in the file; --prune deletes it',
                        )
                    )
                    continue
                self._delete_if_unused(
                    old,
                    'not in the file (pruned)',
                    'not in the file, but still used by %s; kept',
                )

    def _delete_if_unused(
        self, profile: state_mod.DeviceProfile, reason: str, kept: str
    ) -> None:
        subject = 'device profile %s' % profile.name
        usage = self.usage(profile.name)
        flavors = sorted(
            f.name
            for f in self.current.flavors_using(profile.name)
            if f.name not in self._leaving.get(profile.name, set())
        )
        if usage.in_use:
            self.plan.notes.append(Problem(subject, kept % usage))
        elif flavors:
            self.plan.notes.append(
                Problem(
                    subject,
                    kept
                    % ('flavor(s) %s, not managed here' % ', '.join(flavors)),
                )
            )
        else:
            self.plan.profile_actions.append(
                ProfileAction(
                    op=Op.DELETE,
                    name=profile.name,
                    reason=reason,
                    uuid=profile.uuid,
                )
            )

    # -- flavors ---------------------------------------------------------

    def _flavors(self, profile: model.ProfileSpec, target: str) -> None:
        for flavor in profile.flavors:
            specs = dict(flavor.extra_specs)
            specs.update(profile.flavor_extra_specs())
            specs.update(
                {
                    state_mod.DEVICE_PROFILE_SPEC: target,
                    state_mod.MANAGED_SPEC: 'true',
                    state_mod.PROFILE_SPEC: profile.name,
                }
            )
            self._flavor(flavor, specs)

    def _flavor(self, flavor: model.FlavorSpec, specs: dict[str, str]) -> None:
        existing = self.current.flavor_named(flavor.name)
        if existing is None:
            self.plan.flavor_actions.append(
                FlavorAction(Op.CREATE, flavor.name, 'new', flavor, specs)
            )
            return
        if not existing.managed:
            self.plan.errors.append(
                Problem(
                    'flavor %s' % flavor.name,
                    (
                        'a flavor of that name exists and is not managed by '
                        'orionx-cyborg (no %s=true extra spec): delete it or '
                        'rename the flavor in the file'
                        % state_mod.MANAGED_SPEC
                    ),
                )
            )
            return
        self._leave(existing, specs[state_mod.DEVICE_PROFILE_SPEC])
        if existing.shape() != flavor.shape():
            self.plan.flavor_actions.append(
                FlavorAction(
                    Op.REPLACE,
                    flavor.name,
                    'size changed (%s); Nova flavors '
                    'cannot change, servers keep their copy'
                    % _shape_change(existing, flavor),
                    flavor,
                    specs,
                    existing_id=existing.id,
                )
            )
            return
        unset = tuple(sorted(set(existing.extra_specs) - set(specs)))
        changed = {
            k: v for k, v in specs.items() if existing.extra_specs.get(k) != v
        }
        if not changed and not unset:
            self.plan.flavors_up_to_date += 1
            return
        self.plan.flavor_actions.append(
            FlavorAction(
                Op.UPDATE,
                flavor.name,
                _spec_change(changed, unset),
                flavor,
                specs,
                set_specs=changed,
                unset_specs=unset,
                existing_id=existing.id,
            )
        )

    def _leave(self, flavor: state_mod.Flavor, target: str | None) -> None:
        current = flavor.device_profile
        if current is not None and current != target:
            self._leaving.setdefault(current, set()).add(flavor.name)

    def _stray_flavors(self) -> None:
        listed = self.desired.flavor_names
        for flavor in self.current.flavors:
            if not flavor.managed or flavor.name in listed:
                continue
            if not self.prune:
                self.plan.notes.append(
                    Problem(
                        'flavor %s' % flavor.name,
                        'not in the file; --prune deletes it',
                    )
                )
                continue
            self._leave(flavor, None)
            self.plan.flavor_actions.append(
                FlavorAction(
                    Op.DELETE,
                    flavor.name,
                    'not in the file (pruned)',
                    existing_id=flavor.id,
                )
            )


def _revision(profile: state_mod.DeviceProfile) -> int:
    owner = profile.owner
    return owner.revision if owner is not None else 1


def _shape_change(old: state_mod.Flavor, new: model.FlavorSpec) -> str:
    names = ('vcpus', 'ram', 'disk', 'ephemeral', 'swap', 'is_public')
    return ', '.join(
        '%s %s -> %s' % (n, a, b)
        for n, a, b in zip(names, old.shape(), new.shape(), strict=True)
        if a != b
    )


def _spec_change(changed: Mapping[str, str], unset: tuple[str, ...]) -> str:
    parts = ['%s=%s' % item for item in sorted(changed.items())]
    parts += ['-%s' % key for key in unset]
    return 'extra specs: %s' % ', '.join(parts)
