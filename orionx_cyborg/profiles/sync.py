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

"""``profiles sync``: read, check, plan, then apply in a safe order.

New profiles come first, then flavors (which name them), then deletions
(nothing deleted is named any more). A failure stops the run: what was
done is reported, and running the sync again finishes the job, since
every step is planned from what exists.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Protocol

from orionx_cyborg import exception
from orionx_cyborg.i18n import _
from orionx_cyborg.profiles import inventory as inventory_mod
from orionx_cyborg.profiles import model
from orionx_cyborg.profiles import plan as plan_mod
from orionx_cyborg.profiles import state as state_mod


class CloudApi(Protocol):
    """What the sync needs from the cloud (:class:`.cloud.Cloud`)."""

    def state(self) -> state_mod.CloudState: ...

    def inventory(self, pools: frozenset[str]) -> inventory_mod.Inventory: ...

    def usage(self) -> dict[str, state_mod.Usage]: ...

    def keep_trait(self) -> None: ...

    def create_profile(
        self, name: str, groups: tuple[dict[str, str], ...], description: str
    ) -> None: ...

    def delete_profile(self, uuid: str) -> None: ...

    def create_flavor(
        self, flavor: model.FlavorSpec, extra_specs: dict[str, str]
    ) -> str: ...

    def delete_flavor(self, flavor_id: str) -> None: ...

    def update_flavor_specs(
        self, flavor_id: str, set_specs: dict[str, str], unset: tuple[str, ...]
    ) -> None: ...


class ApplyFailed(exception.OrionXException):
    msg_fmt = _('%(action)s: %(error)s')


@dataclasses.dataclass
class Result:
    plan: plan_mod.Plan
    dry_run: bool
    done: list[str] = dataclasses.field(default_factory=list)
    failure: str | None = None

    @property
    def ok(self) -> bool:
        return not self.plan.errors and self.failure is None


class _Usage:
    """Lists usage once, and only if the plan asks."""

    def __init__(self, cloud: CloudApi) -> None:
        self._cloud = cloud
        self._usage: dict[str, state_mod.Usage] | None = None

    def __call__(self, name: str) -> state_mod.Usage:
        if self._usage is None:
            self._usage = self._cloud.usage()
        return self._usage.get(name, state_mod.Usage())


def sync(
    cloud: CloudApi,
    desired: model.ProfileFile,
    *,
    prune: bool = False,
    dry_run: bool = False,
    allow_unsatisfiable: bool = False,
) -> Result:
    """Make Cyborg's profiles and Nova's flavors match *desired*.

    :raises CloudError, ServiceUnavailable, RequestFailed: reading failed
        (nothing was changed).
    """
    current = cloud.state()
    pools = frozenset(p.pool for p in desired.profiles if p.pool)
    inventory = cloud.inventory(pools)
    verdicts = {p.name: inventory.check(p) for p in desired.profiles}
    plan = plan_mod.Planner(
        desired,
        current,
        verdicts,
        _Usage(cloud),
        prune=prune,
        allow_unsatisfiable=allow_unsatisfiable,
    ).run()
    result = Result(plan=plan, dry_run=dry_run)
    if not dry_run:
        try:
            apply(cloud, plan, result.done.append)
        except ApplyFailed as err:
            result.failure = str(err)
    return result


def apply(
    cloud: CloudApi, plan: plan_mod.Plan, done: Callable[[str], None]
) -> None:
    """Carry out *plan*; call *done* with each finished step.

    :raises ApplyFailed: at the first step that fails.
    """
    steps: list[tuple[str, Callable[[], object]]] = []
    if plan.keep_trait:
        steps.append(
            (
                'create placement provider %s' % state_mod.TRAIT_KEEPER,
                cloud.keep_trait,
            )
        )
    profiles = plan.profile_actions
    flavors = plan.flavor_actions
    for op in (plan_mod.Op.CREATE, plan_mod.Op.REPLACE):
        steps += [_profile_step(cloud, a) for a in profiles if a.op is op]
    steps += [
        _flavor_step(cloud, a)
        for a in flavors
        if a.op is not plan_mod.Op.DELETE
    ]
    steps += [
        _flavor_step(cloud, a) for a in flavors if a.op is plan_mod.Op.DELETE
    ]
    steps += [
        _profile_step(cloud, a) for a in profiles if a.op is plan_mod.Op.DELETE
    ]
    for label, step in steps:
        try:
            step()
        except exception.OrionXException as err:
            raise ApplyFailed(action=label, error=err) from err
        done(label)


def _profile_step(
    cloud: CloudApi, action: plan_mod.ProfileAction
) -> tuple[str, Callable[[], object]]:
    label = '%s device profile %s' % (action.op.value, action.name)
    groups = tuple(dict(g) for g in action.groups)

    def run() -> None:
        if action.op in (plan_mod.Op.DELETE, plan_mod.Op.REPLACE):
            cloud.delete_profile(action.uuid or action.name)
        if action.op in (plan_mod.Op.CREATE, plan_mod.Op.REPLACE):
            cloud.create_profile(action.name, groups, action.description)

    return label, run


def _flavor_step(
    cloud: CloudApi, action: plan_mod.FlavorAction
) -> tuple[str, Callable[[], object]]:
    label = '%s flavor %s' % (action.op.value, action.name)

    def run() -> None:
        if action.op in (plan_mod.Op.DELETE, plan_mod.Op.REPLACE):
            cloud.delete_flavor(action.existing_id or action.name)
        if action.op in (plan_mod.Op.CREATE, plan_mod.Op.REPLACE):
            if action.flavor is not None:
                cloud.create_flavor(action.flavor, dict(action.extra_specs))
        if action.op is plan_mod.Op.UPDATE:
            cloud.update_flavor_specs(
                action.existing_id or action.name,
                dict(action.set_specs),
                action.unset_specs,
            )

    return label, run
