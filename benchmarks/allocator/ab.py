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

"""Decision latency of this tree against a baseline tree, side by side.

A change meant to make the allocator faster must place exactly as before
and be faster on the same machine at the same time; this machine's speed
drifts by a third within an hour, so runs of the two trees alternate
(baseline first in even rounds, this tree first in odd ones) and each
round's ratio compares runs made a few seconds apart. Every run is a
fresh process; the results of the two trees, timings left out, must be
byte-identical, and the report says whether they are::

    git worktree add /tmp/baseline <commit>
    python -m benchmarks.allocator.ab --baseline /tmp/baseline \\
        --json benchmarks/allocator/results/ab.json
"""

from __future__ import annotations

import argparse
import json
import math
import os
import pathlib
import statistics
import subprocess
import sys
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Sequence
from typing import Any

from benchmarks.allocator import report

#: Runs one cell on one tree: :func:`run_in` or a stand-in.
Runner = Callable[[pathlib.Path, Sequence[object]], dict[str, Any]]

#: (cluster, variant, memory, arrival, policy, seed): cells of the
#: committed latency run where the decision latency is highest: sharing
#: mixes under M2, where partner-aware and count-aware rank in tiers, and
#: multi-GPU requests (``multigpu50``), whose slices re-key their host;
#: and two cells where neither applies much (``default`` under M3 and M1).
CELLS = (
    ('B1', 'gpushare80', 'M2', 'inflate', 'count-aware', 1042),
    ('B1', 'gpushare100', 'M2', 'inflate', 'count-aware', 1042),
    ('B2', 'gpushare100', 'M2', 'inflate', 'count-aware', 1043),
    ('B1', 'gpushare80', 'M2', 'inflate', 'partner-aware+hold', 1042),
    ('B1', 'multigpu50', 'M3', 'inflate', 'count-aware', 1042),
    ('B1', 'multigpu50', 'M3', 'inflate', 'partner-aware+hold', 1042),
    ('B1', 'default', 'M3', 'inflate', 'count-aware', 1042),
    ('B1', 'default', 'M1', 'inflate', 'count-aware', 1042),
)

# Run in the tree under test: one simulation, its latency and a digest of
# everything else it returns.
_ONE_RUN = """
import hashlib, json, sys
from benchmarks.allocator import simulate
result = simulate.run(simulate.RunSpec(*json.loads(sys.argv[1])))
latency = result.pop('latency_us')
result.pop('wall_s')
text = json.dumps(result, sort_keys=True, default=str)
digest = hashlib.sha256(text.encode()).hexdigest()
print(json.dumps({'latency_us': latency, 'digest': digest}))
"""

#: Seconds one run may take before it counts as hung.
RUN_TIMEOUT_S = 900


def run_in(tree: pathlib.Path, cell: Sequence[object]) -> dict[str, Any]:
    """One simulation in a fresh process on the code of a tree.

    :param tree: a checkout of this repository.
    :param cell: the arguments of ``simulate.RunSpec``.
    :returns: ``latency_us`` (p50, p99, max) and ``digest`` (of the
        result without timings).
    """
    done = subprocess.run(
        [sys.executable, '-c', _ONE_RUN, json.dumps(list(cell))],
        cwd=tree,
        env=dict(os.environ, PYTHONPATH=str(tree)),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=True,
    )
    return json.loads(done.stdout.splitlines()[-1])


def revision(tree: pathlib.Path) -> str:
    """The commit of a tree, marked when it has uncommitted changes.

    :param tree: a git checkout.
    :returns: e.g. ``53d2865`` or ``53d2865+changes``.
    """
    commit = _git(tree, 'rev-parse', '--short', 'HEAD')
    dirty = _git(tree, 'status', '--porcelain', '--untracked-files=no')
    return commit + ('+changes' if dirty else '')


def _git(tree: pathlib.Path, *args: str) -> str:
    return subprocess.run(
        ['git', '-C', str(tree), *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout.strip()


def compare(
    baseline: pathlib.Path,
    candidate: pathlib.Path,
    cells: Sequence[Sequence[object]],
    rounds: int,
    runner: Runner = run_in,
) -> list[dict[str, Any]]:
    """Run every cell on both trees, alternating, ``rounds`` times.

    :param baseline: the baseline tree.
    :param candidate: the tree under test.
    :param cells: ``simulate.RunSpec`` arguments.
    :param rounds: how many runs per tree and cell.
    :param runner: runs one cell on one tree (:func:`run_in`).
    :returns: one record per cell: each tree's runs and whether every run
        of the two trees gave the same placements.
    """
    records = []
    for cell in cells:
        runs: dict[str, list[dict[str, Any]]] = {
            'baseline': [],
            'candidate': [],
        }
        for r in range(rounds):
            order = ['baseline', 'candidate']
            if r % 2:
                order.reverse()
            for side in order:
                tree = baseline if side == 'baseline' else candidate
                runs[side].append(runner(tree, cell))
        digests = {run['digest'] for side in runs.values() for run in side}
        records.append(
            {
                'cell': list(cell),
                'same_placements': len(digests) == 1,
                'runs': runs,
            }
        )
    return records


def summarise(record: dict[str, Any]) -> dict[str, float]:
    """Medians over rounds of each tree, and the paired ratios.

    :param record: one record of :func:`compare`.
    :returns: ``baseline_p50``, ``candidate_p50``, ``baseline_p99``,
        ``candidate_p99`` (medians, µs) and ``p50_ratio``, ``p99_ratio``
        (geometric means over rounds of this tree's value over the
        baseline's of the same round).
    """
    out: dict[str, float] = {}
    pairs = list(
        zip(
            record['runs']['baseline'],
            record['runs']['candidate'],
            strict=True,
        )
    )
    for key in ('p50', 'p99'):
        for side in ('baseline', 'candidate'):
            out['%s_%s' % (side, key)] = statistics.median(
                run['latency_us'][key] for run in record['runs'][side]
            )
        out['%s_ratio' % key] = geometric_mean(
            c['latency_us'][key] / b['latency_us'][key] for b, c in pairs
        )
    return out


def geometric_mean(values: Iterable[float]) -> float:
    """The geometric mean of positive values.

    :param values: an iterable of positive numbers.
    :returns: their geometric mean.
    """
    logs = [math.log(v) for v in values]
    return math.exp(sum(logs) / len(logs))


def table(records: Sequence[dict[str, Any]]) -> str:
    """The comparison as a reStructuredText table, with a total row.

    :param records: from :func:`compare`.
    :returns: the table.
    """
    rows = []
    for record in records:
        s = summarise(record)
        rows.append(
            (
                ' '.join(str(c) for c in record['cell']),
                '%.0f' % s['baseline_p50'],
                '%.0f' % s['candidate_p50'],
                '%.2f' % s['p50_ratio'],
                '%.0f' % s['baseline_p99'],
                '%.0f' % s['candidate_p99'],
                '%.2f' % s['p99_ratio'],
                'yes' if record['same_placements'] else 'NO',
            )
        )
    ratios = [summarise(r) for r in records]
    rows.append(
        (
            'geometric mean',
            '',
            '',
            '%.2f' % geometric_mean(s['p50_ratio'] for s in ratios),
            '',
            '',
            '%.2f' % geometric_mean(s['p99_ratio'] for s in ratios),
            '',
        )
    )
    head = (
        'cell',
        'p50 µs, baseline',
        'p50 µs, this tree',
        'p50 ×',
        'p99 µs, baseline',
        'p99 µs, this tree',
        'p99 ×',
        'same placements',
    )
    return report.simple_table(head, rows)


def main(argv: Sequence[str] | None = None) -> int:
    """Compare the trees and print the table.

    :param argv: the command line.
    :returns: 0, or 1 when some cell placed differently.
    """
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument(
        '--baseline',
        type=pathlib.Path,
        required=True,
        help='a checkout of the baseline commit (git worktree add)',
    )
    parser.add_argument(
        '--rounds', type=int, default=3, help='runs per tree and cell'
    )
    parser.add_argument(
        '--cells',
        help='cells as cluster:variant:memory:arrival:policy:seed, '
        'comma-separated (default: CELLS)',
    )
    parser.add_argument('--json', type=pathlib.Path, help='keep every run')
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error('--rounds must be at least 1')
    cells: Sequence[Sequence[object]] = CELLS
    if args.cells:
        cells = [_parse_cell(text) for text in args.cells.split(',')]
    here = pathlib.Path(__file__).resolve().parents[2]
    records = compare(args.baseline.resolve(), here, cells, args.rounds)
    print(table(records))
    if args.json:
        document = {
            'command': 'python -m benchmarks.allocator.ab '
            + ' '.join(sys.argv[1:] if argv is None else argv),
            'baseline': revision(args.baseline),
            'candidate': revision(here),
            'cells': records,
        }
        args.json.write_text(json.dumps(document, indent=1) + '\n')
    return 0 if all(r['same_placements'] for r in records) else 1


def _parse_cell(text: str) -> tuple[object, ...]:
    cluster, variant, memory, arrival, policy, seed = text.split(':')
    return (cluster, variant, memory, arrival, policy, int(seed))


if __name__ == '__main__':
    sys.exit(main())
