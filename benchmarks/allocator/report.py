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

"""Tables and plots of the benchmark's aggregated results."""

from __future__ import annotations

import pathlib
import statistics
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any

from benchmarks.allocator import trace_stats
from benchmarks.allocator import workloads
from orionx_cyborg import allocator as alloc

ORDER = (
    'random',
    'dotproduct',
    'gpu-clustering',
    'gpu-packing',
    'bestfit',
    'fgd',
    'fgd-2dfit',
    'hami-spread',
    'hami-binpack',
    'hami-default',
    'spread',
    'binpack',
    'fragmentation-aware',
    'stranding-aware',
    'stranding-aware+oracle',
    'partner-aware',
    'count-aware',
    'partner-aware+hold',
    'partner-aware+defrag',
)
LABELS: Mapping[str, str] = {
    'random': 'Random',
    'dotproduct': 'DotProd',
    'gpu-clustering': 'GpuClust',
    'gpu-packing': 'GpuPack',
    'bestfit': 'BestFit',
    'fgd': 'FGD',
    'fgd-2dfit': 'FGD-2dfit',
    'hami-spread': 'HAMi spread',
    'hami-binpack': 'HAMi binpack',
    'hami-default': 'HAMi default',
    'spread': 'GPU spread',
    'binpack': 'GPU binpack',
    'fragmentation-aware': 'frag-aware',
    'stranding-aware': 'stranding-aware',
    'stranding-aware+oracle': 'stranding+oracle',
    'partner-aware': 'partner-aware',
    'count-aware': 'count-aware',
    'partner-aware+hold': 'partner+hold',
    'partner-aware+defrag': 'partner+defrag',
}
RUNTIME = (
    'spread',
    'binpack',
    'fragmentation-aware',
    'stranding-aware',
    'partner-aware',
    'count-aware',
    'partner-aware+hold',
)
#: The policy every other is measured beside in the latency runs: the
#: runtime allocator's policy without tiers or reserve.
LATENCY_BASELINE = 'stranding-aware'
#: Line colour and style per policy: baselines dashed, the runtime
#: allocator's policies solid, the default policy thick.
STYLES: Mapping[str, tuple[str, str, float]] = {
    'random': ('#9e9e9e', '--', 1.0),
    'dotproduct': ('#8c564b', '--', 1.0),
    'gpu-clustering': ('#bcbd22', '--', 1.0),
    'gpu-packing': ('#17becf', '--', 1.0),
    'bestfit': ('#1f77b4', '--', 1.0),
    'fgd': ('#d62728', '--', 1.4),
    'fgd-2dfit': ('#9467bd', '--', 1.4),
    'hami-spread': ('#f7b6d2', '--', 1.0),
    'hami-binpack': ('#c7c7c7', '--', 1.0),
    'hami-default': ('#aec7e8', '--', 1.0),
    'spread': ('#e377c2', '-', 1.0),
    'binpack': ('#7f7f7f', '-', 1.0),
    'fragmentation-aware': ('#ff7f0e', '-', 1.2),
    'stranding-aware': ('#2ca02c', '-', 1.6),
    'stranding-aware+oracle': ('#000000', ':', 1.2),
    'partner-aware': ('#1f3a93', '--', 1.6),
    'count-aware': ('#000000', '-', 2.0),
    'partner-aware+hold': ('#000000', '-.', 1.6),
    'partner-aware+defrag': ('#7f7f7f', ':', 1.6),
}
#: The service's default policy, drawn thick and compared with FGD.
BEST = alloc.DEFAULT_POLICY
BEGIN = '.. BEGIN GENERATED RESULTS'
END = '.. END GENERATED RESULTS'

Records = Sequence[dict[str, Any]]


def _index(records: Records) -> dict[tuple[str, ...], dict[str, Any]]:
    return {
        (r['cluster'], r['variant'], r['memory'], r['arrival'], r['policy']): r
        for r in records
    }


def _pct(value: float) -> str:
    return '%.2f' % (100 * value)


def _pm(stat: Mapping[str, float]) -> str:
    return '%.2f±%.2f' % (100 * stat['mean'], 100 * stat['std'])


def simple_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """An RST simple table.

    :param header: column titles.
    :param rows: cells as text.
    :returns: the table, with a blank line before and after.
    """
    widths = [
        max(len(str(line[i])) for line in [header, *rows])
        for i in range(len(header))
    ]
    rule = '  '.join('=' * w for w in widths)

    def line(cells: Sequence[str]) -> str:
        return '  '.join(
            str(c).ljust(w) for c, w in zip(cells, widths, strict=True)
        ).rstrip()

    body = [rule, line(header), rule, *(line(r) for r in rows), rule]
    return '\n' + '\n'.join(body) + '\n'


def _policies(records: Records) -> list[str]:
    present = {r['policy'] for r in records}
    return [p for p in ORDER if p in present]


def _cells(records: Records, arrival: str) -> list[tuple[str, str, str]]:
    seen = {
        (r['cluster'], r['memory'], r['variant'])
        for r in records
        if r['arrival'] == arrival
    }
    variants = list(trace_stats.VARIANTS)
    return sorted(seen, key=lambda c: (c[0], c[1], variants.index(c[2])))


def published_table(records: Records) -> str:
    """B1 under M1 against FGD's published allocation ratios.

    :param records: aggregated cells.
    :returns: the table.
    """
    index = _index(records)
    rows = []
    for variant, published in trace_stats.PUBLISHED_ALLOCATION.items():
        ours = index.get(('B1', variant, 'M1', 'inflate', 'fgd'))
        best = index.get(('B1', variant, 'M1', 'inflate', BEST))
        bestfit = index.get(('B1', variant, 'M1', 'inflate', 'bestfit'))
        if ours is None or best is None or bestfit is None:
            continue
        rows.append(
            [
                variant,
                '%.2f / %.2f' % published['fgd'],
                '%.2f / %.2f' % published['bestfit'],
                '%s / %s'
                % (
                    _pm(ours['at']['100']['alloc_comp']),
                    _pm(ours['at']['130']['alloc_comp']),
                ),
                '%s / %s'
                % (
                    _pm(bestfit['at']['100']['alloc_comp']),
                    _pm(bestfit['at']['130']['alloc_comp']),
                ),
                '%s / %s'
                % (
                    _pm(best['at']['100']['alloc_comp']),
                    _pm(best['at']['130']['alloc_comp']),
                ),
            ]
        )
    header = [
        'variant',
        'FGD published',
        'BestFit published',
        'FGD (our port)',
        'BestFit (our port)',
        LABELS[BEST],
    ]
    return simple_table(header, rows)


def allocation_tables(records: Records, metric: str = 'alloc_comp') -> str:
    """One table per (cluster, memory model): every policy at 130%.

    :param records: aggregated cells.
    :param metric: the metric to show.
    :returns: the tables with titles.
    """
    index = _index(records)
    out = []
    for cluster in ('B1', 'B2'):
        policies = _policies(
            [
                r
                for r in records
                if r['arrival'] == 'inflate' and r['cluster'] == cluster
            ]
        )
        for memory in workloads.MEMORY_MODELS:
            rows = []
            for variant in trace_stats.VARIANTS:
                row = [variant]
                for policy in policies:
                    record = index.get(
                        (cluster, variant, memory, 'inflate', policy)
                    )
                    row.append(
                        _pm(record['at']['130'][metric]) if record else '-'
                    )
                rows.append(row)
            if all(all(c == '-' for c in r[1:]) for r in rows):
                continue
            out.append('**%s, %s**\n' % (cluster, memory))
            out.append(
                simple_table(['variant', *(LABELS[p] for p in policies)], rows)
            )
    return '\n'.join(out)


def two_d_table(records: Records) -> str:
    """FGD against the default policy in both dimensions at 130%.

    :param records: aggregated cells.
    :returns: the table.
    """
    index = _index(records)
    rows = []
    for cluster, memory, variant in _cells(records, 'inflate'):
        fgd = index.get((cluster, variant, memory, 'inflate', 'fgd'))
        best = index.get((cluster, variant, memory, 'inflate', BEST))
        if fgd is None or best is None:
            continue
        a, b = fgd['at']['130'], best['at']['130']
        rows.append(
            [
                cluster,
                memory,
                variant,
                '%s/%s/%s'
                % tuple(
                    _pct(a[m]['mean'])
                    for m in ('alloc_comp', 'alloc_mem', 'alloc_min')
                ),
                '%s/%s/%s'
                % tuple(
                    _pct(b[m]['mean'])
                    for m in ('alloc_comp', 'alloc_mem', 'alloc_min')
                ),
                '%+.2f'
                % (100 * (b['alloc_comp']['mean'] - a['alloc_comp']['mean'])),
                '%+.2f'
                % (100 * (b['alloc_min']['mean'] - a['alloc_min']['mean'])),
                '%.3f/%.3f'
                % (a['stranded_mem']['mean'], b['stranded_mem']['mean']),
                '%.3f/%.3f'
                % (a['stranded_comp']['mean'], b['stranded_comp']['mean']),
            ]
        )
    header = [
        'pool',
        'mem',
        'variant',
        'FGD comp/mem/min',
        'ours comp/mem/min',
        'Δcomp',
        'Δmin',
        'stranded mem F/o',
        'stranded comp F/o',
    ]
    return simple_table(header, rows)


def margin_table(records: Records) -> str:
    """Per (pool, memory model): the default policy minus FGD, over variants.

    :param records: aggregated cells.
    :returns: the table.
    """
    index = _index(records)
    rows = []
    for cluster in ('B1', 'B2'):
        for memory in workloads.MEMORY_MODELS:
            comp, low, wins = [], [], 0
            for variant in trace_stats.VARIANTS:
                fgd = index.get((cluster, variant, memory, 'inflate', 'fgd'))
                best = index.get((cluster, variant, memory, 'inflate', BEST))
                if fgd is None or best is None:
                    continue
                a, b = fgd['at']['130'], best['at']['130']
                d = b['alloc_comp']['mean'] - a['alloc_comp']['mean']
                comp.append(d)
                low.append(b['alloc_min']['mean'] - a['alloc_min']['mean'])
                wins += d >= 0
            if not comp:
                continue
            rows.append(
                [
                    cluster,
                    memory,
                    '%+.2f' % (100 * statistics.fmean(comp)),
                    '%+.2f … %+.2f' % (100 * min(comp), 100 * max(comp)),
                    '%+.2f' % (100 * statistics.fmean(low)),
                    '%d/%d' % (wins, len(comp)),
                ]
            )
    header = [
        'pool',
        'mem',
        'Δcomp mean',
        'Δcomp min … max',
        'Δmin mean',
        'variants ≥ FGD',
    ]
    return simple_table(header, rows)


def ranking_table(records: Records, cluster: str) -> str:
    """Every policy's mean over the inflation cells of a pool at 130%.

    :param records: aggregated cells.
    :param cluster: the pool.
    :returns: the table, best first.
    """
    records = [r for r in records if r['cluster'] == cluster]
    cells = _cells(records, 'inflate')
    index = _index(records)
    policies = _policies([r for r in records if r['arrival'] == 'inflate'])
    # Only cells where every policy ran, so that means compare alike.
    common = [
        c
        for c in cells
        if all((c[0], c[2], c[1], 'inflate', p) in index for p in policies)
    ]
    rows = []
    for policy in policies:
        comp = [
            index[(c[0], c[2], c[1], 'inflate', policy)]['at']['130']
            for c in common
        ]
        best_count = sum(
            1
            for c in common
            if index[(c[0], c[2], c[1], 'inflate', policy)]['at']['130'][
                'alloc_comp'
            ]['mean']
            >= max(
                index[(c[0], c[2], c[1], 'inflate', p)]['at']['130'][
                    'alloc_comp'
                ]['mean']
                for p in policies
            )
            - 1e-4
        )
        rows.append(
            (
                statistics.fmean(x['alloc_comp']['mean'] for x in comp),
                [
                    LABELS[policy],
                    _pct(
                        statistics.fmean(x['alloc_comp']['mean'] for x in comp)
                    ),
                    _pct(
                        statistics.fmean(x['alloc_mem']['mean'] for x in comp)
                    ),
                    _pct(
                        statistics.fmean(x['alloc_min']['mean'] for x in comp)
                    ),
                    '%d/%d' % (best_count, len(common)),
                ],
            )
        )
    rows.sort(key=lambda r: -r[0])
    header = [
        'policy',
        'compute %',
        'memory %',
        'min %',
        'cells best (±0.01)',
    ]
    return simple_table(header, [r for _, r in rows])


def detail_table(records: Records, cluster: str, variant: str) -> str:
    """Fragmentation, stranding and failures at 130% for one workload.

    :param records: aggregated cells.
    :param cluster: the pool.
    :param variant: the trace variant.
    :returns: the table.
    """
    index = _index(records)
    rows = []
    for memory in workloads.MEMORY_MODELS:
        for policy in _policies(records):
            record = index.get((cluster, variant, memory, 'inflate', policy))
            if record is None:
                continue
            at = record['at']['130']
            failed = record['failed']
            rows.append(
                [
                    memory,
                    LABELS[policy],
                    '%.3f' % at['frag_2d']['mean'],
                    '%.3f' % at['frag_gpu']['mean'],
                    '%.2f' % (100 * at['stranded_mem']['mean']),
                    '%.2f' % (100 * at['stranded_comp']['mean']),
                    *('%.0f' % failed.get(k, 0.0) for k in workloads.KINDS),
                ]
            )
    header = [
        'mem',
        'policy',
        'frag 2-D',
        'frag GPU',
        'stranded mem %',
        'stranded comp %',
        'failed sharing',
        'failed whole',
        'failed multi',
    ]
    return simple_table(header, rows)


def churn_table(records: Records, variant: str = 'default') -> str:
    """Steady-state allocation and failures under churn, for one variant.

    :param records: aggregated cells.
    :param variant: the trace variant.
    :returns: the table.
    """
    index = _index(records)
    churn = [
        r
        for r in records
        if r['arrival'] == 'churn' and r['variant'] == variant
    ]
    rows = []
    for policy in _policies(churn):
        row = [LABELS[policy]]
        for memory in workloads.MEMORY_MODELS:
            record = index.get(('B1', variant, memory, 'churn', policy))
            if record is None:
                row += ['-', '-']
                continue
            steady = record['steady']
            arrived = sum(record['arrived'].values())
            failed = sum(record['failed'].values())
            row += [
                '%s / %s'
                % (
                    _pm(steady['alloc_comp']),
                    _pct(steady['alloc_mem']['mean']),
                ),
                '%.2f' % (100 * failed / arrived if arrived else 0.0),
            ]
        rows.append(row)
    header = ['policy']
    for memory in workloads.MEMORY_MODELS:
        header += ['%s comp / mem %%' % memory, '%s failed %%' % memory]
    return simple_table(header, rows)


def _baseline_ratio_text(cells: Records, quantile: str) -> str:
    # Geometric mean over cells of the ratios measured beside the
    # baseline; '-' unless every cell has one.
    ratios = [r.get('vs_baseline') for r in cells]
    if not all(ratios):
        return '-'
    return '%.2f' % statistics.geometric_mean(r[quantile] for r in ratios)


def latency_table(records: Records) -> str:
    """Decision latency of the runtime policies.

    :param records: cells of the sequential latency runs
        (``run.latency_cells``).
    :returns: the table.
    """
    rows = []
    for policy in RUNTIME:
        for cluster in ('B1', 'B2'):
            cells = [
                r
                for r in records
                if r['policy'] == policy and r['cluster'] == cluster
            ]
            if not cells:
                continue
            p50 = [r['latency_us']['p50']['mean'] for r in cells]
            p99 = [r['latency_us']['p99']['mean'] for r in cells]
            worst = [r['latency_us']['max']['mean'] for r in cells]
            rows.append(
                [
                    LABELS[policy],
                    cluster,
                    '%.0f' % statistics.fmean(p50),
                    '%.0f' % statistics.fmean(p99),
                    '%.0f' % max(p99),
                    '%.0f' % max(r['p99_worst_us'] for r in cells),
                    '%.0f' % max(worst),
                    '%.0f' % max(r['classes']['mean'] for r in cells),
                    _baseline_ratio_text(cells, 'p50'),
                    _baseline_ratio_text(cells, 'p99'),
                ]
            )
    header = [
        'policy',
        'pool',
        'p50 µs (mean)',
        'p99 µs (mean)',
        'p99 µs (worst cell)',
        'p99 µs (worst run)',
        'max µs',
        'classes (worst cell)',
        'p50 × baseline',
        'p99 × baseline',
    ]
    return simple_table(header, rows)


def _section(title: str, text: str, body: str) -> str:
    return '%s\n%s\n\n%s\n%s' % (title, '~' * len(title), text, body)


def paired_table(
    paired: Records, bounds: Mapping[tuple[str, str, str], float]
) -> str:
    """The default policy against the best competitor, per cell.

    :param paired: :func:`.run.paired_comparisons`.
    :param bounds: the offline bound per (cluster, variant, memory).
    :returns: the table.
    """
    rows = []
    for r in paired:
        bound = bounds.get((r['cluster'], r['variant'], r['memory']))
        point = '130%' if r['arrival'] == 'inflate' else 'steady'
        rows.append(
            [
                LABELS[r['policy']],
                r['cluster'],
                r['memory'],
                r['variant']
                if r['arrival'] == 'inflate'
                else '%s, churn' % r['variant'],
                LABELS[r['competitor']],
                '%.2f' % r['competitor_mean'],
                '%.2f' % r['policy_mean'],
                '%+.2f [%+.2f, %+.2f]'
                % (r['diff'], r['ci_low'], r['ci_high']),
                str(r['seeds']),
                '-'
                if bound is None or point != '130%'
                else '%.2f (%.2f)'
                % (100 * bound, 100 * bound - r['policy_mean']),
            ]
        )
    header = [
        'policy',
        'pool',
        'mem',
        'variant',
        'best competitor',
        'its GPU %',
        'policy GPU %',
        'Δ mean [95% CI]',
        'seeds',
        'bound (gap)',
    ]
    return simple_table(header, rows)


def hold_table(records: Records) -> str:
    """What the pairing hold costs: held, never served, waits.

    :param records: aggregated cells.
    :returns: the table, one row per inflation cell of the hold policy.
    """
    index = _index(records)
    rows = []
    for r in records:
        if 'hold' not in r or r['arrival'] != 'inflate':
            continue
        key = (r['cluster'], r['variant'], r['memory'], r['arrival'])
        plain = index.get((*key, 'partner-aware'))
        sharing = r['arrived'].get('sharing', 0.0) or 1.0
        hold = r['hold']
        rows.append(
            [
                r['cluster'],
                r['memory'],
                r['variant'],
                '%.1f' % (100 * hold['held']['mean'] / sharing),
                '%.1f' % (100 * hold['pending_at_end']['mean'] / sharing),
                '%.1f' % (100 * r['failed'].get('sharing', 0.0) / sharing),
                '-'
                if plain is None
                else '%.1f'
                % (100 * plain['failed'].get('sharing', 0.0) / sharing),
                '%.0f / %.0f'
                % (hold['wait_p50']['mean'], hold['wait_p99']['mean']),
            ]
        )
    header = [
        'pool',
        'mem',
        'variant',
        'held %',
        'still held at 130% %',
        'unserved, hold %',
        'unserved, partner-aware %',
        'wait p50 / p99 (arrivals)',
    ]
    return simple_table(header, rows)


def paired_summary(paired: Records) -> str:
    """Counts of significant wins and losses per policy, pool and memory.

    :param paired: :func:`.run.paired_comparisons`.
    :returns: the table.
    """
    groups: dict[tuple[str, str, str, str], list[dict[str, Any]]] = {}
    for r in paired:
        groups.setdefault(
            (r['policy'], r['cluster'], r['arrival'], r['memory']), []
        ).append(r)
    rows = []
    for (policy, cluster, arrival, memory), group in groups.items():
        rows.append(
            [
                LABELS[policy],
                cluster,
                arrival,
                memory,
                str(len(group)),
                str(sum(r['verdict'] == 'better' for r in group)),
                str(sum(r['verdict'] == 'worse' for r in group)),
                '%+.2f' % statistics.fmean(r['diff'] for r in group),
            ]
        )
    header = [
        'policy',
        'pool',
        'arrival',
        'mem',
        'cells',
        'policy better',
        'policy worse',
        'mean Δ (points)',
    ]
    return simple_table(header, rows)


def bound_tables(
    records: Records, bounds: Mapping[tuple[str, str, str], float]
) -> str:
    """Every policy's GPU allocation at 130% next to the bound.

    :param records: aggregated cells.
    :param bounds: the offline bound per (cluster, variant, memory).
    :returns: one table per (pool, memory model).
    """
    index = _index(records)
    out = []
    for cluster in ('B1', 'B2'):
        inflate = [
            r
            for r in records
            if r['arrival'] == 'inflate' and r['cluster'] == cluster
        ]
        policies = _policies(inflate)
        for memory in workloads.MEMORY_MODELS:
            rows = []
            for variant in trace_stats.VARIANTS:
                cells = [
                    index.get((cluster, variant, memory, 'inflate', p))
                    for p in policies
                ]
                if all(c is None for c in cells):
                    continue
                bound = bounds.get((cluster, variant, memory))
                rows.append(
                    [variant]
                    + [
                        '%.2f' % (100 * c['at']['130']['alloc_comp']['mean'])
                        if c
                        else '-'
                        for c in cells
                    ]
                    + ['-' if bound is None else '%.2f' % (100 * bound)]
                )
            if not rows:
                continue
            out.append('**%s, %s**\n' % (cluster, memory))
            out.append(
                simple_table(
                    ['variant', *(LABELS[p] for p in policies), 'bound'], rows
                )
            )
    return '\n'.join(out)


def reproduction_table(rows: Records) -> str:
    """The CPU-aware mode against FGD's published table (130%).

    :param rows: per-seed results of :func:`.fgdsim.run`.
    :returns: the table: per variant and policy, mean±std over seeds,
        the published value and the difference.
    """
    cells: dict[tuple[str, str, bool, bool], list[float]] = {}
    for r in rows:
        key = (r['variant'], r['policy'], r['cpu'], r['shuffled_names'])
        cells.setdefault(key, []).append(100 * r['alloc_final'])
    out = []
    for (variant, policy, cpu, shuffled), values in sorted(
        cells.items(),
        key=lambda kv: (
            list(trace_stats.VARIANTS).index(kv[0][0]),
            not kv[0][2],
            not kv[0][3],
            ORDER.index(kv[0][1]),
        ),
    ):
        published = trace_stats.PUBLISHED_ALLOCATION[variant][policy][1]
        mean = statistics.fmean(values)
        std = statistics.stdev(values) if len(values) > 1 else 0.0
        mode = 'CPU' if cpu else 'no CPU'
        if not shuffled:
            mode += ', trace order'
        out.append(
            [
                variant,
                mode,
                LABELS[policy],
                '%.2f±%.2f' % (mean, std),
                '%.2f' % published,
                '%+.2f' % (mean - published),
                str(len(values)),
            ]
        )
    header = [
        'variant',
        'mode',
        'policy',
        'replica (130%)',
        'published',
        'Δ',
        'seeds',
    ]
    return simple_table(header, out)


def results_section(
    records: Records,
    latency: Records,
    meta: Mapping[str, Any],
    paired: Records = (),
    bounds: Mapping[tuple[str, str, str], float] | None = None,
) -> str:
    """The generated part of the README.

    :param records: aggregated cells.
    :param latency: aggregated cells of the sequential latency runs.
    :param meta: the run's command, seeds and timing.
    :param paired: :func:`.run.paired_comparisons`.
    :param bounds: the offline bound per (cluster, variant, memory).
    :returns: RST text.
    """
    bounds = bounds or {}
    seeds = meta.get('seeds') or []
    parts = [
        'Produced by ``%s`` (%d runs%s; %s seeds %s).\n'
        % (
            meta['command'],
            meta['runs'],
            ''
            if not meta['elapsed_s']
            else ', %d jobs, %.0f minutes on the 2-core development machine'
            % (meta['jobs'], meta['elapsed_s'] / 60),
            meta.get('seed_set', 'dev'),
            ', '.join(str(s) for s in seeds),
        ),
    ]
    if paired:
        parts.append(
            _section(
                'Our policies against the best competitor',
                'Paired by seed (same arrivals, same host order): the '
                'default policy (' + BEST + '), partner-aware and '
                'stranding-aware (the defaults before it) and partner-aware '
                'behind the pairing hold, each '
                'minus the best other policy of the cell (ours excluded) '
                'in GPU allocation points at 130% '
                '(churn: steady state), with the 95% confidence interval '
                'over the seeds; the bound is the offline configuration-LP '
                'bound of the cell and the gap is bound minus the policy. '
                'Summary:',
                paired_summary(paired) + '\n' + paired_table(paired, bounds),
            )
        )
    if any('hold' in r for r in records):
        parts.append(
            _section(
                'What the pairing hold costs',
                'Sharing tasks of partner-aware+hold, in percent of the '
                'sharing tasks that arrived, mean over the seeds: held '
                'at least once, still held when the arrivals end, never '
                'served by 130% (refused or still held) next to '
                'partner-aware without the hold, and how long a held task '
                'waited for a partner, in arrivals of any kind.',
                hold_table(records),
            )
        )
    parts.append(
        _section(
            'GPU allocation at 130%',
            'Compute (the trace\'s GPU share) allocation %, mean over the '
            'seeds, and the offline bound.',
            bound_tables(records, bounds),
        )
    )
    churn_variants = [
        v
        for v in trace_stats.VARIANTS
        if any(r['arrival'] == 'churn' and r['variant'] == v for r in records)
    ]
    for variant in churn_variants:
        parts.append(
            _section(
                'Churn' if variant == 'default' else 'Churn, %s' % variant,
                'B1, ``%s``, offered load 120%%: time-weighted '
                'allocation %% in steady state (compute mean±std / memory) '
                'and the share of arrivals that failed.' % variant,
                churn_table(records, variant),
            )
        )
    if latency:
        parts.append(
            _section(
                'Decision latency',
                'The runtime allocator (pure Python) per decision, measured '
                'in separate runs one at a time: p50 and p99 of each run, '
                'averaged over seeds and cells, the worst cell\'s mean over '
                'its seeds and the worst single run; and p50 and p99 over '
                'those of %s run beside it on the same seed (geometric '
                'means over seeds and cells).' % LATENCY_BASELINE,
                latency_table(latency),
            )
        )
    return '\n'.join(parts)


def update_readme(
    records: Records,
    latency: Records,
    meta: Mapping[str, Any],
    path: pathlib.Path,
    paired: Records = (),
    bounds: Mapping[tuple[str, str, str], float] | None = None,
) -> None:
    """Replace the generated section of the README.

    :param records: aggregated cells.
    :param latency: aggregated cells of the sequential latency runs.
    :param meta: the run's command, seeds and timing.
    :param path: the README.
    :param paired: :func:`.run.paired_comparisons`.
    :param bounds: the offline bound per (cluster, variant, memory).
    """
    section = results_section(records, latency, meta, paired, bounds)
    replace_section(path, BEGIN, END, section)


def replace_section(
    path: pathlib.Path, begin: str, end: str, body: str
) -> None:
    """Replace the text between two marker lines of a file.

    :param path: the file.
    :param begin: the first marker.
    :param end: the last marker.
    :param body: the new text between them.
    """
    text = path.read_text()
    head, _, rest = text.partition(begin)
    _, _, tail = rest.partition(end)
    path.write_text(head + begin + '\n\n' + body + '\n' + end + tail)


def _zoom(ax: Any) -> None:
    # The policies worth comparing differ by tenths of a percent at the
    # top; the worst ones may leave the frame.
    lines = ax.get_lines()
    if not lines:
        return
    top = max(max(line.get_ydata()) for line in lines)
    low = min(min(line.get_ydata()) for line in lines)
    ax.set_ylim(max(low, top - 12), top + 0.5)


def plot_curves(
    records: Records,
    out: pathlib.Path,
    bounds: Mapping[tuple[str, str, str], float] | None = None,
) -> None:
    """Allocation against arrived workload, one PNG per pool.

    :param records: aggregated cells.
    :param out: the directory.
    :param bounds: the offline bound at 130% per (cluster, variant,
        memory), drawn as a star.
    """
    bounds = bounds or {}
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    inflate = [r for r in records if r['arrival'] == 'inflate']
    index = _index(inflate)
    policies = _policies(inflate)
    for cluster in ('B1', 'B2'):
        cells = [c for c in _cells(inflate, 'inflate') if c[0] == cluster]
        if not cells:
            continue
        variants = [
            v for v in trace_stats.VARIANTS if any(c[2] == v for c in cells)
        ]
        memories = [
            m for m in workloads.MEMORY_MODELS if any(c[1] == m for c in cells)
        ]
        fig, axes = plt.subplots(
            len(memories),
            len(variants),
            figsize=(3.2 * len(variants), 2.8 * len(memories)),
            squeeze=False,
        )
        for i, memory in enumerate(memories):
            for j, variant in enumerate(variants):
                ax = axes[i][j]
                for policy in policies:
                    record = index.get(
                        (cluster, variant, memory, 'inflate', policy)
                    )
                    if record is None:
                        continue
                    x = [p[0] for p in record['curve'] if p[0] >= 60]
                    y = [100 * p[1] for p in record['curve'] if p[0] >= 60]
                    colour, style, width = STYLES[policy]
                    ax.plot(
                        x,
                        y,
                        style,
                        color=colour,
                        lw=width,
                        label=LABELS[policy],
                    )
                _zoom(ax)
                bound = bounds.get((cluster, variant, memory))
                if bound is not None:
                    ax.plot(
                        [130], [100 * bound], '*', color='k', label='bound'
                    )
                    low, _ = ax.get_ylim()
                    ax.set_ylim(low, max(100 * bound + 0.5, low + 1))
                ax.set_title(
                    '%s %s %s' % (cluster, memory, variant), fontsize=8
                )
                ax.tick_params(labelsize=7)
                ax.grid(alpha=0.3)
                if i == len(memories) - 1:
                    ax.set_xlabel('arrived workload (% of GPUs)', fontsize=7)
                if j == 0:
                    ax.set_ylabel('GPU allocation %', fontsize=7)
        handles, labels = axes[0][0].get_legend_handles_labels()
        fig.legend(handles, labels, loc='lower center', ncol=6, fontsize=8)
        fig.tight_layout(rect=(0, 0.06, 1, 1))
        fig.savefig(out / ('allocation_%s.png' % cluster), dpi=110)
        plt.close(fig)
