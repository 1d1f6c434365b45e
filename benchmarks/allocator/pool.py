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

"""The pool as numpy arrays: what the simulator measures and baselines use.

GPUs keep the cluster's order, so the GPUs of a host are contiguous and
per-host sums are one ``np.add.reduceat``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from benchmarks.allocator import clusters
from benchmarks.allocator import workloads

IntArray = npt.NDArray[np.int64]


class PoolArrays:
    """Capacity and free room of every GPU, and the host layout."""

    def __init__(self, cluster: clusters.Cluster) -> None:
        """Lay out a cluster.

        :param cluster: the cluster (hosts contiguous).
        """
        gpus = cluster.gpus
        self.gpu_ids = [g.gpu_id for g in gpus]
        self.index = {gpu_id: i for i, gpu_id in enumerate(self.gpu_ids)}
        self.cap_mem: IntArray = np.array(
            [g.memory_mib for g in gpus], dtype=np.int64
        )
        self.cap_comp: IntArray = np.array(
            [g.compute_pct for g in gpus], dtype=np.int64
        )
        self.free_mem: IntArray = self.cap_mem.copy()
        self.free_comp: IntArray = self.cap_comp.copy()
        hosts = [g.host for g in gpus]
        names = list(dict.fromkeys(hosts))
        position = {h: i for i, h in enumerate(names)}
        self.host_of: IntArray = np.array(
            [position[h] for h in hosts], dtype=np.int64
        )
        if np.any(np.diff(self.host_of) < 0):
            raise ValueError('the GPUs of a host must be contiguous')
        self.host_start: IntArray = np.flatnonzero(
            np.r_[True, self.host_of[1:] != self.host_of[:-1]]
        ).astype(np.int64)
        self.host_ngpu: IntArray = np.diff(
            np.r_[self.host_start, len(gpus)]
        ).astype(np.int64)
        self.n_hosts = len(names)
        self.total_mem = int(self.cap_mem.sum())
        self.total_comp = int(self.cap_comp.sum())
        self._need: dict[int, IntArray] = {}

    def __len__(self) -> int:
        return len(self.gpu_ids)

    def need_memory(self, task: workloads.Task) -> IntArray:
        """MiB one slice of a task takes on every GPU.

        :param task: the task.
        :returns: an array over GPUs.
        """
        if task.memory_mib:
            return np.full(len(self), task.memory_mib, dtype=np.int64)
        need = self._need.get(task.memory_pct)
        if need is None:
            need = -(-self.cap_mem * task.memory_pct // 100)
            self._need[task.memory_pct] = need
        return need

    def feasible(self, task: workloads.Task) -> npt.NDArray[np.bool_]:
        """GPUs that can hold one slice of a task now.

        :param task: the task.
        :returns: a boolean array over GPUs.
        """
        return (self.free_mem >= self.need_memory(task)) & (
            self.free_comp >= task.compute_pct
        )

    def host_sum(self, values: npt.NDArray[Any]) -> npt.NDArray[Any]:
        """Per-host sums of a per-GPU array.

        :param values: an array over GPUs.
        :returns: an array over hosts.
        """
        return np.add.reduceat(values, self.host_start)

    def take(self, index: int, memory_mib: int, compute_pct: int) -> None:
        """Allocate room on one GPU.

        :param index: the GPU.
        :param memory_mib: MiB.
        :param compute_pct: compute.
        """
        self.free_mem[index] -= memory_mib
        self.free_comp[index] -= compute_pct
        if self.free_mem[index] < 0 or self.free_comp[index] < 0:
            raise AssertionError('GPU %d overbooked' % index)

    def give(self, index: int, memory_mib: int, compute_pct: int) -> None:
        """Release room on one GPU.

        :param index: the GPU.
        :param memory_mib: MiB.
        :param compute_pct: compute.
        """
        self.free_mem[index] += memory_mib
        self.free_comp[index] += compute_pct
