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

"""The two pools of the benchmark.

B1 is the GPU node list of ``cluster-trace-gpu-v2023`` (1,213 nodes, 6,212
GPUs, the cluster FGD was evaluated on). The trace has no GPU memory
column, so the memory of each model is an assumption, documented here and
in the README: the public card sizes for P100, T4, V100 (16 and 32 GB) and
A10; 32 GiB for the undisclosed G2 and 80 GiB for G3 (guesses).

B2 is the target hardware: 777 nodes x 8 H200 (6,216 GPUs) with 141 GB
(143,771 MiB as the driver reports it) each.

Capacities are the whole card: the benchmark keeps no headroom for the
pooling runtime, so that M1 is exactly FGD's problem.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np

from benchmarks.allocator import trace_stats
from orionx_cyborg.allocator import AllocatorGpu

GIB = 1024

#: GiB per model in B1 (G2 and G3 are guesses: the trace hides them).
B1_MEMORY_GIB: Mapping[str, int] = {
    'A10': 24,
    'G2': 32,
    'G3': 80,
    'P100': 16,
    'T4': 16,
    'V100M16': 16,
    'V100M32': 32,
}

H200_MEMORY_MIB = 143771
B2_NODES = 777
B2_GPUS_PER_NODE = 8


@dataclasses.dataclass(frozen=True)
class Cluster:
    """A pool: its GPUs, grouped by host (hosts are contiguous)."""

    name: str
    gpus: tuple[AllocatorGpu, ...]

    @property
    def max_memory_mib(self) -> int:
        """The memory of the largest GPU."""
        return max(g.memory_mib for g in self.gpus)


def b1() -> Cluster:
    """The trace's GPU nodes with the assumed memory per model.

    :returns: the cluster.
    """
    gpus: list[AllocatorGpu] = []
    node = 0
    for (model, per_node), nodes in trace_stats.NODE_MIX.items():
        for _ in range(nodes):
            host = 'b1-node-%04d' % node
            node += 1
            gpus.extend(
                AllocatorGpu.idle(
                    '%s-gpu%d' % (host, index),
                    host,
                    model,
                    B1_MEMORY_GIB[model] * GIB,
                )
                for index in range(per_node)
            )
    return Cluster('B1', tuple(gpus))


def b2() -> Cluster:
    """777 nodes of 8 H200.

    :returns: the cluster.
    """
    gpus = tuple(
        AllocatorGpu.idle(
            'b2-node-%04d-gpu%d' % (node, index),
            'b2-node-%04d' % node,
            'H200',
            H200_MEMORY_MIB,
        )
        for node in range(B2_NODES)
        for index in range(B2_GPUS_PER_NODE)
    )
    return Cluster('B2', gpus)


def tiny() -> Cluster:
    """A 56-GPU pool with B1's shapes, for smoke tests.

    :returns: the cluster.
    """
    gpus: list[AllocatorGpu] = []
    for node, (model, per_node) in enumerate(
        [('G2', 8), ('T4', 2), ('V100M32', 4)] * 4
    ):
        host = 'tiny-node-%02d' % node
        gpus.extend(
            AllocatorGpu.idle(
                '%s-gpu%d' % (host, index),
                host,
                model,
                B1_MEMORY_GIB[model] * GIB,
            )
            for index in range(per_node)
        )
    return Cluster('tiny', tuple(gpus))


def shuffled(cluster: Cluster, seed: int) -> Cluster:
    """The cluster with its hosts in a seeded random order.

    Every policy breaks ties by host order (the runtime allocator by
    insertion order, the baselines by the first best host), so the order
    is drawn once per seed, as FGD's simulator does by prefixing node
    names with a seeded permutation. The GPUs of a host stay together and
    in order.

    :param cluster: the cluster.
    :param seed: the run's seed.
    :returns: the same GPUs, hosts reordered.
    """
    hosts: dict[str, list[AllocatorGpu]] = {}
    for gpu in cluster.gpus:
        hosts.setdefault(gpu.host, []).append(gpu)
    names = list(hosts)
    order = np.random.default_rng([seed, 2]).permutation(len(names))
    gpus = tuple(g for i in order for g in hosts[names[i]])
    return Cluster(cluster.name, gpus)


CLUSTERS = {'B1': b1, 'B2': b2, 'tiny': tiny}


def by_name(name: str) -> Cluster:
    """A cluster by name.

    :param name: ``B1``, ``B2`` or ``tiny``.
    :returns: the cluster.
    """
    return CLUSTERS[name]()
