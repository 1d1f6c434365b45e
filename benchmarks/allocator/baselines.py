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

"""Baseline policies of the FGD paper and HAMi, ported to the pool (numpy).

These port the *semantics* of the baselines of FGD's simulator
(``hkust-adsl/kubernetes-scheduler-simulator``, ``pkg/simulator/plugin``)
and of HAMi's scheduler (``Project-HAMi/HAMi`` ``pkg/scheduler/policy``)
to a pool with no CPU dimension; they do not reuse their code. Each scores
every host, takes the best and picks GPUs inside it.

**Tie-break (every policy, ours included).** Among hosts with the best
score, the first in the pool's host order. The simulator shuffles the host
order once per seed (:func:`.clusters.shuffled`), which is what FGD's
simulator does: it breaks ties by the smallest node name and prefixes
every node name with a seeded permutation. The runtime allocator breaks
ties by insertion order, which is the same shuffled order.

As in FGD, the GPU dimension of the FGD baselines is the share of a GPU
(compute here): memory only decides feasibility, except in ``fgd-2dfit``.
Inside a host, a sharing task goes to the fitting GPU with the least free
compute (FGD's ``best`` GPU selection, the first on ties) and whole-GPU
tasks take the first idle GPUs, except where said.

- ``random``: a random host that fits, a random fitting GPU in it.
- ``bestfit``: the host with the least free GPU left after placing
  (``1 - 0.5 * left / 8000 milli-GPU``, FGD's BestFit without its CPU
  term; integer scores).
- ``dotproduct``: Tetris' alignment as FGD's code computes it, quantised:
  ``int(100 * (1 - dot / 2))`` with ``dot`` the product of the host's free
  (memory, compute) and the request, each divided by the largest host's
  capacity (FGD: CPU and GPU over 128 CPUs and 8 GPUs; the pool has no
  CPU, so memory takes its place).
- ``gpu-packing``: shared GPUs first (the fullest), then idle GPUs of used
  hosts, then idle hosts (the smallest first).
- ``gpu-clustering``: hosts already running tasks of the same kind (share,
  1-GPU, 2/4/8-GPU) first, the fullest first.
- ``fgd``: FGD as published: one dimension (the GPU share), the target
  workload known in advance (the most common shapes covering 95%, like its
  ``typicalPods`` with popularityThreshold 95), host score
  ``int(100 * sigmoid(-delta))`` with delta the increase of the host's
  fragmentation in GPUs.
- ``fgd-2dfit``: the same with memory in the fit test: a GPU is a fragment
  for a typical shape whose compute *or* memory does not fit in it (the
  shapes keep their memory).
- ``hami-binpack``, ``hami-spread``, ``hami-default``: HAMi's two levels.
  The node score is ``10 * (used slots / slots + used compute / compute +
  used memory / memory)`` of the host before placing (``ComputeDefaultScore``),
  the GPU score ``10 * ((1 + used slots) / slots + (req + used compute) /
  compute + (req + used memory) / memory)`` (``ComputeScore``, weights 1),
  with 10 slots per GPU (``deviceSplitCount``). Binpack takes the highest,
  spread the lowest; ``hami-default`` is HAMi's default, node binpack and
  GPU spread. HAMi's cap of 10 tasks per GPU is not applied (no other
  policy has it).
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from benchmarks.allocator import pool as pool_mod
from benchmarks.allocator import workloads

Bools = npt.NDArray[np.bool_]
Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]

MAX_SCORE = 100
#: FGD's normalisation of a host's GPU: 8 GPUs of 1000 milli.
MAX_SPEC_MILLI = 8000


class Baseline(abc.ABC):
    """A host-scoring policy over :class:`~.pool.PoolArrays`."""

    name: ClassVar[str] = ''

    def __init__(
        self,
        pool: pool_mod.PoolArrays,
        distribution: Mapping[workloads.Task, float],
        seed: int,
    ) -> None:
        """Bind to a pool.

        :param pool: the pool (read only: the simulator applies choices).
        :param distribution: the workload's task mix (FGD uses it).
        :param seed: seed of ``random``'s choices.
        """
        self.pool = pool
        self.rng = np.random.default_rng(seed)

    def choose(self, task: workloads.Task) -> list[int] | None:
        """GPUs for every slice of a task, or None.

        :param task: the task.
        :returns: GPU indices (one per slice).
        """
        feasible = self.pool.feasible(task)
        per_host = self.pool.host_sum(feasible.astype(np.int64))
        hosts = np.flatnonzero(per_host >= task.count)
        if hosts.size == 0:
            return None
        host = self.pick_host(task, feasible, hosts)
        return self.pick_gpus(task, feasible, host)

    @abc.abstractmethod
    def pick_host(
        self, task: workloads.Task, feasible: Bools, hosts: Ints
    ) -> int:
        """The host for a task among hosts where it fits.

        :param task: the task.
        :param feasible: GPUs that fit one slice.
        :param hosts: hosts with enough fitting GPUs.
        :returns: the chosen host.
        """

    def pick_gpus(
        self, task: workloads.Task, feasible: Bools, host: int
    ) -> list[int]:
        """GPUs of a host: the least free compute first (binpack).

        :param task: the task.
        :param feasible: GPUs that fit one slice.
        :param host: the chosen host.
        :returns: GPU indices.
        """
        start = int(self.pool.host_start[host])
        stop = start + int(self.pool.host_ngpu[host])
        candidates = [i for i in range(start, stop) if feasible[i]]
        candidates.sort(key=lambda i: (int(self.pool.free_comp[i]), i))
        return candidates[: task.count]

    # Optional hooks, not abstract: only stateful baselines need them.
    def placed(  # noqa: B027
        self, task: workloads.Task, gpus: list[int]
    ) -> None:
        """Hook: a task was placed on these GPUs.

        :param task: the task.
        :param gpus: its GPUs.
        """

    def released(  # noqa: B027
        self, task: workloads.Task, gpus: list[int]
    ) -> None:
        """Hook: a task left these GPUs.

        :param task: the task.
        :param gpus: its GPUs.
        """

    def best_of(self, hosts: Ints, scores: npt.NDArray[np.generic]) -> int:
        """The first host (in pool order) among those with the best score.

        :param hosts: candidate hosts, in pool order.
        :param scores: their scores (higher is better).
        :returns: the chosen host.
        """
        return int(hosts[int(np.argmax(scores))])

    def host_free_milli(self) -> Ints:
        """Free compute of each host in milli-GPU."""
        pool = self.pool
        return pool.host_sum(pool.free_comp * 1000 // pool.cap_comp)


class RandomBaseline(Baseline):
    name = 'random'

    def pick_host(
        self, task: workloads.Task, feasible: Bools, hosts: Ints
    ) -> int:
        return int(hosts[self.rng.integers(hosts.size)])

    def pick_gpus(
        self, task: workloads.Task, feasible: Bools, host: int
    ) -> list[int]:
        # FGD's random GPU selection: a uniformly random fitting GPU for a
        # share, the first idle GPUs for whole ones.
        start = int(self.pool.host_start[host])
        stop = start + int(self.pool.host_ngpu[host])
        candidates = [i for i in range(start, stop) if feasible[i]]
        if task.count == 1 and task.compute_pct < 100:
            return [candidates[int(self.rng.integers(len(candidates)))]]
        return candidates[: task.count]


class BestFitBaseline(Baseline):
    name = 'bestfit'

    def pick_host(
        self, task: workloads.Task, feasible: Bools, hosts: Ints
    ) -> int:
        asked = task.count * task.compute_pct * 10
        left = self.host_free_milli()[hosts] - asked
        scores = ((1 - 0.5 * left / MAX_SPEC_MILLI) * MAX_SCORE).astype(
            np.int64
        )
        return self.best_of(hosts, scores)


class DotProductBaseline(Baseline):
    name = 'dotproduct'

    def pick_host(
        self, task: workloads.Task, feasible: Bools, hosts: Ints
    ) -> int:
        pool = self.pool
        free_mem = pool.host_sum(pool.free_mem)[hosts]
        free_comp = pool.host_sum(pool.free_comp)[hosts]
        max_mem = float(pool.host_sum(pool.cap_mem).max())
        max_comp = float(pool.host_sum(pool.cap_comp).max())
        need_mem = pool.need_memory(task)[pool.host_start[hosts]]
        dot = (free_mem / max_mem) * (task.count * need_mem / max_mem) + (
            free_comp / max_comp
        ) * (task.count * task.compute_pct / max_comp)
        scores = (MAX_SCORE * (1 - dot / 2)).astype(np.int64)
        return self.best_of(hosts, scores)


class GpuPackingBaseline(Baseline):
    name = 'gpu-packing'

    def pick_host(
        self, task: workloads.Task, feasible: Bools, hosts: Ints
    ) -> int:
        pool = self.pool
        idle = (pool.free_comp == pool.cap_comp) & (
            pool.free_mem == pool.cap_mem
        )
        n_gpu = pool.host_ngpu[hosts]
        all_idle = pool.host_sum(idle.astype(np.int64))[hosts] == n_gpu
        # The fitting GPU a sharing task would take on each host.
        masked = np.where(feasible, pool.free_comp * 100 // pool.cap_comp, 999)
        least = np.minimum.reduceat(masked, pool.host_start)[hosts]
        uses_idle = (
            least >= 100 if task.count == 1 else np.ones_like(n_gpu, bool)
        )
        scores = np.where(
            all_idle,
            np.maximum(MAX_SCORE // 3 - n_gpu, n_gpu),
            np.where(
                uses_idle,
                max(MAX_SCORE // 2 - task.count, MAX_SCORE // 3),
                np.maximum(MAX_SCORE - least // 10, MAX_SCORE // 2),
            ),
        )
        return self.best_of(hosts, scores)


class GpuClusteringBaseline(Baseline):
    name = 'gpu-clustering'

    def __init__(
        self,
        pool: pool_mod.PoolArrays,
        distribution: Mapping[workloads.Task, float],
        seed: int,
    ) -> None:
        super().__init__(pool, distribution, seed)
        # Tasks per host by kind: share, 1, 2, 4, 8 GPUs.
        self.tags = np.zeros((pool.n_hosts, 5), dtype=np.int64)

    @staticmethod
    def tag(task: workloads.Task) -> int:
        """The affinity tag of a task (FGD: share, 1-gpu, n-gpu)."""
        if task.kind == 'sharing':
            return 0
        return {1: 1, 2: 2, 4: 3, 8: 4}[task.count]

    def pick_host(
        self, task: workloads.Task, feasible: Bools, hosts: Ints
    ) -> int:
        tags = self.tags[hosts]
        has = tags[:, self.tag(task)] > 0
        kinds = (tags > 0).sum(axis=1)
        fullness = (
            MAX_SCORE // 4 * (MAX_SPEC_MILLI - self.host_free_milli()[hosts])
        ) // MAX_SPEC_MILLI
        tier = np.where(
            has,
            np.where(kinds == 1, 3, 2),
            np.where(kinds == 0, 1, 0),
        )
        return self.best_of(hosts, tier * (MAX_SCORE // 4) + fullness)

    def placed(self, task: workloads.Task, gpus: list[int]) -> None:
        self.tags[self.pool.host_of[gpus[0]], self.tag(task)] += 1

    def released(self, task: workloads.Task, gpus: list[int]) -> None:
        self.tags[self.pool.host_of[gpus[0]], self.tag(task)] -= 1


class FgdBaseline(Baseline):
    """FGD as published: one dimension, known workload, k8s scoring."""

    name = 'fgd'

    def __init__(
        self,
        pool: pool_mod.PoolArrays,
        distribution: Mapping[workloads.Task, float],
        seed: int,
        popularity: float = 0.95,
    ) -> None:
        super().__init__(pool, distribution, seed)
        shapes: dict[tuple[int, int], float] = {}
        for task, p in distribution.items():
            key = (task.compute_pct, task.count)
            shapes[key] = shapes.get(key, 0.0) + p
        ranked = sorted(shapes.items(), key=lambda kv: -kv[1])
        kept, covered = [], 0.0
        for shape, p in ranked:
            if covered >= popularity:
                break
            kept.append((shape, p))
            covered += p
        total = sum(p for _, p in kept)
        comps = np.array([c for (c, _), _ in kept])
        weights = np.array([p / total for _, p in kept])
        # Fragment of one GPU by its free compute percent (0-100): the free
        # share times the weight of the shapes that need more.
        free = np.arange(101)
        unfit = np.array([weights[comps > v].sum() for v in free])
        self._table: Floats = free / 100 * unfit
        self._multi = [(c, n, p / total) for (c, n), p in kept if n > 1]

    def _fragment(self, free_pct: Ints) -> Floats:
        fragment: Floats = self._table[free_pct]
        return fragment

    def _share_delta(
        self, task: workloads.Task, free: Ints, after: Ints
    ) -> Floats:
        """Growth of each GPU's own fragment if the share goes there."""
        delta: Floats = self._fragment(after) - self._fragment(free)
        return delta

    def choose(self, task: workloads.Task) -> list[int] | None:
        if task.count == 1 and task.compute_pct < 100:
            return self._choose_share(task)
        return super().choose(task)

    def _choose_share(self, task: workloads.Task) -> list[int] | None:
        pool = self.pool
        feasible = pool.feasible(task)
        if not feasible.any():
            return None
        free = pool.free_comp * 100 // pool.cap_comp
        after = np.maximum(free - task.compute_pct, 0)
        delta = self._share_delta(task, free, after)
        amount, amount_after = free / 100, after / 100
        for comp, count, weight in self._multi:
            fit, fit_after = free >= comp, after >= comp
            n_fit = pool.host_sum(fit.astype(np.int64))[pool.host_of]
            fit_free = pool.host_sum(amount * fit)[pool.host_of]
            n_after = n_fit - fit + fit_after
            free_after = fit_free - amount * fit + amount_after * fit_after
            delta += weight * (
                np.where(n_after < count, free_after, 0.0)
                - np.where(n_fit < count, fit_free, 0.0)
            )
        scores = np.where(feasible, self.share_scores(delta), -np.inf)
        per_host = np.maximum.reduceat(scores, pool.host_start)
        hosts = np.flatnonzero(per_host > -np.inf)
        host = self.best_of(hosts, per_host[hosts])
        start = int(pool.host_start[host])
        stop = start + int(pool.host_ngpu[host])
        return [start + int(np.argmax(scores[start:stop]))]

    def share_scores(self, delta: Floats) -> Floats:
        """Scores of placing a share on each GPU, higher is better.

        :param delta: the growth of fragmentation on each GPU's host.
        :returns: FGD's integer score ``int(100 * sigmoid(-delta))``.
        """
        scores: Floats = np.floor(MAX_SCORE / (1 + np.exp(delta)))
        return scores

    def pick_host(
        self, task: workloads.Task, feasible: Bools, hosts: Ints
    ) -> int:
        # Whole GPUs: each taken GPU was idle and fits every shape, so only
        # the host term of multi-GPU shapes changes.
        pool = self.pool
        free = pool.free_comp * 100 // pool.cap_comp
        delta = np.zeros(hosts.size)
        for comp, count, weight in self._multi:
            fit = free >= comp
            n_fit = pool.host_sum(fit.astype(np.int64))[hosts]
            fit_free = pool.host_sum(free / 100 * fit)[hosts]
            n_after = n_fit - task.count
            free_after = fit_free - task.count
            delta += weight * (
                np.where(n_after < count, free_after, 0.0)
                - np.where(n_fit < count, fit_free, 0.0)
            )
        scores = (MAX_SCORE / (1 + np.exp(delta))).astype(np.int64)
        return self.best_of(hosts, scores)

    def pick_gpus(
        self, task: workloads.Task, feasible: Bools, host: int
    ) -> list[int]:
        start = int(self.pool.host_start[host])
        stop = start + int(self.pool.host_ngpu[host])
        return [i for i in range(start, stop) if feasible[i]][: task.count]


class Fgd2dFitBaseline(FgdBaseline):
    """FGD with memory in the fit test of its typical shapes."""

    name = 'fgd-2dfit'

    def __init__(
        self,
        pool: pool_mod.PoolArrays,
        distribution: Mapping[workloads.Task, float],
        seed: int,
        popularity: float = 0.95,
    ) -> None:
        super().__init__(pool, distribution, seed, popularity)
        ranked = sorted(distribution.items(), key=lambda kv: -kv[1])
        kept: list[tuple[workloads.Task, float]] = []
        covered = 0.0
        for task, p in ranked:
            if covered >= popularity:
                break
            kept.append((task, p))
            covered += p
        self._shape_comp = np.array([t.compute_pct for t, _ in kept])
        self._shape_mem = np.stack([pool.need_memory(t) for t, _ in kept])
        self._shape_p = np.array([p / covered for _, p in kept])

    def _gpu_fragment(self, comp_pct: Ints, free_mem: Ints) -> Floats:
        unfit = (comp_pct[None, :] < self._shape_comp[:, None]) | (
            free_mem[None, :] < self._shape_mem
        )
        fragment: Floats = comp_pct / 100 * (self._shape_p @ unfit)
        return fragment

    def _share_delta(
        self, task: workloads.Task, free: Ints, after: Ints
    ) -> Floats:
        pool = self.pool
        mem_after = pool.free_mem - pool.need_memory(task)
        delta: Floats = self._gpu_fragment(
            after, np.maximum(mem_after, 0)
        ) - self._gpu_fragment(free, pool.free_mem)
        return delta


class HamiBaseline(Baseline):
    """HAMi's node level, then its GPU level, with the slot term."""

    #: Tasks per GPU (``deviceSplitCount``).
    SLOTS = 10
    node_binpack: ClassVar[bool] = True
    gpu_binpack: ClassVar[bool] = True

    def __init__(
        self,
        pool: pool_mod.PoolArrays,
        distribution: Mapping[workloads.Task, float],
        seed: int,
    ) -> None:
        super().__init__(pool, distribution, seed)
        self.slots = np.zeros(len(pool), dtype=np.int64)
        self._host_mem = pool.host_sum(pool.cap_mem)
        self._host_comp = pool.host_sum(pool.cap_comp)

    def pick_host(
        self, task: workloads.Task, feasible: Bools, hosts: Ints
    ) -> int:
        pool = self.pool
        used = (
            pool.host_sum(self.slots) / (self.SLOTS * pool.host_ngpu)
            + (self._host_comp - pool.host_sum(pool.free_comp))
            / self._host_comp
            + (self._host_mem - pool.host_sum(pool.free_mem)) / self._host_mem
        )[hosts]
        score = 10 * used
        return self.best_of(hosts, score if self.node_binpack else -score)

    def pick_gpus(
        self, task: workloads.Task, feasible: Bools, host: int
    ) -> list[int]:
        pool = self.pool
        start = int(pool.host_start[host])
        stop = start + int(pool.host_ngpu[host])
        gpus = np.array([i for i in range(start, stop) if feasible[i]])
        need = pool.need_memory(task)[gpus]
        score = 10 * (
            (1 + self.slots[gpus]) / self.SLOTS
            + (task.compute_pct + pool.cap_comp[gpus] - pool.free_comp[gpus])
            / pool.cap_comp[gpus]
            + (need + pool.cap_mem[gpus] - pool.free_mem[gpus])
            / pool.cap_mem[gpus]
        )
        key = -score if self.gpu_binpack else score
        # A stable sort keeps the GPU order on ties.
        order = np.argsort(key, kind='stable')
        return [int(i) for i in gpus[order[: task.count]]]

    def placed(self, task: workloads.Task, gpus: list[int]) -> None:
        self.slots[gpus] += 1

    def released(self, task: workloads.Task, gpus: list[int]) -> None:
        self.slots[gpus] -= 1


class HamiBinpackBaseline(HamiBaseline):
    name = 'hami-binpack'


class HamiSpreadBaseline(HamiBaseline):
    name = 'hami-spread'
    node_binpack = False
    gpu_binpack = False


class HamiDefaultBaseline(HamiBaseline):
    """HAMi's default: node binpack, GPU spread."""

    name = 'hami-default'
    gpu_binpack = False


BASELINES: Mapping[str, type[Baseline]] = {
    cls.name: cls
    for cls in (
        RandomBaseline,
        BestFitBaseline,
        DotProductBaseline,
        GpuPackingBaseline,
        GpuClusteringBaseline,
        FgdBaseline,
        Fgd2dFitBaseline,
        HamiBinpackBaseline,
        HamiSpreadBaseline,
        HamiDefaultBaseline,
    )
}
