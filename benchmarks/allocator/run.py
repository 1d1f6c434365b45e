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

"""Run the allocator benchmark and write its results.

Full run (the committed numbers; 40 minutes on the shared 2-core
development machine)::

    nice -n 10 python -m benchmarks.allocator.run --jobs 2

Smoke run (a minute; writes to a temporary directory)::

    python -m benchmarks.allocator.run --quick

Writes ``results.json`` (aggregates per cell, allocation curves),
``summary.csv`` (one row per cell), ``allocation_B1.png`` and
``allocation_B2.png`` to ``--out`` and, for a full run into the default
directory, the results section of ``README.rst``.
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import csv
import json
import os
import pathlib
import statistics
import sys
import tempfile
import time
from collections.abc import Iterable
from collections.abc import Sequence
from typing import Any

from benchmarks.allocator import report
from benchmarks.allocator import simulate
from benchmarks.allocator import trace_stats
from benchmarks.allocator import workloads

HERE = pathlib.Path(__file__).resolve().parent
SEEDS = tuple(range(42, 52))
METRICS = (
    'alloc_comp',
    'alloc_mem',
    'alloc_min',
    'frag_2d',
    'frag_gpu',
    'stranded_mem',
    'stranded_comp',
)
#: B1 runs every policy (it is the cluster of the published numbers); B2
#: and churn leave out the oracle ablation, and B2 the two baselines that
#: rank like BestFit without a CPU dimension, to keep the full run near
#: half an hour on 2 cores.
B2_POLICIES = (
    'binpack',
    'spread',
    'fragmentation-aware',
    'stranding-aware',
    'random',
    'bestfit',
    'gpu-packing',
    'fgd',
)
CHURN_POLICIES = (
    'binpack',
    'spread',
    'fragmentation-aware',
    'stranding-aware',
    'random',
    'bestfit',
    'fgd',
)

Cell = tuple[str, str, str, str, str]


def full_matrix(seeds: Sequence[int]) -> list[simulate.RunSpec]:
    """The committed benchmark: every cell and seed.

    Inflation on B1 and B2 for every variant and memory model; churn on B1
    with ``default``. Policies: see :data:`B2_POLICIES`.

    :param seeds: the seeds.
    :returns: the runs.
    """
    specs: list[simulate.RunSpec] = []
    policies = {'B1': simulate.POLICIES, 'B2': B2_POLICIES}
    for cluster in ('B1', 'B2'):
        for variant in trace_stats.VARIANTS:
            for memory in workloads.MEMORY_MODELS:
                for policy in policies[cluster]:
                    specs.extend(
                        simulate.RunSpec(
                            cluster, variant, memory, 'inflate', policy, s
                        )
                        for s in seeds
                    )
    for memory in workloads.MEMORY_MODELS:
        for policy in CHURN_POLICIES:
            specs.extend(
                simulate.RunSpec('B1', 'default', memory, 'churn', policy, s)
                for s in seeds
            )
    return specs


def quick_matrix() -> list[simulate.RunSpec]:
    """A smoke run: one seed, B1, two variants, inflation to 110%.

    :returns: the runs.
    """
    return [
        simulate.RunSpec('B1', variant, memory, 'inflate', policy, 42, 1.1)
        for variant in ('default', 'multigpu50')
        for memory in workloads.MEMORY_MODELS
        for policy in simulate.POLICIES
    ]


def latency_matrix(quick: bool) -> list[simulate.RunSpec]:
    """Runs that only measure decision latency, one at a time.

    The matrix runs ``--jobs`` processes on a shared machine, where a
    preempted process inflates the tail of any latency it measures; these
    runs go one by one, each on a 6,000-GPU pool.

    :param quick: fewer runs.
    :returns: the runs (seed 42).
    """
    variants = ('default',) if quick else ('default', 'multigpu50')
    memories = ('M2',) if quick else workloads.MEMORY_MODELS
    return [
        simulate.RunSpec(cluster, variant, memory, 'inflate', policy, 42)
        for cluster in ('B1', 'B2')
        for variant in variants
        for memory in memories
        for policy in report.RUNTIME
    ]


def execute(
    specs: Sequence[simulate.RunSpec], jobs: int
) -> list[dict[str, Any]]:
    """Run simulations in ``jobs`` processes.

    :param specs: the runs.
    :param jobs: worker processes (1: in this process).
    :returns: the results, in the order of ``specs``.
    """
    started = time.monotonic()
    results: list[dict[str, Any]] = []
    if jobs <= 1:
        mapped: Iterable[dict[str, Any]] = map(simulate.run, specs)
        for n, result in enumerate(mapped, 1):
            results.append(result)
            _progress(n, len(specs), started)
        return results
    with concurrent.futures.ProcessPoolExecutor(jobs) as pool:
        for n, result in enumerate(
            pool.map(simulate.run, specs, chunksize=4), 1
        ):
            results.append(result)
            _progress(n, len(specs), started)
    return results


def _progress(done: int, total: int, started: float) -> None:
    if done % 50 == 0 or done == total:
        elapsed = time.monotonic() - started
        print(
            '%d/%d runs, %.0f s' % (done, total, elapsed),
            file=sys.stderr,
            flush=True,
        )


def aggregate(results: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mean and standard deviation over seeds, per cell.

    :param results: results of :func:`simulate.run`.
    :returns: one record per (cluster, variant, memory, arrival, policy).
    """
    cells: dict[Cell, list[dict[str, Any]]] = collections.defaultdict(list)
    for result in results:
        spec = result['spec']
        key = (
            spec['cluster'],
            spec['variant'],
            spec['memory'],
            spec['arrival'],
            spec['policy'],
        )
        cells[key].append(result)
    return [_cell_record(key, runs) for key, runs in cells.items()]


def _mean_std(values: Sequence[float]) -> dict[str, float]:
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return {'mean': statistics.fmean(values), 'std': std}


def _cell_record(key: Cell, runs: list[dict[str, Any]]) -> dict[str, Any]:
    cluster, variant, memory, arrival, policy = key
    record: dict[str, Any] = {
        'cluster': cluster,
        'variant': variant,
        'memory': memory,
        'arrival': arrival,
        'policy': policy,
        'seeds': sorted(r['spec']['seed'] for r in runs),
        'latency_us': {
            q: _mean_std([r['latency_us'][q] for r in runs])
            for q in ('p50', 'p99', 'max')
        },
        'decisions': _mean_std([r['decisions'] for r in runs]),
        'wall_s': _mean_std([r['wall_s'] for r in runs]),
        'failed': _count_means(runs, 'failed'),
        'failed_gpus': _count_means(runs, 'failed_gpus'),
        'arrived': _count_means(runs, 'arrived'),
        'reasons': _count_means(runs, 'reasons'),
        'classes': _mean_std([r['classes'] for r in runs]),
    }
    if arrival == 'inflate':
        points = sorted({p for r in runs for p in r['at']})
        record['at'] = {
            str(p): {
                m: _mean_std([r['at'][p][m] for r in runs]) for m in METRICS
            }
            for p in points
        }
        steps = min(len(r['curve']) for r in runs)
        record['curve'] = [
            [
                runs[0]['curve'][i][0],
                round(statistics.fmean(r['curve'][i][1] for r in runs), 5),
                round(statistics.fmean(r['curve'][i][2] for r in runs), 5),
            ]
            for i in range(steps)
        ]
    else:
        record['steady'] = {
            m: _mean_std([r['steady'][m] for r in runs]) for m in METRICS
        }
    return record


def _count_means(runs: list[dict[str, Any]], field: str) -> dict[str, float]:
    keys = {k for r in runs for k in r[field]}
    return {
        k: statistics.fmean(r[field].get(k, 0) for r in runs)
        for k in sorted(keys)
    }


def write_summary_csv(
    records: Sequence[dict[str, Any]], path: pathlib.Path
) -> None:
    """One row per cell with the headline numbers.

    :param records: aggregated cells.
    :param path: the CSV file.
    """
    columns = ['cluster', 'variant', 'memory', 'arrival', 'policy', 'point']
    for metric in METRICS:
        columns += [metric + '_mean', metric + '_std']
    columns += [
        'latency_p50_us',
        'latency_p99_us',
        'failed_sharing',
        'failed_whole',
        'failed_multi',
    ]
    with path.open('w', newline='') as stream:
        writer = csv.writer(stream)
        writer.writerow(columns)
        for record in records:
            points = (
                record['at'].items()
                if record['arrival'] == 'inflate'
                else [('steady', record['steady'])]
            )
            for point, values in points:
                row = [record[c] for c in columns[:5]] + [point]
                for metric in METRICS:
                    row += [
                        '%.5f' % values[metric]['mean'],
                        '%.5f' % values[metric]['std'],
                    ]
                row += [
                    '%.1f' % record['latency_us']['p50']['mean'],
                    '%.1f' % record['latency_us']['p99']['mean'],
                ] + [
                    '%.1f' % record['failed'].get(kind, 0.0)
                    for kind in workloads.KINDS
                ]
                writer.writerow(row)


def main(argv: Sequence[str] | None = None) -> int:
    """The command line.

    :param argv: arguments (default: ``sys.argv[1:]``).
    :returns: the exit status.
    """
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--quick', action='store_true', help='smoke run')
    parser.add_argument('--jobs', type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        '--out',
        type=pathlib.Path,
        default=None,
        help='output directory (default: results/ here for a full run, '
        'a temporary directory for --quick)',
    )
    parser.add_argument(
        '--seeds', type=int, default=len(SEEDS), help='seeds 42.. (max 10)'
    )
    parser.add_argument(
        '--no-readme', action='store_true', help='leave README.rst alone'
    )
    args = parser.parse_args(argv)
    if args.out is None:
        args.out = (
            pathlib.Path(tempfile.gettempdir()) / 'allocator-quick'
            if args.quick
            else HERE / 'results'
        )
    specs = quick_matrix() if args.quick else full_matrix(SEEDS[: args.seeds])
    started = time.monotonic()
    results = execute(specs, args.jobs)
    latency = aggregate(execute(latency_matrix(args.quick), 1))
    elapsed = time.monotonic() - started
    records = aggregate(results)
    args.out.mkdir(parents=True, exist_ok=True)
    command = 'python -m benchmarks.allocator.run ' + ' '.join(
        argv if argv is not None else sys.argv[1:]
    )
    meta = {
        'command': command.strip(),
        'runs': len(specs),
        'elapsed_s': round(elapsed),
        'jobs': args.jobs,
        'cpus': os.cpu_count(),
    }
    with (args.out / 'results.json').open('w') as stream:
        json.dump(
            {'meta': meta, 'cells': records, 'latency': latency},
            stream,
            indent=None,
        )
        stream.write('\n')
    write_summary_csv(records, args.out / 'summary.csv')
    report.plot_curves(records, args.out)
    if not args.quick and not args.no_readme:
        report.update_readme(records, latency, meta, HERE / 'README.rst')
    print('%d runs in %.0f s -> %s' % (len(specs), elapsed, args.out))
    return 0


if __name__ == '__main__':
    sys.exit(main())
