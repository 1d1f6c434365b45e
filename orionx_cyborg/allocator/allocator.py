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

"""The pool allocator: which GPU holds each vGPU slice.

:class:`Allocator` keeps the pool's state (:class:`.state.PoolState`),
learns the request mix (:class:`.mix.RequestMix`) and applies a policy
(:mod:`.policies`). It is pure: no I/O, no clock, no threads. The attach
service serialises calls (one allocator per pool, behind its own lock),
writes the chosen slices to Placement and calls :meth:`Allocator.release`
when Placement refuses them or the lease ends.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable
from collections.abc import Iterable
from typing import Protocol

from orionx_cyborg.allocator import diagnosis
from orionx_cyborg.allocator import errors
from orionx_cyborg.allocator import mix as mix_mod
from orionx_cyborg.allocator import models
from orionx_cyborg.allocator import policies
from orionx_cyborg.allocator import state as state_mod

#: Rank of a candidate: lower is better (see :class:`Locality`).
Rank = tuple[float, float, float, float]
#: (GPU id, MiB of the slice on it)
_Slot = tuple[str, int]
_GROUP_CACHE_LIMIT = 100_000
#: A host group's score and the indices of the GPUs it would use.
_HostScore = tuple[policies.Score, tuple[int, ...]]
#: Host-group uid -> its score (None: the request does not fit there).
_GroupScores = dict[int, _HostScore | None]


class Locality(enum.Enum):
    """How much the VM's own host (and rack) counts.

    A slice on the VM's host uses the shared-memory transport instead of
    the network, so it is faster; but always preferring it can strand
    capacity elsewhere.
    """

    #: Only among GPUs that the policy scores the same (the default).
    TIE_BREAK = 'tie-break'
    #: Local GPUs get ``locality_weight`` off their score.
    WEIGHTED = 'weighted'
    #: A local GPU whenever one fits, then the policy.
    STRICT = 'strict'


class MixSource(Protocol):
    """Where the allocator gets its request mix from."""

    def observe(self, shape: mix_mod.TaskShape) -> None:
        """Remember a request."""

    def snapshot(self) -> mix_mod.MixSnapshot:
        """The mix to score with now."""


class Allocator:
    """Places vGPU slices on the GPUs of one pool.

    Not thread-safe: serialise calls.
    """

    def __init__(
        self,
        gpus: Iterable[models.AllocatorGpu] = (),
        *,
        policy: str | policies.Policy = policies.DEFAULT_POLICY,
        locality: Locality = Locality.TIE_BREAK,
        locality_weight: float = 0.0,
        mix: MixSource | None = None,
    ) -> None:
        """Create an allocator over a pool.

        :param gpus: the pool's GPUs with their current free room.
        :param policy: a name from :data:`.policies.POLICIES` or a policy.
        :param locality: how the preferred host and rack count.
        :param locality_weight: the bonus of a local GPU, in the policy's
            score units, for :attr:`Locality.WEIGHTED`.
        :param mix: the request mix; a new :class:`.mix.RequestMix` when
            None.
        :raises UnknownPolicyError: for an unknown policy name.
        :raises DuplicateGpuError: if two GPUs share an id.
        """
        if isinstance(policy, str):
            policy = policies.make_policy(policy)
        self._policy = policy
        self._mix: MixSource = mix if mix is not None else mix_mod.RequestMix()
        self._state = state_mod.PoolState(gpus)
        self._rank = _ranker(locality, locality_weight)
        self._group_cache: dict[object, _GroupScores] = {}
        self._smallest_memory_mib = 0
        self._snapshot = self._mix.snapshot()
        self._adopt(self._snapshot)

    # -- queries ---------------------------------------------------------

    @property
    def policy_name(self) -> str:
        """The configuration name of the policy in use."""
        return self._policy.name

    @property
    def state(self) -> state_mod.PoolState:
        """The pool's state (read it; change it through the allocator)."""
        return self._state

    @property
    def mix_snapshot(self) -> mix_mod.MixSnapshot:
        """The request mix the policy scores with now."""
        return self._snapshot

    def gpu(self, gpu_id: str) -> models.AllocatorGpu:
        """The current view of one GPU.

        :param gpu_id: the GPU.
        :returns: its record with its free room.
        :raises UnknownGpuError: if the GPU is not in the pool.
        """
        return self._state.gpu(gpu_id)

    def gpus(self) -> list[models.AllocatorGpu]:
        """Every GPU of the pool with its free room.

        :returns: frozen records, in the order they were added.
        """
        return self._state.gpus()

    def idle_gpus(self, gpu_models: frozenset[str] = frozenset()) -> int:
        """How many healthy GPUs have nothing allocated.

        :param gpu_models: allowed models; empty means all.
        :returns: the number of idle GPUs.
        """
        if not gpu_models:
            return self._state.idle_count
        return sum(
            len(group.members)
            for group in self._state.classes(gpu_models)
            if group.idle
        )

    def defer_to_hold(self) -> None:
        """Tell the policy that a pairing hold decides about idle GPUs."""
        self._policy.defer_to_hold()

    def healthy_gpus(self, gpu_models: frozenset[str] = frozenset()) -> int:
        """How many healthy GPUs the pool has.

        :param gpu_models: allowed models; empty means all.
        :returns: the number of GPUs.
        """
        return self._state.healthy_count(gpu_models)

    def explain(self, request: models.VgpuRequest) -> models.Rejection | None:
        """Why a request cannot be placed now, without placing it.

        :param request: the request.
        :returns: the rejection, or None when it would be placed.
        """
        return diagnosis.diagnose(self._state, request)

    # -- decisions -------------------------------------------------------

    def observe(self, request: models.VgpuRequest) -> None:
        """Count a request in the learned mix without placing it.

        :param request: the request.
        """
        self._mix.observe(mix_mod.TaskShape.of(request))

    def allocate(
        self, request: models.VgpuRequest, *, observe: bool = True
    ) -> models.Decision:
        """Place every slice of a request, or none.

        :param request: the request.
        :param observe: whether the request joins the learned mix (retries
            of a queued request should pass False).
        :returns: a :class:`Grant` whose slices are now taken, or a
            :class:`Rejection` and nothing taken.
        """
        grant = self.try_allocate(request, observe=observe)
        return self._reject(request) if grant is None else grant

    def try_allocate(
        self, request: models.VgpuRequest, *, observe: bool = True
    ) -> models.Grant | None:
        """Place every slice of a request, or none, without saying why not.

        As :meth:`allocate`, for a caller that would drop the rejection
        (working out its reason looks at every class of GPUs).

        :param request: the request.
        :param observe: whether the request joins the learned mix.
        :returns: a :class:`Grant` whose slices are now taken, or None
            and nothing taken.
        """
        if observe:
            self._mix.observe(mix_mod.TaskShape.of(request))
        slots = self._place(request)
        if slots is None:
            return None
        return self._take(slots, request.compute_pct)

    def allocate_on(
        self,
        request: models.VgpuRequest,
        gpu_id: str,
        *,
        observe: bool = True,
    ) -> models.Grant | None:
        """Place a one-slice request on one given GPU, if it fits there.

        :param request: a request for one slice.
        :param gpu_id: the GPU.
        :param observe: whether the request joins the learned mix.
        :returns: the grant, or None (nothing taken) when the GPU is
            unhealthy, of a model the request does not allow, or too full.
        :raises ValueError: for a request of more than one slice.
        :raises UnknownGpuError: if the GPU is not in the pool.
        """
        if request.count != 1:
            raise ValueError('allocate_on places one slice')
        gpu = self._state.gpu(gpu_id)
        if observe:
            self._mix.observe(mix_mod.TaskShape.of(request))
        need_mem = request.memory_on(gpu.memory_mib)
        if not _fits_on(gpu, request, need_mem):
            return None
        return self._take([(gpu_id, need_mem)], request.compute_pct)

    def allocate_pair(
        self, first: models.VgpuRequest, second: models.VgpuRequest
    ) -> tuple[models.Grant, models.Grant] | None:
        """Place two one-slice requests on one GPU, or neither.

        The first goes where :meth:`try_allocate` would place it, the
        second beside it on the same GPU. Neither joins the learned mix.
        Nothing is taken unless both fit, so a pair that does not costs
        one search and leaves the pool as it was.

        :param first: the request placed as the policy chooses.
        :param second: the request placed beside it.
        :returns: the grants of the first and the second, both taken, or
            None and nothing taken.
        :raises ValueError: for a request of more than one slice.
        """
        if first.count != 1 or second.count != 1:
            raise ValueError('allocate_pair places one slice of each')
        slots = self._place(first)
        if slots is None:
            return None
        ((gpu_id, first_mem),) = slots
        gpu = self._state.gpu(gpu_id)
        second_mem = second.memory_on(gpu.memory_mib)
        if not _fits_on(gpu, second, second_mem, first_mem, first.compute_pct):
            return None
        return (
            self._take(slots, first.compute_pct),
            self._take([(gpu_id, second_mem)], second.compute_pct),
        )

    def release(
        self, placement: models.Grant | Iterable[models.SliceAssignment]
    ) -> None:
        """Give the room of placed slices back.

        Slices on GPUs that left the pool are ignored: their room left
        with them.

        :param placement: a placement, or some of its slices.
        :raises CapacityError: if a slice was already released.
        """
        slices = (
            placement.slices
            if isinstance(placement, models.Grant)
            else placement
        )
        for piece in slices:
            if piece.gpu_id in self._state:
                self._state.give(
                    piece.gpu_id, piece.memory_mib, piece.compute_pct
                )

    # -- pool changes ----------------------------------------------------

    def add_gpu(self, gpu: models.AllocatorGpu) -> None:
        """Add a GPU to the pool.

        :param gpu: the GPU with its current free room.
        :raises DuplicateGpuError: if the id is already in the pool.
        """
        self._state.add(gpu)
        self._sync_pool()

    def remove_gpu(self, gpu_id: str) -> models.AllocatorGpu:
        """Remove a GPU from the pool.

        :param gpu_id: the GPU.
        :returns: its last record.
        :raises UnknownGpuError: if the GPU is not in the pool.
        """
        removed = self._state.remove(gpu_id)
        self._sync_pool()
        return removed

    def update_gpu(self, gpu: models.AllocatorGpu) -> None:
        """Replace a GPU's record, e.g. from Placement's usages.

        :param gpu: the new record (same id).
        :raises UnknownGpuError: if the GPU is not in the pool.
        """
        self._state.remove(gpu.gpu_id)
        self._state.add(gpu)
        self._sync_pool()

    def set_health(self, gpu_id: str, healthy: bool) -> None:
        """Mark a GPU healthy or not; unhealthy GPUs get no new slices.

        :param gpu_id: the GPU.
        :param healthy: its health.
        :raises UnknownGpuError: if the GPU is not in the pool.
        """
        self._state.set_health(gpu_id, healthy)

    # -- internals -------------------------------------------------------

    def _sync_mix(self) -> None:
        snapshot = self._mix.snapshot()
        if snapshot is not self._snapshot:
            self._snapshot = snapshot
            self._adopt(snapshot)

    def _sync_pool(self) -> None:
        # Rare: only a GPU of a new smallest size, or the removal of the
        # last one, re-prepares the policy.
        if self._state.smallest_memory_mib != self._smallest_memory_mib:
            self._adopt(self._snapshot)

    def _adopt(self, snapshot: mix_mod.MixSnapshot) -> None:
        # Scores and cached host scores depend on the mix and the pool.
        self._smallest_memory_mib = self._state.smallest_memory_mib
        self._policy.prepare(snapshot, self._smallest_memory_mib)
        self._state.set_context_model(self._policy.context_model())
        self._group_cache = {}

    def _place(self, request: models.VgpuRequest) -> list[_Slot] | None:
        self._sync_mix()
        self._policy.observe_pool(self.idle_gpus(), self.healthy_gpus())
        if request.count == 1:
            return self._place_single(request)
        if request.host_affinity is models.HostAffinity.SAME_HOST:
            return self._place_same_host(request)
        return self._place_apart(request)

    def _reject(self, request: models.VgpuRequest) -> models.Rejection:
        rejection = diagnosis.diagnose(self._state, request)
        if rejection is None:
            # The search and the diagnosis disagree: a bug, not capacity.
            raise errors.AllocatorError(
                'no placement found for %r although one exists' % (request,)
            )
        return rejection

    def _take(self, slots: list[_Slot], compute_pct: int) -> models.Grant:
        self._state.take_many(
            [(gpu_id, memory_mib, compute_pct) for gpu_id, memory_mib in slots]
        )
        pieces = tuple(
            models.SliceAssignment(
                gpu_id=gpu_id,
                host=self._state.host_of(gpu_id),
                memory_mib=memory_mib,
                compute_pct=compute_pct,
            )
            for gpu_id, memory_mib in slots
        )
        return models.Grant(pieces, self._policy.name)

    def _place_single(
        self,
        request: models.VgpuRequest,
        exclude_gpus: frozenset[str] = frozenset(),
        exclude_hosts: frozenset[str] = frozenset(),
    ) -> list[_Slot] | None:
        best = self._best_class(request, exclude_gpus, exclude_hosts)
        if best is None:
            return None
        group, need_mem = best
        gpu_id = _pick_member(
            group, request, exclude_gpus, exclude_hosts, self._state.host_of
        )
        return [(gpu_id, need_mem)]

    def _best_class(
        self,
        request: models.VgpuRequest,
        exclude_gpus: frozenset[str],
        exclude_hosts: frozenset[str],
    ) -> tuple[state_mod.GpuClass, int] | None:
        # The hot path: one pass over the classes of the allowed models.
        score = self._policy.score
        rank = self._rank
        need_comp = request.compute_pct
        mem_mib, mem_pct = request.memory_mib, request.memory_pct
        host, near = request.preferred_host, request.preferred_locality
        excluding = bool(exclude_gpus or exclude_hosts)
        # A class whose score cannot rank it before the best class found so
        # far is not scored: ranks only grow with scores, so a rank built
        # from the policy's floor of a score bounds the rank of the score.
        floor = (
            self._policy.score_floor
            if self._policy.has_score_floor()
            else None
        )
        best_rank: Rank | None = None
        best: tuple[state_mod.GpuClass, int] | None = None
        for group in self._state.classes(request.models):
            need_mem = mem_mib or -(-group.memory_mib * mem_pct // 100)
            if (
                group.free_memory_mib < need_mem
                or group.free_compute_pct < need_comp
            ):
                continue
            if excluding and not _has_allowed(
                group, exclude_gpus, exclude_hosts
            ):
                continue
            local = host is not None and host in group.hosts
            close = near is not None and near in group.localities
            if (
                floor is not None
                and best_rank is not None
                and rank(
                    (floor(group, need_mem, need_comp), -math.inf),
                    local,
                    close,
                )
                >= best_rank
            ):
                continue
            candidate = rank(score(group, need_mem, need_comp), local, close)
            if best_rank is None or candidate < best_rank:
                best_rank = candidate
                best = (group, need_mem)
        return best

    def _place_apart(self, request: models.VgpuRequest) -> list[_Slot] | None:
        # Slices that need not share a host are placed one by one, each
        # seeing the room the previous ones took; a failure undoes them.
        apart = request.host_affinity is models.HostAffinity.DIFFERENT_HOSTS
        slots: list[_Slot] = []
        used_gpus: set[str] = set()
        used_hosts: set[str] = set()
        for _ in range(request.count):
            found = self._place_single(
                request,
                frozenset(used_gpus),
                frozenset(used_hosts) if apart else frozenset(),
            )
            if found is None:
                break
            gpu_id, need_mem = found[0]
            self._state.take(gpu_id, need_mem, request.compute_pct)
            slots.append((gpu_id, need_mem))
            used_gpus.add(gpu_id)
            used_hosts.add(self._state.host_of(gpu_id))
        for gpu_id, need_mem in slots:
            self._state.give(gpu_id, need_mem, request.compute_pct)
        if len(slots) < request.count:
            return None
        return slots

    def _place_same_host(
        self, request: models.VgpuRequest
    ) -> list[_Slot] | None:
        # Hosts with the same signature score the same: score one host per
        # group, skipping groups whose k-th roomiest GPU is too small.
        best_rank: Rank | None = None
        best: tuple[state_mod.HostGroup, tuple[int, ...]] | None = None
        host = request.preferred_host
        cache = self._group_scores(request)
        kth = request.count - 1
        need_comp, need_mem = request.compute_pct, request.memory_mib
        for group in self._state.host_groups():
            if (
                len(group.free_compute_desc) <= kth
                or group.free_compute_desc[kth] < need_comp
                or group.free_memory_desc[kth] < need_mem
            ):
                continue
            if group.uid in cache:
                scored = cache[group.uid]
            else:
                scored = self._score_group(group, request)
                cache[group.uid] = scored
            if scored is None:
                continue
            score, chosen = scored
            candidate = self._rank(
                score, host is not None and host in group.hosts, False
            )
            if best_rank is None or candidate < best_rank:
                best_rank, best = candidate, (group, chosen)
        if best is None:
            return None
        group, chosen = best
        target = host if host in group.hosts else next(iter(group.hosts))
        fitting = _fitting_members(self._state, target, request)
        return [(fitting[i][0], fitting[i][2]) for i in chosen]

    def _group_scores(self, request: models.VgpuRequest) -> _GroupScores:
        # The cache of host-group scores for requests of this size; all of
        # them are dropped when the mix changes.
        key = (
            request.memory_mib,
            request.memory_pct,
            request.compute_pct,
            request.count,
            request.models,
        )
        scores = self._group_cache.get(key)
        if scores is None or len(scores) >= _GROUP_CACHE_LIMIT:
            scores = {}
            self._group_cache[key] = scores
        return scores

    def _score_group(
        self, group: state_mod.HostGroup, request: models.VgpuRequest
    ) -> _HostScore | None:
        fitting = _fitting_members(
            self._state, next(iter(group.hosts)), request
        )
        if len(fitting) < request.count:
            return None
        return self._policy.score_host(
            [f[1] for f in fitting],
            [f[2] for f in fitting],
            request.compute_pct,
            request.count,
        )


def _fitting_members(
    pool: state_mod.PoolState, host: str, request: models.VgpuRequest
) -> list[tuple[str, state_mod.GpuClass, int]]:
    # (GPU id, class, MiB of a slice there) for the host's GPUs that can
    # hold a slice, in signature order.
    fitting = []
    for gpu_id, group in pool.host_members(host):
        if request.models and group.model not in request.models:
            continue
        need_mem = request.memory_on(group.memory_mib)
        if (
            group.free_memory_mib >= need_mem
            and group.free_compute_pct >= request.compute_pct
        ):
            fitting.append((gpu_id, group, need_mem))
    return fitting


def _fits_on(
    gpu: models.AllocatorGpu,
    request: models.VgpuRequest,
    need_mem: int,
    taken_mib: int = 0,
    taken_pct: int = 0,
) -> bool:
    # Whether a one-slice request fits a GPU once *taken_mib* and
    # *taken_pct* more of it are taken.
    return (
        gpu.healthy
        and (not request.models or gpu.model in request.models)
        and gpu.free_memory_mib - taken_mib >= need_mem
        and gpu.free_compute_pct - taken_pct >= request.compute_pct
    )


def _has_allowed(
    group: state_mod.GpuClass,
    exclude_gpus: frozenset[str],
    exclude_hosts: frozenset[str],
) -> bool:
    for host, gpus in group.hosts.items():
        if host in exclude_hosts:
            continue
        if any(g not in exclude_gpus for g in gpus):
            return True
    return False


def _pick_member(
    group: state_mod.GpuClass,
    request: models.VgpuRequest,
    exclude_gpus: frozenset[str],
    exclude_hosts: frozenset[str],
    host_of: Callable[[str], str],
) -> str:
    # The VM's host first, then its rack, then the oldest member.
    buckets: list[dict[str, None]] = []
    if request.preferred_host in group.hosts:
        buckets.append(group.hosts[request.preferred_host])
    if request.preferred_locality in group.localities:
        buckets.append(group.localities[request.preferred_locality])
    buckets.append(group.members)
    for bucket in buckets:
        for gpu_id in bucket:
            if gpu_id not in exclude_gpus and (
                host_of(gpu_id) not in exclude_hosts
            ):
                return gpu_id
    raise errors.AllocatorError(
        'class %r has no allowed member' % (group.key,)
    )


def _ranker(
    locality: Locality, weight: float
) -> Callable[[policies.Score, bool, bool], Rank]:
    # Builds the rank of a candidate from its score and whether it is on
    # the preferred host / in the preferred rack.
    if locality is Locality.STRICT:

        def strict(score: policies.Score, local: bool, near: bool) -> Rank:
            return (-local, -near, score[0], score[1])

        return strict
    if locality is Locality.WEIGHTED:

        def weighted(score: policies.Score, local: bool, near: bool) -> Rank:
            return (score[0] - weight * local, -local, -near, score[1])

        return weighted

    def tie_break(score: policies.Score, local: bool, near: bool) -> Rank:
        return (score[0], -local, -near, score[1])

    return tie_break
