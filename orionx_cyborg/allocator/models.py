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

"""Typed, frozen inputs and outputs of the pool allocator.

The attach service builds :class:`AllocatorGpu` records from its view of the pool
(Cyborg deployables and Placement inventories and usages), asks for a
:class:`VgpuRequest`, and gets either a :class:`Grant` (which GPU holds
each slice) or a :class:`Rejection` with a typed reason it can show to the
user and use to decide whether waiting can help.
"""

from __future__ import annotations

import dataclasses
import enum


class HostAffinity(enum.Enum):
    """Where the slices of a multi-vGPU request may live.

    Two slices of one request never share a GPU (one guest cannot use two
    slices of the same card, as in HAMi), so this only says how the GPUs
    relate to hosts.
    """

    #: Any GPUs, on any hosts.
    ANY = 'any'
    #: All slices on GPUs of one host (NVLink / peer-to-peer jobs).
    SAME_HOST = 'same-host'
    #: Each slice on a different host (failure isolation).
    DIFFERENT_HOSTS = 'different-hosts'


class RejectionReason(enum.Enum):
    """Why a request cannot be placed now, from most to least permanent."""

    #: No GPU in the pool has an allowed model.
    NO_GPU_OF_MODEL = 'no-gpu-of-model'
    #: GPUs of an allowed model exist, but none is healthy.
    NO_HEALTHY_GPU = 'no-healthy-gpu'
    #: One slice is larger than the capacity of every eligible GPU.
    EXCEEDS_GPU_CAPACITY = 'exceeds-gpu-capacity'
    #: The free memory of all eligible GPUs together is too small.
    INSUFFICIENT_MEMORY = 'insufficient-memory'
    #: The free compute of all eligible GPUs together is too small.
    INSUFFICIENT_COMPUTE = 'insufficient-compute'
    #: Enough memory and compute in total, but not together on one GPU.
    FRAGMENTED = 'fragmented'
    #: Some GPUs fit one slice, but fewer than the request's count.
    INSUFFICIENT_GPUS = 'insufficient-gpus'
    #: Enough GPUs fit a slice, but no host has ``count`` of them.
    AFFINITY_UNSATISFIABLE = 'affinity-unsatisfiable'
    #: Enough GPUs fit a slice, but on fewer than ``count`` hosts.
    ANTI_AFFINITY_UNSATISFIABLE = 'anti-affinity-unsatisfiable'


@dataclasses.dataclass(frozen=True, slots=True)
class AllocatorGpu:
    """One pool member GPU as the allocator sees it.

    Capacities are what the pool may hand out (Placement's inventory
    totals: usable MiB after the runtime's headroom, and 100 x the compute
    oversubscription), not raw hardware numbers.
    """

    gpu_id: str
    host: str
    model: str
    memory_mib: int
    free_memory_mib: int
    compute_pct: int = 100
    free_compute_pct: int = 100
    healthy: bool = True
    #: A topology label shorter than "another host" and longer than "this
    #: host", e.g. the rack or top-of-rack switch; '' when unknown.
    locality: str = ''

    def __post_init__(self) -> None:
        if self.memory_mib <= 0 or self.compute_pct <= 0:
            raise ValueError(
                'GPU %s: capacities must be positive' % self.gpu_id
            )
        if not 0 <= self.free_memory_mib <= self.memory_mib:
            raise ValueError(
                'GPU %s: free memory %d outside [0, %d]'
                % (self.gpu_id, self.free_memory_mib, self.memory_mib)
            )
        if not 0 <= self.free_compute_pct <= self.compute_pct:
            raise ValueError(
                'GPU %s: free compute %d outside [0, %d]'
                % (self.gpu_id, self.free_compute_pct, self.compute_pct)
            )

    @classmethod
    def idle(
        cls,
        gpu_id: str,
        host: str,
        model: str,
        memory_mib: int,
        compute_pct: int = 100,
        locality: str = '',
    ) -> AllocatorGpu:
        """A healthy GPU with nothing allocated on it.

        :param gpu_id: the GPU's identity (the pool member's name or UUID).
        :param host: the host the GPU is in.
        :param model: the model name used by model constraints.
        :param memory_mib: usable memory capacity in MiB.
        :param compute_pct: compute capacity in percent of the GPU.
        :param locality: topology label (rack, switch), '' when unknown.
        :returns: the GPU record.
        """
        return cls(
            gpu_id=gpu_id,
            host=host,
            model=model,
            memory_mib=memory_mib,
            free_memory_mib=memory_mib,
            compute_pct=compute_pct,
            free_compute_pct=compute_pct,
            locality=locality,
        )

    @property
    def is_idle(self) -> bool:
        """Whether nothing is allocated on the GPU."""
        return (
            self.free_memory_mib == self.memory_mib
            and self.free_compute_pct == self.compute_pct
        )


@dataclasses.dataclass(frozen=True, slots=True)
class VgpuRequest:
    """``count`` vGPU slices of the same size, with placement constraints.

    The memory of a slice is either absolute (``memory_mib``, OrionX's
    ``ORION_GMEM``) or a percentage of the chosen GPU's memory
    (``memory_pct``, like HAMi's ``gpumem-percentage``); exactly one of the
    two is set. ``compute_pct`` is in percent of the chosen GPU (OrionX's
    ``ORION_RATIO``).
    """

    compute_pct: int
    memory_mib: int = 0
    memory_pct: int = 0
    count: int = 1
    #: Allowed models; empty means any model.
    models: frozenset[str] = frozenset()
    host_affinity: HostAffinity = HostAffinity.ANY
    #: The VM's own host: a slice there avoids the network (shared-memory
    #: transport), so it is preferred.
    preferred_host: str | None = None
    #: The VM's rack or switch, preferred after its host.
    preferred_locality: str | None = None

    def __post_init__(self) -> None:
        if (self.memory_mib > 0) == (self.memory_pct > 0):
            raise ValueError(
                'exactly one of memory_mib and memory_pct must be positive'
            )
        if self.memory_mib < 0 or not 0 <= self.memory_pct <= 100:
            raise ValueError('memory out of range')
        if self.compute_pct < 0:
            raise ValueError('compute_pct must not be negative')
        if self.count < 1:
            raise ValueError('count must be at least 1')

    def memory_on(self, memory_capacity_mib: int) -> int:
        """The MiB one slice takes on a GPU of the given memory capacity.

        :param memory_capacity_mib: the GPU's usable memory in MiB.
        :returns: the slice's memory in MiB on that GPU.
        """
        return resolve_memory(
            self.memory_mib, self.memory_pct, memory_capacity_mib
        )


def resolve_memory(
    memory_mib: int, memory_pct: int, memory_capacity_mib: int
) -> int:
    """MiB of a slice given in MiB or in percent of a GPU's memory.

    A percentage rounds up so that a slice never gets less than it asked.

    :param memory_mib: absolute size, or 0 when the size is a percentage.
    :param memory_pct: percentage of the GPU's memory, or 0.
    :param memory_capacity_mib: the GPU's usable memory in MiB.
    :returns: the slice's memory in MiB.
    """
    if memory_mib:
        return memory_mib
    return -(-memory_capacity_mib * memory_pct // 100)


@dataclasses.dataclass(frozen=True, slots=True)
class SliceAssignment:
    """One vGPU slice placed on one GPU."""

    gpu_id: str
    host: str
    memory_mib: int
    compute_pct: int


@dataclasses.dataclass(frozen=True, slots=True)
class Grant:
    """Where every slice of a request went (hand it back to release)."""

    slices: tuple[SliceAssignment, ...]
    policy: str

    @property
    def gpu_ids(self) -> tuple[str, ...]:
        """The GPUs of the slices, in slice order."""
        return tuple(s.gpu_id for s in self.slices)

    @property
    def hosts(self) -> tuple[str, ...]:
        """The hosts of the slices, in slice order."""
        return tuple(s.host for s in self.slices)


@dataclasses.dataclass(frozen=True, slots=True)
class Rejection:
    """Why a request cannot be placed now."""

    reason: RejectionReason
    detail: str


#: What :meth:`Allocator.allocate` returns.
Decision = Grant | Rejection
