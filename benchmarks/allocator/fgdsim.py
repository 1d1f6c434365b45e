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

"""The CPU-aware mode: FGD's own setting, to reproduce its table.

A re-implementation (numpy; not the authors' code) of the semantics of
FGD's simulator, ``hkust-adsl/kubernetes-scheduler-simulator`` at 8f3d641,
as its run scripts configure it (``experiments/run_scripts``):

- **Nodes**: the trace's 1,213 GPU nodes with their CPU and memory
  (``openb_node_list_gpu_node.csv``), named ``openb-node-NNNN`` in file
  order. A pod fits a node if its CPU and memory requests fit the node's
  free CPU and memory (Kubernetes' ``NodeResourcesFit``), its GPU model
  constraint matches, and enough GPUs have its share free
  (``Open-Gpu-Share``'s filter).
- **Pods**: every pod of the variant's pod list, CPU-only pods included,
  with its CPU, memory, GPU count and share (``data/openb_specs.json``).
- **Arrivals** (``workloadTuningConfig`` ratio 1.3, ``shufflePod``): the
  variant's pods in a random order, then pods drawn with replacement from
  the list until the next one would take the requested GPU past 130% of
  the cluster (the check uses the drawn pod's per-GPU share, as the
  authors' ``tuneUpPods`` does). Nothing leaves.
- **Scoring**: one score plugin, integer scores 0-100 per node; the node
  with the highest score wins and **ties go to the smallest node name**
  (the authors' ``selectHost`` in ``generic_scheduler.go``), where the
  simulator has prefixed every name with a seeded permutation
  (``syncClusterResourceList``): a random node order fixed per run
  (:func:`node_order`).
- **GPU choice inside the node**: ``best`` (the fitting GPU with the least
  free share, the first on ties; exclusive GPUs: the first idle ones) for
  every policy but Random (a uniformly random fitting GPU) and FGD (its
  own choice).

The six policies, as their score plugins compute them
(``pkg/simulator/plugin``):

- ``random``: a uniformly random feasible node (``RandomScore``).
- ``dotproduct``: ``int(100 * (1 - dot / 2))`` with ``dot`` the product
  of the node's free (CPU, total GPU) and the pod's request, both divided
  by (128 CPUs, 8 GPUs) (``DotProductScore``, ``merge``/``max``).
- ``gpu-packing``: shared GPUs first, then idle GPUs of used nodes, then
  idle nodes, in FGD's integer tiers (``GpuPackingScore``).
- ``gpu-clustering``: nodes already running only pods of the same GPU
  kind first, then mixed nodes with that kind, idle nodes, other nodes;
  fuller first inside a tier (``GpuClusteringScore``).
- ``bestfit``: ``int(100 * (1 - 0.5 * cpu_left / 128 CPUs - 0.5 *
  gpu_left / 8 GPUs))`` after placing, min-max normalised to 0-100 over
  the feasible nodes with integer division (``BestFitScore``).
- ``fgd``: ``int(100 * sigmoid((F_before - F_after) / 1000))`` with F a
  node's fragmentation in milli-GPU over the typical pods (the most
  common (CPU, share, GPU count, model) specs covering 95% of the pod
  list, CPU-only pods included), CPU lacking counting as fragment
  (``frag.go`` ``NodeGpuShareFragAmount``; ``FGDScore``).

``cpu=False`` is the ablation that drops CPU and host memory (CPU-only
pods are left out, GPU pods ask for no CPU or memory): the setting of the
GPU-only modes of :mod:`.simulate`.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import pathlib
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]

SPECS = pathlib.Path(__file__).parent / 'data' / 'openb_specs.json'
MILLI = 1000
MAX_GPUS = 8
#: FGD's normalisation constants (``open-gpu-share/utils/const.go``).
MAX_SPEC_CPU = 128000
MAX_SPEC_GPU = 8000
MAX_SCORE = 100
#: ``podPopularityThreshold`` of the run scripts.
POPULARITY = 0.95
#: ``workloadTuningConfig.ratio`` of the run scripts.
TUNE_RATIO = 1.3
POLICIES = (
    'random',
    'dotproduct',
    'gpu-clustering',
    'gpu-packing',
    'bestfit',
    'fgd',
)


@dataclasses.dataclass(frozen=True)
class Pod:
    """One pod: its requests."""

    cpu: int
    memory: int
    count: int
    #: Share of each GPU in milli-GPU (1000: whole GPUs); 0 if no GPU.
    milli: int
    #: Allowed GPU models (empty: any).
    models: frozenset[str] = frozenset()

    @property
    def gpu_milli(self) -> int:
        """Requested GPU in milli-GPU."""
        return self.milli * self.count

    @property
    def sharing(self) -> bool:
        """A share of one GPU."""
        return self.count == 1 and self.milli < MILLI

    @property
    def tag(self) -> int:
        """GPU Clustering's affinity: 0 sharing, n for n whole GPUs."""
        return 0 if self.sharing else self.count


@dataclasses.dataclass(frozen=True)
class Trace:
    """The nodes (in the trace's order) and a variant's pod list."""

    node_cpu: tuple[int, ...]
    node_memory: tuple[int, ...]
    node_gpus: tuple[int, ...]
    node_model: tuple[str, ...]
    pods: tuple[Pod, ...]

    @property
    def capacity_milli(self) -> int:
        """GPU capacity of the cluster in milli-GPU."""
        return sum(self.node_gpus) * MILLI


@functools.cache
def _specs() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SPECS.read_text())
    return data


def load(variant: str, cpu: bool = True) -> Trace:
    """The nodes and pods of a variant.

    :param variant: a pod list (``default``, ``gpushare40``, ...).
    :param cpu: False drops CPU and host memory (the ablation).
    :returns: the trace.
    """
    data = _specs()
    nodes = [
        (cpu_milli, memory, gpus, model)
        for count, cpu_milli, memory, gpus, model in data['nodes']
        for _ in range(count)
    ]
    pods: list[Pod] = []
    for cpu_milli, memory, count, milli, spec, n in data['pods'][variant]:
        if not cpu and count == 0:
            continue
        models = frozenset(m for m in spec.split('|') if m)
        pod = Pod(
            cpu_milli if cpu else 0,
            memory if cpu else 0,
            count,
            min(milli, MILLI),
            models,
        )
        pods.extend([pod] * n)
    return Trace(
        tuple(n[0] for n in nodes),
        tuple(n[1] for n in nodes),
        tuple(n[2] for n in nodes),
        tuple(n[3] for n in nodes),
        tuple(pods),
    )


def arrivals(trace: Trace, seed: int, ratio: float = TUNE_RATIO) -> list[Pod]:
    """FGD's inflated workload: the pod list shuffled, then resampled.

    :param trace: the trace.
    :param seed: the run's seed.
    :param ratio: requested GPU to reach, as a fraction of capacity.
    :returns: the pods in arrival order.
    """
    rng = np.random.default_rng(seed)
    pods = list(trace.pods)
    order = [pods[i] for i in rng.permutation(len(pods))]
    requested = sum(p.gpu_milli for p in pods)
    target = ratio * trace.capacity_milli
    while True:
        pod = pods[int(rng.integers(len(pods)))]
        # The authors compare the per-GPU share, then add the total.
        if requested + pod.milli > target:
            return order
        requested += pod.gpu_milli
        order.append(pod)


def typical_pods(
    pods: Sequence[Pod], popularity: float = POPULARITY
) -> list[tuple[Pod, float]]:
    """FGD's target workload: the most common specs covering ``popularity``.

    Specs are (CPU, share, GPU count, models) as in ``GetTypicalPods``
    (memory is not part of them), ranked by count then by spec, both
    descending; CPU-only pods count (``isInvolvedCpuPods: true``).

    :param pods: the variant's pod list.
    :param popularity: the fraction of pods to cover.
    :returns: (spec, probability) pairs; probabilities sum to 1.
    """
    counts: dict[tuple[int, int, int, str], int] = {}
    examples: dict[tuple[int, int, int, str], Pod] = {}
    for pod in pods:
        key = (pod.cpu, pod.milli, pod.count, '|'.join(sorted(pod.models)))
        counts[key] = counts.get(key, 0) + 1
        examples.setdefault(key, dataclasses.replace(pod, memory=0))
    ranked = sorted(
        counts.items(), key=lambda kv: (kv[1], kv[0]), reverse=True
    )
    total = len(pods)
    kept: list[tuple[Pod, int]] = []
    covered = 0
    for key, n in ranked:
        if covered >= popularity * total:
            break
        kept.append((examples[key], n))
        covered += n
    return [(pod, n / covered) for pod, n in kept]


class Cluster:
    """Free resources of every node, and each policy's bookkeeping."""

    def __init__(self, trace: Trace, order: Ints | None = None) -> None:
        """Build the cluster.

        :param trace: the nodes.
        :param order: the trace's node indices in name order (the
            simulator's order); None keeps the trace's order.
        """
        self.n = len(trace.node_gpus)
        if order is None:
            order = np.arange(self.n)
        self.order = order
        self.cpu = np.array(trace.node_cpu, dtype=np.int64)[order]
        self.memory = np.array(trace.node_memory, dtype=np.int64)[order]
        self.ngpu = np.array(trace.node_gpus, dtype=np.int64)[order]
        self.model = np.array(trace.node_model)[order]
        # Free milli-GPU per GPU; absent GPUs stay at 0 (they never fit).
        self.gpu = np.zeros((self.n, MAX_GPUS), dtype=np.int64)
        for i, g in enumerate(self.ngpu):
            self.gpu[i, :g] = MILLI
        # GPU Clustering's pods per node and affinity (0: share, n: n GPUs).
        self.tags = np.zeros((self.n, MAX_GPUS + 1), dtype=np.int64)
        self.capacity = int(self.ngpu.sum()) * MILLI
        self.allocated = 0

    def accessible(self, pod: Pod) -> Bools:
        """Nodes whose GPU model the pod accepts."""
        if not pod.models:
            return np.ones(self.n, dtype=bool)
        return np.isin(self.model, list(pod.models))

    def feasible(self, pod: Pod) -> Bools:
        """Nodes the pod fits (CPU, memory, model, GPUs)."""
        ok = (self.cpu >= pod.cpu) & (self.memory >= pod.memory)
        if pod.count:
            fit = (self.gpu >= pod.milli).sum(axis=1) >= pod.count
            ok &= fit & self.accessible(pod)
        return ok

    def best_gpus(self, pod: Pod, node: int) -> list[int]:
        """``best``: the least free fitting GPU; whole GPUs: first idle."""
        free = self.gpu[node]
        if pod.sharing:
            fits = np.flatnonzero(free >= pod.milli)
            return [int(fits[np.argmin(free[fits])])]
        return [int(i) for i in np.flatnonzero(free == MILLI)[: pod.count]]

    def take(self, pod: Pod, node: int, gpus: list[int]) -> None:
        """Place a pod on a node's GPUs."""
        self.cpu[node] -= pod.cpu
        self.memory[node] -= pod.memory
        for g in gpus:
            assert self.gpu[node, g] >= pod.milli
            self.gpu[node, g] -= pod.milli
        if pod.count:
            self.tags[node, pod.tag] += 1
        self.allocated += pod.gpu_milli


def first_best(scores: Ints, feasible: Bools) -> int:
    """The feasible node with the highest score, the smallest name first.

    The cluster's arrays are in name order, so the smallest name is the
    smallest index.
    """
    masked = np.where(feasible, scores, np.iinfo(np.int64).min)
    return int(np.argmax(masked))


class Policy:
    """A score plugin and its GPU choice."""

    def __init__(
        self, cluster: Cluster, trace: Trace, rng: np.random.Generator
    ) -> None:
        self.cluster = cluster
        self.rng = rng

    def scores(self, pod: Pod, feasible: Bools) -> Ints:
        """Integer score of every node (only feasible ones are read)."""
        raise NotImplementedError

    def choose(self, pod: Pod) -> tuple[int, list[int]] | None:
        """(node, GPUs) for a pod, or None if no node fits."""
        feasible = self.cluster.feasible(pod)
        if not feasible.any():
            return None
        node = first_best(self.scores(pod, feasible), feasible)
        gpus = self.cluster.best_gpus(pod, node) if pod.count else []
        return node, gpus

    def placed(self, pod: Pod, node: int) -> None:
        """Hook after a placement."""


class RandomPolicy(Policy):
    def choose(self, pod: Pod) -> tuple[int, list[int]] | None:
        c = self.cluster
        nodes = np.flatnonzero(c.feasible(pod))
        if nodes.size == 0:
            return None
        node = int(nodes[self.rng.integers(nodes.size)])
        if not pod.count:
            return node, []
        if pod.sharing:
            fits = np.flatnonzero(c.gpu[node] >= pod.milli)
            return node, [int(fits[self.rng.integers(fits.size)])]
        return node, c.best_gpus(pod, node)


class DotProductPolicy(Policy):
    def scores(self, pod: Pod, feasible: Bools) -> Ints:
        c = self.cluster
        dot = (c.cpu / MAX_SPEC_CPU) * (pod.cpu / MAX_SPEC_CPU) + (
            c.gpu.sum(axis=1) / MAX_SPEC_GPU
        ) * (pod.gpu_milli / MAX_SPEC_GPU)
        scores: Ints = (MAX_SCORE * (1 - dot / 2)).astype(np.int64)
        return scores


class GpuPackingPolicy(Policy):
    def scores(self, pod: Pod, feasible: Bools) -> Ints:
        c = self.cluster
        if pod.gpu_milli <= 0:
            return np.zeros(c.n, dtype=np.int64)
        free = c.gpu
        fully_free = (free == MILLI).sum(axis=1)
        idle_node = fully_free == c.ngpu
        tier3 = np.maximum(MAX_SCORE // 3 - fully_free, fully_free)
        if pod.sharing:
            # The fitting GPU with the least free share.
            least = np.where(free >= pod.milli, free, 10 * MILLI).min(axis=1)
            uses_idle = least == MILLI
            tier2 = np.full(c.n, max(MAX_SCORE // 2 - 1, MAX_SCORE // 3))
            tier1 = np.maximum(
                MAX_SCORE - (least * 100 // MILLI) // 10, MAX_SCORE // 2
            )
            other = np.where(uses_idle, tier2, tier1)
        else:
            other = np.full(
                c.n, max(MAX_SCORE // 2 - pod.count, MAX_SCORE // 3)
            )
        scores: Ints = np.where(idle_node, tier3, other).astype(np.int64)
        return scores


class GpuClusteringPolicy(Policy):
    def scores(self, pod: Pod, feasible: Bools) -> Ints:
        c = self.cluster
        if pod.gpu_milli <= 0:
            return np.zeros(c.n, dtype=np.int64)
        fullness = (
            MAX_SCORE // 4 * (MAX_SPEC_GPU - c.gpu.sum(axis=1)) // MAX_SPEC_GPU
        )
        kinds = (c.tags > 0).sum(axis=1)
        has = c.tags[:, pod.tag] > 0
        base = np.where(
            has,
            np.where(kinds == 1, 3, 2),
            np.where(kinds == 0, 1, 0),
        )
        scores: Ints = (base * (MAX_SCORE // 4) + fullness).astype(np.int64)
        return scores


class BestFitPolicy(Policy):
    def scores(self, pod: Pod, feasible: Bools) -> Ints:
        c = self.cluster
        left = (
            0.5 * (c.cpu - pod.cpu) / MAX_SPEC_CPU
            + 0.5 * (c.gpu.sum(axis=1) - pod.gpu_milli) / MAX_SPEC_GPU
        )
        raw = ((1.0 - left) * MAX_SCORE).astype(np.int64)
        # NormalizeScore: min-max over the feasible nodes, integer division.
        high, low = int(raw[feasible].max()), int(raw[feasible].min())
        if high == low:
            return np.zeros(c.n, dtype=np.int64)
        scores: Ints = (raw - low) * MAX_SCORE // (high - low)
        return scores


class FgdPolicy(Policy):
    """FGD: the node and GPU where fragmentation grows least."""

    def __init__(
        self, cluster: Cluster, trace: Trace, rng: np.random.Generator
    ) -> None:
        super().__init__(cluster, trace, rng)
        typical = typical_pods(trace.pods)
        self.t_cpu = np.array([p.cpu for p, _ in typical], dtype=np.int64)
        self.t_milli = np.array([p.milli for p, _ in typical], dtype=np.int64)
        self.t_count = np.array([p.count for p, _ in typical], dtype=np.int64)
        self.t_prob = np.array([w for _, w in typical])
        self.t_gpu = self.t_count > 0
        self.t_access = np.stack(
            [cluster.accessible(p) for p, _ in typical], axis=1
        )
        # Per node and typical pod: GPUs that fit its share, free milli-GPU
        # on GPUs that do not; per node: free milli-GPU and fragmentation.
        self.count_ge = np.zeros((cluster.n, len(typical)), dtype=np.int64)
        self.sum_lt = np.zeros((cluster.n, len(typical)), dtype=np.int64)
        self.frag = np.zeros(cluster.n)
        self._refresh(np.arange(cluster.n))

    def _refresh(self, nodes: Ints) -> None:
        c = self.cluster
        free = c.gpu[nodes]
        ge = free[:, None, :] >= self.t_milli[None, :, None]
        self.count_ge[nodes] = ge.sum(axis=2)
        self.sum_lt[nodes] = (free[:, None, :] * ~ge).sum(axis=2)
        self.frag[nodes] = self._fragment(
            c.cpu[nodes],
            self.count_ge[nodes],
            self.sum_lt[nodes],
            free.sum(axis=1),
            self.t_access[nodes],
        )

    def _fragment(
        self,
        cpu: Ints,
        count_ge: Ints,
        sum_lt: Ints,
        total: Ints,
        access: Bools,
    ) -> Floats:
        # NodeGpuShareFragAmount summed except Q3: a typical pod that fits
        # (model, GPUs, CPU) counts the GPUs too small for it; any other
        # (CPU-only pods included) counts all free GPU.
        fits = (
            access
            & self.t_gpu
            & (count_ge >= self.t_count)
            & (cpu[..., None] >= self.t_cpu)
        )
        amount = np.where(fits, sum_lt, total[..., None])
        frag: Floats = (amount * self.t_prob).sum(axis=-1)
        return frag

    @staticmethod
    def _score(delta: Floats) -> Ints:
        # Rounding keeps an exact zero exact whatever the summation order.
        x = np.round(delta, 6) / 1000
        scores: Ints = (MAX_SCORE / (1 + np.exp(-x))).astype(np.int64)
        return scores

    def choose(self, pod: Pod) -> tuple[int, list[int]] | None:
        c = self.cluster
        feasible = c.feasible(pod)
        if not feasible.any():
            return None
        nodes = np.flatnonzero(feasible)
        cpu_after = c.cpu[nodes] - pod.cpu
        total = c.gpu[nodes].sum(axis=1)
        access = self.t_access[nodes]
        if pod.sharing:
            free = c.gpu[nodes]
            after = free - pod.milli
            milli = self.t_milli[None, None, :]
            ge_old = free[..., None] >= milli
            ge_new = after[..., None] >= milli
            count_ge = self.count_ge[nodes][:, None, :] - ge_old + ge_new
            sum_lt = (
                self.sum_lt[nodes][:, None, :]
                - free[..., None] * ~ge_old
                + after[..., None] * ~ge_new
            )
            new = self._fragment(
                cpu_after[:, None],
                count_ge,
                sum_lt,
                (total - pod.milli)[:, None],
                access[:, None, :],
            )
            per_gpu = np.where(
                free >= pod.milli,
                self._score(self.frag[nodes][:, None] - new),
                -1,
            )
            # The first GPU with the highest score, then the first node.
            best = per_gpu.max(axis=1)
            k = int(np.argmax(best))
            return int(nodes[k]), [int(np.argmax(per_gpu[k]))]
        # Whole GPUs take idle ones (fit every typical share); CPU-only
        # pods change CPU only.
        count_ge = self.count_ge[nodes] - pod.count * self.t_gpu
        new = self._fragment(
            cpu_after,
            count_ge,
            self.sum_lt[nodes],
            total - pod.gpu_milli,
            access,
        )
        scores = self._score(self.frag[nodes] - new)
        node = int(nodes[int(np.argmax(scores))])
        gpus = c.best_gpus(pod, node) if pod.count else []
        return node, gpus

    def placed(self, pod: Pod, node: int) -> None:
        self._refresh(np.array([node]))


def node_order(n: int, seed: int, shuffle: bool = True) -> Ints:
    """The trace's node indices in the order of their simulated names.

    The authors' simulator renames node ``i`` (in name order) to
    ``"%04d-" % perm[i] + name`` with ``perm`` a seeded permutation
    (``syncClusterResourceList``), so the smallest-name tie-break
    prefers nodes in a random order that holds for the whole run.

    :param n: number of nodes.
    :param seed: the run's seed.
    :param shuffle: False: the trace's order.
    :returns: ``order[k]`` is the trace index of the k-th name.
    """
    if not shuffle:
        return np.arange(n)
    perm = np.random.default_rng([seed, 2]).permutation(n)
    order: Ints = np.argsort(perm)
    return order


POLICY_CLASSES: dict[str, type[Policy]] = {
    'random': RandomPolicy,
    'dotproduct': DotProductPolicy,
    'gpu-clustering': GpuClusteringPolicy,
    'gpu-packing': GpuPackingPolicy,
    'bestfit': BestFitPolicy,
    'fgd': FgdPolicy,
}


def run(
    variant: str,
    policy: str,
    seed: int,
    cpu: bool = True,
    shuffle: bool = True,
) -> dict[str, Any]:
    """One simulation of FGD's protocol.

    :param variant: the pod list.
    :param policy: one of :data:`POLICIES`.
    :param seed: seed of the arrival order, the node names and Random.
    :param cpu: False for the ablation without CPU and host memory.
    :param shuffle: False keeps the trace's node order for the tie-break
        (an ablation; the authors' simulator prefixes node names with a
        seeded permutation).
    :returns: allocation at 100% and 130% arrived workload, failures.
    """
    started = time.perf_counter()
    trace = load(variant, cpu)
    cluster = Cluster(trace, node_order(len(trace.node_gpus), seed, shuffle))
    engine = POLICY_CLASSES[policy](
        cluster, trace, np.random.default_rng([seed, 1])
    )
    pods = arrivals(trace, seed)
    arrived = 0
    at_100: float | None = None
    failed: dict[str, int] = {}
    for pod in pods:
        choice = engine.choose(pod)
        arrived += pod.gpu_milli
        if choice is None:
            kind = (
                'cpu'
                if not pod.count
                else 'sharing'
                if pod.sharing
                else 'gpu%d' % pod.count
            )
            failed[kind] = failed.get(kind, 0) + 1
        else:
            node, gpus = choice
            cluster.take(pod, node, gpus)
            engine.placed(pod, node)
        if at_100 is None and arrived >= cluster.capacity:
            at_100 = cluster.allocated / cluster.capacity
    return {
        'variant': variant,
        'policy': policy,
        'seed': seed,
        'cpu': cpu,
        'shuffled_names': shuffle,
        'pods': len(pods),
        'alloc_100': at_100,
        'alloc_final': cluster.allocated / cluster.capacity,
        'arrived_final': arrived / cluster.capacity,
        'failed': failed,
        'wall_s': time.perf_counter() - started,
    }


def _seeds(text: str) -> list[int]:
    first, _, last = text.partition('-')
    return list(range(int(first), int(last or first) + 1))


RESULTS = pathlib.Path(__file__).parent / 'results' / 'fgd_reproduction.jsonl'
README = pathlib.Path(__file__).parent / 'README.rst'
BEGIN = '.. BEGIN FGD REPRODUCTION'
END = '.. END FGD REPRODUCTION'


def main(argv: Sequence[str] | None = None) -> None:
    """Run cells of FGD's table; append per-seed results as JSON lines."""
    import argparse

    from benchmarks.allocator import report

    parser = argparse.ArgumentParser(prog='benchmarks.allocator.fgdsim')
    parser.add_argument('--variants', default='default')
    parser.add_argument('--policies', default=','.join(POLICIES))
    parser.add_argument('--seeds', default='42-51', help='e.g. 42-51')
    parser.add_argument(
        '--no-cpu', action='store_true', help='the ablation without CPU'
    )
    parser.add_argument(
        '--trace-order',
        action='store_true',
        help="tie-break in the trace's node order (an ablation)",
    )
    parser.add_argument('--out', type=pathlib.Path, default=RESULTS)
    parser.add_argument(
        '--readme',
        action='store_true',
        help='only rewrite the README table from --out',
    )
    args = parser.parse_args(argv)
    if args.readme:
        rows = [
            json.loads(line)
            for line in args.out.read_text().splitlines()
            if line.strip()
        ]
        report.replace_section(
            README, BEGIN, END, report.reproduction_table(rows)
        )
        return
    for variant in args.variants.split(','):
        for policy in args.policies.split(','):
            for seed in _seeds(args.seeds):
                result = run(
                    variant,
                    policy,
                    seed,
                    cpu=not args.no_cpu,
                    shuffle=not args.trace_order,
                )
                print(
                    '%s %s %d %.4f %.1fs'
                    % (
                        variant,
                        policy,
                        seed,
                        result['alloc_final'],
                        result['wall_s'],
                    ),
                    flush=True,
                )
                with args.out.open('a') as stream:
                    stream.write(json.dumps(result) + '\n')


if __name__ == '__main__':
    main()
