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

"""Errors for misuse of the allocator (bugs in the caller, not capacity).

Capacity problems are not errors: :meth:`Allocator.allocate` returns a
:class:`~orionx_cyborg.allocator.models.Rejection` for them.
"""

from __future__ import annotations


class AllocatorError(Exception):
    """Base class of the allocator's errors."""


class UnknownGpuError(AllocatorError, KeyError):
    """The GPU id is not in the pool."""

    def __init__(self, gpu_id: str) -> None:
        super().__init__('GPU %s is not in the pool' % gpu_id)
        self.gpu_id = gpu_id

    def __str__(self) -> str:
        return str(self.args[0])


class DuplicateGpuError(AllocatorError, ValueError):
    """A GPU with this id is already in the pool."""

    def __init__(self, gpu_id: str) -> None:
        super().__init__('GPU %s is already in the pool' % gpu_id)
        self.gpu_id = gpu_id


class CapacityError(AllocatorError, ValueError):
    """A take or give would leave a GPU outside ``[0, capacity]``.

    A give that overflows means a slice was released twice or was never
    allocated here.
    """

    def __init__(self, gpu_id: str, memory_mib: int, compute_pct: int) -> None:
        super().__init__(
            'the free room of GPU %s cannot change by %+d MiB and %+d%% '
            'compute' % (gpu_id, memory_mib, compute_pct)
        )
        self.gpu_id = gpu_id


class UnknownPolicyError(AllocatorError, ValueError):
    """No policy is registered under this name."""

    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(
            'unknown allocation policy %r (known: %s)'
            % (name, ', '.join(known))
        )
        self.name = name
