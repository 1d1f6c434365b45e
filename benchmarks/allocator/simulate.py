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

"""Replays a workload against a pool with one policy and measures it.

Our policies run through the runtime allocator
(:class:`orionx_cyborg.allocator.Allocator`, the code the attach service
runs); the FGD paper's baselines through :mod:`.baselines`. Both see the
same tasks in the same order and are measured by the same code.
"""

from __future__ import annotations

import abc
import collections
import dataclasses
import heapq
import itertools
import re
import time
from collections.abc import Callable
from collections.abc import Mapping
from typing import Any

import numpy as np

from benchmarks.allocator import ablations
from benchmarks.allocator import baselines
from benchmarks.allocator import clusters
from benchmarks.allocator import metrics as metrics_mod
from benchmarks.allocator import pool as pool_mod
from benchmarks.allocator import workloads
from orionx_cyborg import allocator as alloc

#: Policies of the runtime allocator benchmarked by name; ``binpack`` and
#: ``spread`` rank every GPU of the pool by HAMi's GPU score (HAMi's own
#: two-level scheduler is the ``hami-*`` baselines). ``+oracle`` runs a
#: policy with the workload's exact mix instead of the learned one (an
#: ablation).
#: The ablations of :mod:`.ablations` run by name too, outside
#: :data:`POLICIES` (and so outside the committed matrix).
RUNTIME_POLICIES = (
    'binpack',
    'spread',
    'fragmentation-aware',
    'stranding-aware',
    'stranding-aware+oracle',
    'partner-aware',
    'count-aware',
)
#: Runtime policies behind the pairing hold (:class:`HoldEngine`), an
#: admission rule: a sharing task may wait for a partner.
HOLD_POLICIES = ('partner-aware+hold',)
#: Runtime policies with periodic defragmenting moves (:class:`DefragEngine`).
DEFRAG_POLICIES = ('partner-aware+defrag',)
POLICIES = (
    *RUNTIME_POLICIES,
    *HOLD_POLICIES,
    *DEFRAG_POLICIES,
    *baselines.BASELINES,
)
ARRIVALS = ('inflate', 'churn')
#: The percent of idle GPUs ``<policy>+hold`` keeps from unpaired
#: slices, chosen on the development seeds with the hold's other
#: constants (README, *The pairing hold*). A number after ``+hold``
#: overrides it (for trials), ``w`` with a number after that bounds
#: the wait in arrivals (``hold_wait.py``) and ``s`` with a number sets
#: the partner share in percent below which slices are held, e.g.
#: ``partner-aware+hold50w1000`` or ``partner-aware+hold50s20``.
HOLD_RESERVE_PCT = 50
_HOLD_SUFFIX = re.compile(r'(\d*)(?:w(\d+))?(?:s(\d+))?')
#: Arrivals between two defragmenting passes of ``<policy>+defrag`` (a
#: number after ``+defrag`` overrides it).
DEFRAG_EVERY = 100
#: Full metrics every this many percent of arrived workload (allocation
#: ratios every percent).
CHECKPOINT_EVERY = 10


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """One simulation: a cell of the matrix and a seed."""

    cluster: str
    variant: str
    memory: str
    arrival: str
    policy: str
    seed: int
    #: inflate: the arrived workload to reach (FGD: 1.3).
    target: float = 1.3
    #: churn: offered load and arrivals per GPU of the pool.
    load: float = 1.2
    arrivals_per_gpu: float = 2.0


class Engine(abc.ABC):
    """Places tasks with one policy; the simulator applies the result."""

    @abc.abstractmethod
    def place(
        self, task: workloads.Task
    ) -> tuple[object, list[tuple[int, int]]] | str:
        """Choose GPUs for a task.

        :param task: the task.
        :returns: (handle for release, [(GPU index, MiB)]) or a reason.
        """

    @abc.abstractmethod
    def release(self, task: workloads.Task, handle: object) -> None:
        """Forget a placed task.

        :param task: the task.
        :param handle: what :meth:`place` returned with it.
        """

    def classes(self) -> int:
        """Equivalence classes of the pool now (runtime engines)."""
        return 0


class AllocatorEngine(Engine):
    """A policy of the runtime allocator."""

    def __init__(
        self,
        policy: str,
        cluster: clusters.Cluster,
        pool: pool_mod.PoolArrays,
        distribution: Mapping[workloads.Task, float],
    ) -> None:
        name, _, variant = policy.partition('+')
        mix: alloc.MixSource | None = None
        if variant == 'oracle':
            mix = alloc.FixedMix(
                alloc.MixSnapshot.from_weights(
                    {t.shape(): p for t, p in distribution.items()}
                )
            )
        ablation = ablations.RUNTIME_POLICIES.get(name)
        self._allocator = alloc.Allocator(
            cluster.gpus,
            policy=name if ablation is None else ablation(),
            mix=mix,
        )
        self._index = pool.index

    def place(
        self, task: workloads.Task
    ) -> tuple[object, list[tuple[int, int]]] | str:
        return self._outcome(self._allocator.allocate(task.request()))

    def release(self, task: workloads.Task, handle: object) -> None:
        assert isinstance(handle, alloc.Grant)
        self._allocator.release(handle)

    def _outcome(
        self, decision: alloc.Decision
    ) -> tuple[object, list[tuple[int, int]]] | str:
        # The simulator's terms: (grant, [(GPU index, MiB)]) or a reason.
        if isinstance(decision, alloc.Rejection):
            return decision.reason.value
        return decision, [
            (self._index[s.gpu_id], s.memory_mib) for s in decision.slices
        ]

    def classes(self) -> int:
        return self._allocator.state.class_count()

    def gpus(self) -> list[alloc.AllocatorGpu]:
        """The allocator's view of the pool (for consistency checks)."""
        return self._allocator.gpus()


class HoldEngine(AllocatorEngine):
    """A runtime policy behind a pairing hold (:mod:`..pairing`).

    Held tasks are asked again, oldest first, whenever the pool has room
    above the reserve for them (after releases in churn) or, with a
    ``max_wait``, once they have waited that many arrivals; tasks placed
    or refused after their arrival come back from :meth:`drain`. Waits
    are counted in arrivals.
    """

    def __init__(
        self,
        policy: str,
        cluster: clusters.Cluster,
        pool: pool_mod.PoolArrays,
        distribution: Mapping[workloads.Task, float],
        max_wait: int = 0,
        **hold_options: float,
    ) -> None:
        super().__init__(policy, cluster, pool, distribution)
        # reserve, scarce_below: see alloc.PairingHold.
        self._hold = alloc.PairingHold(self._allocator, **hold_options)
        self._max_wait = max_wait
        self._clock = 0
        # Arrival number -> task, oldest first.
        self._held: dict[int, workloads.Task] = {}
        self._views = alloc.HeldRequests()
        self._later: list[tuple[workloads.Task, object]] = []
        self.held_total = 0
        self.waits: list[int] = []

    def place(
        self, task: workloads.Task
    ) -> tuple[object, list[tuple[int, int]]] | str:
        self._clock += 1
        self._retry()
        admission = self._hold.admit(task.request(), self._views)
        if admission.partner is not None:
            key, grant = admission.partner
            self._later.append((self._unhold(key), self._outcome(grant)))
        if admission.decision is None:
            self.held_total += 1
            self._held[self._clock] = task
            self._views.add(alloc.Held(self._clock, task.request()))
            return 'held'
        return self._outcome(admission.decision)

    def drain(self) -> list[tuple[workloads.Task, object]]:
        """Held tasks placed or refused since the last call."""
        later, self._later = self._later, []
        return later

    def pending(self) -> int:
        """Tasks held now."""
        return len(self._held)

    def held_tasks(self) -> list[workloads.Task]:
        """The tasks held now, oldest first."""
        return list(self._held.values())

    def _retry(self) -> None:
        while self._held:
            key = next(iter(self._held))
            task = self._held[key]
            expired = 0 < self._max_wait <= self._clock - key
            if not (expired or self._hold.may_open(task.request())):
                return
            self._unhold(key)
            decision = self._allocator.allocate(task.request(), observe=False)
            self._later.append((task, self._outcome(decision)))

    def _unhold(self, key: object) -> workloads.Task:
        assert isinstance(key, int)
        self._views.remove(key)
        self.waits.append(self._clock - key)
        return self._held.pop(key)


@dataclasses.dataclass(eq=False)
class _Live:
    """A placed task whose GPU may change (:class:`DefragEngine`)."""

    task: workloads.Task
    grant: alloc.Grant
    #: The simulator's [(GPU index, MiB)], updated in place on a move.
    slots: list[tuple[int, int]]


class DefragEngine(AllocatorEngine):
    """A runtime policy with periodic defragmenting moves.

    Every ``every`` arrivals a pass moves each sharing task that is alone
    on its GPU to the used GPU it fills best, if one has room, which
    frees its GPU (the attach service already moves leases off unhealthy
    GPUs). Moves come back from :meth:`drain_moves`.
    """

    def __init__(
        self,
        policy: str,
        cluster: clusters.Cluster,
        pool: pool_mod.PoolArrays,
        distribution: Mapping[workloads.Task, float],
        every: int,
    ) -> None:
        super().__init__(policy, cluster, pool, distribution)
        self._every = every
        self._clock = 0
        self._on_gpu: dict[str, dict[int, _Live]] = {}
        self._moved: list[
            tuple[workloads.Task, list[tuple[int, int]], list[tuple[int, int]]]
        ] = []
        self.moves = 0
        self.passes = 0

    def place(
        self, task: workloads.Task
    ) -> tuple[object, list[tuple[int, int]]] | str:
        self._clock += 1
        if self._clock % self._every == 0:
            self._defrag()
        outcome = super().place(task)
        if isinstance(outcome, str):
            return outcome
        grant, slots = outcome
        assert isinstance(grant, alloc.Grant)
        live = _Live(task, grant, slots)
        for gpu_id in grant.gpu_ids:
            self._on_gpu.setdefault(gpu_id, {})[id(live)] = live
        return live, slots

    def release(self, task: workloads.Task, handle: object) -> None:
        assert isinstance(handle, _Live)
        for gpu_id in handle.grant.gpu_ids:
            del self._on_gpu[gpu_id][id(handle)]
        self._allocator.release(handle.grant)

    def drain_moves(
        self,
    ) -> list[
        tuple[workloads.Task, list[tuple[int, int]], list[tuple[int, int]]]
    ]:
        """(task, old slots, new slots) of the moves since the last call."""
        moved, self._moved = self._moved, []
        return moved

    def _defrag(self) -> None:
        self.passes += 1
        # Shapes with no destination in this pass: moves only fill used
        # GPUs and free others, so they stay without one.
        stuck: set[tuple[int, int, int]] = set()
        for gpu_id in list(self._on_gpu):
            lives = self._on_gpu[gpu_id]
            if len(lives) != 1:
                continue
            live = next(iter(lives.values()))
            task = live.task
            shape = (task.compute_pct, task.memory_pct, task.memory_mib)
            if task.kind != 'sharing' or shape in stuck:
                continue
            if not self._move(live, gpu_id):
                stuck.add(shape)

    def _move(self, live: _Live, source: str) -> bool:
        request = live.task.request()
        target = self._destination(request, source)
        if target is None:
            return False
        new = self._allocator.allocate_on(request, target, observe=False)
        assert new is not None
        self._allocator.release(live.grant)
        del self._on_gpu[source][id(live)]
        self._on_gpu.setdefault(target, {})[id(live)] = live
        old = list(live.slots)
        live.grant = new
        live.slots[:] = [(self._index[target], new.slices[0].memory_mib)]
        self._moved.append((live.task, old, list(live.slots)))
        self.moves += 1
        return True

    def _destination(
        self, request: alloc.VgpuRequest, source: str
    ) -> str | None:
        # The used GPU (not the source) that the slice leaves with the
        # least room, by the larger free fraction.
        best: tuple[float, str] | None = None
        for group in self._allocator.state.classes(request.models):
            if (
                group.free_memory_mib == group.memory_mib
                and group.free_compute_pct == group.compute_pct
            ):
                continue
            need_mem = request.memory_on(group.memory_mib)
            free_mem = group.free_memory_mib - need_mem
            free_comp = group.free_compute_pct - request.compute_pct
            if free_mem < 0 or free_comp < 0:
                continue
            room = max(
                free_mem / group.memory_mib, free_comp / group.compute_pct
            )
            if best is not None and room >= best[0]:
                continue
            member = next((g for g in group.members if g != source), None)
            if member is not None:
                best = (room, member)
        return None if best is None else best[1]


class BaselineEngine(Engine):
    """A baseline of :mod:`.baselines` (or an ablation of one)."""

    def __init__(
        self,
        baseline: type[baselines.Baseline],
        pool: pool_mod.PoolArrays,
        distribution: Mapping[workloads.Task, float],
        seed: int,
    ) -> None:
        self._baseline = baseline(pool, distribution, seed)
        self._pool = pool

    def place(
        self, task: workloads.Task
    ) -> tuple[object, list[tuple[int, int]]] | str:
        gpus = self._baseline.choose(task)
        if gpus is None:
            return 'unplaced'
        self._baseline.placed(task, gpus)
        need = self._pool.need_memory(task)
        return gpus, [(i, int(need[i])) for i in gpus]

    def release(self, task: workloads.Task, handle: object) -> None:
        assert isinstance(handle, list)
        self._baseline.released(task, handle)


def make_engine(
    spec: RunSpec,
    cluster: clusters.Cluster,
    pool: pool_mod.PoolArrays,
    distribution: Mapping[workloads.Task, float],
) -> Engine:
    """The engine of a run's policy.

    :param spec: the run.
    :param cluster: its cluster.
    :param pool: the simulator's pool arrays.
    :param distribution: the workload's task mix.
    :returns: the engine.
    """
    baseline = baselines.BASELINES.get(spec.policy) or (
        ablations.BASELINES.get(spec.policy)
    )
    if baseline is not None:
        return BaselineEngine(baseline, pool, distribution, spec.seed)
    name, _, every = spec.policy.partition('+defrag')
    if name in RUNTIME_POLICIES and spec.policy != name:
        return DefragEngine(
            name, cluster, pool, distribution, int(every or DEFRAG_EVERY)
        )
    name, _, hold = spec.policy.partition('+hold')
    known = name in RUNTIME_POLICIES or name in ablations.RUNTIME_POLICIES
    if known and spec.policy != name:
        match = _HOLD_SUFFIX.fullmatch(hold)
        if match is None:
            raise ValueError('unknown policy %r' % spec.policy)
        reserve, wait, share = match.groups()
        options = {'reserve': int(reserve or HOLD_RESERVE_PCT) / 100}
        if share is not None:
            options['scarce_below'] = int(share) / 100
        return HoldEngine(
            name, cluster, pool, distribution, int(wait or 0), **options
        )
    if (
        spec.policy in RUNTIME_POLICIES
        or spec.policy in ablations.RUNTIME_POLICIES
    ):
        return AllocatorEngine(spec.policy, cluster, pool, distribution)
    raise ValueError('unknown policy %r' % spec.policy)


class _Recorder:
    """Counts, latencies and allocation sums of one run."""

    def __init__(self, pool: pool_mod.PoolArrays) -> None:
        self.pool = pool
        self.latencies: list[int] = []
        self.arrived = collections.Counter[str]()
        self.failed = collections.Counter[str]()
        self.failed_gpus: dict[str, float] = collections.defaultdict(float)
        self.reasons = collections.Counter[str]()
        self.used_mem = 0
        self.used_comp = 0
        self.held = collections.Counter[str]()
        #: Held tasks (by identity) that count as arrivals.
        self.held_counted: set[int] = set()
        #: Held tasks placed after they arrived, for the caller to track.
        self.later: list[tuple[workloads.Task, object]] = []

    def place(
        self, engine: Engine, task: workloads.Task, counting: bool = True
    ) -> object | None:
        start = time.perf_counter_ns()
        outcome = engine.place(task)
        self.latencies.append(time.perf_counter_ns() - start)
        if counting:
            self.arrived[task.kind] += 1
        if isinstance(engine, HoldEngine):
            self._apply_later(engine, counting)
        if isinstance(engine, DefragEngine):
            self._apply_moves(engine)
        if outcome == 'held':
            if counting:
                self.held[task.kind] += 1
                self.held_counted.add(id(task))
            return None
        return self._apply(task, outcome, counting)

    def _apply_later(self, engine: HoldEngine, counting: bool) -> None:
        # Held tasks placed (or refused) while this one arrived.
        for task, outcome in engine.drain():
            placed = self._apply(task, outcome, counting)
            if placed is not None:
                self.later.append((task, placed))

    def _apply_moves(self, engine: DefragEngine) -> None:
        # Tasks moved to another GPU while this one arrived.
        for task, old, new in engine.drain_moves():
            for index, memory_mib in old:
                self.pool.give(index, memory_mib, task.compute_pct)
                self.used_mem -= memory_mib
            for index, memory_mib in new:
                self.pool.take(index, memory_mib, task.compute_pct)
                self.used_mem += memory_mib

    def _apply(
        self, task: workloads.Task, outcome: object, counting: bool
    ) -> object | None:
        if isinstance(outcome, str):
            if counting:
                self.failed[task.kind] += 1
                self.failed_gpus[task.kind] += task.gpus
                self.reasons[outcome] += 1
            return None
        assert isinstance(outcome, tuple)
        handle, slots = outcome
        for index, memory_mib in slots:
            self.pool.take(index, memory_mib, task.compute_pct)
            self.used_mem += memory_mib
            self.used_comp += task.compute_pct
        return (handle, slots)

    def release(
        self, engine: Engine, task: workloads.Task, placed: object
    ) -> None:
        assert isinstance(placed, tuple)
        handle, slots = placed
        for index, memory_mib in slots:
            self.pool.give(index, memory_mib, task.compute_pct)
            self.used_mem -= memory_mib
            self.used_comp -= task.compute_pct
        engine.release(task, handle)

    def allocation(self) -> tuple[float, float]:
        return (
            self.used_comp / self.pool.total_comp,
            self.used_mem / self.pool.total_mem,
        )

    def summary(self, engine: Engine) -> dict[str, Any]:
        if isinstance(engine, HoldEngine):
            # Still held when the arrivals end: never served.
            for task in engine.held_tasks():
                if id(task) in self.held_counted:
                    self.failed[task.kind] += 1
                    self.failed_gpus[task.kind] += task.gpus
                    self.reasons['held'] += 1
        lat = np.array(self.latencies, dtype=np.float64) / 1000.0
        return {
            'decisions': len(self.latencies),
            'latency_us': {
                'p50': float(np.percentile(lat, 50)),
                'p99': float(np.percentile(lat, 99)),
                'max': float(lat.max()),
            },
            'arrived': dict(self.arrived),
            'failed': dict(self.failed),
            'failed_gpus': dict(self.failed_gpus),
            'reasons': dict(self.reasons),
            'held': dict(self.held),
            **_hold_summary(engine),
            **_defrag_summary(engine),
        }


#: Wraps a run's engine (for diagnosis: :mod:`.failures`).
EngineWrapper = Callable[[Engine, pool_mod.PoolArrays], Engine]


def run(spec: RunSpec, wrap: EngineWrapper | None = None) -> dict[str, Any]:
    """Simulate one run.

    :param spec: the run.
    :param wrap: called with the run's engine and pool; the engine it
        returns places the run's tasks instead.
    :returns: a JSON-serialisable result.
    """
    started = time.perf_counter()
    cluster = clusters.shuffled(clusters.by_name(spec.cluster), spec.seed)
    pool = pool_mod.PoolArrays(cluster)
    sampler = workloads.TaskSampler(
        spec.variant, spec.memory, cluster.max_memory_mib, spec.seed
    )
    distribution = sampler.distribution()
    measure = metrics_mod.PoolMetrics(pool, distribution)
    engine = make_engine(spec, cluster, pool, distribution)
    if wrap is not None:
        engine = wrap(engine, pool)
    if spec.arrival == 'inflate':
        result = _inflate(spec, sampler, pool, engine, measure)
    elif spec.arrival == 'churn':
        result = _churn(spec, sampler, pool, engine, measure)
    else:
        raise ValueError('unknown arrival mode %r' % spec.arrival)
    result['spec'] = dataclasses.asdict(spec)
    result['classes'] = engine.classes()
    result['wall_s'] = time.perf_counter() - started
    if isinstance(engine, AllocatorEngine):
        _check_same_view(engine, pool)
    return result


def _inflate(
    spec: RunSpec,
    sampler: workloads.TaskSampler,
    pool: pool_mod.PoolArrays,
    engine: Engine,
    measure: metrics_mod.PoolMetrics,
) -> dict[str, Any]:
    # FGD's inflation: tasks arrive and never leave; record the allocation
    # every 1% of arrived workload and every metric every 10%.
    tasks = workloads.inflation(sampler, len(pool), spec.target)
    recorder = _Recorder(pool)
    curve: list[list[float]] = []
    checkpoints: dict[int, dict[str, float]] = {}
    arrived, step = 0.0, 1
    for task in tasks:
        recorder.place(engine, task)
        arrived += task.gpus
        while arrived >= step / 100 * len(pool):
            comp, mem = recorder.allocation()
            curve.append([step, comp, mem])
            if step % CHECKPOINT_EVERY == 0:
                checkpoints[step] = measure.measure()
            step += 1
    result = recorder.summary(engine)
    result['curve'] = curve
    result['checkpoints'] = checkpoints
    final = int(round(spec.target * 100))
    result['at'] = {
        pct: checkpoints[pct] for pct in (100, final) if pct in checkpoints
    }
    return result


def _churn(
    spec: RunSpec,
    sampler: workloads.TaskSampler,
    pool: pool_mod.PoolArrays,
    engine: Engine,
    measure: metrics_mod.PoolMetrics,
) -> dict[str, Any]:
    # The pool starts with the tasks running at time 0; the first third of
    # the arrivals is warm-up, the rest is measured: time-weighted
    # allocation, failures, and every metric at 20 points.
    count = int(spec.arrivals_per_gpu * len(pool))
    initial, events = workloads.churn(
        sampler, len(pool), spec.load, count, spec.seed
    )
    recorder = _Recorder(pool)
    running: list[tuple[float, int, workloads.Task, object]] = []
    for n, task in enumerate(initial):
        placed = recorder.place(engine, task, counting=False)
        if placed is not None:
            heapq.heappush(running, (task.lifetime, -1 - n, task, placed))
    # Tie-breaks for held tasks placed later (after every event index).
    order = itertools.count(count)
    warmup = count // 3
    window_start = events[warmup][0]
    sample_every = max(1, (count - warmup) // 20)
    weighted = np.zeros(2)
    samples: list[dict[str, float]] = []
    last_time = window_start
    for n, (now, task) in enumerate(events):
        while running and running[0][0] <= now:
            _, _, old, placed = heapq.heappop(running)
            recorder.release(engine, old, placed)
        if n >= warmup:
            weighted += np.array(recorder.allocation()) * (now - last_time)
            last_time = now
            if (n - warmup) % sample_every == 0:
                samples.append(measure.measure())
        placed = recorder.place(engine, task, counting=n >= warmup)
        if placed is not None:
            heapq.heappush(running, (now + task.lifetime, n, task, placed))
        for old, later in recorder.later:
            # A held task runs its whole lifetime from when it is placed.
            heapq.heappush(
                running, (now + old.lifetime, next(order), old, later)
            )
        recorder.later.clear()
    span = max(last_time - window_start, 1e-9)
    result = recorder.summary(engine)
    averaged = {
        key: float(np.mean([s[key] for s in samples])) for key in samples[0]
    }
    averaged['alloc_comp'] = float(weighted[0] / span)
    averaged['alloc_mem'] = float(weighted[1] / span)
    averaged['alloc_min'] = min(averaged['alloc_comp'], averaged['alloc_mem'])
    result['steady'] = averaged
    return result


def _defrag_summary(engine: Engine) -> dict[str, Any]:
    # How many defragmenting moves, in how many passes.
    if not isinstance(engine, DefragEngine):
        return {}
    return {'defrag': {'moves': engine.moves, 'passes': engine.passes}}


def _hold_summary(engine: Engine) -> dict[str, Any]:
    # How much a pairing hold held, and for how long (in arrivals).
    if not isinstance(engine, HoldEngine):
        return {}
    waits = np.array(engine.waits or [0], dtype=np.float64)
    return {
        'hold': {
            'held': engine.held_total,
            'pending_at_end': engine.pending(),
            'wait_p50': float(np.percentile(waits, 50)),
            'wait_p99': float(np.percentile(waits, 99)),
        }
    }


def _check_same_view(
    engine: AllocatorEngine, pool: pool_mod.PoolArrays
) -> None:
    # The allocator's incremental state must match what the simulator saw.
    for gpu in engine.gpus():
        i = pool.index[gpu.gpu_id]
        if (gpu.free_memory_mib, gpu.free_compute_pct) != (
            int(pool.free_mem[i]),
            int(pool.free_comp[i]),
        ):
            raise AssertionError(
                'allocator and simulator disagree on %s' % gpu
            )
