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

"""Workloads generated from the trace's published statistics.

A task is one request: a sharing task (one GPU, a share below 1), a whole
GPU, or a multi-GPU task (2, 4 or 8 whole GPUs on one host, as in the
trace, where a pod lives on one node). Task kinds and shares are drawn
from the counts of the chosen trace variant (:mod:`.trace_stats`); CPU-only
tasks are left out because a GPU pool has no CPU dimension.

The trace has one GPU dimension. GPU memory comes from one of three
declared models; whole and multi-GPU tasks always take whole GPUs (all
memory and compute):

- ``M1`` proportional: memory = the share of the chosen GPU (the request
  says ``memory_pct``), so memory and compute are the same problem: FGD's
  one-dimensional setting.
- ``M2`` inference menu: memory drawn from :data:`M2_MENU_GIB`,
  independent of the share, capped at the largest GPU of the pool.
- ``M3`` anti-correlated: memory percent = 100 - share percent, plus a
  jitter of -10..+10 in steps of 5, clipped to 5..95 (memory-heavy tasks
  are compute-light and the reverse).

Two arrival modes: FGD's inflation (tasks arrive, never leave, until the
requested GPUs reach 130% of the pool) and churn (Poisson arrivals with
lifetimes from a log-normal fitted to the trace's lifetime quantiles).
"""

from __future__ import annotations

import collections
import dataclasses
import math
import random
from collections.abc import Iterator
from collections.abc import Mapping

from benchmarks.allocator import trace_stats
from orionx_cyborg.allocator import HostAffinity
from orionx_cyborg.allocator import TaskShape
from orionx_cyborg.allocator import VgpuRequest

MEMORY_MODELS = ('M1', 'M2', 'M3')
KINDS = ('sharing', 'whole', 'multi')

#: GiB -> weight: sizes of inference services (7B to 70B models, KV
#: caches), weighted toward the small ones.
M2_MENU_GIB: Mapping[int, float] = {
    2: 0.15,
    4: 0.25,
    8: 0.25,
    16: 0.20,
    24: 0.08,
    40: 0.05,
    80: 0.02,
}
M3_JITTER = (-10, -5, 0, 5, 10)

#: Log-normal lifetimes matching the trace's median (545 s) and 90th
#: percentile (6,260 s), clipped to [10 s, 7 days].
LIFETIME_MU = math.log(trace_stats.LIFETIME_QUANTILES[0.5])
LIFETIME_SIGMA = (
    math.log(
        trace_stats.LIFETIME_QUANTILES[0.9]
        / trace_stats.LIFETIME_QUANTILES[0.5]
    )
    / 1.2815515655446004
)
LIFETIME_BOUNDS = (10.0, 7 * 86400.0)


@dataclasses.dataclass(frozen=True, slots=True)
class Task:
    """One request of the workload."""

    kind: str
    count: int
    compute_pct: int
    memory_pct: int = 0
    memory_mib: int = 0
    lifetime: float = 0.0

    @property
    def gpus(self) -> float:
        """GPUs of compute asked for (the trace's GPU demand)."""
        return self.count * self.compute_pct / 100

    def request(self) -> VgpuRequest:
        """The allocator request of this task.

        :returns: the request; multi-GPU tasks ask for one host.
        """
        return VgpuRequest(
            compute_pct=self.compute_pct,
            memory_pct=self.memory_pct,
            memory_mib=self.memory_mib,
            count=self.count,
            host_affinity=(
                HostAffinity.SAME_HOST if self.count > 1 else HostAffinity.ANY
            ),
        )

    def shape(self) -> TaskShape:
        """The task's shape in the allocator's mix terms."""
        return TaskShape(
            compute_pct=self.compute_pct,
            memory_mib=self.memory_mib,
            memory_pct=self.memory_pct,
            count=self.count,
        )


class TaskSampler:
    """Draws tasks of one trace variant under one memory model."""

    def __init__(
        self,
        variant: str,
        memory_model: str,
        max_memory_mib: int,
        seed: int,
    ) -> None:
        """Prepare the distributions.

        :param variant: a key of :data:`.trace_stats.VARIANTS`.
        :param memory_model: ``M1``, ``M2`` or ``M3``.
        :param max_memory_mib: the largest GPU of the pool (M2's cap).
        :param seed: the random seed.
        """
        if memory_model not in MEMORY_MODELS:
            raise ValueError('unknown memory model %r' % memory_model)
        self.variant = trace_stats.VARIANTS[variant]
        self.memory_model = memory_model
        self._rng = random.Random(seed)
        self._max_memory_mib = max_memory_mib
        stats = self.variant
        self._kind_weights = [
            ('sharing', 1, stats.sharing),
            ('whole', 1, stats.whole_one),
            *(('multi', n, c) for n, c in sorted(stats.multi_gpu.items())),
        ]
        self._shares = sorted(stats.shares.items())

    def sample(self) -> Task:
        """Draw one task.

        :returns: the task (without a lifetime).
        """
        rng = self._rng
        kind, count, _ = rng.choices(
            self._kind_weights, [w for *_, w in self._kind_weights]
        )[0]
        if kind != 'sharing':
            return Task(kind, count, 100, memory_pct=100)
        milli = rng.choices(
            [s for s, _ in self._shares], [c for _, c in self._shares]
        )[0]
        share = milli // 10
        if self.memory_model == 'M1':
            return Task(kind, 1, share, memory_pct=share)
        if self.memory_model == 'M2':
            gib = rng.choices(list(M2_MENU_GIB), list(M2_MENU_GIB.values()))
            return Task(kind, 1, share, memory_mib=self._cap(gib[0] * 1024))
        return Task(kind, 1, share, memory_pct=_m3_memory(share, rng))

    def lifetime(self) -> float:
        """Draw a lifetime in seconds.

        :returns: the lifetime.
        """
        value = self._rng.lognormvariate(LIFETIME_MU, LIFETIME_SIGMA)
        return min(max(value, LIFETIME_BOUNDS[0]), LIFETIME_BOUNDS[1])

    def distribution(self) -> dict[Task, float]:
        """The exact distribution of tasks the sampler draws from.

        :returns: task (lifetime 0) -> probability.
        """
        stats = self.variant
        total = stats.gpu_tasks
        weights: dict[Task, float] = collections.defaultdict(float)
        if stats.whole_one:
            weights[Task('whole', 1, 100, memory_pct=100)] += (
                stats.whole_one / total
            )
        for n, c in stats.multi_gpu.items():
            weights[Task('multi', n, 100, memory_pct=100)] += c / total
        share_total = sum(stats.shares.values())
        for milli, c in stats.shares.items():
            p = stats.sharing / total * c / share_total
            for task, q in self._memory_variants(milli // 10):
                weights[task] += p * q
        return dict(weights)

    def mean_gpus(self) -> float:
        """Mean GPUs of compute per task.

        :returns: the expectation of :attr:`Task.gpus`.
        """
        return sum(t.gpus * p for t, p in self.distribution().items())

    def _memory_variants(self, share: int) -> Iterator[tuple[Task, float]]:
        if self.memory_model == 'M1':
            yield Task('sharing', 1, share, memory_pct=share), 1.0
        elif self.memory_model == 'M2':
            for gib, w in M2_MENU_GIB.items():
                mib = self._cap(gib * 1024)
                yield Task('sharing', 1, share, memory_mib=mib), w
        else:
            for jitter in M3_JITTER:
                memory = _clip_m3(100 - share + jitter)
                yield (
                    Task('sharing', 1, share, memory_pct=memory),
                    1 / len(M3_JITTER),
                )

    def _cap(self, mib: int) -> int:
        return min(mib, self._max_memory_mib)


def _m3_memory(share: int, rng: random.Random) -> int:
    return _clip_m3(100 - share + rng.choice(M3_JITTER))


def _clip_m3(percent: int) -> int:
    return min(95, max(5, 5 * round(percent / 5)))


def inflation(
    sampler: TaskSampler, total_gpus: int, target: float
) -> list[Task]:
    """FGD's inflation: tasks until the asked GPUs reach a target.

    :param sampler: the task source.
    :param total_gpus: GPUs in the pool.
    :param target: the arrived workload to reach (1.3 = 130%).
    :returns: the tasks in arrival order.
    """
    tasks: list[Task] = []
    arrived = 0.0
    while arrived < target * total_gpus:
        task = sampler.sample()
        tasks.append(task)
        arrived += task.gpus
    return tasks


def churn(
    sampler: TaskSampler,
    total_gpus: int,
    load: float,
    arrivals: int,
    seed: int,
) -> tuple[list[Task], list[tuple[float, Task]]]:
    """Poisson arrivals with lifetimes, at a mean offered load.

    The arrival rate makes ``rate * mean lifetime * mean GPUs per task``
    equal ``load * total_gpus`` (Little's law). So that the run starts in
    steady state instead of taking many (heavy-tailed) lifetimes to fill,
    the tasks already running at time 0 are drawn too: as many as Little's
    law says, each with the remaining life of a task seen at a random
    moment (a length-biased lifetime times a uniform fraction).

    :param sampler: the task source.
    :param total_gpus: GPUs in the pool.
    :param load: offered load as a fraction of the pool.
    :param arrivals: how many tasks arrive.
    :param seed: the seed of the arrival times and remaining lives.
    :returns: the tasks running at time 0 (with their remaining life) and
        the arrivals as (time, task with lifetime), in order.
    """
    mean_lifetime = math.exp(LIFETIME_MU + LIFETIME_SIGMA**2 / 2)
    rate = load * total_gpus / (sampler.mean_gpus() * mean_lifetime)
    rng = random.Random(seed)
    running = []
    for _ in range(round(rate * mean_lifetime)):
        # A log-normal's length-biased law is log-normal with mu + sigma^2.
        life = rng.lognormvariate(
            LIFETIME_MU + LIFETIME_SIGMA**2, LIFETIME_SIGMA
        )
        remaining = min(max(life * rng.random(), 1.0), LIFETIME_BOUNDS[1])
        running.append(
            dataclasses.replace(sampler.sample(), lifetime=remaining)
        )
    now = 0.0
    out = []
    for _ in range(arrivals):
        now += rng.expovariate(rate)
        task = sampler.sample()
        out.append(
            (now, dataclasses.replace(task, lifetime=sampler.lifetime()))
        )
    return running, out
