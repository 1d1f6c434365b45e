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

"""Incremental state of a GPU pool, grouped into equivalence classes.

A decision must not look at thousands of GPUs one by one. Healthy GPUs
with the same model, capacities, free room and host context are
interchangeable for every policy, so they form one :class:`GpuClass`; a
decision scores classes, and host or locality preferences then pick a
member. Every change (allocate, release, add, remove, health) moves one
GPU between classes and refreshes only that GPU's host, never the pool.

The host context (see :mod:`.fragmentation`) is the only per-host fact a
class key carries. It is empty unless a fragmentation model with
multi-slice shapes is installed, so plain policies get the coarsest
classes.
"""

from __future__ import annotations

import collections
import itertools
from collections.abc import Hashable
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Sequence
from typing import TypeVar

from orionx_cyborg.allocator import errors
from orionx_cyborg.allocator import fragmentation
from orionx_cyborg.allocator import models

_Key = TypeVar('_Key', bound=Hashable)

#: (model, memory capacity, compute capacity, free memory, free compute,
#: host context)
ClassKey = tuple[str, int, int, int, int, fragmentation.Context]
#: The healthy GPUs of a host as sorted (model, capacities, free room).
HostSignature = tuple[tuple[str, int, int, int, int], ...]


class _Record:
    """The mutable state of one GPU (internal; callers get :class:`AllocatorGpu`)."""

    __slots__ = (
        'gpu_id',
        'host',
        'model',
        'locality',
        'memory_mib',
        'compute_pct',
        'free_memory_mib',
        'free_compute_pct',
        'healthy',
        'group',
    )

    def __init__(self, gpu: models.AllocatorGpu) -> None:
        self.gpu_id = gpu.gpu_id
        self.host = gpu.host
        self.model = gpu.model
        self.locality = gpu.locality
        self.memory_mib = gpu.memory_mib
        self.compute_pct = gpu.compute_pct
        self.free_memory_mib = gpu.free_memory_mib
        self.free_compute_pct = gpu.free_compute_pct
        self.healthy = gpu.healthy
        self.group: GpuClass | None = None

    def load(self) -> fragmentation.GpuLoad:
        return fragmentation.GpuLoad(
            self.memory_mib,
            self.compute_pct,
            self.free_memory_mib,
            self.free_compute_pct,
        )

    def shape(self) -> tuple[str, int, int, int, int]:
        return (
            self.model,
            self.memory_mib,
            self.compute_pct,
            self.free_memory_mib,
            self.free_compute_pct,
        )

    def freeze(self) -> models.AllocatorGpu:
        return models.AllocatorGpu(
            gpu_id=self.gpu_id,
            host=self.host,
            model=self.model,
            memory_mib=self.memory_mib,
            free_memory_mib=self.free_memory_mib,
            compute_pct=self.compute_pct,
            free_compute_pct=self.free_compute_pct,
            healthy=self.healthy,
            locality=self.locality,
        )


class GpuClass:
    """Interchangeable healthy GPUs: same model, capacity, room, context.

    Read-only for callers. ``members``, ``hosts`` and ``localities`` are
    insertion-ordered so that decisions are deterministic.
    """

    __slots__ = (
        'key',
        'uid',
        'model',
        'memory_mib',
        'compute_pct',
        'free_memory_mib',
        'free_compute_pct',
        'context',
        'idle',
        'load',
        'members',
        'hosts',
        'localities',
    )

    def __init__(self, key: ClassKey, uid: int) -> None:
        self.key = key
        #: Unique for the life of the class: a cheap cache key.
        self.uid = uid
        (
            self.model,
            self.memory_mib,
            self.compute_pct,
            self.free_memory_mib,
            self.free_compute_pct,
            self.context,
        ) = key
        #: Whether its members have nothing allocated.
        self.idle = (
            self.free_memory_mib == self.memory_mib
            and self.free_compute_pct == self.compute_pct
        )
        #: Capacity and free room of every member (built once: scoring a
        #: class for a new slice reads it).
        self.load = fragmentation.GpuLoad(
            self.memory_mib,
            self.compute_pct,
            self.free_memory_mib,
            self.free_compute_pct,
        )
        self.members: dict[str, None] = {}
        self.hosts: dict[str, dict[str, None]] = {}
        self.localities: dict[str, dict[str, None]] = {}

    def _add(self, record: _Record) -> None:
        self.members[record.gpu_id] = None
        self.hosts.setdefault(record.host, {})[record.gpu_id] = None
        self.localities.setdefault(record.locality, {})[record.gpu_id] = None

    def _discard(self, record: _Record) -> None:
        del self.members[record.gpu_id]
        _discard_from(self.hosts, record.host, record.gpu_id)
        _discard_from(self.localities, record.locality, record.gpu_id)


def _discard_from(
    index: dict[str, dict[str, None]], key: str, gpu_id: str
) -> None:
    bucket = index[key]
    del bucket[gpu_id]
    if not bucket:
        del index[key]


class HostGroup:
    """Hosts whose healthy GPUs have the same signature (read-only)."""

    __slots__ = (
        'signature',
        'uid',
        'hosts',
        'free_compute_desc',
        'free_memory_desc',
    )

    def __init__(self, signature: HostSignature, uid: int) -> None:
        self.signature = signature
        self.uid = uid
        self.hosts: dict[str, None] = {}
        #: Free compute and memory of the GPUs, largest first: a request
        #: for ``k`` slices cannot fit if the k-th value is too small.
        self.free_compute_desc = tuple(
            sorted((g[4] for g in signature), reverse=True)
        )
        self.free_memory_desc = tuple(
            sorted((g[3] for g in signature), reverse=True)
        )


class PoolState:
    """The pool's GPUs, indexed for fast decisions and updated in place."""

    def __init__(self, gpus: Iterable[models.AllocatorGpu] = ()) -> None:
        """Index GPUs.

        :param gpus: the initial GPUs.
        :raises DuplicateGpuError: if two GPUs share an id.
        """
        self._records: dict[str, _Record] = {}
        self._hosts: dict[str, dict[str, None]] = {}
        self._classes: dict[ClassKey, GpuClass] = {}
        self._classes_by_model: dict[str, dict[ClassKey, GpuClass]] = {}
        self._models: collections.Counter[str] = collections.Counter()
        self._healthy_models: collections.Counter[str] = collections.Counter()
        self._memory_sizes: collections.Counter[int] = collections.Counter()
        # Healthy GPUs with nothing allocated, kept as classes change.
        self._idle = 0
        self._host_signature: dict[str, HostSignature] = {}
        self._groups: dict[HostSignature, HostGroup] = {}
        self._uids = itertools.count()
        self._context_model: fragmentation.FragmentationModel | None = None
        for gpu in gpus:
            self.add(gpu)

    # -- queries ---------------------------------------------------------

    def __len__(self) -> int:
        return len(self._records)

    def __contains__(self, gpu_id: object) -> bool:
        return gpu_id in self._records

    def gpu(self, gpu_id: str) -> models.AllocatorGpu:
        """The current view of one GPU.

        :param gpu_id: the GPU.
        :returns: its record.
        :raises UnknownGpuError: if the GPU is not in the pool.
        """
        return self._record(gpu_id).freeze()

    def gpus(self) -> list[models.AllocatorGpu]:
        """Every GPU of the pool, in the order they were added.

        :returns: frozen records.
        """
        return [r.freeze() for r in self._records.values()]

    def host_of(self, gpu_id: str) -> str:
        """The host of a GPU.

        :param gpu_id: the GPU.
        :returns: its host.
        """
        return self._record(gpu_id).host

    def classes(
        self, gpu_models: frozenset[str] = frozenset()
    ) -> Iterator[GpuClass]:
        """Classes of healthy GPUs, optionally of some models only.

        :param gpu_models: allowed models; empty means all.
        :returns: an iterator over classes (do not change the pool while
            iterating).
        """
        if not gpu_models:
            return iter(self._classes.values())
        return itertools.chain.from_iterable(
            self._classes_by_model.get(m, {}).values() for m in gpu_models
        )

    def class_count(self) -> int:
        """How many equivalence classes the healthy GPUs form."""
        return len(self._classes)

    def host_groups(self) -> Iterator[HostGroup]:
        """Groups of hosts with identical healthy GPUs."""
        return iter(self._groups.values())

    def host_members(self, host: str) -> list[tuple[str, GpuClass]]:
        """The healthy GPUs of a host in signature order, with classes.

        :param host: the host.
        :returns: (GPU id, class) pairs sorted like the host's signature,
            so index ``i`` here is entry ``i`` of the signature.
        """
        members = []
        for gpu_id in self._hosts.get(host, {}):
            record = self._records[gpu_id]
            if record.group is not None:
                members.append((record.shape(), gpu_id, record.group))
        members.sort(key=lambda m: (m[0], m[1]))
        return [(gpu_id, group) for _, gpu_id, group in members]

    def model_count(self, gpu_models: frozenset[str]) -> int:
        """How many GPUs (healthy or not) have an allowed model.

        :param gpu_models: allowed models; empty means all.
        :returns: the number of GPUs.
        """
        if not gpu_models:
            return len(self._records)
        return sum(self._models[m] for m in gpu_models)

    def healthy_count(self, gpu_models: frozenset[str]) -> int:
        """How many healthy GPUs have an allowed model.

        :param gpu_models: allowed models; empty means all.
        :returns: the number of GPUs.
        """
        if not gpu_models:
            return sum(self._healthy_models.values())
        return sum(self._healthy_models[m] for m in gpu_models)

    @property
    def idle_count(self) -> int:
        """How many healthy GPUs have nothing allocated (constant time)."""
        return self._idle

    @property
    def smallest_memory_mib(self) -> int:
        """The smallest memory capacity of a GPU (healthy or not).

        :returns: MiB; 0 for an empty pool.
        """
        # A pool has a handful of distinct sizes, however many GPUs.
        return min(self._memory_sizes, default=0)

    def index_view(self) -> dict[str, object]:
        """A comparable picture of every index, for consistency checks.

        :returns: classes, host groups and counters as plain values.
        """
        return {
            'classes': {
                key: (
                    frozenset(c.members),
                    {h: frozenset(g) for h, g in c.hosts.items()},
                    {loc: frozenset(g) for loc, g in c.localities.items()},
                )
                for key, c in self._classes.items()
            },
            'by_model': {
                m: frozenset(d) for m, d in self._classes_by_model.items()
            },
            'groups': {
                sig: frozenset(g.hosts) for sig, g in self._groups.items()
            },
            'signatures': dict(self._host_signature),
            'models': +self._models,
            'healthy_models': +self._healthy_models,
            'memory_sizes': +self._memory_sizes,
            'idle': self._idle,
            'hosts': {h: frozenset(g) for h, g in self._hosts.items()},
        }

    # -- changes ---------------------------------------------------------

    def add(self, gpu: models.AllocatorGpu) -> None:
        """Add a GPU to the pool.

        :param gpu: the GPU with its current free room.
        :raises DuplicateGpuError: if the id is already in the pool.
        """
        if gpu.gpu_id in self._records:
            raise errors.DuplicateGpuError(gpu.gpu_id)
        record = _Record(gpu)
        self._records[gpu.gpu_id] = record
        self._hosts.setdefault(gpu.host, {})[gpu.gpu_id] = None
        self._models[gpu.model] += 1
        self._memory_sizes[gpu.memory_mib] += 1
        if gpu.healthy:
            self._healthy_models[gpu.model] += 1
        self._refresh_host(gpu.host)

    def remove(self, gpu_id: str) -> models.AllocatorGpu:
        """Remove a GPU from the pool.

        :param gpu_id: the GPU.
        :returns: its last record.
        :raises UnknownGpuError: if the GPU is not in the pool.
        """
        record = self._record(gpu_id)
        self._leave_class(record)
        del self._records[gpu_id]
        _discard_from(self._hosts, record.host, gpu_id)
        _decrement(self._models, record.model)
        _decrement(self._memory_sizes, record.memory_mib)
        if record.healthy:
            _decrement(self._healthy_models, record.model)
        self._refresh_host(record.host)
        return record.freeze()

    def set_health(self, gpu_id: str, healthy: bool) -> None:
        """Mark a GPU healthy or not; unhealthy GPUs get nothing new.

        :param gpu_id: the GPU.
        :param healthy: its health.
        :raises UnknownGpuError: if the GPU is not in the pool.
        """
        record = self._record(gpu_id)
        if record.healthy == healthy:
            return
        record.healthy = healthy
        if healthy:
            self._healthy_models[record.model] += 1
        else:
            _decrement(self._healthy_models, record.model)
            self._leave_class(record)
        self._refresh_host(record.host)

    def take(self, gpu_id: str, memory_mib: int, compute_pct: int) -> None:
        """Allocate room on a GPU.

        :param gpu_id: the GPU.
        :param memory_mib: MiB to take.
        :param compute_pct: compute to take.
        :raises UnknownGpuError: if the GPU is not in the pool.
        :raises CapacityError: if the GPU has not that much room.
        """
        self._move_many([(gpu_id, -memory_mib, -compute_pct)])

    def take_many(self, pieces: Sequence[tuple[str, int, int]]) -> None:
        """Allocate room on several GPUs at once, or on none.

        Each host is re-keyed once, after all its GPUs changed, instead of
        once per GPU: the slices of a multi-GPU request share a host.

        :param pieces: (GPU, MiB, compute) to take, at most one per GPU.
        :raises UnknownGpuError: if a GPU is not in the pool.
        :raises CapacityError: if a GPU has not that much room; nothing
            is then taken.
        """
        self._move_many([(g, -m, -c) for g, m, c in pieces])

    def give(self, gpu_id: str, memory_mib: int, compute_pct: int) -> None:
        """Give room back to a GPU.

        :param gpu_id: the GPU.
        :param memory_mib: MiB to give back.
        :param compute_pct: compute to give back.
        :raises UnknownGpuError: if the GPU is not in the pool.
        :raises CapacityError: if the room would exceed the capacity.
        """
        self._move_many([(gpu_id, memory_mib, compute_pct)])

    def set_context_model(
        self, model: fragmentation.FragmentationModel | None
    ) -> None:
        """Install the model whose host context class keys carry.

        Recomputes every host when the model's multi-slice shapes differ
        from the installed one's (a full pass, on mix changes only).

        :param model: the model, or None for no host context.
        """
        before = self._context_model
        self._context_model = model
        old = before.multi_shapes if before is not None else ()
        new = model.multi_shapes if model is not None else ()
        if old != new:
            for host in list(self._hosts):
                self._refresh_host(host)

    # -- internals -------------------------------------------------------

    def _record(self, gpu_id: str) -> _Record:
        try:
            return self._records[gpu_id]
        except KeyError:
            raise errors.UnknownGpuError(gpu_id) from None

    def _move_many(self, changes: Sequence[tuple[str, int, int]]) -> None:
        # Check every change before making any, then re-key each host once.
        records = [self._record(gpu_id) for gpu_id, _m, _c in changes]
        if len({id(r) for r in records}) != len(records):
            raise errors.AllocatorError('one change per GPU in one call')
        for record, (gpu_id, memory_mib, compute) in zip(
            records, changes, strict=True
        ):
            free_mem = record.free_memory_mib + memory_mib
            free_comp = record.free_compute_pct + compute
            if not (
                0 <= free_mem <= record.memory_mib
                and 0 <= free_comp <= record.compute_pct
            ):
                raise errors.CapacityError(gpu_id, memory_mib, compute)
        hosts: dict[str, None] = {}
        for record, (_g, memory_mib, compute) in zip(
            records, changes, strict=True
        ):
            record.free_memory_mib += memory_mib
            record.free_compute_pct += compute
            hosts[record.host] = None
        for host in hosts:
            self._refresh_host(host)

    def _refresh_host(self, host: str) -> None:
        # Re-key the healthy GPUs of one host: their loads or their shared
        # host context may have changed.
        records = [
            self._records[g]
            for g in self._hosts.get(host, {})
            if self._records[g].healthy
        ]
        contexts = self._contexts(records)
        for record, context in zip(records, contexts, strict=True):
            key: ClassKey = (*record.shape(), context)
            if record.group is None or record.group.key != key:
                self._leave_class(record)
                self._join_class(record, key)
        self._regroup_host(host, records)

    def _contexts(self, records: list[_Record]) -> list[fragmentation.Context]:
        model = self._context_model
        if model is None or not model.multi_shapes:
            return [() for _ in records]
        return model.host_context([r.load() for r in records])

    def _join_class(self, record: _Record, key: ClassKey) -> None:
        group = self._classes.get(key)
        if group is None:
            group = GpuClass(key, next(self._uids))
            self._classes[key] = group
            self._classes_by_model.setdefault(record.model, {})[key] = group
        group._add(record)
        record.group = group
        if group.idle:
            self._idle += 1

    def _leave_class(self, record: _Record) -> None:
        group = record.group
        if group is None:
            return
        group._discard(record)
        record.group = None
        if group.idle:
            self._idle -= 1
        if not group.members:
            del self._classes[group.key]
            by_model = self._classes_by_model[group.model]
            del by_model[group.key]
            if not by_model:
                del self._classes_by_model[group.model]

    def _regroup_host(self, host: str, records: list[_Record]) -> None:
        signature = tuple(sorted(r.shape() for r in records))
        old = self._host_signature.get(host)
        if old == signature and host in self._hosts:
            return
        if old is not None:
            previous = self._groups[old]
            del previous.hosts[host]
            if not previous.hosts:
                del self._groups[old]
            del self._host_signature[host]
        if host not in self._hosts or not signature:
            return
        group = self._groups.get(signature)
        if group is None:
            group = HostGroup(signature, next(self._uids))
            self._groups[signature] = group
        group.hosts[host] = None
        self._host_signature[host] = signature


def _decrement(counter: collections.Counter[_Key], key: _Key) -> None:
    counter[key] -= 1
    if counter[key] <= 0:
        del counter[key]
