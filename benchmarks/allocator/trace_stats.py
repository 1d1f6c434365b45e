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

"""Summary statistics of Alibaba's ``cluster-trace-gpu-v2023``.

The benchmark generates workloads from these numbers; it never ships or
reads the trace. They were counted from the public CSV files of
``alibaba/clusterdata`` (commit 7a6c496, directory
``cluster-trace-gpu-v2023/csv``), the trace that FGD (Weng et al., USENIX
ATC'23) evaluates on:

- ``openb_node_list_gpu_node.csv``: GPU nodes by model and GPUs per node.
- ``openb_pod_list_<variant>.csv``: per variant, the number of CPU-only,
  GPU-sharing (one GPU, ``gpu_milli`` < 1000), whole single-GPU and
  multi-GPU tasks (by GPU count), and the histogram of ``gpu_milli`` of the
  sharing tasks. Multi-GPU tasks always ask for whole GPUs.
- The lifetime quantiles of the GPU tasks of ``default``
  (``deletion_time - creation_time``, seconds).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

#: (model, GPUs per node) -> number of nodes; 1,213 nodes, 6,212 GPUs.
NODE_MIX: Mapping[tuple[str, int], int] = {
    ('A10', 1): 2,
    ('G2', 8): 549,
    ('G3', 8): 39,
    ('P100', 1): 3,
    ('P100', 2): 131,
    ('T4', 2): 387,
    ('T4', 4): 17,
    ('V100M16', 1): 19,
    ('V100M16', 4): 28,
    ('V100M16', 8): 8,
    ('V100M32', 4): 9,
    ('V100M32', 8): 21,
}


@dataclasses.dataclass(frozen=True)
class Variant:
    """Task counts of one pod list of the trace."""

    tasks: int
    cpu_only: int
    sharing: int
    whole_one: int
    #: GPUs per task -> number of multi-GPU tasks.
    multi_gpu: Mapping[int, int]
    #: gpu_milli -> number of sharing tasks.
    shares: Mapping[int, int]

    @property
    def gpu_tasks(self) -> int:
        """Tasks that use a GPU (the benchmark ignores CPU-only ones)."""
        return self.sharing + self.whole_one + sum(self.multi_gpu.values())


# fmt: off
VARIANTS: Mapping[str, Variant] = {
    'default': Variant(
        tasks=8152,
        cpu_only=1088,
        sharing=3078,
        whole_one=3911,
        multi_gpu={2: 16, 4: 15, 8: 44},
        shares={
            50: 7, 110: 24, 140: 1, 160: 74, 220: 62, 230: 140, 270: 4,
            290: 1, 320: 328, 330: 7, 350: 6, 370: 47, 440: 2, 460: 128,
            470: 750, 480: 19, 550: 72, 590: 75, 650: 253, 810: 1078,
        },
    ),
    'gpushare40': Variant(
        tasks=8152,
        cpu_only=1088,
        sharing=4001,
        whole_one=3001,
        multi_gpu={2: 12, 4: 11, 8: 39},
        shares={
            50: 18, 110: 30, 160: 96, 220: 79, 230: 163, 270: 7, 290: 4,
            320: 414, 330: 7, 350: 12, 370: 52, 440: 2, 460: 177, 470: 952,
            480: 20, 550: 101, 590: 113, 650: 361, 810: 1393,
        },
    ),
    'gpushare60': Variant(
        tasks=8152,
        cpu_only=1088,
        sharing=5233,
        whole_one=1801,
        multi_gpu={2: 7, 4: 9, 8: 14},
        shares={
            50: 15, 110: 44, 140: 2, 160: 109, 220: 87, 230: 259, 270: 5,
            290: 3, 320: 560, 330: 7, 350: 14, 370: 85, 440: 7, 460: 236,
            470: 1287, 480: 22, 550: 122, 590: 116, 650: 402, 810: 1851,
        },
    ),
    'gpushare80': Variant(
        tasks=8152,
        cpu_only=1088,
        sharing=6279,
        whole_one=768,
        multi_gpu={2: 2, 4: 3, 8: 12},
        shares={
            50: 16, 110: 46, 140: 1, 160: 149, 220: 117, 230: 282, 270: 12,
            290: 1, 320: 663, 330: 14, 350: 11, 370: 97, 440: 4, 460: 294,
            470: 1520, 480: 48, 550: 139, 590: 152, 650: 565, 810: 2148,
        },
    ),
    'gpushare100': Variant(
        tasks=8152,
        cpu_only=1088,
        sharing=7064,
        whole_one=0,
        multi_gpu={},
        shares={
            50: 14, 110: 58, 140: 1, 160: 154, 220: 141, 230: 337, 270: 9,
            290: 3, 320: 800, 330: 16, 350: 19, 370: 111, 440: 3, 460: 304,
            470: 1723, 480: 40, 550: 143, 590: 180, 650: 572, 810: 2436,
        },
    ),
    'multigpu50': Variant(
        tasks=9061,
        cpu_only=1088,
        sharing=3078,
        whole_one=3911,
        multi_gpu={2: 222, 4: 206, 8: 556},
        shares={
            50: 7, 110: 24, 140: 1, 160: 74, 220: 62, 230: 140, 270: 4,
            290: 1, 320: 328, 330: 7, 350: 6, 370: 47, 440: 2, 460: 128,
            470: 750, 480: 19, 550: 72, 590: 75, 650: 253, 810: 1078,
        },
    ),
}
# fmt: on

#: Quantile -> lifetime in seconds of the 7,064 GPU tasks of ``default``
#: (mean 27,176 s: a few tasks run for weeks).
LIFETIME_QUANTILES: Mapping[float, int] = {
    0.05: 43,
    0.10: 74,
    0.25: 175,
    0.50: 545,
    0.75: 1989,
    0.90: 6260,
    0.95: 14700,
    0.99: 112967,
}

#: FGD's published GPU allocation ratio (%) at 100% and 130% arrived
#: workload, mean of seeds 42-51, recomputed from the authors' cached
#: results (``hkust-adsl/kubernetes-scheduler-simulator`` 8f3d641,
#: ``experiments/analysis/expected_results/analysis_allo_discrete.csv``).
#: Their simulation has a CPU dimension and CPU-only tasks, as our
#: CPU-aware mode (:mod:`.fgdsim`) has; the GPU-only modes have not.
# fmt: off
PUBLISHED_ALLOCATION: Mapping[str, Mapping[str, tuple[float, float]]] = {
    'default': {
        'random': (86.30, 87.47), 'dotproduct': (90.62, 90.85),
        'gpu-clustering': (91.65, 91.88), 'gpu-packing': (91.78, 92.00),
        'bestfit': (92.86, 93.08), 'fgd': (95.23, 95.39),
    },
    'gpushare40': {
        'random': (84.86, 86.00), 'dotproduct': (89.30, 89.56),
        'gpu-clustering': (89.76, 90.02), 'gpu-packing': (89.77, 90.03),
        'bestfit': (91.44, 91.69), 'fgd': (93.96, 94.15),
    },
    'gpushare60': {
        'random': (82.81, 83.65), 'dotproduct': (86.82, 87.11),
        'gpu-clustering': (86.90, 87.20), 'gpu-packing': (87.15, 87.45),
        'bestfit': (89.06, 89.36), 'fgd': (91.25, 91.40),
    },
    'gpushare80': {
        'random': (80.62, 81.22), 'dotproduct': (84.14, 84.49),
        'gpu-clustering': (84.50, 84.85), 'gpu-packing': (84.65, 85.00),
        'bestfit': (86.66, 87.01), 'fgd': (89.08, 89.30),
    },
    'gpushare100': {
        'random': (78.90, 79.44), 'dotproduct': (81.98, 82.42),
        'gpu-clustering': (82.22, 82.65), 'gpu-packing': (82.13, 82.57),
        'bestfit': (84.62, 85.01), 'fgd': (86.64, 86.90),
    },
    'multigpu50': {
        'random': (81.28, 90.27), 'dotproduct': (94.73, 94.85),
        'gpu-clustering': (95.69, 95.81), 'gpu-packing': (96.06, 96.18),
        'bestfit': (95.62, 95.74), 'fgd': (97.09, 97.18),
    },
}
# fmt: on
