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

"""Why a request cannot be placed: a typed reason with the numbers.

Runs only after a placement failed (or when asked), so it may look at
every class; it never looks at single GPUs except for multi-slice host
constraints.
"""

from __future__ import annotations

import collections
import math

from orionx_cyborg.allocator import models
from orionx_cyborg.allocator import state as state_mod

Reason = models.RejectionReason


def diagnose(
    pool: state_mod.PoolState, request: models.VgpuRequest
) -> models.Rejection | None:
    """The reason a request cannot be placed in a pool now.

    Reasons are checked from the most permanent (no such GPU) to the most
    transient (an affinity that the current loads cannot meet).

    :param pool: the pool.
    :param request: the request.
    :returns: the rejection, or None when the request fits.
    """
    models_text = ', '.join(sorted(request.models)) or 'any model'
    if pool.model_count(request.models) == 0:
        return models.Rejection(
            Reason.NO_GPU_OF_MODEL, 'no GPU of %s in the pool' % models_text
        )
    if pool.healthy_count(request.models) == 0:
        return models.Rejection(
            Reason.NO_HEALTHY_GPU, 'no healthy GPU of %s' % models_text
        )
    capable, fitting, n_fit = _capable_and_fitting(pool, request)
    if not capable:
        return models.Rejection(
            Reason.EXCEEDS_GPU_CAPACITY,
            'one slice (%s, %d%% compute) exceeds every healthy GPU of %s'
            % (_memory_text(request), request.compute_pct, models_text),
        )
    if n_fit == 0:
        return _nothing_fits(capable, request)
    if n_fit < request.count:
        return models.Rejection(
            Reason.INSUFFICIENT_GPUS,
            '%d GPUs can hold a slice, %d slices asked'
            % (n_fit, request.count),
        )
    return _host_constraint(fitting, request)


def _capable_and_fitting(
    pool: state_mod.PoolState, request: models.VgpuRequest
) -> tuple[
    list[tuple[state_mod.GpuClass, int]], list[state_mod.GpuClass], int
]:
    # One pass over the classes, with the MiB of a slice worked out inline
    # (as models.resolve_memory does): a rejection under pressure looks at
    # every class, every rejection runs this, and its cost is in the tail
    # of the allocator's decision latency.
    mem_mib, mem_pct = request.memory_mib, request.memory_pct
    need_comp = request.compute_pct
    capable: list[tuple[state_mod.GpuClass, int]] = []
    fitting: list[state_mod.GpuClass] = []
    n_fit = 0
    for group in pool.classes(request.models):
        need = mem_mib or -(-group.memory_mib * mem_pct // 100)
        if group.memory_mib < need or group.compute_pct < need_comp:
            continue
        capable.append((group, need))
        if (
            group.free_memory_mib >= need
            and group.free_compute_pct >= need_comp
        ):
            fitting.append(group)
            n_fit += len(group.members)
    return capable, fitting, n_fit


def _nothing_fits(
    capable: list[tuple[state_mod.GpuClass, int]],
    request: models.VgpuRequest,
) -> models.Rejection:
    # Totals are in "slices' worth" so that MiB and percentage requests on
    # GPUs of different sizes add up the same way.
    memory_slices = sum(
        [len(c.members) * c.free_memory_mib / need for c, need in capable]
    )
    if memory_slices < request.count:
        return models.Rejection(
            Reason.INSUFFICIENT_MEMORY,
            'eligible GPUs have %.2f slices worth of free memory in total, '
            '%d needed' % (memory_slices, request.count),
        )
    if request.compute_pct:
        compute_slices = sum(
            [
                len(c.members) * c.free_compute_pct / request.compute_pct
                for c, _ in capable
            ]
        )
    else:
        compute_slices = math.inf
    if compute_slices < request.count:
        return models.Rejection(
            Reason.INSUFFICIENT_COMPUTE,
            'eligible GPUs have %.2f slices worth of free compute in '
            'total, %d needed' % (compute_slices, request.count),
        )
    return models.Rejection(
        Reason.FRAGMENTED,
        'enough free memory (%.2f slices) and compute (%.2f slices) in '
        'total, but no GPU has both' % (memory_slices, compute_slices),
    )


def _host_constraint(
    fitting: list[state_mod.GpuClass], request: models.VgpuRequest
) -> models.Rejection | None:
    affinity = request.host_affinity
    if request.count == 1 or affinity is models.HostAffinity.ANY:
        return None
    per_host: collections.Counter[str] = collections.Counter()
    for group in fitting:
        for host, gpus in group.hosts.items():
            per_host[host] += len(gpus)
    if affinity is models.HostAffinity.SAME_HOST:
        most = max(per_host.values())
        if most < request.count:
            return models.Rejection(
                Reason.AFFINITY_UNSATISFIABLE,
                'at most %d GPUs of one host can hold a slice, %d asked'
                % (most, request.count),
            )
        return None
    if len(per_host) < request.count:
        return models.Rejection(
            Reason.ANTI_AFFINITY_UNSATISFIABLE,
            'GPUs that can hold a slice are on %d hosts, %d asked'
            % (len(per_host), request.count),
        )
    return None


def _memory_text(request: models.VgpuRequest) -> str:
    if request.memory_mib:
        return '%d MiB' % request.memory_mib
    return '%d%% memory' % request.memory_pct
