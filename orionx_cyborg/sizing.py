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

"""How big a pooled vGPU is: from the device profile group of its ARQ.

A flavor's device profile group says, besides
``resources:CUSTOM_ORIONX_VGPU`` and the pool trait, how much GPU memory
and compute each vGPU gets (``accel:orionx_gmem_mib``,
``accel:orionx_compute_pct``, OrionX's ``ORION_GMEM`` and
``ORION_RATIO``). Cyborg accepts any ``accel:`` key and Nova ignores them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

GMEM_KEY = 'accel:orionx_gmem_mib'
COMPUTE_KEY = 'accel:orionx_compute_pct'


@dataclasses.dataclass(frozen=True)
class Size:
    gmem_mib: int
    compute_pct: int


class InvalidSize(ValueError):
    """A device profile group whose size cannot be served."""


def size_of_group(group: Mapping[str, str] | None, default: Size) -> Size:
    """The vGPU size a device profile group asks for.

    :param group: the group, or None when the profile is gone (its ARQs
        outlive it): the defaults apply then.
    :raises InvalidSize: for a value that is not a positive integer.
    """
    if group is None:
        return default
    return Size(
        gmem_mib=_positive(group, GMEM_KEY, default.gmem_mib),
        compute_pct=_positive(group, COMPUTE_KEY, default.compute_pct),
    )


def _positive(group: Mapping[str, str], key: str, default: int) -> int:
    raw = group.get(key)
    if raw is None:
        return default
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise InvalidSize('%s=%r is not an integer' % (key, raw)) from None
    if value <= 0:
        raise InvalidSize('%s=%r must be positive' % (key, raw))
    return value


def check_fits(
    size: Size, memory_totals: list[int], compute_totals: list[int]
) -> None:
    """Reject a size larger than every member of the pool.

    :raises InvalidSize: with the largest capacities, so the operator can
        fix the flavor.
    """
    if not memory_totals:
        raise InvalidSize('the pool has no member GPU')
    if size.gmem_mib > max(memory_totals):
        raise InvalidSize(
            '%s=%d exceeds the largest pool GPU (%d MiB)'
            % (GMEM_KEY, size.gmem_mib, max(memory_totals))
        )
    if size.compute_pct > max(compute_totals):
        raise InvalidSize(
            '%s=%d exceeds the largest pool GPU (%d%%)'
            % (COMPUTE_KEY, size.compute_pct, max(compute_totals))
        )
