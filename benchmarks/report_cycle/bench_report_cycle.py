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

"""Report cycle cost: from discover() to Placement converged.

One sandbox host (the real Cyborg conductor and agent, the real Placement
on SQLite) runs ``orionx_gpu_driver`` on a simulated host of N H200 GPUs,
all pool members by default (two resource providers per GPU, plus the
host's entitlement), for N in 8, 64 and 256. Per size:

* **first report**: the host starts without GPUs; the N GPUs appear in
  its topology and one agent cycle reports them all;
* **steady cycle** (the baseline): an agent cycle with nothing changed,
  median of ``--repeat`` runs;
* **change cycle**: one GPU lost (one trait more on two providers), then
  the **back** cycle: the GPU found again (the trait removed).

A cycle is timed around the sandbox's agent-cycle hook, which returns when
the agent's ``update_available_resource`` has returned: the driver's
``discover()``, then the conductor's ``report_data`` RPC, which writes
Cyborg's database and Placement before it answers. ``discover`` is also
timed alone, in this process, on the same topology and configuration.
Placement requests are counted by the sandbox's request counter.

Usage::

    nice python benchmarks/report_cycle/bench_report_cycle.py \\
        [--sizes 8,64,256] [--repeat 3] [--mode pool|passthrough] \\
        [--json results.json]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

from orionx_cyborg.gpu.fake import topology
from orionx_cyborg.sandbox import config
from orionx_cyborg.sandbox import counting
from orionx_cyborg.sandbox import hosts
from orionx_cyborg.sandbox import stack

HOST = 'bench-host'
MODEL = 'H200-SXM5-141GB'
CYCLE_TIMEOUT = 1800.0
RPS_PER_GPU = {'pool': 2, 'passthrough': 1}


def host_spec(topology_file: str, mode: str) -> hosts.HostSpec:
    return hosts.HostSpec(
        name=HOST,
        description='%s simulated H200s in %s mode' % ('N', mode),
        topology=topology_file,
        drivers=(
            hosts.orionx_driver(
                {'default_mode': mode},
                {'name': 'default', 'entitlement': '8'},
            ),
        ),
    )


def gpus(count: int) -> Callable[[topology.SimulatedHost], Any]:
    def change(host: topology.SimulatedHost) -> topology.SimulatedHost:
        return topology.host_from_mapping(
            HOST, {'gpus': [{'model': MODEL, 'count': count}]}
        )

    return change


def lost(address: str, value: bool) -> Callable[[Any], Any]:
    return lambda host: host.replace_gpu(address, lost=value)


def timed_cycle(sandbox: stack.Sandbox) -> dict[str, Any]:
    sandbox.placement_requests(reset=True)
    began = time.perf_counter()
    sandbox.update_resources([HOST], timeout=CYCLE_TIMEOUT)
    seconds = time.perf_counter() - began
    counts = sandbox.placement_requests(reset=True)
    return {'seconds': seconds, 'requests': _requests(counts)}


def _requests(counts: counting.RequestCounts) -> dict[str, Any]:
    return {
        'total': counts.total,
        'by_method': dict(counts.by_method),
        'writes': counts.writes,
        'write_routes': counts.write_routes(),
    }


def discover_seconds(sandbox: stack.Sandbox, repeat: int) -> float:
    """``OrionXGPUDriver.discover()`` alone, steady state (median).

    A driver built here from the host's options and topology file, with
    a state directory of its own (the agent's is left alone) and no
    Placement usage lookups.
    """
    from oslo_config import cfg

    from orionx_cyborg.accelerator import driver
    from orionx_cyborg.accelerator import usage

    host = sandbox.manifest.host(HOST)
    options = sandbox.host_options(HOST)
    with tempfile.TemporaryDirectory(prefix='bench-discover-') as state:
        options[hosts.ORIONX_GROUP].update(
            state_dir=state, fake_topology=str(host.topology_file)
        )
        conf_file = os.path.join(state, 'agent.conf')
        with open(conf_file, 'w', encoding='utf-8') as stream:
            stream.write(config.render_ini(options))
        conf = cfg.ConfigOpts()
        conf(args=[], project='bench', default_config_files=[conf_file])
        instance = driver.OrionXGPUDriver(
            conf=conf, host=HOST, usage=usage.no_usage
        )
        # The first call renders the simulated sysfs tree.
        assert instance.discover()
        times = []
        for _ in range(repeat):
            began = time.perf_counter()
            instance.discover()
            times.append(time.perf_counter() - began)
    return statistics.median(times)


def run_size(
    count: int, mode: str, repeat: int, workdir: str
) -> dict[str, Any]:
    empty = os.path.join(workdir, 'empty-%d.yaml' % count)
    topology.dump(topology.host_from_mapping(HOST, {'gpus': []}), empty)
    sandbox = stack.Sandbox(
        os.path.join(workdir, 'sandbox-%d' % count),
        [host_spec(empty, mode)],
    )
    sandbox.start()
    try:
        sandbox.edit_topology(HOST, gpus(count))
        first = timed_cycle(sandbox)
        steady = [timed_cycle(sandbox) for _ in range(repeat)]
        address = topology.default_address(0)
        sandbox.edit_topology(HOST, lost(address, True))
        change = timed_cycle(sandbox)
        sandbox.edit_topology(HOST, lost(address, False))
        back = timed_cycle(sandbox)
        after = timed_cycle(sandbox)
        discover = discover_seconds(sandbox, repeat)
    finally:
        sandbox.stop()
    median = statistics.median(s['seconds'] for s in steady)
    return {
        'gpus': count,
        'mode': mode,
        'providers': count * RPS_PER_GPU[mode] + 1,
        'discover_seconds': discover,
        'first_report': first,
        'steady': {
            'seconds': median,
            'samples': [s['seconds'] for s in steady],
            'requests': steady[-1]['requests'],
        },
        'change': change,
        'back': back,
        'steady_after_change': after,
    }


def _methods(requests: dict[str, Any]) -> str:
    by = requests['by_method']
    return '/'.join(
        str(by.get(m, 0)) for m in ('GET', 'PUT', 'POST', 'DELETE')
    )


def print_table(results: list[dict[str, Any]], out: Any) -> None:
    rows = [
        (
            'GPUs',
            'RPs',
            'discover',
            'first report',
            'steady (baseline)',
            'change: 1 GPU lost',
            'x',
            'back',
            'x',
        ),
        (
            '',
            '',
            's',
            's   G/PUT/POST/DEL',
            's   G/PUT/POST/DEL',
            's   G/PUT/POST/DEL',
            '',
            's   G/PUT/POST/DEL',
            '',
        ),
    ]
    for r in results:
        steady = r['steady']['seconds']
        rows.append(
            (
                str(r['gpus']),
                str(r['providers']),
                '%.3f' % r['discover_seconds'],
                _cell(r['first_report']),
                _cell(dict(r['steady'], requests=r['steady']['requests'])),
                _cell(r['change']),
                '%.1f' % (r['change']['seconds'] / steady),
                _cell(r['back']),
                '%.1f' % (r['back']['seconds'] / steady),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        out.write(
            '  '.join(
                cell.ljust(width)
                for cell, width in zip(row, widths, strict=True)
            ).rstrip()
            + '\n'
        )
    out.write(
        '\nrequests: Placement GET/PUT/POST/DELETE in that cycle; x: time '
        'against the steady cycle of the same size (the baseline).\n'
    )


def _cell(cycle: dict[str, Any]) -> str:
    return '%.2f  %s' % (cycle['seconds'], _methods(cycle['requests']))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--sizes', default='8,64,256')
    parser.add_argument('--repeat', type=int, default=3)
    parser.add_argument('--mode', choices=sorted(RPS_PER_GPU), default='pool')
    parser.add_argument('--json', help='write the results here')
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(',')]
    began = time.perf_counter()
    results = []
    with tempfile.TemporaryDirectory(prefix='bench-report-') as workdir:
        for count in sizes:
            print('%d GPUs ...' % count, file=sys.stderr, flush=True)
            # The driver logs a warning per lost GPU; keep the table clean.
            with contextlib.redirect_stderr(io.StringIO()):
                results.append(
                    run_size(count, args.mode, args.repeat, workdir)
                )
    print_table(results, sys.stdout)
    total = time.perf_counter() - began
    print('\nbenchmark took %.0f s' % total)
    if args.json:
        document = {
            'benchmark': 'report_cycle',
            'command': ' '.join(['bench_report_cycle.py'] + sys.argv[1:]),
            'machine': {
                'cpus': os.cpu_count(),
                'python': platform.python_version(),
                'platform': platform.platform(),
            },
            'seconds': total,
            'results': results,
        }
        with open(args.json, 'w', encoding='utf-8') as stream:
            json.dump(document, stream, indent=2, sort_keys=True)
            stream.write('\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
