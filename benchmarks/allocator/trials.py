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

"""Trials on the development seeds: candidates against competitors.

Constants of our policies are chosen here, on the development seeds
only, before any held-out run. Each candidate may be any policy the
simulator knows, including variants with a constant in the name
(``partner-aware+hold25``); for every cell it prints the mean
difference, paired by seed, between the candidate and the competitor
with the highest mean, and the mean of those differences over the
cells (``--arrival churn`` for the churn cells; ``--point 100`` compares
the allocation at 100% arrived workload instead of 130%)::

    python -m benchmarks.allocator.trials --memories M3 \\
        --candidates partner-aware+hold10,partner-aware+hold25,\\
    partner-aware+hold50,partner-aware+hold100
"""

from __future__ import annotations

import argparse
import concurrent.futures
import functools
import statistics
import sys
from collections.abc import Sequence

from benchmarks.allocator import run as run_mod
from benchmarks.allocator import simulate
from benchmarks.allocator import trace_stats

#: The competitors that were best in some cell of the committed run.
COMPETITORS = (
    'dotproduct',
    'fgd',
    'gpu-clustering',
    'fgd-2dfit',
    'hami-spread',
)


def _allocation(spec: simulate.RunSpec, point: int | None = None) -> float:
    # The headline (130%, or steady state), or GPU allocation at a point.
    result = simulate.run(spec)
    if point is None:
        return run_mod._headline(result)
    return float(result['at'][point]['alloc_comp'])


def main(argv: Sequence[str] | None = None) -> int:
    """The command line.

    :param argv: arguments (default: ``sys.argv[1:]``).
    :returns: the exit status.
    """
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--candidates', required=True)
    parser.add_argument('--competitors', default=','.join(COMPETITORS))
    parser.add_argument('--clusters', default='B1')
    parser.add_argument('--memories', default='M3')
    parser.add_argument('--variants', default=','.join(trace_stats.VARIANTS))
    parser.add_argument(
        '--arrival', default='inflate', choices=('inflate', 'churn')
    )
    parser.add_argument(
        '--point',
        type=int,
        choices=(100, 130),
        help='compare at this arrived workload, in percent (inflation; '
        'default 130)',
    )
    parser.add_argument('--seeds', type=int, default=4)
    parser.add_argument('--jobs', type=int, default=2)
    args = parser.parse_args(argv)
    if args.point is not None and args.arrival == 'churn':
        parser.error(
            '--point: churn has no arrived workload, only a steady state'
        )
    candidates = args.candidates.split(',')
    competitors = args.competitors.split(',')
    seeds = run_mod.DEV_SEEDS[: args.seeds]
    cells = [
        (cluster, variant, memory)
        for cluster in args.clusters.split(',')
        for memory in args.memories.split(',')
        for variant in args.variants.split(',')
    ]
    specs = [
        simulate.RunSpec(*cell, args.arrival, policy, seed)
        for cell in cells
        for policy in (*competitors, *candidates)
        for seed in seeds
    ]
    with concurrent.futures.ProcessPoolExecutor(args.jobs) as pool:
        values = dict(
            zip(
                [
                    (s.cluster, s.variant, s.memory, s.policy, s.seed)
                    for s in specs
                ],
                pool.map(
                    functools.partial(_allocation, point=args.point), specs
                ),
                strict=True,
            )
        )
    gains: dict[str, list[float]] = {c: [] for c in candidates}
    for cell in cells:
        best = max(
            competitors,
            key=lambda p: statistics.fmean(
                values[(*cell, p, s)] for s in seeds
            ),
        )
        line = '%s %-12s best %-14s' % ('/'.join(cell[::2]), cell[1], best)
        for candidate in candidates:
            diff = 100 * statistics.fmean(
                values[(*cell, candidate, s)] - values[(*cell, best, s)]
                for s in seeds
            )
            gains[candidate].append(diff)
            line += ' %s %+.2f' % (candidate, diff)
        print(line)
    for candidate, diffs in gains.items():
        print(
            '%s: mean %+.2f points over %d cells'
            % (candidate, statistics.fmean(diffs), len(diffs))
        )
    return 0


if __name__ == '__main__':
    sys.exit(main())
