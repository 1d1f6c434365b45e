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

"""Attach service under load and faults: before and after, one run.

One sandbox (real Placement and Cyborg on SQLite, the Nova stand-in)
with N bound pooled-vGPU ARQs, and three attach services side by side,
each with its own SQLite ledger, all leasing the same ARQs:

* ``before``: main's code at commit cc44730 (a git worktree), its
  console script: one process, one lock held across every call,
  socketserver's listen backlog of 5;
* ``after-console``: this tree's console script (one process, backlog
  ``listen_backlog``);
* ``after-gunicorn``: this tree under gunicorn, 4 gthread workers (the
  sandbox's own attach service, ``attach_workers=4``).

For each: 50 concurrent vendordata clients (Nova's identity; each sends
one request, waits for the answer, then ``--think`` seconds), half of
the requests for instances with a lease, half for instances without a
pooled vGPU, first with Cyborg healthy, then with the Cyborg API process
stopped (SIGSTOP) for ``--pause`` seconds, during which ``/metrics``,
``/v1/pools`` and ``/healthz`` are timed too; then bursts of 500
connections opened at once (each one vendordata request), counting
resets and refusals. Only loopback traffic. Each service's reconcile
pass is measured too: each lease's span from its ledger row to
``active``, and the service's own placement histograms
(``orionx_placement_decision_seconds``,
``orionx_placement_duration_seconds``) read from ``/metrics``.
"""

from __future__ import annotations

import argparse
import configparser
import datetime
import http.client
import json
import multiprocessing
import os
import platform
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent import futures
from typing import Any

from prometheus_client import parser as prometheus_parser

from benchmarks.attach import bench_attach
from orionx_cyborg.sandbox import identity
from orionx_cyborg.sandbox import stack
from orionx_cyborg.sandbox import wsgi

CLIENTS = 50
BURST = 500
NOVA_TIMEOUT_S = 5.0  # Nova's [api] vendordata_dynamic_read_timeout
REQUEST_TIMEOUT_S = 60.0
WARM_UP_S = 2.0
#: Burst outcomes where the connection itself failed.
DROPPED = frozenset({'reset', 'refused', 'disconnected'})
#: The service's placement histograms (this tree's; not in ``before``).
PLACEMENT_HISTOGRAMS = {
    'decision': 'orionx_placement_decision_seconds',
    'path': 'orionx_placement_duration_seconds',
}


class Target:
    """One attach service: where it listens and how it was started."""

    def __init__(self, name: str, port: int, process: Any = None) -> None:
        self.name = name
        self.port = port
        self.process = process

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        token: str | None = identity.SERVICE_TOKEN,
        timeout: float = REQUEST_TIMEOUT_S,
        connection: http.client.HTTPConnection | None = None,
    ) -> tuple[int, bytes]:
        conn = connection or http.client.HTTPConnection(
            '127.0.0.1', self.port, timeout=timeout
        )
        headers = {'Content-Type': 'application/json'}
        if token:
            headers['X-Auth-Token'] = token
        conn.request(
            method,
            path,
            body=json.dumps(body) if body is not None else None,
            headers=headers,
        )
        response = conn.getresponse()
        data = response.read()
        if connection is None:
            conn.close()
        return response.status, data


def vendordata_body(instance: str) -> dict[str, str]:
    return {
        'instance-id': instance,
        'project-id': identity.MEMBER_PROJECT_ID,
    }


def wait_ready(target: Target, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            status, _ = target.request('GET', '/', token=None, timeout=5)
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit('%s did not start' % target.name)


def start_console(
    sandbox: stack.Sandbox, name: str, tree: str | None, root: str
) -> Target:
    """The attach console script of *tree* (this one: None) on a port."""
    directory = os.path.join(root, name)
    os.makedirs(directory, exist_ok=True)
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(sandbox.state.attach_conf)
    port = wsgi.free_port()
    parser['orionx_attach']['bind_port'] = str(port)
    parser['orionx_attach']['state_path'] = directory
    parser['orionx_attach']['database_connection'] = (
        'sqlite:///%s/attach.sqlite' % directory
    )
    conf = os.path.join(directory, 'attach.conf')
    with open(conf, 'w') as f:
        parser.write(f)
    env = dict(os.environ)
    if tree:
        env['PYTHONPATH'] = tree
    code = (
        'import sys, orionx_cyborg; '
        'print("code from", orionx_cyborg.__file__, file=sys.stderr); '
        'from orionx_cyborg.cmd import attach; '
        'sys.exit(attach.dbsync(["--config-file", %r, "upgrade"]) '
        'or attach.main(["--config-file", %r]))' % (conf, conf)
    )
    log = open(os.path.join(directory, 'attach.log'), 'ab')  # noqa: SIM115
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, '-c', code],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=tree or os.getcwd(),
    )
    target = Target(name, port, process)
    wait_ready(target)
    return target


def release_allocations(sandbox: stack.Sandbox, target: Target) -> list[float]:
    """Delete the allocations of *target*'s leases from Placement.

    :returns: each lease's placement path in seconds, from its creation in
        the ledger (the allocator has chosen its GPU) to ``active`` (its
        allocation written to Placement and the ledger updated), from
        the lease's ``created_at`` and ``placed_at``; none where the
        service does not show them.
    """
    placement = sandbox.placement()
    marker = None
    placed_s: list[float] = []
    while True:
        path = '/v1/leases?limit=1000' + (
            '&marker=%s' % marker if marker else ''
        )
        status, data = target.request('GET', path, token=identity.ADMIN_TOKEN)
        assert status == 200, data
        page = json.loads(data)['leases']
        for lease in page:
            if lease['state'] != 'active':
                raise SystemExit('%s: lease %s' % (target.name, lease))
            placement.request(
                'DELETE', '/allocations/%s' % lease['id'], expect=(204, 404)
            )
            if lease.get('created_at') and lease.get('placed_at'):
                placed_s.append(placement_path_s(lease))
        if len(page) < 1000:
            return placed_s
        marker = page[-1]['id']


def placement_path_s(lease: dict[str, Any]) -> float:
    created = datetime.datetime.fromisoformat(lease['created_at'])
    placed = datetime.datetime.fromisoformat(lease['placed_at'])
    return (placed - created).total_seconds()


def placement_histograms(target: Target) -> dict[str, dict[str, float]]:
    """*target*'s placement histograms from ``/metrics``, in ms.

    :returns: per histogram (``decision``, ``path``): ``n``, ``mean``,
        and ``p50_le`` and ``p99_le``, the upper bound of the bucket
        that holds that quantile (a histogram keeps no exact values);
        none where the service does not export them.
    """
    status, data = target.request('GET', '/metrics')
    assert status == 200, data
    families = {
        family.name: family
        for family in prometheus_parser.text_string_to_metric_families(
            data.decode()
        )
    }
    summaries = {}
    for key, name in PLACEMENT_HISTOGRAMS.items():
        family = families.get(name)
        if family is not None:
            summaries[key] = histogram_ms(family.samples)
    return summaries


def histogram_ms(samples: list[Any]) -> dict[str, float]:
    buckets = sorted(
        (float(s.labels['le']), s.value)
        for s in samples
        if s.name.endswith('_bucket')
    )
    (count,) = [s.value for s in samples if s.name.endswith('_count')]
    (total,) = [s.value for s in samples if s.name.endswith('_sum')]
    if not count:
        return {'n': 0}

    def bound_ms(quantile: float) -> float:
        # The first bucket whose cumulative count reaches the quantile.
        return next(
            le * 1000.0 for le, seen in buckets if seen >= quantile * count
        )

    return {
        'n': int(count),
        'mean': round(total / count * 1000.0, 3),
        'p50_le': bound_ms(0.5),
        'p99_le': bound_ms(0.99),
    }


def percentiles(samples: list[float]) -> dict[str, float]:
    if not samples:
        return {'n': 0}
    result = bench_attach.percentiles(samples)
    result['over_5s'] = sum(1 for s in samples if s > NOVA_TIMEOUT_S)
    return result


def load(
    target: Target,
    known: list[str],
    duration: float,
    think: float,
    expect_known: str = 'active',
    processes: int = 1,
) -> dict[str, Any]:
    """CLIENTS clients for *duration*; latencies by kind (seconds).

    The clients are threads of *processes* processes: 50 threads of one
    Python process on 2 busy cores wait for the GIL, and that wait would
    count as the service's latency.
    """
    shares = [
        CLIENTS // processes + (1 if i < CLIENTS % processes else 0)
        for i in range(max(1, processes))
    ]
    jobs = [
        (target.port, known, duration, think, expect_known, sum(shares[:i]), n)
        for i, n in enumerate(shares)
    ]
    if len(jobs) == 1:
        parts = [_load_part(*jobs[0])]
    else:
        context = multiprocessing.get_context('fork')
        with futures.ProcessPoolExecutor(
            len(jobs), mp_context=context
        ) as pool:
            parts = list(pool.map(_load_part, *zip(*jobs, strict=True)))
    samples: dict[str, list[float]] = {'known': [], 'no_vgpu': []}
    errors: list[str] = []
    for part_samples, part_errors in parts:
        for kind, values in part_samples.items():
            samples[kind] += values
        errors += part_errors
    return {
        'known': percentiles(samples['known']),
        'no_vgpu': percentiles(samples['no_vgpu']),
        'errors': len(errors),
        'error_sample': errors[:3],
        'client_processes': len(jobs),
    }


def _load_part(
    port: int,
    known: list[str],
    duration: float,
    think: float,
    expect_known: str,
    first: int,
    clients: int,
) -> tuple[dict[str, list[float]], list[str]]:
    """*clients* client threads (numbered from *first*) in this process."""
    target = Target('load', port)
    samples: dict[str, list[float]] = {'known': [], 'no_vgpu': []}
    errors: list[str] = []
    lock = threading.Lock()
    stop = time.monotonic() + duration

    def client(index: int) -> None:
        # Independent clients, as Nova's requests are: each starts at its
        # own point of the think time instead of all 50 at one instant.
        time.sleep(random.Random(index).uniform(0, think))
        conn = http.client.HTTPConnection(
            '127.0.0.1', target.port, timeout=REQUEST_TIMEOUT_S
        )
        turn = index
        while time.monotonic() < stop:
            kind = 'known' if turn % 2 == 0 else 'no_vgpu'
            turn += 1
            instance = (
                known[(index * 7 + turn) % len(known)]
                if kind == 'known'
                else str(uuid.uuid4())
            )
            began = time.perf_counter()
            try:
                status, data = target.request(
                    'POST',
                    '/v1/vendordata',
                    vendordata_body(instance),
                    connection=conn,
                )
            except (OSError, http.client.HTTPException) as err:
                conn.close()
                conn = http.client.HTTPConnection(
                    '127.0.0.1', target.port, timeout=REQUEST_TIMEOUT_S
                )
                with lock:
                    errors.append('%s: %s' % (kind, err))
                continue
            took = time.perf_counter() - began
            want = expect_known if kind == 'known' else 'none'
            state = json.loads(data).get('status') if status == 200 else None
            with lock:
                if status != 200 or state != want:
                    errors.append('%s: %d %s' % (kind, status, data[:200]))
                else:
                    samples[kind].append(took)
            time.sleep(think)
        conn.close()

    threads = [
        threading.Thread(target=client, args=(i,))
        for i in range(first, first + clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return samples, errors


def timed_gets(target: Target, paths: list[str]) -> dict[str, Any]:
    """Each path once, as an admin: status and seconds."""
    result = {}
    for path in paths:
        began = time.perf_counter()
        try:
            status, _ = target.request('GET', path, token=identity.ADMIN_TOKEN)
        except (OSError, http.client.HTTPException) as err:
            status = str(err)
        result[path] = {
            'status': status,
            'ms': round((time.perf_counter() - began) * 1000.0, 1),
        }
    return result


def paused(
    cyborg_pid: int, seconds: float, work: Callable[[], dict[str, Any]]
) -> dict[str, Any]:
    """Run *work* while Cyborg's process is stopped for *seconds*."""
    os.kill(cyborg_pid, signal.SIGSTOP)
    timer = threading.Timer(
        seconds, lambda: os.kill(cyborg_pid, signal.SIGCONT)
    )
    timer.start()
    try:
        return work()
    finally:
        timer.join()
        os.kill(cyborg_pid, signal.SIGCONT)


def burst(target: Target, size: int) -> dict[str, Any]:
    """*size* connections at once, one vendordata request each."""
    outcomes: dict[str, int] = {}
    times: list[float] = []
    lock = threading.Lock()
    ready = threading.Barrier(size)

    def one() -> None:
        ready.wait()
        began = time.perf_counter()
        try:
            status, _ = target.request(
                'POST', '/v1/vendordata', vendordata_body(str(uuid.uuid4()))
            )
            outcome = 'ok' if status == 200 else 'http %d' % status
        except ConnectionResetError:
            outcome = 'reset'
        except ConnectionRefusedError:
            outcome = 'refused'
        except http.client.RemoteDisconnected:
            outcome = 'disconnected'
        except TimeoutError:
            outcome = 'timeout'
        except OSError as err:
            outcome = type(err).__name__
        with lock:
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
            times.append(time.perf_counter() - began)

    threads = [threading.Thread(target=one) for _ in range(size)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {'outcomes': outcomes, 'ms': percentiles(times)}


def measure(
    target: Target,
    known: list[str],
    cyborg_pid: int,
    args: argparse.Namespace,
) -> dict[str, Any]:
    print('measuring %s ...' % target.name, file=sys.stderr, flush=True)
    # Unmeasured warm-up: every worker's first requests (its first
    # connections, lazy imports, the provider cache) are not the steady
    # state.
    load(target, known, WARM_UP_S, args.think, processes=args.processes)
    healthy = load(
        target, known, args.duration, args.think, processes=args.processes
    )

    def during_pause() -> dict[str, Any]:
        side: dict[str, Any] = {}

        def probe() -> None:
            time.sleep(min(3.0, args.pause / 4))
            side.update(
                timed_gets(target, ['/metrics', '/v1/pools', '/healthz'])
            )

        prober = threading.Thread(target=probe)
        prober.start()
        result = load(
            target, known, args.pause, args.think, processes=args.processes
        )
        prober.join()
        result['other_paths'] = side
        return result

    pause = paused(cyborg_pid, args.pause, during_pause)
    time.sleep(2)  # Cyborg catches up
    bursts = [burst(target, BURST) for _ in range(args.bursts)]
    resets = sum(
        count
        for b in bursts
        for outcome, count in b['outcomes'].items()
        if outcome in DROPPED
    )
    return {
        'service': target.name,
        'cyborg_healthy': healthy,
        'cyborg_paused': pause,
        'bursts': bursts,
        'burst_connections_dropped': resets,
    }


def run(args: argparse.Namespace, root: str) -> dict[str, Any]:
    sandbox = stack.Sandbox(
        os.path.join(root, 'sandbox'),
        bench_attach.fleet(1, 1),
        start_timeout=bench_attach.LONG,
        attach_workers=args.workers,
    )
    sandbox.start()
    started: list[Target] = []
    try:
        sandbox.connect().accelerator.create_device_profile(
            name='bench-pool',
            groups=[
                dict(
                    bench_attach.SIZE,
                    **{
                        'resources:CUSTOM_ORIONX_VGPU': '1',
                        'trait:CUSTOM_ORIONX_POOL_DEFAULT': 'required',
                    },
                )
            ],
        )
        arqs = bench_attach.Arqs(sandbox, 'bench-pool')
        arqs.grow(args.arqs)
        gunicorn = Target(
            'after-gunicorn-%dw' % args.workers, sandbox.manifest.attach_port
        )
        targets = []
        if args.before_tree:
            before = start_console(sandbox, 'before', args.before_tree, root)
            started.append(before)
            targets.append(before)
        console = start_console(sandbox, 'after-console', None, root)
        started.append(console)
        targets += [console, gunicorn]
        setup = {}
        placement_path = {}
        placement_metrics: dict[str, dict[str, dict[str, float]]] = {}
        for target in targets:
            began = time.perf_counter()
            status, data = target.request(
                'POST',
                '/v1/reconcile',
                token=identity.ADMIN_TOKEN,
                timeout=bench_attach.LONG,
            )
            report = json.loads(data)
            if status != 200 or report['created'] != args.arqs:
                raise SystemExit('%s: %d %s' % (target.name, status, data))
            setup[target.name] = round(time.perf_counter() - began, 1)
            histograms = placement_histograms(target)
            if histograms:
                placement_metrics[target.name] = histograms
            # The services share Placement: the next one's pass must
            # find the pool empty (and must not release these as its
            # orphans). Vendordata never reads a lease's allocation.
            placed_s = release_allocations(sandbox, target)
            if placed_s:
                placement_path[target.name] = bench_attach.percentiles(
                    placed_s
                )
        cyborg_pid = sandbox.service('cyborg').popen.pid
        known = arqs.instances
        results = [measure(t, known, cyborg_pid, args) for t in targets]
        return {
            'setup_pass_s': setup,
            'placement_path_ms': placement_path,
            'placement_metrics_ms': placement_metrics,
            'results': results,
        }
    finally:
        for target in started:
            target.process.terminate()
            try:
                target.process.wait(30)
            except subprocess.TimeoutExpired:
                target.process.kill()
        sandbox.stop()


def print_table(document: dict[str, Any], out: Any) -> None:
    header = (
        'service                 cyborg   kind     p50 ms    p99 ms    '
        'max ms    >5s  n      errors'
    )
    print(header, file=out)
    for result in document['results']:
        for phase in ('cyborg_healthy', 'cyborg_paused'):
            data = result[phase]
            for kind in ('known', 'no_vgpu'):
                row = data[kind]
                print(
                    '%-23s %-8s %-8s %-9s %-9s %-9s %-4s %-6s %d'
                    % (
                        result['service'],
                        'healthy' if phase == 'cyborg_healthy' else 'paused',
                        kind,
                        '%.1f' % row.get('p50', float('nan')),
                        '%.1f' % row.get('p99', float('nan')),
                        '%.1f' % row.get('max', float('nan')),
                        row.get('over_5s', '-'),
                        row.get('n', 0),
                        data['errors'],
                    ),
                    file=out,
                )
    print('', file=out)
    print(
        'service                 during the pause: /metrics  /v1/pools  '
        '/healthz (status, ms)',
        file=out,
    )
    for result in document['results']:
        side = result['cyborg_paused'].get('other_paths', {})
        print(
            '%-23s %s'
            % (
                result['service'],
                '  '.join(
                    '%s %s' % (v['status'], v['ms']) for v in side.values()
                ),
            ),
            file=out,
        )
    print('', file=out)
    print(
        'service                 bursts of %d connections, per burst: '
        'reset or refused / other failures (HTTP 503...) / p99 ms' % BURST,
        file=out,
    )
    for result in document['results']:
        cells = []
        for b in result['bursts']:
            dropped = sum(c for o, c in b['outcomes'].items() if o in DROPPED)
            other = sum(
                c
                for o, c in b['outcomes'].items()
                if o != 'ok' and o not in DROPPED
            )
            cells.append(
                '%d/%d/%.0f' % (dropped, other, b['ms'].get('p99', 0))
            )
        print('%-23s %s' % (result['service'], '  '.join(cells)), file=out)
    print_placement_path(document, out)
    print_placement_metrics(document, out)


def print_placement_path(document: dict[str, Any], out: Any) -> None:
    """Each service's reconcile pass: seconds, and each lease's path."""
    print('', file=out)
    print(
        'service                 reconcile pass s  per lease: created to '
        'active (Placement claim) p50 / p99 / max ms',
        file=out,
    )
    paths = document.get('placement_path_ms', {})
    for name, seconds in document.get('setup_pass_s', {}).items():
        path = paths.get(name)
        print(
            '%-23s %-17s %s'
            % (
                name,
                seconds,
                '%.1f / %.1f / %.1f' % (path['p50'], path['p99'], path['max'])
                if path
                else '-',
            ),
            file=out,
        )


def print_placement_metrics(document: dict[str, Any], out: Any) -> None:
    """Each service's placement histograms after its reconcile pass."""
    histograms = document.get('placement_metrics_ms', {})
    if not histograms:
        return
    print('', file=out)
    print(
        'service                 /metrics after the pass, n / mean / p50 '
        '<= / p99 <= ms: decision (allocator)      path (decision to '
        'active, Placement claim)',
        file=out,
    )
    for name, summaries in histograms.items():
        cells = []
        for key in PLACEMENT_HISTOGRAMS:
            row = summaries.get(key, {})
            cells.append(
                '%d / %.3f / %s / %s'
                % (row['n'], row['mean'], row['p50_le'], row['p99_le'])
                if row.get('n')
                else '-'
            )
        print('%-23s %-38s %s' % (name, cells[0], cells[1]), file=out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--arqs', type=int, default=1000)
    parser.add_argument('--workers', type=int, default=4)
    parser.add_argument(
        '--duration', type=float, default=20.0, help='healthy phase, s'
    )
    parser.add_argument('--pause', type=float, default=20.0)
    parser.add_argument(
        '--think',
        type=float,
        default=0.5,
        help='seconds each client waits between requests',
    )
    parser.add_argument('--bursts', type=int, default=5)
    parser.add_argument(
        '--processes',
        type=int,
        default=5,
        help='client processes the 50 clients are spread over (1: one '
        'process, as before)',
    )
    parser.add_argument(
        '--before-tree',
        help='a checkout of the code to compare with (git worktree add '
        '/tmp/before cc44730)',
    )
    parser.add_argument('--json', help='write the results here')
    args = parser.parse_args(argv)
    began = time.perf_counter()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix='bench-attach-load-') as root:
        document = run(args, root)
    document['arguments'] = vars(args)
    document['took_s'] = round(time.perf_counter() - began)
    document['machine'] = {
        'cpus': os.cpu_count(),
        'python': platform.python_version(),
        'load_average_at_start': load_before,
        'load_average': os.getloadavg(),
    }
    print_table(document, sys.stdout)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(document, f, indent=1, sort_keys=True)
            f.write('\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
