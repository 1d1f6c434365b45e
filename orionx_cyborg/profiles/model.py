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

"""The profiles file: what device profiles and flavors should exist.

A YAML document lists device profiles of three kinds, each with the Nova
flavors that use it::

    defaults:
      flavor: {vcpus: 8, ram: 65536, disk: 100}
    profiles:
      - name: h200-1x
        whole_gpu: {model: H200, count: 1}
        flavors: [{name: g1.h200.1x, vcpus: 24, ram: 262144}]
      - name: a100-20c
        vgpu: {type: NVIDIA A100DX-20C}
        flavors: [{name: v1.a100.20c}]
      - name: pool-16g-25pct
        pooled: {size: 16g-25pct, pool: default}
        flavors: [{name: p1.16g-25pct}]
      - name: pool-amd-16g
        pooled:
          size: 16g-25pct
          vendor: amd
          model: Instinct MI300X
          gpu_traits: {CUSTOM_GPU_MEMORY_192GB: required}
          runtime: generic
        flavors: [{name: p1.amd.16g}]

The request groups are derived here with the driver's own naming rules
(:mod:`orionx_cyborg.resources`), so a profile asks for exactly
the traits the driver reports. Every group forbids
``CUSTOM_ORIONX_UNHEALTHY``: nothing new lands on a draining GPU.

A pooled profile's ``vendor``, ``model`` and ``gpu_traits`` do not go to
Placement (the entitlement is all Placement sees): they become the
group's GPU constraint (:mod:`orionx_cyborg.constraints`), which the
attach service honours when it picks the pool GPU; ``runtime`` names the
attach service's runtime plugin that must serve the vGPU.
"""

from __future__ import annotations

import dataclasses
import enum
import re
from collections.abc import Mapping
from typing import Any

import yaml

from orionx_cyborg import constraints
from orionx_cyborg import exception
from orionx_cyborg import resources
from orionx_cyborg import sizing
from orionx_cyborg.i18n import _

#: Cyborg's rule for device profile names, less the revision separator.
NAME_RE = re.compile(r'^[A-Za-z0-9_-]{1,200}$')
REVISION_SEPARATOR = '--r'
POOL_RE = re.compile(r'^[A-Za-z0-9_]{1,64}$')
SIZE_RE = re.compile(
    r'^(?P<mem>\d+)(?P<unit>g|gb|gib|m|mb|mib)-(?P<pct>\d+)(pct|%)$',
    re.IGNORECASE,
)
MAX_COMPUTE_PCT = 1600
#: Extra-spec namespaces the tool writes itself.
RESERVED_SPEC_PREFIXES = ('accel:', 'orionx:')
TRAIT_VALUES = ('required', 'forbidden')


class InvalidProfileFile(exception.OrionXException):
    msg_fmt = _('%(source)s is not a valid profiles file:\n%(problems)s')


class Kind(enum.Enum):
    """What a device profile asks for."""

    WHOLE_GPU = 'whole_gpu'
    VGPU = 'vgpu'
    POOLED = 'pooled'


@dataclasses.dataclass(frozen=True)
class FlavorSpec:
    """A Nova flavor that carries a device profile."""

    name: str
    vcpus: int
    ram: int
    """MiB."""
    disk: int
    """GB."""
    ephemeral: int = 0
    swap: int = 0
    is_public: bool = True
    extra_specs: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def shape(self) -> tuple[int, int, int, int, int, bool]:
        """What Nova cannot change on an existing flavor."""
        return (
            self.vcpus,
            self.ram,
            self.disk,
            self.ephemeral,
            self.swap,
            self.is_public,
        )


@dataclasses.dataclass(frozen=True)
class Demand:
    """What one request group needs from one resource provider."""

    resource_class: str
    amount: int
    required: frozenset[str]


@dataclasses.dataclass(frozen=True)
class ProfileSpec:
    """A device profile as the file declares it."""

    name: str
    kind: Kind
    count: int
    """GPUs or vGPUs per instance."""
    required: tuple[str, ...]
    """Required traits, besides the pool trait of a pooled profile."""
    forbidden: tuple[str, ...]
    flavors: tuple[FlavorSpec, ...]
    description: str = ''
    pool: str | None = None
    size: sizing.Size | None = None
    gpu_constraint: constraints.GpuConstraint = constraints.NONE
    """What a pooled vGPU asks of the pool GPU that serves it."""

    @property
    def demand(self) -> Demand:
        """The need of one request group (every group asks the same)."""
        if self.kind is Kind.POOLED:
            return Demand(
                resources.RC_ENTITLEMENT, self.count, frozenset(self.required)
            )
        rc = (
            resources.RC_PGPU
            if self.kind is Kind.WHOLE_GPU
            else resources.RC_VGPU
        )
        return Demand(rc, 1, frozenset(self.required))

    @property
    def group_count(self) -> int:
        # Cyborg makes one ARQ per unit of a group, and a group is served
        # by one resource provider: a whole GPU's provider has one unit
        # and NVIDIA runs one vGPU of a VM per GPU, so those get a group
        # per unit; pooled vGPUs all come from one entitlement.
        return 1 if self.kind is Kind.POOLED else self.count

    def groups(self) -> list[dict[str, str]]:
        """The device profile's request groups, as Cyborg stores them."""
        demand = self.demand
        group = {'resources:%s' % demand.resource_class: str(demand.amount)}
        for trait in self.required:
            group['trait:%s' % trait] = 'required'
        for trait in self.forbidden:
            group['trait:%s' % trait] = 'forbidden'
        if self.size is not None:
            group[sizing.GMEM_KEY] = str(self.size.gmem_mib)
            group[sizing.COMPUTE_KEY] = str(self.size.compute_pct)
        group.update(constraints.group_keys(self.gpu_constraint))
        return [dict(group) for _ in range(self.group_count)]

    def flavor_extra_specs(self) -> dict[str, str]:
        """Extra specs the profile adds to each of its flavors."""
        if self.group_count > 1:
            # Without it Nova's default (none) lets two groups share a
            # provider: two vGPUs of one VM on one GPU.
            return {'group_policy': 'isolate'}
        return {}


@dataclasses.dataclass(frozen=True)
class ProfileFile:
    source: str
    profiles: tuple[ProfileSpec, ...]

    def profile(self, name: str) -> ProfileSpec:
        for profile in self.profiles:
            if profile.name == name:
                return profile
        raise KeyError(name)

    @property
    def flavor_names(self) -> frozenset[str]:
        return frozenset(f.name for p in self.profiles for f in p.flavors)


def parse_size(text: str) -> sizing.Size:
    """``16g-25pct`` -> 16384 MiB and 25 %; ``512m-10pct`` -> 512 MiB.

    :raises ValueError: text that is not such a size.
    """
    match = SIZE_RE.match(text.strip())
    if match is None:
        raise ValueError(
            '%r is not a size like 16g-25pct (GiB or MiB of GPU memory, '
            'percent of a GPU\'s compute)' % text
        )
    memory = int(match.group('mem'))
    if match.group('unit').lower().startswith('g'):
        memory *= 1024
    return sizing.Size(gmem_mib=memory, compute_pct=int(match.group('pct')))


def revision_name(name: str, revision: int) -> str:
    """The Cyborg name of a profile's *revision* (1 keeps the name)."""
    if revision <= 1:
        return name
    return '%s%s%d' % (name, REVISION_SEPARATOR, revision)


def load(path: str) -> ProfileFile:
    """Read and check a profiles file.

    :raises InvalidProfileFile: with every problem found, by location.
    """
    try:
        with open(path, encoding='utf-8') as stream:
            data = yaml.safe_load(stream)
    except OSError as err:
        raise InvalidProfileFile(source=path, problems='  %s' % err) from err
    except yaml.YAMLError as err:
        raise InvalidProfileFile(source=path, problems='  %s' % err) from err
    return parse(data, path)


def parse(data: Any, source: str = '<profiles>') -> ProfileFile:
    """Check a decoded profiles document.

    :raises InvalidProfileFile: with every problem found, by location.
    """
    reader = _Reader()
    profiles = reader.document(data)
    if reader.problems:
        raise InvalidProfileFile(
            source=source,
            problems='\n'.join('  %s' % p for p in reader.problems),
        )
    return ProfileFile(source=source, profiles=tuple(profiles))


class _Reader:
    """Collects every problem of a document instead of stopping at one."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self._flavor_defaults: dict[str, Any] = {}

    def fail(self, where: str, message: str) -> None:
        self.problems.append('%s: %s' % (where, message))

    # -- structure -------------------------------------------------------

    def mapping(
        self, value: Any, where: str, keys: tuple[str, ...]
    ) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.fail(where, 'expected a mapping')
            return None
        for key in value:
            if key not in keys:
                self.fail(
                    where,
                    'unknown key %r (expected: %s)' % (key, ', '.join(keys)),
                )
        return value

    def integer(
        self, value: Any, where: str, minimum: int, maximum: int | None = None
    ) -> int | None:
        if value is None:
            self.fail(where, 'required')
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(where, 'expected an integer, got %r' % (value,))
            return None
        if value < minimum or (maximum is not None and value > maximum):
            bound = (
                'at least %d' % minimum
                if maximum is None
                else 'from %d to %d' % (minimum, maximum)
            )
            self.fail(where, 'must be %s, got %d' % (bound, value))
            return None
        return value

    def string(self, value: Any, where: str) -> str | None:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value.strip():
            self.fail(where, 'expected a non-empty string')
            return None
        return value.strip()

    # -- document --------------------------------------------------------

    def document(self, data: Any) -> list[ProfileSpec]:
        top = self.mapping(data, 'file', ('defaults', 'profiles'))
        if top is None:
            return []
        defaults = self.mapping(
            top.get('defaults', {}), 'defaults', ('flavor',)
        )
        if defaults is not None:
            flavor = self.mapping(
                defaults.get('flavor', {}), 'defaults.flavor', _FLAVOR_KEYS[1:]
            )
            self._flavor_defaults = dict(flavor or {})
        items = top.get('profiles')
        if not isinstance(items, list) or not items:
            self.fail('profiles', 'expected a non-empty list')
            return []
        profiles = [
            p
            for i, item in enumerate(items)
            if (p := self.profile(item, 'profiles[%d]' % i))
        ]
        self._check_unique(profiles)
        return profiles

    def _check_unique(self, profiles: list[ProfileSpec]) -> None:
        seen: set[str] = set()
        flavors: set[str] = set()
        for profile in profiles:
            if profile.name in seen:
                self.fail('profile %s' % profile.name, 'defined twice')
            seen.add(profile.name)
            for flavor in profile.flavors:
                if flavor.name in flavors:
                    self.fail('flavor %s' % flavor.name, 'defined twice')
                flavors.add(flavor.name)

    def profile(self, item: Any, where: str) -> ProfileSpec | None:
        kinds = tuple(k.value for k in Kind)
        entry = self.mapping(
            item, where, ('name', 'description', 'traits', 'flavors') + kinds
        )
        if entry is None:
            return None
        name = self.string(entry.get('name'), where + '.name')
        if name is None:
            return None
        where = '%s (%s)' % (where, name)
        if not NAME_RE.match(name) or REVISION_SEPARATOR in name:
            self.fail(
                where + '.name',
                'use 1-200 letters, digits, "-" or "_" (Cyborg\'s '
                'rule), without "%s"' % REVISION_SEPARATOR,
            )
        # Every part is read, so that one run reports every problem.
        extra_required, forbidden = self.traits(
            entry.get('traits', {}), where + '.traits'
        )
        flavors = self.flavors(entry.get('flavors', []), where + '.flavors')
        chosen = [k for k in Kind if k.value in entry]
        if len(chosen) != 1:
            self.fail(where, 'give exactly one of %s' % ', '.join(kinds))
            return None
        kind = chosen[0]
        parsed = _KIND_READERS[kind](
            self, entry[kind.value], '%s.%s' % (where, kind.value)
        )
        if parsed is None:
            return None
        count, required, pool, size, gpu_constraint = parsed
        return ProfileSpec(
            name=name,
            kind=kind,
            count=count,
            required=tuple(sorted(set(required) | set(extra_required))),
            forbidden=tuple(
                sorted(set(forbidden) | {resources.TRAIT_UNHEALTHY})
            ),
            flavors=flavors,
            description=str(entry.get('description', '')).strip(),
            pool=pool,
            size=size,
            gpu_constraint=gpu_constraint or constraints.NONE,
        )

    def traits(self, value: Any, where: str) -> tuple[list[str], list[str]]:
        required: list[str] = []
        forbidden: list[str] = []
        if not isinstance(value, dict):
            self.fail(where, 'expected a mapping of trait: required|forbidden')
            return required, forbidden
        for trait, state in value.items():
            if not str(trait).startswith('CUSTOM_'):
                self.fail(
                    where,
                    '%s: Cyborg accepts only CUSTOM_ traits '
                    'in device profiles' % trait,
                )
            elif state not in TRAIT_VALUES:
                self.fail(where, '%s: expected required or forbidden' % trait)
            elif trait == resources.TRAIT_UNHEALTHY and state == 'required':
                self.fail(where, '%s is always forbidden' % trait)
            else:
                (required if state == 'required' else forbidden).append(
                    str(trait)
                )
        return required, forbidden

    def count(self, body: dict[str, Any], where: str) -> int:
        value = self.integer(body.get('count', 1), where + '.count', 1, 64)
        return value or 1

    def whole_gpu(self, value: Any, where: str) -> _Parsed | None:
        body = self.mapping(value, where, ('model', 'product_id', 'count'))
        if body is None:
            return None
        required = []
        if 'model' in body:
            model = self.string(body['model'], where + '.model')
            if model:
                required.append(resources.model_trait(model))
        if 'product_id' in body:
            product = self.string(body['product_id'], where + '.product_id')
            if product and not re.match(r'^[0-9A-Fa-f]{4}$', product):
                self.fail(
                    where + '.product_id',
                    'expected a 4-digit PCI device id like 2335',
                )
            elif product:
                required.append(resources.product_trait(product))
        return self.count(body, where), required, None, None, None

    def vgpu(self, value: Any, where: str) -> _Parsed | None:
        body = self.mapping(value, where, ('type', 'count'))
        if body is None:
            return None
        name = self.string(body.get('type'), where + '.type')
        if name is None:
            return None
        trait = resources.vgpu_type_trait(name)
        return self.count(body, where), [trait], None, None, None

    def pooled(self, value: Any, where: str) -> _Parsed | None:
        body = self.mapping(
            value,
            where,
            ('size', 'gmem_mib', 'compute_pct', 'pool', 'count')
            + _CONSTRAINT_KEYS,
        )
        if body is None:
            return None
        pool = self.string(body.get('pool', 'default'), where + '.pool')
        if pool is not None and not POOL_RE.match(pool):
            self.fail(
                where + '.pool',
                'use 1-64 letters, digits or "_" ([orionx_pool] name)',
            )
            pool = None
        size = self.size(body, where)
        gpu_constraint = self.gpu_constraint(body, where)
        if pool is None or size is None or gpu_constraint is None:
            return None
        required = [resources.pool_trait(pool)]
        return self.count(body, where), required, pool, size, gpu_constraint

    def gpu_constraint(
        self, body: dict[str, Any], where: str
    ) -> constraints.GpuConstraint | None:
        """The GPU constraint of a pooled profile; None if invalid."""
        required: set[str] = set()
        forbidden: set[str] = set()
        vendor = None
        try:
            if 'vendor' in body:
                vendor = self.string(body['vendor'], where + '.vendor')
                if vendor:
                    required.add(constraints.vendor_trait(vendor))
            if 'model' in body:
                model_name = self.string(body['model'], where + '.model')
                if model_name:
                    required.add(constraints.model_trait(model_name, vendor))
        except constraints.InvalidConstraint as err:
            self.fail(where, str(err))
            return None
        extra_required, extra_forbidden = self.traits(
            body.get('gpu_traits', {}), where + '.gpu_traits'
        )
        required.update(extra_required)
        forbidden.update(extra_forbidden)
        runtime = None
        if 'runtime' in body:
            runtime = self.string(body['runtime'], where + '.runtime')
        try:
            return constraints.GpuConstraint(
                required=frozenset(required),
                forbidden=frozenset(forbidden),
                runtime=runtime,
            )
        except constraints.InvalidConstraint as err:
            self.fail(where, str(err))
            return None

    def size(self, body: dict[str, Any], where: str) -> sizing.Size | None:
        if 'size' in body:
            if 'gmem_mib' in body or 'compute_pct' in body:
                self.fail(
                    where, 'give size or gmem_mib and compute_pct, not both'
                )
                return None
            try:
                size = parse_size(str(body['size']))
            except ValueError as err:
                self.fail(where + '.size', str(err))
                return None
        else:
            gmem = self.integer(body.get('gmem_mib'), where + '.gmem_mib', 1)
            pct = self.integer(
                body.get('compute_pct'),
                where + '.compute_pct',
                1,
                MAX_COMPUTE_PCT,
            )
            if gmem is None or pct is None:
                return None
            size = sizing.Size(gmem_mib=gmem, compute_pct=pct)
        if size.gmem_mib < 1 or not 1 <= size.compute_pct <= MAX_COMPUTE_PCT:
            self.fail(
                where + '.size',
                'memory must be positive and '
                'compute from 1 to %d percent' % MAX_COMPUTE_PCT,
            )
            return None
        return size

    def flavors(self, value: Any, where: str) -> tuple[FlavorSpec, ...]:
        if not isinstance(value, list):
            self.fail(where, 'expected a list')
            return ()
        flavors = []
        for i, item in enumerate(value):
            flavor = self.flavor(item, '%s[%d]' % (where, i))
            if flavor is not None:
                flavors.append(flavor)
        return tuple(flavors)

    def flavor(self, item: Any, where: str) -> FlavorSpec | None:
        entry = self.mapping(item, where, _FLAVOR_KEYS)
        if entry is None:
            return None
        merged = dict(self._flavor_defaults)
        merged.update(entry)
        name = self.string(merged.get('name'), where + '.name')
        if name is not None and len(name) > 255:
            self.fail(where + '.name', 'at most 255 characters')
        values = {
            key: self.integer(
                merged.get(key, default), '%s.%s' % (where, key), minimum
            )
            for key, default, minimum in (
                ('vcpus', None, 1),
                ('ram', None, 1),
                ('disk', 0, 0),
                ('ephemeral', 0, 0),
                ('swap', 0, 0),
            )
        }
        is_public = merged.get('is_public', True)
        if not isinstance(is_public, bool):
            self.fail(where + '.is_public', 'expected true or false')
        specs = self.extra_specs(
            merged.get('extra_specs', {}), where + '.extra_specs'
        )
        if name is None or any(v is None for v in values.values()):
            return None
        return FlavorSpec(
            name=name,
            vcpus=int(values['vcpus'] or 0),
            ram=int(values['ram'] or 0),
            disk=int(values['disk'] or 0),
            ephemeral=int(values['ephemeral'] or 0),
            swap=int(values['swap'] or 0),
            is_public=bool(is_public),
            extra_specs=specs,
        )

    def extra_specs(self, value: Any, where: str) -> dict[str, str]:
        if not isinstance(value, dict):
            self.fail(where, 'expected a mapping')
            return {}
        specs = {}
        for key, spec_value in value.items():
            key = str(key)
            if key.startswith(RESERVED_SPEC_PREFIXES):
                self.fail(
                    where,
                    '%s: accel: and orionx: keys are set by the tool' % key,
                )
                continue
            if isinstance(spec_value, bool):
                spec_value = 'true' if spec_value else 'false'
            specs[key] = str(spec_value)
        return specs


_Parsed = tuple[
    int,
    list[str],
    str | None,
    sizing.Size | None,
    constraints.GpuConstraint | None,
]
#: Keys of a pooled profile that narrow the pool GPU that serves it.
_CONSTRAINT_KEYS = ('vendor', 'model', 'gpu_traits', 'runtime')
_FLAVOR_KEYS = (
    'name',
    'vcpus',
    'ram',
    'disk',
    'ephemeral',
    'swap',
    'is_public',
    'extra_specs',
)
_KIND_READERS = {
    Kind.WHOLE_GPU: _Reader.whole_gpu,
    Kind.VGPU: _Reader.vgpu,
    Kind.POOLED: _Reader.pooled,
}
