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

"""What the benchmark measures on the pool.

- Allocation ratio per dimension: allocated / capacity of compute (FGD's
  "GPU allocation ratio") and of memory, and the smaller of the two.
- Fragmentation ratio: expected fragment / free capacity, FGD's measure
  over the workload's exact task mix (its "typical pods"), in two
  dimensions (``frag_2d``, our model) and on compute only (``frag_gpu``,
  FGD's). Under M1 the two are equal.
- Stranded capacity: free memory on GPUs whose free compute is below the
  smallest compute any task asks for, and free compute on GPUs whose free
  memory is below the smallest memory any task asks for, as fractions of
  the capacity.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from benchmarks.allocator import pool as pool_mod
from benchmarks.allocator import workloads

Floats = npt.NDArray[np.float64]


class PoolMetrics:
    """Measures one pool against one workload's task mix."""

    def __init__(
        self,
        pool: pool_mod.PoolArrays,
        distribution: Mapping[workloads.Task, float],
        coverage: float = 0.99,
        max_shapes: int = 48,
    ) -> None:
        """Prepare the per-shape arrays.

        :param pool: the pool.
        :param distribution: task -> probability (the workload's mix).
        :param coverage: the most common shapes covering this much of the
            mix are used for fragmentation (FGD uses 95%).
        :param max_shapes: but no more shapes than this.
        """
        self._pool = pool
        ranked = sorted(distribution.items(), key=lambda tp: -tp[1])
        kept: list[tuple[workloads.Task, float]] = []
        covered = 0.0
        for task, p in ranked:
            kept.append((task, p))
            covered += p
            if covered >= coverage or len(kept) == max_shapes:
                break
        total = sum(p for _, p in kept)
        self._weights = np.array([p / total for _, p in kept])
        self._need_mem = np.stack(
            [pool.need_memory(t) for t, _ in kept], axis=1
        )
        self._comp = np.array([t.compute_pct for t, _ in kept])
        self._multi = [
            (i, t.count) for i, (t, _) in enumerate(kept) if t.count > 1
        ]
        every = [t for t, _ in ranked]
        self._min_comp = min(t.compute_pct for t in every)
        self._min_mem = np.min(
            np.stack([pool.need_memory(t) for t in every], axis=1), axis=1
        )

    def measure(self) -> dict[str, float]:
        """Every metric of the pool now.

        :returns: metric name -> value (ratios in [0, 1]).
        """
        pool = self._pool
        free_mem, free_comp = pool.free_mem, pool.free_comp
        alloc_comp = 1 - free_comp.sum() / pool.total_comp
        alloc_mem = 1 - free_mem.sum() / pool.total_mem
        comp_fits = free_comp[:, None] >= self._comp[None, :]
        both_fit = comp_fits & (free_mem[:, None] >= self._need_mem)
        amount_2d = 0.5 * (free_mem / pool.cap_mem + free_comp / pool.cap_comp)
        amount_gpu = free_comp / pool.cap_comp
        return {
            'alloc_comp': float(alloc_comp),
            'alloc_mem': float(alloc_mem),
            'alloc_min': float(min(alloc_comp, alloc_mem)),
            'frag_2d': self._frag_ratio(both_fit, amount_2d),
            'frag_gpu': self._frag_ratio(comp_fits, amount_gpu),
            'stranded_mem': float(
                free_mem[free_comp < self._min_comp].sum() / pool.total_mem
            ),
            'stranded_comp': float(
                free_comp[free_mem < self._min_mem].sum() / pool.total_comp
            ),
        }

    def _frag_ratio(
        self, fits: npt.NDArray[np.bool_], amount: Floats
    ) -> float:
        idle = float(amount.sum())
        if idle <= 0:
            return 0.0
        unfit = (~fits).astype(np.float64) @ self._weights
        fragment = float((amount * unfit).sum())
        for index, count in self._multi:
            fit = fits[:, index]
            n_fit = self._pool.host_sum(fit.astype(np.int64))
            fit_free = self._pool.host_sum(amount * fit)
            broken = n_fit < count
            fragment += self._weights[index] * float(fit_free[broken].sum())
        return fragment / idle
