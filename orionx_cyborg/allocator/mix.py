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

"""The recent request mix: what the pool expects to be asked for next.

Fragmentation is relative to a workload (FGD, ATC'23): free capacity is a
fragment when the tasks that are likely to arrive cannot use it. FGD takes
the target workload from the whole trace, offline; a live service cannot,
so :class:`RequestMix` learns it online from a bounded window of recent
requests and starts from a prior before any arrive.

Scoring caches depend on the mix, so the allocator works on a frozen
:class:`MixSnapshot` that changes only when the live mix has drifted: a new
snapshot every request would throw the caches away every request.
"""

from __future__ import annotations

import collections
import dataclasses
import math
from collections.abc import Iterable
from collections.abc import Mapping

from orionx_cyborg.allocator import models


@dataclasses.dataclass(frozen=True, slots=True)
class TaskShape:
    """The size of one kind of request, for the mix.

    Memory is in MiB or in percent of a GPU, as in :class:`VgpuRequest`.
    ``count`` is above 1 only for slices that must share a host: their
    GPUs interact, while slices of other multi-vGPU requests are
    independent and count as single slices.
    """

    compute_pct: int
    memory_mib: int = 0
    memory_pct: int = 0
    count: int = 1

    @classmethod
    def of(cls, request: models.VgpuRequest) -> TaskShape:
        """The shape of a request.

        :param request: the request.
        :returns: its shape.
        """
        same_host = request.host_affinity is models.HostAffinity.SAME_HOST
        return cls(
            compute_pct=request.compute_pct,
            memory_mib=request.memory_mib,
            memory_pct=request.memory_pct,
            count=request.count if same_host else 1,
        )

    def memory_on(self, memory_capacity_mib: int) -> int:
        """MiB of one slice of this shape on a GPU of that capacity.

        :param memory_capacity_mib: the GPU's usable memory in MiB.
        :returns: MiB of one slice.
        """
        return models.resolve_memory(
            self.memory_mib, self.memory_pct, memory_capacity_mib
        )


@dataclasses.dataclass(frozen=True, slots=True)
class MixSnapshot:
    """A frozen, normalised request mix.

    ``multi_shapes`` lists the shapes with ``count > 1`` in a fixed order;
    the allocator's host context refers to them by index.
    """

    version: int
    shapes: tuple[TaskShape, ...]
    weights: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.shapes) != len(self.weights):
            raise ValueError('one weight per shape')

    @property
    def multi_shapes(self) -> tuple[TaskShape, ...]:
        """Shapes whose slices must share a host, in a canonical order.

        The order does not depend on the weights, so a new snapshot with
        the same multi shapes keeps the allocator's host context valid.
        """
        return tuple(
            sorted((s for s in self.shapes if s.count > 1), key=_shape_order)
        )

    @property
    def multi_weights(self) -> tuple[float, ...]:
        """The weights of :attr:`multi_shapes`, in the same order."""
        weight = dict(zip(self.shapes, self.weights, strict=True))
        return tuple(weight[s] for s in self.multi_shapes)

    @classmethod
    def from_weights(
        cls, weights: Mapping[TaskShape, float], version: int = 0
    ) -> MixSnapshot:
        """A snapshot from unnormalised weights (e.g. a known workload).

        :param weights: a weight per shape; zero weights are dropped.
        :param version: the snapshot's version number.
        :returns: the normalised snapshot, heaviest shapes first.
        :raises ValueError: when no weight is positive.
        """
        items = sorted(
            ((s, w) for s, w in weights.items() if w > 0),
            key=lambda item: (-item[1], _shape_order(item[0])),
        )
        total = sum(w for _, w in items)
        if total <= 0:
            raise ValueError('a mix needs a positive weight')
        return cls(
            version=version,
            shapes=tuple(s for s, _ in items),
            weights=tuple(w / total for _, w in items),
        )


def _shape_order(shape: TaskShape) -> tuple[int, int, int, int]:
    # A total order so that equal weights sort the same way every run.
    return (shape.count, shape.compute_pct, shape.memory_pct, shape.memory_mib)


def memory_compute_correlation(
    snapshot: MixSnapshot, smallest_memory_mib: int
) -> float:
    """How the memory of the mix's slices follows their compute.

    The weighted (Pearson) correlation of compute and memory over the
    single-slice shapes that share a GPU (less than 100% compute): +1
    where memory is proportional to compute (M1), about 0 where it is
    independent (M2), -1 where memory-heavy slices are compute-light
    (M3). Memory in percent counts as its fraction of a GPU, memory in
    MiB as its fraction of the pool's smallest GPU.

    :param snapshot: the request mix.
    :param smallest_memory_mib: the smallest GPU memory of the pool; 0
        leaves shapes in MiB out.
    :returns: a correlation in [-1, 1]; 0 where it is undefined (fewer
        than two such shapes, or one dimension constant).
    """
    points: list[tuple[float, float, float]] = []
    for shape, weight in zip(snapshot.shapes, snapshot.weights, strict=True):
        if shape.count != 1 or shape.compute_pct >= 100 or weight <= 0:
            continue
        if shape.memory_mib:
            if not smallest_memory_mib:
                continue
            memory = shape.memory_mib / smallest_memory_mib
        else:
            memory = shape.memory_pct / 100
        points.append((shape.compute_pct / 100, memory, weight))
    if len(points) < 2:
        return 0.0
    total = sum(w for _, _, w in points)
    mean_c = sum(c * w for c, _, w in points) / total
    mean_m = sum(m * w for _, m, w in points) / total
    cov = sum(w * (c - mean_c) * (m - mean_m) for c, m, w in points)
    var_c = sum(w * (c - mean_c) ** 2 for c, _, w in points)
    var_m = sum(w * (m - mean_m) ** 2 for _, m, w in points)
    if var_c <= 0 or var_m <= 0:
        return 0.0
    return max(-1.0, min(1.0, cov / math.sqrt(var_c * var_m)))


#: Before any request arrives: whole GPUs and halves and quarters of one,
#: sizes that inference and training services commonly ask for. Memory in
#: percent fits any GPU model of the pool.
DEFAULT_PRIOR: Mapping[TaskShape, float] = {
    TaskShape(compute_pct=100, memory_pct=100): 0.4,
    TaskShape(compute_pct=50, memory_pct=50): 0.3,
    TaskShape(compute_pct=25, memory_pct=25): 0.3,
}


class RequestMix:
    """A bounded window of recent request shapes plus a prior.

    The mix is ``counts + prior_weight * prior``, so the prior decides while
    the window is empty and fades to ``prior_weight / window`` once it is
    full. Like FGD's "typical pods", only the most common shapes that
    together cover ``coverage`` of the mix are kept (at most
    ``max_shapes``), which bounds the cost of scoring.
    """

    def __init__(
        self,
        window: int = 2000,
        prior: Mapping[TaskShape, float] | None = None,
        prior_weight: float = 20.0,
        coverage: float = 0.99,
        max_shapes: int = 32,
        refresh_every: int = 200,
        drift_tolerance: float = 0.05,
    ) -> None:
        """Create an empty mix.

        :param window: how many recent requests the mix remembers.
        :param prior: relative weights of the shapes expected before any
            request arrives; :data:`DEFAULT_PRIOR` when None.
        :param prior_weight: how many requests the prior is worth.
        :param coverage: the share of the mix the kept shapes must cover.
        :param max_shapes: the most shapes a snapshot keeps.
        :param refresh_every: how many observations between drift checks.
        :param drift_tolerance: the total variation distance between the
            live mix and the snapshot above which a new snapshot is taken.
        """
        if window < 1 or max_shapes < 1 or refresh_every < 1:
            raise ValueError('window, max_shapes, refresh_every must be >0')
        if not 0 < coverage <= 1:
            raise ValueError('coverage must be in (0, 1]')
        self._window: collections.deque[TaskShape] = collections.deque(
            maxlen=window
        )
        self._counts: collections.Counter[TaskShape] = collections.Counter()
        prior_shapes = DEFAULT_PRIOR if prior is None else prior
        prior_total = sum(prior_shapes.values())
        self._prior = {
            s: prior_weight * w / prior_total
            for s, w in prior_shapes.items()
            if w > 0
        }
        self._coverage = coverage
        self._max_shapes = max_shapes
        self._refresh_every = refresh_every
        self._drift_tolerance = drift_tolerance
        self._since_refresh = 0
        self._snapshot = self._take_snapshot(version=0)

    def observe(self, shape: TaskShape) -> None:
        """Remember one request; the oldest falls out of a full window.

        :param shape: the request's shape.
        """
        window = self._window
        if len(window) == window.maxlen:
            oldest = window[0]
            self._counts[oldest] -= 1
            if not self._counts[oldest]:
                del self._counts[oldest]
        window.append(shape)
        self._counts[shape] += 1
        self._since_refresh += 1

    def observe_all(self, shapes: Iterable[TaskShape]) -> None:
        """Remember several requests, oldest first.

        :param shapes: the shapes, in arrival order.
        """
        for shape in shapes:
            self.observe(shape)

    def snapshot(self) -> MixSnapshot:
        """The current snapshot, replaced first if the mix has drifted.

        :returns: the snapshot to score with.
        """
        if self._since_refresh >= self._refresh_every:
            self._since_refresh = 0
            candidate = self._take_snapshot(self._snapshot.version + 1)
            if _distance(candidate, self._snapshot) > self._drift_tolerance:
                self._snapshot = candidate
        return self._snapshot

    def _take_snapshot(self, version: int) -> MixSnapshot:
        weights: dict[TaskShape, float] = dict(self._prior)
        for shape, count in self._counts.items():
            weights[shape] = weights.get(shape, 0.0) + count
        full = MixSnapshot.from_weights(weights, version)
        kept = _most_common(full, self._coverage, self._max_shapes)
        return MixSnapshot.from_weights(
            dict(zip(full.shapes[:kept], full.weights[:kept], strict=True)),
            version,
        )


def _most_common(
    snapshot: MixSnapshot, coverage: float, max_shapes: int
) -> int:
    # Shapes are sorted by weight: keep the shortest prefix that covers.
    covered = 0.0
    for index, weight in enumerate(snapshot.weights):
        covered += weight
        if covered >= coverage - 1e-12 or index + 1 == max_shapes:
            return index + 1
    return len(snapshot.weights)


def _distance(a: MixSnapshot, b: MixSnapshot) -> float:
    # Total variation distance between two mixes.
    pa = dict(zip(a.shapes, a.weights, strict=True))
    pb = dict(zip(b.shapes, b.weights, strict=True))
    return 0.5 * sum(
        abs(pa.get(s, 0.0) - pb.get(s, 0.0)) for s in pa.keys() | pb.keys()
    )


class FixedMix:
    """A mix that never changes, e.g. a workload known in advance.

    FGD as published takes its target workload from the whole trace; this
    lets the benchmark run that way, and a service pin a mix by config.
    """

    def __init__(self, snapshot: MixSnapshot) -> None:
        """Pin a mix.

        :param snapshot: the mix to use for every decision.
        """
        self._snapshot = snapshot

    def observe(self, shape: TaskShape) -> None:
        """Ignore a request: the mix is fixed.

        :param shape: the request's shape.
        """

    def snapshot(self) -> MixSnapshot:
        """The pinned mix.

        :returns: the snapshot given at construction.
        """
        return self._snapshot
