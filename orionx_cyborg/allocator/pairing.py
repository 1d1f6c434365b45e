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

"""Pairing hold: an admission rule that waits for a slice's partner.

When memory and compute are anti-correlated, two slices share a GPU only
if they complement each other, and a slice that opens an idle GPU alone
strands the rest of it. Placement alone cannot avoid that when no
partner has arrived yet (``benchmarks/allocator/README.rst``). A pairing
hold keeps such a slice back while the pool is short of idle GPUs, and
places a later slice that complements a held one with it on one GPU.

The caller keeps the held requests (the hold keeps no state of its own),
as a list or, when thousands may be held, in a :class:`HeldRequests`
that it updates as requests are held and let go, and decides when to ask
again: :meth:`PairingHold.may_open` says when the pool has idle GPUs
above the reserve again, and a caller may also bound the wait; a request
asked again goes to :meth:`Allocator.allocate` with ``observe=False``
and is placed like any other.

Held requests wait, and under sustained pressure some wait until the
pressure ends; what that buys and costs is measured in the benchmark.
"""

from __future__ import annotations

import collections
import dataclasses
import heapq
import itertools
from collections.abc import Hashable
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Sequence

from orionx_cyborg.allocator import allocator as allocator_mod
from orionx_cyborg.allocator import models
from orionx_cyborg.allocator import state as state_mod

#: Compute and memory of one GPU in the units requests use for shares.
_WHOLE = 100


@dataclasses.dataclass(frozen=True, slots=True)
class Held:
    """A request the caller keeps back, and its key in the caller's terms."""

    key: Hashable
    request: models.VgpuRequest


@dataclasses.dataclass(frozen=True, slots=True)
class Admission:
    """What became of a request offered to the hold.

    ``decision`` is None when the request is to be held; ``partner`` is
    the held request placed with it (and its grant), if any.
    """

    decision: models.Decision | None
    partner: tuple[Hashable, models.Grant] | None = None

    @property
    def held(self) -> bool:
        """Whether the caller is to hold the request back."""
        return self.decision is None


#: What decides whether two held requests pair alike: compute percent,
#: memory in MiB and in percent, allowed models.
_Shape = tuple[int, int, int, frozenset[str]]


def _shape(request: models.VgpuRequest) -> _Shape:
    return (
        request.compute_pct,
        request.memory_mib,
        request.memory_pct,
        request.models,
    )


class HeldRequests:
    """Held requests grouped by shape, each group oldest first.

    Finding a partner for an arriving slice then looks at each distinct
    shape held rather than at each held request: the shapes of a pool's
    requests are few, while thousands of requests may wait under
    sustained pressure.
    """

    def __init__(self, held: Iterable[Held] = ()) -> None:
        """Start with requests held before, oldest first.

        :param held: the requests.
        :raises ValueError: for a key given twice.
        """
        # Arrival order over every group: ties between shapes of equal
        # fill go to the oldest request, as in a list oldest first.
        self._arrivals = 0
        self._shapes: dict[Hashable, _Shape] = {}
        self._groups: dict[
            _Shape, collections.OrderedDict[Hashable, tuple[int, Held]]
        ] = {}
        for request in held:
            self.add(request)

    def __len__(self) -> int:
        return len(self._shapes)

    def __contains__(self, key: object) -> bool:
        return key in self._shapes

    def add(self, held: Held) -> None:
        """Hold a request, after every request held now.

        :param held: the request and its key.
        :raises ValueError: for a key held already.
        """
        if held.key in self._shapes:
            raise ValueError('%r is held already' % (held.key,))
        shape = _shape(held.request)
        self._shapes[held.key] = shape
        group = self._groups.setdefault(shape, collections.OrderedDict())
        group[held.key] = (self._arrivals, held)
        self._arrivals += 1

    def remove(self, key: Hashable) -> Held:
        """Let a held request go.

        :param key: its key.
        :returns: the request and its key.
        :raises KeyError: for a key not held.
        """
        shape = self._shapes.pop(key)
        group = self._groups[shape]
        _, held = group.pop(key)
        if not group:
            del self._groups[shape]
        return held

    def oldest(self, per_shape: int) -> Iterator[list[tuple[int, Held]]]:
        """The oldest requests of each shape held.

        :param per_shape: how many of each shape, at most.
        :returns: per shape, (arrival, request) oldest first; arrivals
            are ordered across shapes.
        """
        for group in self._groups.values():
            yield list(itertools.islice(group.values(), per_shape))


class PairingHold:
    """Keeps the last idle GPUs from slices that would open them alone.

    While more than ``reserve`` of the pool's GPUs are idle every request
    is placed as the allocator chooses. Below that, a slice that would
    open an idle GPU alone, and whose partners are scarce in the learned
    mix (:meth:`partner_share`), is held; a later slice that complements
    a held one is placed with it on one GPU. Whole-GPU and multi-GPU
    requests are never held.
    """

    def __init__(
        self,
        allocator: allocator_mod.Allocator,
        *,
        reserve: float = 0.5,
        below_pct: int = 80,
        tries: int = 3,
        scarce_below: float = 0.1,
    ) -> None:
        """Wrap an allocator, telling it that a hold is in front.

        :param allocator: the allocator that places every request.
        :param reserve: the fraction of the pool's healthy GPUs (of the
            request's models) kept idle from unpaired slices.
        :param below_pct: only slices asking for less compute than this
            are held (larger ones leave too little room to pair).
        :param tries: how many held partners, best first, are tried
            beside an arriving slice.
        :param scarce_below: only slices whose partners are less than
            this share of the recent sharing demand are held
            (:meth:`partner_share`); others find one soon enough.
        :raises ValueError: for a reserve or share out of range.
        """
        if not 0.0 <= reserve <= 1.0:
            raise ValueError('reserve must be in [0, 1]')
        if not 0 < below_pct <= _WHOLE:
            raise ValueError('below_pct must be in (0, 100]')
        self._allocator = allocator
        # Below the reserve this rule, not the policy's own exemptions
        # from its idle reserve, decides whether a slice opens an idle GPU.
        allocator.defer_to_hold()
        self._reserve = reserve
        self._below_pct = below_pct
        self._tries = tries
        self._scarce_below = scarce_below

    def holds(self, request: models.VgpuRequest) -> bool:
        """Whether a request is of the kind this rule may hold back.

        :param request: the request.
        :returns: True for one slice below ``below_pct`` of compute.
        """
        return request.count == 1 and request.compute_pct < self._below_pct

    def may_open(self, request: models.VgpuRequest, taking: int = 1) -> bool:
        """Whether a slice may open an idle GPU alone now.

        :param request: the request.
        :param taking: how many idle GPUs are about to be taken, this
            one included (a caller releasing several held slices at once
            counts those it released before).
        :returns: True while the pool keeps at least the reserve of idle
            GPUs after *taking* more are taken.
        """
        gpu_models = request.models
        idle = self._allocator.idle_gpus(gpu_models)
        healthy = self._allocator.healthy_gpus(gpu_models)
        return idle - taking >= self._reserve * healthy

    def partner_share(self, request: models.VgpuRequest) -> float:
        """How much of the recent sharing demand could pair with a slice.

        :param request: the slice.
        :returns: the weight of the learned mix's one-slice shapes whose
            compute and memory percent fit one GPU with it, over the
            weight of all one-slice shapes below a whole GPU (1.0 when
            there are none). Sizes in MiB count as a share of the
            largest GPU of the request's models.
        """
        snapshot = self._allocator.mix_snapshot
        shares = _Shares(self._allocator.state, request.models)
        mine = shares.of(
            request.compute_pct, request.memory_mib, request.memory_pct
        )
        total = fitting = 0.0
        for shape, weight in zip(
            snapshot.shapes, snapshot.weights, strict=True
        ):
            if shape.count != 1 or shape.compute_pct >= _WHOLE:
                continue
            total += weight
            theirs = shares.of(
                shape.compute_pct, shape.memory_mib, shape.memory_pct
            )
            if _may_pair(theirs, mine):
                fitting += weight
        return fitting / total if total > 0 else 1.0

    def admit(
        self,
        request: models.VgpuRequest,
        held: Sequence[Held] | HeldRequests = (),
    ) -> Admission:
        """Place a request, place it with a held partner, or hold it.

        :param request: the arriving request (it joins the learned mix).
        :param held: the requests held now, oldest first; the caller
            updates them with the admission (a partner placed is no
            longer held, a request held is).
        :returns: the admission; every grant in it is taken.
        """
        if not self.holds(request):
            return Admission(self._allocator.allocate(request))
        for partner in self._partners(request, held):
            paired = self._place_pair(request, partner)
            if paired is not None:
                return paired
        decision = self._allocator.allocate(request)
        if (
            isinstance(decision, models.Grant)
            and self._opened(decision)
            and self._allocator.idle_gpus(request.models)
            < self._reserve * self._allocator.healthy_gpus(request.models)
            and self.partner_share(request) < self._scarce_below
        ):
            self._allocator.release(decision)
            return Admission(None)
        return Admission(decision)

    def _partners(
        self,
        request: models.VgpuRequest,
        held: Sequence[Held] | HeldRequests,
    ) -> list[Held]:
        # The held requests that may fill a GPU with this one, best fill
        # first (oldest first among equals). Whether they do is known
        # only on a GPU: memory rounds up to whole MiB there, and memory
        # in MiB may not fit its capacity. Requests of one shape fill
        # alike, so the best are among the oldest of each shape.
        if not isinstance(held, HeldRequests):
            held = HeldRequests(held)
        shares = _Shares(self._allocator.state, request.models)
        mine = shares.of(
            request.compute_pct, request.memory_mib, request.memory_pct
        )
        fills: list[tuple[int, int, int, Held]] = []
        for firsts in held.oldest(self._tries):
            other = firsts[0][1].request
            if other.models != request.models:
                continue
            theirs = shares.of(
                other.compute_pct, other.memory_mib, other.memory_pct
            )
            if not _may_pair(theirs, mine):
                continue
            compute = theirs[0] + mine[0]
            memory = theirs[1] + mine[1]
            fills.extend(
                (compute, memory, -arrival, candidate)
                for arrival, candidate in firsts
            )
        best = heapq.nlargest(
            self._tries, fills, key=lambda f: (f[0], f[1], f[2])
        )
        return [f[3] for f in best]

    def _place_pair(
        self, request: models.VgpuRequest, partner: Held
    ) -> Admission | None:
        # The held request where the policy would place it alone (an idle
        # GPU or a used one), then this one beside it, or neither.
        pair = self._allocator.allocate_pair(partner.request, request)
        if pair is None:
            return None
        first, second = pair
        self._allocator.observe(request)
        return Admission(second, (partner.key, first))

    def _opened(self, grant: models.Grant) -> bool:
        # Whether the grant's slice is all that is on its GPU now.
        piece = grant.slices[0]
        gpu = self._allocator.gpu(piece.gpu_id)
        return (
            gpu.free_memory_mib + piece.memory_mib == gpu.memory_mib
            and gpu.free_compute_pct + piece.compute_pct == gpu.compute_pct
        )


class _Shares:
    """Compute and memory percent of slices on GPUs of some models.

    Memory asked in MiB counts as a share of the largest GPU of the
    models (the share it leaves free there is the most any GPU of them
    leaves). The largest GPU is looked up once, when first needed: it is
    a pass over the pool's classes.
    """

    def __init__(
        self, pool: state_mod.PoolState, gpu_models: frozenset[str]
    ) -> None:
        self._pool = pool
        self._models = gpu_models
        self._largest: int | None = None

    def of(
        self, compute_pct: int, memory_mib: int, memory_pct: int
    ) -> tuple[int, int]:
        """A slice's share of one GPU.

        :param compute_pct: its compute.
        :param memory_mib: its memory in MiB, or 0.
        :param memory_pct: its memory in percent (when not in MiB).
        :returns: (compute percent, memory percent).
        """
        if memory_mib <= 0:
            return compute_pct, memory_pct
        if self._largest is None:
            self._largest = max(
                (
                    group.memory_mib
                    for group in self._pool.classes(self._models)
                ),
                default=0,
            )
        if self._largest <= 0:
            return compute_pct, _WHOLE
        return compute_pct, -(-memory_mib * _WHOLE // self._largest)


def _may_pair(theirs: tuple[int, int], mine: tuple[int, int]) -> bool:
    # Whether two slices of these (compute, memory) percent may share a
    # GPU; memory in MiB is not known to fit until a GPU is chosen.
    return theirs[0] + mine[0] <= _WHOLE and theirs[1] + mine[1] <= _WHOLE
