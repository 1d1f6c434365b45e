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

"""discover() cost per vendor; Ascend beside Cyborg's in-tree Ascend driver.

orionx_gpu_driver reports a simulated host holding only one vendor's
devices (AMD MI300X through the real amdsmi binding, Ascend 910B3 cards
through our DCMI ctypes layer, Moore Threads S4000 through the real pymtml
binding, each over its simulated library; the NVML seam runs too and
finds no NVIDIA GPU), every device in passthrough. For Ascend, Cyborg's
in-tree ``AscendDriver`` runs on the same host, over a fake ``lspci``
first on ``PATH`` listing the same devices (``19e5:d802``).

Figures: median wall time of a steady-state discover() through the Cyborg
driver object (after one warm-up call), the devices reported, and the
library calls per device of one pass (the seam's own count). The
simulated libraries are Python: on real hardware each call costs what the
vendor driver's ioctls cost, so the call count is what carries over.

Usage::

    python benchmarks/discover/bench_vendors.py [--repeat N]
        [--sizes 1,8] [--json vendors.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

HOST = 'bench-host'

# topology key, model key, seam name
VENDORS = (
    ('amd_gpus', 'MI300X', 'amdsmi'),
    ('ascend_cards', 'Ascend910B3', 'dcmi'),
    ('mthreads_gpus', 'MTT-S4000', 'mtml'),
)


def vendor_host(key: str, model: str, count: int) -> Any:
    from orionx_cyborg.gpu.fake import topology

    return topology.host_from_mapping(
        HOST, {'gpus': [], key: [{'model': model, 'count': count}]}
    )


def run_orionx(host: Any, repeat: int, workdir: str) -> dict[str, Any]:
    # The NVIDIA benchmark's configuration helper, shared.
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import bench_discover

    from orionx_cyborg.accelerator import driver
    from orionx_cyborg.gpu.fake import topology

    path = os.path.join(workdir, 'topology.yaml')
    topology.dump(host, path)
    state_dir = tempfile.mkdtemp(dir=workdir)
    conf = bench_discover.orionx_conf(
        path, state_dir, orionx_gpu={'default_mode': 'passthrough'}
    )
    drv = driver.OrionXGPUDriver(
        conf=conf, usage=lambda names: {n: 0 for n in names}
    )
    drv._reporter.backend.refresh()
    devices = drv.discover()
    inventory = drv._reporter.backend.discover()
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        drv.discover()
        timings.append(time.perf_counter() - started)
    found = max(len(inventory.gpus), 1)
    return {
        'median_s': statistics.median(timings),
        'devices': sum(1 for d in devices if d.vendor != 'orionx'),
        'calls_per_device': inventory.calls / found,
    }


def lspci_dir(host: Any, directory: str) -> str:
    lines = [
        '0000:00:00.0 Host bridge [0600]: Intel Corporation Device '
        '[8086:09a2] (rev 04)'
    ]
    from orionx_cyborg.gpu.fake import ascend

    simulated = ascend.ascend_host(*host.ascend_cards)
    for card in simulated.cards:
        lines.append(
            '%04x:%02x:00.0 Processing accelerators [1200]: Huawei '
            'Technologies Co., Ltd. Device [19e5:%04x] (rev 20)'
            % (card.domain, card.bus, card.model.pci_device_id)
        )
    path = os.path.join(directory, 'lspci')
    with open(path, 'w') as stream:
        stream.write('#!/bin/sh\ncat <<"EOF"\n%s\nEOF\n' % '\n'.join(lines))
    os.chmod(path, 0o755)
    return directory


def intree_worker(args: argparse.Namespace) -> None:
    os.environ['PATH'] = args.lspci_dir + os.pathsep + os.environ['PATH']
    # isort: off
    import cyborg.tests  # noqa: F401
    import cyborg.privsep
    from cyborg.accelerator.drivers.aichip.huawei import ascend
    from cyborg.conf import CONF

    # isort: on

    CONF([], project='cyborg', default_config_files=[])
    CONF.set_override('host', HOST)
    cyborg.privsep.sys_admin_pctxt.set_client_mode(False)
    drv = ascend.AscendDriver()
    devices = drv.discover()
    timings = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        drv.discover()
        timings.append(time.perf_counter() - started)
    json.dump(
        {
            'median_s': statistics.median(timings),
            'devices': len(devices),
            'calls_per_device': 0,
        },
        sys.stdout,
    )


def run_intree(host: Any, repeat: int, workdir: str) -> dict[str, Any]:
    directory = tempfile.mkdtemp(dir=workdir)
    lspci_dir(host, directory)
    output = subprocess.run(
        [
            sys.executable,
            os.path.abspath(__file__),
            '--worker',
            '--lspci-dir',
            directory,
            '--repeat',
            str(repeat),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(output.stdout)
    return result


def measure(sizes: list[int], repeat: int) -> list[dict[str, Any]]:
    rows = []
    workdir = tempfile.mkdtemp(prefix='bench-vendors-')
    try:
        for size in sizes:
            for key, model, seam in VENDORS:
                host = vendor_host(key, model, size)
                row: dict[str, Any] = {
                    'devices': size,
                    'vendor': seam,
                    'model': model,
                    'orionx': run_orionx(host, repeat, workdir),
                    'in_tree': 'no in-tree driver',
                }
                if seam == 'dcmi':
                    row['in_tree'] = run_intree(host, repeat, workdir)
                rows.append(row)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return rows


def print_table(rows: list[dict[str, Any]]) -> None:
    header = (
        'devices',
        'seam',
        'orionx median',
        'found',
        'calls/device',
        'in-tree median',
        'in-tree found',
    )
    print('  '.join('%-14s' % h for h in header))
    for row in rows:
        ours, theirs = row['orionx'], row['in_tree']
        cells = (
            str(row['devices']),
            row['vendor'],
            '%.2f ms' % (ours['median_s'] * 1e3),
            str(ours['devices']),
            '%.1f' % ours['calls_per_device'],
            '%.2f ms' % (theirs['median_s'] * 1e3)
            if isinstance(theirs, dict)
            else theirs,
            str(theirs['devices']) if isinstance(theirs, dict) else '',
        )
        print('  '.join('%-14s' % c for c in cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[1])
    parser.add_argument('--sizes', default='1,8')
    parser.add_argument('--repeat', type=int, default=15)
    parser.add_argument('--json', help='write the results here')
    parser.add_argument(
        '--worker', action='store_true', help=argparse.SUPPRESS
    )
    parser.add_argument('--lspci-dir', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        intree_worker(args)
        return
    import logging

    logging.disable(logging.WARNING)
    rows = measure([int(s) for s in args.sizes.split(',')], args.repeat)
    print_table(rows)
    if args.json:
        with open(args.json, 'w') as stream:
            json.dump(
                {'command': ' '.join(sys.argv), 'rows': rows},
                stream,
                indent=1,
                sort_keys=True,
            )
            stream.write('\n')


if __name__ == '__main__':
    main()
