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

"""Counts the pod specs and node shapes of ``cluster-trace-gpu-v2023``.

The CPU-aware mode (:mod:`.fgdsim`) needs the joint distribution of a
pod's CPU, memory, GPU count and share, which the summary statistics of
:mod:`.trace_stats` do not have. This script reads the public CSV files of
``alibaba/clusterdata`` (``cluster-trace-gpu-v2023/csv``) and writes
``data/openb_specs.json``: per variant, the number of pods of each
distinct (cpu_milli, memory_mib, num_gpu, gpu_milli, gpu_spec), and the
GPU nodes in the trace's order as runs of identical nodes. No pod names,
times or node names are kept::

    python -m benchmarks.allocator.extract_specs CSV_DIR
"""

from __future__ import annotations

import collections
import csv
import itertools
import json
import pathlib
import sys

VARIANTS = (
    'default',
    'gpushare40',
    'gpushare60',
    'gpushare80',
    'gpushare100',
    'multigpu50',
)
OUTPUT = pathlib.Path(__file__).parent / 'data' / 'openb_specs.json'


def _pod_specs(path: pathlib.Path) -> list[list[object]]:
    with path.open() as f:
        rows = list(csv.DictReader(f))
    counts = collections.Counter(
        (
            int(r['cpu_milli']),
            int(r['memory_mib']),
            int(r['num_gpu']),
            int(r['gpu_milli']) if int(r['num_gpu']) else 0,
            r.get('gpu_spec') or '',
        )
        for r in rows
    )
    return [[*spec, n] for spec, n in sorted(counts.items())]


def _node_runs(path: pathlib.Path) -> list[list[object]]:
    with path.open() as f:
        rows = list(csv.DictReader(f))
    for i, row in enumerate(rows):
        # The tie-break relies on the names being in file order.
        assert row['sn'] == 'openb-node-%04d' % i, row['sn']
    shapes = (
        (int(r['cpu_milli']), int(r['memory_mib']), int(r['gpu']), r['model'])
        for r in rows
    )
    return [
        [len(list(group)), *shape]
        for shape, group in itertools.groupby(shapes)
    ]


def main(argv: list[str]) -> None:
    """Write ``data/openb_specs.json`` from a directory of trace CSVs."""
    source = pathlib.Path(argv[0])
    data = {
        'source': 'alibaba/clusterdata cluster-trace-gpu-v2023/csv',
        'pod_columns': [
            'cpu_milli',
            'memory_mib',
            'num_gpu',
            'gpu_milli',
            'gpu_spec',
            'count',
        ],
        'node_columns': ['count', 'cpu_milli', 'memory_mib', 'gpu', 'model'],
        'nodes': _node_runs(source / 'openb_node_list_gpu_node.csv'),
        'pods': {
            v: _pod_specs(source / ('openb_pod_list_%s.csv' % v))
            for v in VARIANTS
        },
    }
    OUTPUT.write_text(json.dumps(data, separators=(',', ':')) + '\n')


if __name__ == '__main__':
    main(sys.argv[1:])
