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

"""The pairing hold with a bounded wait: what the bound gives back.

The pairing hold (README, *The pairing hold*) holds a sharing task until
a partner arrives or the pool has idle GPUs above the reserve; under
sustained load the second never happens. A deployment would bound the
wait. This runs ``partner-aware+hold`` with the wait bounded to each of
``--waits`` arrivals (then the task is asked like any other), next to
the unbounded hold, ``partner-aware`` and the best competitor of the
cells, and prints GPU allocation, the sharing and whole-GPU tasks never
served, and the waits; ``--json`` keeps every run's numbers::

    python -m benchmarks.allocator.hold_wait --json \\
        benchmarks/allocator/results/hold_wait.json
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import pathlib
import statistics
import sys
from collections.abc import Sequence
from typing import Any

from benchmarks.allocator import clusters
from benchmarks.allocator import report
from benchmarks.allocator import run as run_mod
from benchmarks.allocator import simulate
from benchmarks.allocator import workloads

#: (cluster, variant, memory, arrival) cells: churn, where the unbounded
#: hold starves sharing tasks, and two inflation cells.
CELLS = (
    ('B1', 'default', 'M3', 'churn'),
    ('B1', 'default', 'M3', 'inflate'),
    ('B1', 'gpushare60', 'M3', 'inflate'),
)
COMPETITOR = 'fgd-2dfit'


def _one(spec: simulate.RunSpec) -> dict[str, Any]:
    result = simulate.run(spec)
    if spec.arrival == 'inflate':
        alloc = result['at'][max(result['at'])]['alloc_comp']
    else:
        alloc = result['steady']['alloc_comp']
    arrived = result['arrived']
    failed = result['failed']
    return {
        'spec': result['spec'],
        'alloc_comp': alloc,
        'unserved_sharing': failed.get('sharing', 0)
        / max(arrived.get('sharing', 0), 1),
        'unserved_whole': failed.get('whole', 0)
        / max(arrived.get('whole', 0), 1),
        'hold': result.get('hold'),
    }


def interarrival_s(cell: tuple[str, str, str, str], seed: int) -> float:
    """Mean seconds between two arrivals of a churn cell.

    :param cell: the cell.
    :param seed: a seed.
    :returns: the mean gap of the cell's arrival times.
    """
    spec = simulate.RunSpec(*cell, policy='partner-aware', seed=seed)
    cluster = clusters.by_name(spec.cluster)
    sampler = workloads.TaskSampler(
        spec.variant, spec.memory, cluster.max_memory_mib, seed
    )
    count = int(spec.arrivals_per_gpu * len(cluster.gpus))
    _, events = workloads.churn(
        sampler, len(cluster.gpus), spec.load, count, seed
    )
    return (events[-1][0] - events[0][0]) / (len(events) - 1)


def table(rows: Sequence[dict[str, Any]]) -> str:
    """Means over seeds per cell and policy.

    :param rows: results of :func:`_one`.
    :returns: an RST table.
    """
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for r in rows:
        s = r['spec']
        key = (s['variant'], s['arrival'], s['policy'])
        groups.setdefault(key, []).append(r)
    out = []
    for (variant, arrival, policy), group in groups.items():
        holds = [g['hold'] for g in group if g['hold']]

        def mean(field: str, group: list[dict[str, Any]] = group) -> float:
            return 100 * statistics.fmean(g[field] for g in group)

        out.append(
            [
                '%s %s' % (variant, arrival),
                policy,
                '%.2f' % mean('alloc_comp'),
                '%.1f' % mean('unserved_sharing'),
                '%.1f' % mean('unserved_whole'),
                '-'
                if not holds
                else '%.0f / %.0f'
                % (
                    statistics.fmean(h['wait_p50'] for h in holds),
                    statistics.fmean(h['wait_p99'] for h in holds),
                ),
            ]
        )
    header = [
        'cell',
        'policy',
        'GPU %',
        'sharing unserved %',
        'whole unserved %',
        'wait p50 / p99 (arrivals)',
    ]
    return report.simple_table(header, out)


def main(argv: Sequence[str] | None = None) -> int:
    """The command line.

    :param argv: arguments (default: ``sys.argv[1:]``).
    :returns: the exit status.
    """
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--waits', default='100,1000,10000')
    parser.add_argument('--seeds', type=int, default=4)
    parser.add_argument('--jobs', type=int, default=2)
    parser.add_argument('--json', type=pathlib.Path)
    args = parser.parse_args(argv)
    seeds = run_mod.HELDOUT_SEEDS[: args.seeds]
    policies = [
        COMPETITOR,
        'partner-aware',
        'partner-aware+hold',
        *(
            'partner-aware+hold%dw%d' % (simulate.HOLD_RESERVE_PCT, int(w))
            for w in args.waits.split(',')
        ),
    ]
    specs = [
        simulate.RunSpec(*cell, policy=policy, seed=seed)
        for cell in CELLS
        for policy in policies
        for seed in seeds
    ]
    with concurrent.futures.ProcessPoolExecutor(args.jobs) as pool:
        rows = list(pool.map(_one, specs))
    gap = statistics.fmean(interarrival_s(CELLS[0], s) for s in seeds)
    print(table(rows))
    print('churn: one arrival every %.1f s on average' % gap)
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    'command': 'python -m benchmarks.allocator.hold_wait '
                    + ' '.join(sys.argv[1:] if argv is None else argv),
                    'seeds': list(seeds),
                    'churn_interarrival_s': gap,
                    'runs': rows,
                },
                indent=1,
            )
            + '\n'
        )
    return 0


if __name__ == '__main__':
    sys.exit(main())
