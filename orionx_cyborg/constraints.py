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

"""What a pooled vGPU asks of the GPU that serves it.

A pooled vGPU's device profile group asks Placement only for an
entitlement on the VM's host; the GPU that serves it is chosen later, by
the attach service, among the pool's members. A group narrows that
choice with three keys, which Cyborg stores and Nova ignores::

    accel: orionx_gpu_traits_required = CUSTOM_GPU_AMD
    accel: orionx_gpu_traits_forbidden = CUSTOM_GPU_MODEL_INSTINCT_MI210
    accel: orionx_runtime = generic

The traits are those the driver puts on a member's providers (vendor,
model, product, memory; see :mod:`orionx_cyborg.resources`), comma- or
space-separated. The runtime names the attach service's runtime plugin
that must serve the vGPU; without it any configured runtime that serves
the GPU's vendor does. The pool's own trait and the health trait are not
constraints: the pool is chosen by the entitlement, health by the
allocator.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterable
from collections.abc import Mapping
from typing import Any

from orionx_cyborg import resources

REQUIRED_KEY = 'accel:orionx_gpu_traits_required'
FORBIDDEN_KEY = 'accel:orionx_gpu_traits_forbidden'
RUNTIME_KEY = 'accel:orionx_runtime'
KEYS = (REQUIRED_KEY, FORBIDDEN_KEY, RUNTIME_KEY)

_TRAIT_RE = re.compile(r'^CUSTOM_[A-Z0-9_]{1,248}$')
_RUNTIME_RE = re.compile(r'^[A-Za-z0-9_-]{1,64}$')
_SEPARATORS = re.compile(r'[\s,]+')

#: Traits a constraint may not name: the pool is chosen by the
#: entitlement and health by the allocator.
_NOT_CONSTRAINTS = (resources.POOL_TRAIT_PREFIX, resources.TRAIT_UNHEALTHY)

#: Vendor names a profiles file may use, by PCI vendor id.
VENDOR_NAMES = {
    'nvidia': '10de',
    'amd': '1002',
    'huawei': '19e5',
    'ascend': '19e5',
    'mthreads': '1ed5',
    'moorethreads': '1ed5',
}


class InvalidConstraint(ValueError):
    """A device profile group whose GPU constraint cannot be honoured."""


@dataclasses.dataclass(frozen=True)
class GpuConstraint:
    """Traits a serving GPU must carry and must not, and its runtime."""

    required: frozenset[str] = frozenset()
    forbidden: frozenset[str] = frozenset()
    runtime: str | None = None
    """The runtime plugin that must serve the vGPU; None: any that
    serves the GPU's vendor."""

    def __post_init__(self) -> None:
        for trait in self.required | self.forbidden:
            _check_trait(trait)
        both = self.required & self.forbidden
        if both:
            raise InvalidConstraint(
                'traits both required and forbidden: %s'
                % ', '.join(sorted(both))
            )
        if self.runtime is not None and not _RUNTIME_RE.match(self.runtime):
            raise InvalidConstraint(
                '%s=%r is not a runtime name' % (RUNTIME_KEY, self.runtime)
            )

    @property
    def empty(self) -> bool:
        """Whether any GPU of any served vendor will do."""
        return not (self.required or self.forbidden or self.runtime)

    def admits(self, traits: Iterable[str]) -> bool:
        """Whether a GPU whose providers carry *traits* may serve."""
        have = frozenset(traits)
        return self.required <= have and not (self.forbidden & have)

    def to_json(self) -> str | None:
        """The constraint as the ledger keeps it; None when empty."""
        if self.empty:
            return None
        data: dict[str, Any] = {
            'required': sorted(self.required),
            'forbidden': sorted(self.forbidden),
        }
        if self.runtime is not None:
            data['runtime'] = self.runtime
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_json(cls, text: str | None) -> GpuConstraint:
        """The constraint :meth:`to_json` wrote (None: no constraint)."""
        if not text:
            return NONE
        data = json.loads(text)
        return cls(
            required=frozenset(data.get('required', ())),
            forbidden=frozenset(data.get('forbidden', ())),
            runtime=data.get('runtime'),
        )

    def describe(self) -> str:
        """A short text for logs and rejections."""
        parts = ['+%s' % t for t in sorted(self.required)]
        parts += ['-%s' % t for t in sorted(self.forbidden)]
        if self.runtime:
            parts.append('runtime %s' % self.runtime)
        return ' '.join(parts) or 'any GPU'


NONE = GpuConstraint()


def of_group(group: Mapping[str, str] | None) -> GpuConstraint:
    """The GPU constraint of a device profile group (None: no group).

    :raises InvalidConstraint: for a value that is not a list of
        ``CUSTOM_`` traits, a trait both required and forbidden, or a
        malformed runtime name.
    """
    if group is None:
        return NONE
    runtime = str(group.get(RUNTIME_KEY) or '').strip() or None
    return GpuConstraint(
        required=_traits(group.get(REQUIRED_KEY)),
        forbidden=_traits(group.get(FORBIDDEN_KEY)),
        runtime=runtime,
    )


def group_keys(constraint: GpuConstraint) -> dict[str, str]:
    """The device profile keys that ask for *constraint*."""
    keys = {}
    if constraint.required:
        keys[REQUIRED_KEY] = ','.join(sorted(constraint.required))
    if constraint.forbidden:
        keys[FORBIDDEN_KEY] = ','.join(sorted(constraint.forbidden))
    if constraint.runtime:
        keys[RUNTIME_KEY] = constraint.runtime
    return keys


def vendor_id(name: str) -> str:
    """The PCI vendor id of a vendor name or id (``amd`` -> ``1002``).

    :raises InvalidConstraint: for an unknown vendor.
    """
    key = name.strip().lower().replace(' ', '').replace('_', '')
    if key in VENDOR_NAMES:
        return VENDOR_NAMES[key]
    if key in resources.VENDOR_TRAITS:
        return key
    raise InvalidConstraint(
        'unknown vendor %r (known: %s, or a PCI vendor id: %s)'
        % (
            name,
            ', '.join(sorted(VENDOR_NAMES)),
            ', '.join(sorted(resources.VENDOR_TRAITS)),
        )
    )


def vendor_trait(name: str) -> str:
    """The trait of a vendor, by name or PCI id (``amd`` ->
    ``CUSTOM_GPU_AMD``).

    :raises InvalidConstraint: for an unknown vendor.
    """
    return resources.vendor_trait(vendor_id(name))


def model_trait(model: str, vendor: str | None = None) -> str:
    """The trait of a model (``MI300X`` -> ``CUSTOM_GPU_MODEL_MI300X``).

    The model is the name the vendor's library reports (``orionx-cyborg
    catalogue`` lists them); an NPU vendor's model gets the NPU prefix.
    """
    kind = resources.device_kind(vendor_id(vendor)) if vendor else 'GPU'
    return resources.model_trait(model, kind)


def _traits(raw: str | None) -> frozenset[str]:
    if raw is None:
        return frozenset()
    return frozenset(t for t in _SEPARATORS.split(str(raw).strip()) if t)


def _check_trait(trait: str) -> None:
    if not _TRAIT_RE.match(trait):
        raise InvalidConstraint(
            '%r is not a CUSTOM_ trait (upper case, digits, _)' % trait
        )
    if trait.startswith(_NOT_CONSTRAINTS):
        raise InvalidConstraint(
            '%s is not a GPU constraint: the pool is chosen by the '
            'entitlement, health by the allocator' % trait
        )
