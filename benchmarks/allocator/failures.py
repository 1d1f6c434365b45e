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

"""Which tasks a policy refuses, when, and which GPUs it has left idle.

A diagnosis of one inflation cell on the development seeds: for each
policy (a plain one, without a hold or defragmenting moves), the refused
tasks per thousand arrivals by kind (sharing tasks by the memory they
ask for), and the idle GPUs of each memory size after ``--at``
arrivals::

    python -m benchmarks.allocator.failures --cluster B1 \\
        --variant gpushare60 --memory M2 \\
        --policies count-aware,fgd-2dfit --seeds 4 --at 4500
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import sys
from collections.abc import Sequence

from benchmarks.allocator import pool as pool_mod
from benchmarks.allocator import run as run_mod
from benchmarks.allocator import simulate
from benchmarks.allocator import trace_stats
from benchmarks.allocator import workloads

#: Arrivals per column of the refusal table.
BUCKET = 1000


def task_label(task: workloads.Task) -> str:
    """How a task is counted: its kind, sharing tasks with their memory.

    :param task: the task.
    :returns: e.g. ``whole``, ``multi``, ``sharing 40G`` or ``sharing 30%``.
    """
    if task.kind != 'sharing':
        return task.kind
    if task.memory_mib:
        return 'sharing %dG' % (task.memory_mib // 1024)
    return 'sharing %d%%' % task.memory_pct


class _Watch(simulate.Engine):
    """An engine that counts its refusals and the idle GPUs at one arrival."""

    def __init__(
        self, engine: simulate.Engine, pool: pool_mod.PoolArrays, at: int
    ) -> None:
        self.refused: collections.Counter[tuple[str, int]] = (
            collections.Counter()
        )
        self.idle: collections.Counter[int] = collections.Counter()
        self._engine = engine
        self._pool = pool
        self._at = at
        self._arrivals = 0

    def place(
        self, task: workloads.Task
    ) -> tuple[object, list[tuple[int, int]]] | str:
        if self._arrivals == self._at:
            # The simulator has applied every earlier placement by now.
            self._count_idle()
        outcome = self._engine.place(task)
        if isinstance(outcome, str):
            self.refused[task_label(task), self._arrivals // BUCKET] += 1
        self._arrivals += 1
        return outcome

    def _count_idle(self) -> None:
        pool = self._pool
        for i in range(len(pool)):
            if pool.free_comp[i] == pool.cap_comp[i]:
                self.idle[int(pool.cap_mem[i]) // 1024] += 1

    def release(self, task: workloads.Task, handle: object) -> None:
        self._engine.release(task, handle)

    def classes(self) -> int:
        return self._engine.classes()


def watch(
    spec: simulate.RunSpec, at: int
) -> tuple[dict[tuple[str, int], int], dict[int, int]]:
    """Simulate one run, watching its engine.

    :param spec: the run.
    :param at: after how many arrivals to count the idle GPUs.
    :returns: refusals by (label, bucket) and idle GPUs by GiB.
    """
    watches: list[_Watch] = []

    def watched(
        engine: simulate.Engine, pool: pool_mod.PoolArrays
    ) -> simulate.Engine:
        watches.append(_Watch(engine, pool, at))
        return watches[-1]

    simulate.run(spec, wrap=watched)
    return dict(watches[0].refused), dict(watches[0].idle)


def _order(label: str) -> tuple[str, int]:
    # Sharing tasks by the number in their label (2G before 16G).
    kind, _, size = label.partition(' ')
    return kind, int(size.rstrip('G%') or 0)


def _watch(
    args: tuple[simulate.RunSpec, int],
) -> tuple[dict[tuple[str, int], int], dict[int, int]]:
    return watch(*args)


def main(argv: Sequence[str] | None = None) -> int:
    """The command line.

    :param argv: arguments (default: ``sys.argv[1:]``).
    :returns: the exit status.
    """
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--cluster', default='B1')
    parser.add_argument(
        '--variant', default='default', choices=tuple(trace_stats.VARIANTS)
    )
    parser.add_argument(
        '--memory', default='M3', choices=workloads.MEMORY_MODELS
    )
    parser.add_argument('--policies', required=True)
    parser.add_argument('--seeds', type=int, default=4)
    parser.add_argument('--at', type=int, default=4500)
    parser.add_argument('--jobs', type=int, default=2)
    args = parser.parse_args(argv)
    policies = args.policies.split(',')
    if any('+hold' in p or '+defrag' in p for p in policies):
        # Their engines add tasks and moves of their own; the watch would
        # miss them.
        parser.error(
            '--policies: plain policies only, without +hold or +defrag'
        )
    seeds = run_mod.DEV_SEEDS[: args.seeds]
    jobs = [
        (
            simulate.RunSpec(
                args.cluster, args.variant, args.memory, 'inflate', p, s
            ),
            args.at,
        )
        for p in policies
        for s in seeds
    ]
    with concurrent.futures.ProcessPoolExecutor(args.jobs) as pool:
        watched = list(pool.map(_watch, jobs))
    n = len(seeds)
    for index, policy in enumerate(policies):
        refused: collections.Counter[tuple[str, int]] = collections.Counter()
        idle: collections.Counter[int] = collections.Counter()
        for counts, idle_gpus in watched[index * n : (index + 1) * n]:
            refused.update(counts)
            idle.update(idle_gpus)
        buckets = 1 + max((b for _, b in refused), default=0)
        print(
            '%s: refused per %d arrivals (mean of %d seeds)'
            % (policy, BUCKET, n)
        )
        for label in sorted({label for label, _ in refused}, key=_order):
            print(
                '  %-12s %s'
                % (
                    label,
                    ' '.join(
                        '%6.1f' % (refused[label, b] / n)
                        for b in range(buckets)
                    ),
                )
            )
        print(
            '  idle GPUs after %d arrivals: %s'
            % (
                args.at,
                ', '.join(
                    '%d GiB %.1f' % (gib, idle[gib] / n)
                    for gib in sorted(idle)
                ),
            )
        )
    return 0


if __name__ == '__main__':
    sys.exit(main())
