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

"""Can a device profile ever be served by what Cyborg reports?

Placement serves one request group from one resource provider, and all
of a server's groups from one host. So a profile is satisfiable when, on
some host, enough providers have its resource class, its required traits
and a total large enough; for a pooled vGPU, an entitlement must exist
and some member GPU of the pool must hold the size (memory and compute on
the same GPU, as the attach service leases them). Forbidden traits are
ignored: an unhealthy GPU is a passing state, so it only earns a warning.
"""

from __future__ import annotations

import collections
import dataclasses
from collections.abc import Iterable

from orionx_cyborg import clients
from orionx_cyborg import resources
from orionx_cyborg.clients import pools as pool_mod
from orionx_cyborg.profiles import model

#: Trait families worth listing when a required trait is missing.
FAMILIES = (
    resources.MODEL_TRAIT_PREFIX,
    resources.PRODUCT_TRAIT_PREFIX,
    resources.VGPU_TYPE_TRAIT_PREFIX,
    resources.POOL_TRAIT_PREFIX,
)
_MODE_HINTS = {
    resources.RC_PGPU: 'no GPU is in passthrough mode',
    resources.RC_VGPU: 'no GPU in vgpu mode offers a vGPU type',
    resources.RC_ENTITLEMENT: 'no host has [orionx_pool] entitlement > 0',
}


@dataclasses.dataclass(frozen=True)
class Provider:
    """A deployable: one resource provider in Placement."""

    name: str
    host: str
    resource_class: str
    total: int
    traits: frozenset[str]

    @property
    def healthy(self) -> bool:
        return resources.TRAIT_UNHEALTHY not in self.traits


@dataclasses.dataclass(frozen=True)
class Verdict:
    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Inventory:
    """Cyborg's report: every provider, and every pool's members."""

    providers: tuple[Provider, ...]
    pool_gpus: tuple[pool_mod.PoolGpu, ...]

    @classmethod
    def from_cyborg(
        cls,
        devices: Iterable[clients.Device],
        deployables: Iterable[clients.Deployable],
        pools: Iterable[str],
    ) -> Inventory:
        devices = list(devices)
        deployables = list(deployables)
        view = pool_mod.build_view(devices, deployables, pools)
        prefixes = {
            resources.suffixed(
                str(d.std_board_info[resources.BOARD_DEPLOYABLE_PREFIX]), ''
            ): d.hostname
            for d in devices
            if d.std_board_info.get(resources.BOARD_DEPLOYABLE_PREFIX)
        }
        providers = tuple(
            Provider(
                d.name,
                _host_of(d.name, prefixes),
                d.resource_class or '',
                d.num_accelerators,
                d.traits,
            )
            for d in deployables
        )
        return cls(providers, tuple(view.gpus.values()))

    def check(self, profile: model.ProfileSpec) -> Verdict:
        """Why *profile* can never be served, and what to watch."""
        if not self.providers:
            return Verdict(
                errors=(
                    'Cyborg reports no deployable at all: are cyborg-agent and '
                    'orionx_gpu_driver running ([agent] enabled_drivers)?',
                )
            )
        errors, warnings = self._check_groups(profile)
        if profile.kind is model.Kind.POOLED and not errors:
            errors, warnings = self._check_pool(profile)
        return Verdict(tuple(errors), tuple(warnings))

    def _check_groups(
        self, profile: model.ProfileSpec
    ) -> tuple[list[str], list[str]]:
        demand = profile.demand
        rc = demand.resource_class
        candidates = [p for p in self.providers if p.resource_class == rc]
        if not candidates:
            return [
                'no resource provider has resource class %s (%s)'
                % (rc, _MODE_HINTS.get(rc, 'nothing reports it'))
            ], []
        matching = [p for p in candidates if demand.required <= p.traits]
        if not matching:
            return [_missing_traits(rc, demand.required, candidates)], []
        big = [p for p in matching if p.total >= demand.amount]
        if not big:
            return [
                'it needs %d %s from one provider; the largest with '
                '%s has %d'
                % (
                    demand.amount,
                    rc,
                    ', '.join(sorted(demand.required)),
                    max(p.total for p in matching),
                )
            ], []
        needed = profile.group_count
        per_host = collections.Counter(p.host for p in big)
        host, most = per_host.most_common(1)[0]
        if most < needed:
            return [
                'it needs %d %s providers with %s on one host; the '
                'most on one host is %d (%s)'
                % (
                    needed,
                    rc,
                    ', '.join(sorted(demand.required)) or 'any trait',
                    most,
                    host,
                )
            ], []
        if all(not p.healthy for p in big):
            return [], [
                'every provider that could serve it is unhealthy '
                '(%s) now' % resources.TRAIT_UNHEALTHY
            ]
        return [], []

    def _check_pool(
        self, profile: model.ProfileSpec
    ) -> tuple[list[str], list[str]]:
        size = profile.size
        if size is None or profile.pool is None:
            return ['a pooled profile needs a pool and a size'], []
        members = [g for g in self.pool_gpus if g.pool == profile.pool]
        if not members:
            return [
                'pool %s has no member GPU (no GPU in pool mode with '
                '[orionx_pool] name = %s)' % (profile.pool, profile.pool)
            ], []
        wanted = profile.gpu_constraint
        members = [g for g in members if wanted.admits(g.traits)]
        if not members:
            return [
                'no member GPU of pool %s meets %s'
                % (profile.pool, wanted.describe())
            ], []
        fits = [
            g
            for g in members
            if g.memory_mib >= size.gmem_mib
            and g.compute_pct >= size.compute_pct
        ]
        if not fits:
            return [
                'no member GPU of pool %s holds %d MiB and %d%% (the '
                'largest have %d MiB and %d%%)'
                % (
                    profile.pool,
                    size.gmem_mib,
                    size.compute_pct,
                    max(g.memory_mib for g in members),
                    max(g.compute_pct for g in members),
                )
            ], []
        if all(not g.healthy for g in fits):
            return [], ['every pool GPU that holds it is unhealthy now']
        return [], []


def _host_of(name: str, prefixes: dict[str, str]) -> str:
    for prefix, host in prefixes.items():
        if name.startswith(prefix):
            return host
    # Entitlements are named <host>_ORIONX_VGPU_<pool>.
    marker = '_%s_' % resources.ENTITLEMENT_NAME_PART
    if marker in name:
        return name.rsplit(marker, 1)[0]
    return name


def _missing_traits(
    rc: str, required: frozenset[str], candidates: list[Provider]
) -> str:
    offered: collections.Counter[str] = collections.Counter()
    missing = sorted(
        t for t in required if not any(t in p.traits for p in candidates)
    )
    families = {f for f in FAMILIES for t in required if t.startswith(f)}
    for provider in candidates:
        offered.update(
            t
            for t in provider.traits
            if any(t.startswith(f) for f in families)
        )
    text = 'no %s provider has %s' % (
        rc,
        ', '.join(missing)
        or 'all of %s together' % ', '.join(sorted(required)),
    )
    if offered:
        text += ' (reported: %s)' % ', '.join(
            '%s x%d' % item for item in sorted(offered.items())
        )
    return text
