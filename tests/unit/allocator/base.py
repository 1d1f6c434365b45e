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

"""Small builders shared by the allocator tests."""

import contextlib
import io

from orionx_cyborg import allocator as alloc

GIB = 1024


def gpu(
    gpu_id,
    host='h1',
    free_pct=100,
    free_mem_pct=None,
    model='T4',
    memory_mib=16 * GIB,
    locality='',
    healthy=True,
):
    """A GPU whose free room is given in percent of its capacity."""
    free_mem_pct = free_pct if free_mem_pct is None else free_mem_pct
    return alloc.AllocatorGpu(
        gpu_id=gpu_id,
        host=host,
        model=model,
        memory_mib=memory_mib,
        free_memory_mib=memory_mib * free_mem_pct // 100,
        compute_pct=100,
        free_compute_pct=free_pct,
        healthy=healthy,
        locality=locality,
    )


def fixed_mix(*shapes):
    """A fixed mix from (compute %, memory %, count, weight) tuples."""
    return alloc.FixedMix(
        alloc.MixSnapshot.from_weights(
            {
                alloc.TaskShape(
                    compute_pct=comp, memory_pct=mem, count=count
                ): weight
                for comp, mem, count, weight in shapes
            }
        )
    )


def request(compute, memory_pct=None, **kwargs):
    """A request in percent (memory follows compute unless given)."""
    if 'memory_mib' in kwargs:
        return alloc.VgpuRequest(compute_pct=compute, **kwargs)
    memory_pct = compute if memory_pct is None else memory_pct
    return alloc.VgpuRequest(
        compute_pct=compute, memory_pct=memory_pct, **kwargs
    )


def trials_output(*argv):
    """What ``trials.py`` prints on the tiny pool, one seed, in-process.

    :param argv: the other arguments (variants, competitors, candidates).
    :returns: its standard output.
    """
    from benchmarks.allocator import trials

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        trials.main(['--clusters=tiny', '--seeds=1', '--jobs=1', *argv])
    return out.getvalue()
