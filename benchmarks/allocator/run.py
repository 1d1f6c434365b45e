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

The whole matrix (every cell, ten held-out seeds, churn and the latency
runs)::

    nice -n 10 python -m benchmarks.allocator.run --jobs 2

The committed results are a bounded subset of it (the README's *Run it*
has the commands): ``--clusters``, ``--memories``, ``--variants``,
``--policies`` and ``--seeds`` limit the matrix, ``--resume`` adds cells
to the runs already in ``runs.jsonl`` and ``--report-only`` writes the
outputs from them.

Smoke run (a minute; writes to a temporary directory)::

    python -m benchmarks.allocator.run --quick

Writes ``results.json`` (aggregates per cell, allocation curves, paired
comparisons), ``summary.csv`` (one row per cell and point, with the
offline bound and the seed set), ``per_seed.csv``, ``paired.csv``,
``allocation_B1.png`` and ``allocation_B2.png`` to ``--out`` and, unless
``--quick`` or ``--no-readme``, the results section of ``README.rst``.
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import csv
import dataclasses
import json
import os
import pathlib
import statistics
import sys
import tempfile
import time
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any

from benchmarks.allocator import report
from benchmarks.allocator import simulate
from benchmarks.allocator import trace_stats
from benchmarks.allocator import workloads
from orionx_cyborg import allocator as alloc

HERE = pathlib.Path(__file__).resolve().parent
#: Development seeds: the seeds of FGD's run scripts, used before issue 13
#: for trials, for choosing the default policy and its constants, and for
#: the report. Policies and constants are chosen on these only.
DEV_SEEDS = tuple(range(42, 52))
#: Held-out seeds: never used to choose a policy or a constant; the
#: committed results and the paired comparisons use these.
HELDOUT_SEEDS = tuple(range(1042, 1052))
SEED_SETS = {'dev': DEV_SEEDS, 'heldout': HELDOUT_SEEDS}
SEEDS = HELDOUT_SEEDS
#: The service's default policy (chosen on the development seeds, see
#: the README); with our other policies below, every other policy is a
#: competitor in the paired comparisons.
DEFAULT_POLICY = alloc.DEFAULT_POLICY
#: Our policies compared with the best competitor of each cell: the
#: default, the two defaults before it and the opt-in pairing hold.
COMPARED = (
    DEFAULT_POLICY,
    'partner-aware',
    'stranding-aware',
    'partner-aware+hold',
)
OURS = (
    'stranding-aware',
    'stranding-aware+oracle',
    'fragmentation-aware',
    'partner-aware',
    'count-aware',
    'partner-aware+hold',
    'partner-aware+defrag',
)
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
#: B2 runs every policy but the oracle ablation.
B2_POLICIES = tuple(
    p for p in simulate.POLICIES if p != 'stranding-aware+oracle'
)
CHURN_POLICIES = (
    'binpack',
    'spread',
    'fragmentation-aware',
    'stranding-aware',
    'partner-aware',
    'count-aware',
    'partner-aware+hold',
    'partner-aware+defrag',
    'random',
    'bestfit',
    'dotproduct',
    'gpu-clustering',
    'fgd',
    'fgd-2dfit',
    'hami-spread',
    'hami-default',
)

#: Churn runs on B1 with these variants: ``default``, and the two where
#: sharing requests dominate (where the tiers of ``partner-aware`` rank).
CHURN_VARIANTS = ('default', 'gpushare80', 'gpushare100')

Cell = tuple[str, str, str, str, str]


def full_matrix(
    seeds: Sequence[int],
    clusters: Sequence[str] = ('B1', 'B2'),
    variants: Sequence[str] = tuple(trace_stats.VARIANTS),
    memories: Sequence[str] = workloads.MEMORY_MODELS,
    churn: bool = True,
    policies: Sequence[str] | None = None,
) -> list[simulate.RunSpec]:
    """The committed benchmark: every cell and seed, or a subset of it.

    Inflation on B1 and B2 for every variant and memory model; churn on B1
    with :data:`CHURN_VARIANTS`. Policies: every one on B1, :data:`B2_POLICIES` on
    B2, :data:`CHURN_POLICIES` under churn. Cells come in the order of
    the arguments (clusters, then memory models, then variants).

    :param seeds: the seeds.
    :param clusters: pools to run.
    :param variants: trace variants to run.
    :param memories: memory models to run.
    :param churn: whether to run the churn cells.
    :param policies: only these policies (default: all).
    :returns: the runs.
    """
    specs: list[simulate.RunSpec] = []
    per_cluster = {'B1': simulate.POLICIES, 'B2': B2_POLICIES}
    wanted = set(policies) if policies else set(simulate.POLICIES)
    for cluster in clusters:
        for memory in memories:
            for variant in variants:
                for policy in per_cluster[cluster]:
                    if policy not in wanted:
                        continue
                    specs.extend(
                        simulate.RunSpec(
                            cluster, variant, memory, 'inflate', policy, s
                        )
                        for s in seeds
                    )
    if churn and 'B1' in clusters:
        for memory in memories:
            for variant in CHURN_VARIANTS:
                if variant not in variants:
                    continue
                specs.extend(
                    simulate.RunSpec('B1', variant, memory, 'churn', policy, s)
                    for policy in CHURN_POLICIES
                    if policy in wanted
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


def latency_matrix(
    quick: bool,
    variants: Sequence[str] | None = None,
    policies: Sequence[str] | None = None,
    seeds: Sequence[int] = (42,),
) -> list[simulate.RunSpec]:
    """Runs that only measure decision latency, one at a time.

    The matrix runs ``--jobs`` processes on a shared machine, where a
    preempted process inflates the tail of any latency it measures; these
    runs go one by one, each on a 6,000-GPU pool. The policies of a cell
    run one after the other on each seed, so that each is measured beside
    :data:`.report.LATENCY_BASELINE` while the machine runs at one speed.

    :param quick: fewer runs.
    :param variants: the variants (default: ``default`` and
        ``multigpu50``, or ``default`` when quick).
    :param policies: the policies (default: the runtime allocator's).
    :param seeds: the seeds.
    :returns: the runs.
    """
    if variants is None:
        variants = ('default',) if quick else ('default', 'multigpu50')
    memories = ('M2',) if quick else workloads.MEMORY_MODELS
    return [
        simulate.RunSpec(cluster, variant, memory, 'inflate', policy, seed)
        for cluster in ('B1', 'B2')
        for variant in variants
        for memory in memories
        for seed in seeds
        for policy in policies or report.RUNTIME
    ]


def latency_cells(results: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Latency per cell over its seeds, the worst run, and the baseline.

    :param results: results of latency runs (:func:`latency_matrix`).
    :returns: :func:`aggregate`'s records, each with ``p99_worst_us``,
        the highest p99 of one run of the cell, and ``vs_baseline``: the
        geometric means over seeds of the run's p50 and p99 over those of
        :data:`.report.LATENCY_BASELINE` on the same seed, or None where the
        baseline did not run.
    """
    worst: dict[tuple[str, str, str, str], float] = {}
    # (cluster, variant, memory, seed) -> policy -> the run's latency.
    beside: dict[tuple[str, str, str, int], dict[str, dict[str, float]]]
    beside = collections.defaultdict(dict)
    for result in results:
        spec = result['spec']
        cell = _latency_cell(spec)
        worst[cell] = max(worst.get(cell, 0.0), result['latency_us']['p99'])
        seeded = (
            spec['cluster'],
            spec['variant'],
            spec['memory'],
            spec['seed'],
        )
        beside[seeded][spec['policy']] = result['latency_us']
    return [
        {
            **record,
            'p99_worst_us': worst[_latency_cell(record)],
            'vs_baseline': _vs_baseline(record, beside),
        }
        for record in aggregate(results)
    ]


def _vs_baseline(
    record: dict[str, Any],
    beside: Mapping[tuple[str, str, str, int], dict[str, dict[str, float]]],
) -> dict[str, float] | None:
    ratios: dict[str, list[float]] = {'p50': [], 'p99': []}
    for seed in record['seeds']:
        runs = beside[
            (record['cluster'], record['variant'], record['memory'], seed)
        ]
        if report.LATENCY_BASELINE not in runs:
            continue
        for q, values in ratios.items():
            values.append(
                runs[record['policy']][q] / runs[report.LATENCY_BASELINE][q]
            )
    if not ratios['p50']:
        return None
    return {q: statistics.geometric_mean(v) for q, v in ratios.items()}


def execute(
    specs: Sequence[simulate.RunSpec],
    jobs: int,
    sink: pathlib.Path | None = None,
) -> list[dict[str, Any]]:
    """Run simulations in ``jobs`` processes.

    :param specs: the runs.
    :param jobs: worker processes (1: in this process).
    :param sink: a JSON-lines file each result is appended to as it
        completes (a run cut short keeps what it finished).
    :returns: the results, in the order of ``specs``.
    """
    started = time.monotonic()
    results: list[dict[str, Any]] = []

    def keep(n: int, result: dict[str, Any]) -> None:
        results.append(result)
        if sink is not None:
            with sink.open('a') as stream:
                stream.write(json.dumps(result) + '\n')
        _progress(n, len(specs), started)

    if jobs <= 1:
        for n, result in enumerate(map(simulate.run, specs), 1):
            keep(n, result)
        return results
    with concurrent.futures.ProcessPoolExecutor(jobs) as pool:
        for n, result in enumerate(
            pool.map(simulate.run, specs, chunksize=4), 1
        ):
            keep(n, result)
    return results


def load_results(path: pathlib.Path) -> list[dict[str, Any]]:
    """The results of a JSON-lines file written by :func:`execute`.

    :param path: the file.
    :returns: the results (a repeated run keeps its last result).
    """
    by_spec: dict[tuple[Any, ...], dict[str, Any]] = {}
    for line in path.read_text().splitlines():
        if line.strip():
            result = json.loads(line)
            for field in ('at', 'checkpoints'):
                if field in result:
                    # JSON turned the integer points into strings.
                    result[field] = {
                        int(k): v for k, v in result[field].items()
                    }
            by_spec[tuple(sorted(result['spec'].items()))] = result
    return list(by_spec.values())


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
    holds = [r['hold'] for r in runs if 'hold' in r]
    if holds:
        record['hold'] = {
            k: _mean_std([h[k] for h in holds])
            for k in ('held', 'pending_at_end', 'wait_p50', 'wait_p99')
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
    records: Sequence[dict[str, Any]],
    path: pathlib.Path,
    seed_set: str = 'heldout',
    bounds: Mapping[tuple[str, str, str], float] | None = None,
) -> None:
    """One row per cell and point with the headline numbers.

    :param records: aggregated cells.
    :param path: the CSV file.
    :param seed_set: ``heldout`` or ``dev`` (the ``seeds`` column).
    :param bounds: the offline bound per (cluster, variant, memory) at
        130% (the ``bound`` column; empty where there is none).
    """
    bounds = bounds or {}
    columns = ['cluster', 'variant', 'memory', 'arrival', 'policy', 'point']
    for metric in METRICS:
        columns += [metric + '_mean', metric + '_std']
    columns += [
        'latency_p50_us',
        'latency_p99_us',
        'failed_sharing',
        'failed_whole',
        'failed_multi',
        'bound',
        'seeds',
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
                key = (record['cluster'], record['variant'], record['memory'])
                bound = bounds.get(key) if point == '130' else None
                row += ['' if bound is None else '%.5f' % bound, seed_set]
                writer.writerow(row)


def _headline(result: Mapping[str, Any]) -> float:
    # GPU (compute) allocation at the run's last point (130%, or 110% in
    # the quick run) or in steady state.
    if result['spec']['arrival'] == 'inflate':
        return float(result['at'][max(result['at'])]['alloc_comp'])
    return float(result['steady']['alloc_comp'])


def write_per_seed_csv(
    results: Sequence[dict[str, Any]], path: pathlib.Path, seed_set: str
) -> None:
    """One row per run: allocation at 100% and 130% (or steady state).

    :param results: results of :func:`simulate.run`.
    :param path: the CSV file.
    :param seed_set: ``heldout`` or ``dev``.
    """
    columns = ['cluster', 'variant', 'memory', 'arrival', 'policy', 'seed']
    with path.open('w', newline='') as stream:
        writer = csv.writer(stream)
        writer.writerow(
            [*columns, 'point', 'alloc_comp', 'alloc_mem', 'seeds']
        )
        for result in sorted(
            results, key=lambda r: [r['spec'][c] for c in columns]
        ):
            spec = result['spec']
            points = (
                [(str(p), v) for p, v in sorted(result['at'].items())]
                if spec['arrival'] == 'inflate'
                else [('steady', result['steady'])]
            )
            for point, values in points:
                writer.writerow(
                    [spec[c] for c in columns]
                    + [
                        point,
                        '%.5f' % values['alloc_comp'],
                        '%.5f' % values['alloc_mem'],
                        seed_set,
                    ]
                )


def paired_comparisons(
    results: Sequence[dict[str, Any]],
) -> list[dict[str, Any]]:
    """Each of :data:`COMPARED` against the best competitor of each cell.

    The best competitor is the policy outside :data:`OURS` with the
    highest mean GPU allocation (130%, or steady state) over the seeds
    both ran; the comparison pairs runs by seed (same arrivals, same host
    order) and gives the mean difference in points with its 95%
    confidence interval (Student's t over the seeds).

    :param results: results of :func:`simulate.run`.
    :returns: one record per compared policy and cell.
    """
    cells: dict[tuple[str, ...], dict[str, dict[int, float]]] = (
        collections.defaultdict(lambda: collections.defaultdict(dict))
    )
    for result in results:
        spec = result['spec']
        cell = (
            spec['cluster'],
            spec['variant'],
            spec['memory'],
            spec['arrival'],
        )
        cells[cell][spec['policy']][spec['seed']] = _headline(result)
    records: list[dict[str, Any]] = []
    for key, policies in cells.items():
        for compared in COMPARED:
            record = _paired_record(key, compared, policies)
            if record is not None:
                records.append(record)
    variants = list(trace_stats.VARIANTS)
    records.sort(
        key=lambda r: (
            COMPARED.index(r['policy']),
            r['cluster'],
            r['arrival'],
            r['memory'],
            variants.index(r['variant']),
        )
    )
    return records


def _paired_record(
    key: tuple[str, ...],
    compared: str,
    policies: Mapping[str, Mapping[int, float]],
) -> dict[str, Any] | None:
    # One policy of ours against the best competitor of one cell.
    from scipy import stats  # type: ignore[import-untyped]

    ours = policies.get(compared)
    if not ours:
        return None
    best: tuple[float, str, list[float]] | None = None
    for policy, values in policies.items():
        if policy in OURS:
            continue
        seeds = sorted(set(values) & set(ours))
        if not seeds:
            continue
        diffs = [100 * (ours[s] - values[s]) for s in seeds]
        mean = statistics.fmean(100 * values[s] for s in seeds)
        if best is None or mean > best[0]:
            best = (mean, policy, diffs)
    if best is None:
        return None
    mean, policy, diffs = best
    n = len(diffs)
    diff = statistics.fmean(diffs)
    half = (
        float(stats.t.ppf(0.975, n - 1)) * statistics.stdev(diffs) / n**0.5
        if n > 1
        else float('nan')
    )
    return {
        'policy': compared,
        'cluster': key[0],
        'variant': key[1],
        'memory': key[2],
        'arrival': key[3],
        'competitor': policy,
        'seeds': n,
        'policy_mean': diff + mean,
        'competitor_mean': mean,
        'diff': diff,
        'ci_low': diff - half,
        'ci_high': diff + half,
        'verdict': (
            'better'
            if diff - half > 0
            else 'worse'
            if diff + half < 0
            else 'no significant difference'
        ),
    }


def write_paired_csv(
    records: Sequence[dict[str, Any]], path: pathlib.Path
) -> None:
    """The paired comparisons as CSV.

    :param records: :func:`paired_comparisons`.
    :param path: the CSV file.
    """
    columns = [
        'policy',
        'cluster',
        'variant',
        'memory',
        'arrival',
        'competitor',
        'seeds',
        'policy_mean',
        'competitor_mean',
        'diff',
        'ci_low',
        'ci_high',
        'verdict',
    ]
    with path.open('w', newline='') as stream:
        writer = csv.writer(stream)
        writer.writerow(columns)
        for record in records:
            writer.writerow(
                [
                    '%.4f' % record[c]
                    if isinstance(record[c], float)
                    else record[c]
                    for c in columns
                ]
            )


def load_bounds(path: pathlib.Path) -> dict[tuple[str, str, str], float]:
    """Offline bounds per (cluster, variant, memory) from ``bounds.json``.

    :param path: the file (absent: no bounds).
    :returns: the mean bound over its seeds per cell.
    """
    if not path.exists():
        return {}
    cells: dict[tuple[str, str, str], list[float]] = collections.defaultdict(
        list
    )
    for row in json.loads(path.read_text()):
        cells[(row['cluster'], row['variant'], row['memory'])].append(
            row['bound']
        )
    return {k: statistics.fmean(v) for k, v in cells.items()}


def complete_cells(
    results: Sequence[dict[str, Any]],
) -> list[dict[str, Any]]:
    """The results of the cells that ran every policy on every seed.

    A run cut short leaves its last cell incomplete; the report leaves
    such cells out rather than compare the default with part of the
    competitors.

    :param results: results of :func:`simulate.run`.
    :returns: the results of complete cells.
    """
    runs: dict[tuple[str, ...], set[tuple[str, int]]] = (
        collections.defaultdict(set)
    )
    for r in results:
        spec = r['spec']
        key = (spec['cluster'], spec['variant'], spec['memory'])
        runs[key + (spec['arrival'],)].add((spec['policy'], spec['seed']))
    expected: dict[tuple[str, ...], int] = collections.defaultdict(int)
    for cell, done in runs.items():
        kind = (cell[0], cell[-1])
        expected[kind] = max(expected[kind], len(done))
    keep = {
        cell
        for cell, done in runs.items()
        if len(done) == expected[(cell[0], cell[-1])]
    }
    return [
        r
        for r in results
        if (
            r['spec']['cluster'],
            r['spec']['variant'],
            r['spec']['memory'],
            r['spec']['arrival'],
        )
        in keep
    ]


def _names(text: str | None, default: Sequence[str]) -> tuple[str, ...]:
    return tuple(text.split(',')) if text else tuple(default)


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
        '--seed-set',
        choices=sorted(SEED_SETS),
        default='heldout',
        help='heldout (%d-%d, the committed results) or dev (%d-%d, '
        'for choosing policies and constants)'
        % (HELDOUT_SEEDS[0], HELDOUT_SEEDS[-1], DEV_SEEDS[0], DEV_SEEDS[-1]),
    )
    parser.add_argument(
        '--seeds', type=int, default=10, help='the first N seeds of the set'
    )
    parser.add_argument('--clusters', help='e.g. B1 (default: B1,B2)')
    parser.add_argument('--variants', help='e.g. default,gpushare60')
    parser.add_argument('--memories', help='e.g. M3,M2 (default: M1,M2,M3)')
    parser.add_argument('--policies', help='only these policies')
    parser.add_argument('--no-churn', action='store_true')
    parser.add_argument(
        '--no-latency', action='store_true', help='skip the latency runs'
    )
    parser.add_argument(
        '--resume',
        action='store_true',
        help='keep the runs already in OUT/runs.jsonl and run the rest',
    )
    parser.add_argument(
        '--report-only',
        action='store_true',
        help='run nothing: write the outputs from OUT/runs.jsonl, or '
        'without it from OUT/results.json (per_seed.csv is kept)',
    )
    parser.add_argument(
        '--no-readme', action='store_true', help='leave README.rst alone'
    )
    parser.add_argument(
        '--latency-only',
        action='store_true',
        help='run only the latency runs (--variants, --policies, '
        '--seed-set and --seeds choose them) and write OUT/latency.json',
    )
    args = parser.parse_args(argv)
    if args.latency_only:
        return _latency_only(args)
    if args.report_only:
        args.resume = True
        args.no_latency = True
    if args.out is None:
        args.out = (
            pathlib.Path(tempfile.gettempdir()) / 'allocator-quick'
            if args.quick
            else HERE / 'results'
        )
    if args.report_only and not (args.out / 'runs.jsonl').exists():
        try:
            rewrite_from_results(args.out, not args.no_readme)
        except ReportError as error:
            print(error, file=sys.stderr)
            return 2
        print('rewrote the outputs from %s' % (args.out / 'results.json'))
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    seeds = SEED_SETS[args.seed_set][: args.seeds]
    if args.quick:
        specs = quick_matrix()
    else:
        specs = full_matrix(
            seeds,
            _names(args.clusters, ('B1', 'B2')),
            _names(args.variants, tuple(trace_stats.VARIANTS)),
            _names(args.memories, workloads.MEMORY_MODELS),
            churn=not args.no_churn,
            policies=_names(args.policies, ()) or None,
        )
    sink = args.out / 'runs.jsonl'
    done: list[dict[str, Any]] = []
    if args.resume and sink.exists():
        done = load_results(sink)
        finished = {tuple(sorted(r['spec'].items())) for r in done}
        specs = [
            s
            for s in specs
            if not args.report_only
            and tuple(sorted(dataclasses.asdict(s).items())) not in finished
        ]
    elif sink.exists():
        sink.unlink()
    command = 'python -m benchmarks.allocator.run ' + ' '.join(
        argv if argv is not None else sys.argv[1:]
    )
    recorded = args.out / 'command.txt'
    if args.report_only and recorded.exists():
        command = recorded.read_text().strip()
    elif not args.resume:
        recorded.write_text(command + '\n')
    started = time.monotonic()
    results = done + execute(specs, args.jobs, sink)
    latency = (
        []
        if args.no_latency
        else latency_cells(
            execute(
                latency_matrix(
                    args.quick, seeds=(42,) if args.quick else seeds
                ),
                1,
            )
        )
    )
    elapsed = time.monotonic() - started
    if args.report_only:
        results = complete_cells(results)
    write_outputs(
        results,
        latency,
        args.out,
        {
            'command': command,
            'runs': len(results),
            'elapsed_s': round(elapsed),
            'jobs': args.jobs,
            'cpus': os.cpu_count(),
            'seed_set': args.seed_set,
            'seeds': list(seeds),
        },
        readme=not (args.quick or args.no_readme),
    )
    print('%d runs in %.0f s -> %s' % (len(specs), elapsed, args.out))
    return 0


def rewrite_from_results(out: pathlib.Path, readme: bool) -> None:
    """Rewrite the outputs from OUT/results.json, running nothing.

    For a change of the report or of :data:`COMPARED` on a machine
    without the runs (``runs.jsonl`` is not committed): the cells, the
    latency cells and the paired comparisons are the ones recorded, the
    comparisons in the order of :data:`COMPARED`; ``per_seed.csv`` is
    left as it is.

    :param out: the output directory.
    :param readme: whether to rewrite the README's results section.
    :raises ReportError: without results.json.
    """
    path = out / 'results.json'
    if not path.exists():
        raise ReportError(
            '%s and %s do not exist: run the benchmark first (see the '
            'README, Run it)' % (out / 'runs.jsonl', path)
        )
    recorded = json.loads(path.read_text())
    # Like paired_comparisons: a compared policy that did not run has no
    # rows.
    paired = [
        r
        for policy in COMPARED
        for r in recorded['paired']
        if r['policy'] == policy
    ]
    write_reports(
        recorded['cells'],
        recorded['latency'],
        paired,
        out,
        recorded['meta'],
        readme,
    )


class ReportError(Exception):
    """The outputs cannot be written from what is recorded."""


#: What latency.json keeps of a latency cell.
_LATENCY_KEYS = (
    'cluster',
    'variant',
    'memory',
    'policy',
    'seeds',
    'latency_us',
    'p99_worst_us',
    'vs_baseline',
    'decisions',
    'classes',
)


def _latency_cell(cell: dict[str, Any]) -> tuple[str, str, str, str]:
    return (cell['cluster'], cell['variant'], cell['memory'], cell['policy'])


def _latency_only(args: argparse.Namespace) -> int:
    # The latency runs alone, their table on stdout and in latency.json.
    out = args.out or HERE / 'results'
    out.mkdir(parents=True, exist_ok=True)
    specs = latency_matrix(
        False,
        _names(args.variants, ()) or None,
        _names(args.policies, ()) or None,
        SEED_SETS[args.seed_set][: args.seeds],
    )
    cells = [
        {key: cell[key] for key in _LATENCY_KEYS}
        for cell in latency_cells(execute(specs, 1))
    ]
    path = out / 'latency.json'
    # Cells of other policies or variants recorded before are kept, so
    # that one policy can be measured again alone.
    fresh = {_latency_cell(cell) for cell in cells}
    kept = [
        cell
        for cell in (json.loads(path.read_text()) if path.exists() else [])
        if _latency_cell(cell) not in fresh
    ]
    with path.open('w') as stream:
        json.dump(kept + cells, stream, indent=1)
        stream.write('\n')
    print(report.latency_table(cells))
    return 0


def write_outputs(
    results: Sequence[dict[str, Any]],
    latency: Sequence[dict[str, Any]],
    out: pathlib.Path,
    meta: dict[str, Any],
    readme: bool,
) -> None:
    """Write results.json, the CSV files, the plots and the README section.

    :param results: results of :func:`simulate.run`.
    :param latency: aggregated latency cells.
    :param out: the output directory.
    :param meta: the run's command, seeds and timing.
    :param readme: whether to rewrite the README's results section.
    """
    write_per_seed_csv(results, out / 'per_seed.csv', meta['seed_set'])
    write_reports(
        aggregate(results),
        latency,
        paired_comparisons(results),
        out,
        meta,
        readme,
    )


def write_reports(
    records: Sequence[dict[str, Any]],
    latency: Sequence[dict[str, Any]],
    paired: Sequence[dict[str, Any]],
    out: pathlib.Path,
    meta: dict[str, Any],
    readme: bool,
) -> None:
    """Write results.json, summary.csv, paired.csv, the plots, the README.

    :param records: aggregated cells (:func:`aggregate`).
    :param latency: aggregated latency cells.
    :param paired: :func:`paired_comparisons`.
    :param out: the output directory.
    :param meta: the run's command, seeds and timing.
    :param readme: whether to rewrite the README's results section.
    """
    bounds = load_bounds(out / 'bounds.json')
    with (out / 'results.json').open('w') as stream:
        json.dump(
            {
                'meta': meta,
                'cells': records,
                'latency': latency,
                'paired': paired,
            },
            stream,
            indent=None,
        )
        stream.write('\n')
    write_summary_csv(records, out / 'summary.csv', meta['seed_set'], bounds)
    write_paired_csv(paired, out / 'paired.csv')
    report.plot_curves(records, out, bounds)
    if readme:
        report.update_readme(
            records, latency, meta, HERE / 'README.rst', paired, bounds
        )


if __name__ == '__main__':
    sys.exit(main())
