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

"""Attach service at scale: vendordata latency, lease placement, passes.

Runs the real ``orionx-cyborg-attach`` process of the sandbox against
the real Cyborg and Placement (SQLite), on a fleet widened for 10,000
pooled vGPUs: GPU servers of 8 H200 pool members each (compute
oversubscribed 4x, so 400 % per GPU) and GPU-less hosts, every host with
an entitlement of 1,024. The ARQs are created and bound through Cyborg's
API as Nova's service identity, as the Nova stand-in does, without
booting servers (one instance, one ARQ). Per size (ARQs in Cyborg) and
per ledger backend (SQLite file; PostgreSQL in a private cluster):

* **placement**: a reconcile pass on a fresh ledger creates and places
  every lease (one Placement ``PUT /allocations/{lease}`` each):
  leases per second;
* **steady pass**: the next pass, with nothing to do;
* **vendordata, first ask**: before that pass, ``POST /v1/vendordata``
  as Nova (service token, instance and project) for a few randomly
  chosen instances, which have no lease yet: the service lists the
  instance's ARQs in Cyborg and claims the lease;
* **vendordata, known lease**: after the passes, for randomly chosen
  instances: the service reads the lease's ARQ by UUID;
* **vendordata, no pooled vGPU**: for instances that have none (most of
  a cloud's): Placement's allocations of the instance say so;

each paired with the Cyborg query Nova's compute manager sends for the
same instance, ``GET /v2/accelerator_requests?instance=`` (the
baseline): p50, p99 and their ratio.

Between backends every lease's allocation is deleted from Placement, so
each starts on an empty pool. See README.rst for the command.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any

from orionx_cyborg.sandbox import clients
from orionx_cyborg.sandbox import hosts
from orionx_cyborg.sandbox import identity
from orionx_cyborg.sandbox import stack

ENTITLEMENT = 1024  # the most [orionx_pool] entitlement allows
POOL = {
    'name': 'default',
    'entitlement': str(ENTITLEMENT),
    'compute_oversubscription': '4',
}
SIZE = {'accel:orionx_gmem_mib': '256', 'accel:orionx_compute_pct': '1'}
PER_PATCH = 500  # ARQs per bind PATCH
LONG = 7200.0  # seconds: a pass over 10,000 ARQs takes minutes


def fleet(gpu_hosts: int, cpu_hosts: int) -> list[hosts.HostSpec]:
    servers = [
        hosts.HostSpec(
            name='bench-gpu-%d' % index,
            topology='hgx-h200',
            description='8x H200, all pool members',
            drivers=(hosts.orionx_driver({'default_mode': 'pool'}, POOL),),
        )
        for index in range(gpu_hosts)
    ]
    return servers + [
        hosts.HostSpec(
            name='bench-cpu-%d' % index,
            topology='no-gpu',
            description='no GPU',
            drivers=(hosts.orionx_driver({'default_mode': 'off'}, POOL),),
        )
        for index in range(cpu_hosts)
    ]


def nova_cyborg(sandbox: stack.Sandbox) -> clients.JsonClient:
    """Cyborg as Nova calls it: a user token plus its service token."""
    client = clients.cyborg(
        sandbox.manifest.cyborg_url + '/v2',
        identity.MEMBER_TOKEN,
        service_token=identity.SERVICE_TOKEN,
    )
    client.timeout = LONG
    return client


def entitlements(sandbox: stack.Sandbox) -> dict[str, str]:
    """Host -> its entitlement resource provider."""
    found = {}
    for dep in sandbox.cyborg().get('/deployables')['deployables']:
        host, sep, _ = dep['name'].partition('_ORIONX_VGPU_')
        if sep:
            found[host] = dep['rp_uuid']
    return found


class Arqs:
    """Bound pooled-vGPU ARQs, one instance each, spread over hosts."""

    def __init__(self, sandbox: stack.Sandbox, profile: str) -> None:
        self.sandbox = sandbox
        self.profile = profile
        self.cyborg = nova_cyborg(sandbox)
        self.placement = sandbox.placement()
        self.hosts = entitlements(sandbox)
        self.used = dict.fromkeys(self.hosts, 0)
        self.instances: list[str] = []
        self.create_s = 0.0
        self.bind_s = 0.0

    def grow(self, total: int) -> None:
        while len(self.instances) < total:
            # The host with the most room left takes the next batch.
            host = min(self.used, key=lambda h: (self.used[h], h))
            count = min(
                PER_PATCH,
                total - len(self.instances),
                ENTITLEMENT - self.used[host],
            )
            if count <= 0:
                raise SystemExit('the fleet has no entitlement left')
            began = time.perf_counter()
            # One POST per instance, as Nova sends: the service trusts
            # an instance's leases when there are as many as its device
            # profile asks vGPUs.
            arqs = []
            for _ in range(count):
                arqs += self.cyborg.post(
                    '/accelerator_requests',
                    {'device_profile_name': self.profile},
                )['arqs']
            self.create_s += time.perf_counter() - began
            began = time.perf_counter()
            self._bind(host, arqs)
            self.bind_s += time.perf_counter() - began
            print(
                '  %d ARQs bound' % len(self.instances),
                file=sys.stderr,
                flush=True,
            )

    def _bind(self, host: str, arqs: list[dict[str, Any]]) -> None:
        instances = [str(uuid.uuid4()) for _ in arqs]
        for instance in instances:
            # Nova's scheduler claims the instance's resources (here the
            # entitlement alone) before Cyborg binds its ARQs.
            self.placement.put(
                '/allocations/%s' % instance,
                {
                    'allocations': {
                        self.hosts[host]: {
                            'resources': {'CUSTOM_ORIONX_VGPU': 1}
                        }
                    },
                    'project_id': identity.MEMBER_PROJECT_ID,
                    'user_id': identity.MEMBER_TOKEN,
                    'consumer_generation': None,
                    'consumer_type': 'INSTANCE',
                },
            )
        patch = {
            arq['uuid']: [
                {'path': '/hostname', 'op': 'add', 'value': host},
                {
                    'path': '/device_rp_uuid',
                    'op': 'add',
                    'value': self.hosts[host],
                },
                {'path': '/instance_uuid', 'op': 'add', 'value': instance},
            ]
            for arq, instance in zip(arqs, instances, strict=True)
        }
        try:
            self.cyborg.patch('/accelerator_requests', patch)
        except clients.ApiError as err:
            # Cyborg binds, then tells Nova; Nova answers 404 for these
            # instances it never booted, which Cyborg reports as 400.
            if err.status != 400 or 'external-events' not in err.body:
                raise
        self.used[host] += len(arqs)
        self.instances += instances


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def at(fraction: float) -> float:
        index = min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))
        return ordered[index] * 1000.0

    return {
        'n': len(ordered),
        'p50': statistics.median(ordered) * 1000.0,
        'p99': at(0.99),
        'max': ordered[-1] * 1000.0,
    }


def timed(call: Callable[[], Any]) -> float:
    began = time.perf_counter()
    call()
    return time.perf_counter() - began


def latencies(
    sandbox: stack.Sandbox,
    instances: list[str],
    expect: str = 'active',
) -> tuple[dict[str, float], dict[str, float]]:
    """Vendordata and its Cyborg query, paired on the same instances."""
    attach = sandbox.attach(identity.SERVICE_TOKEN, timeout=LONG)
    cyborg = nova_cyborg(sandbox)
    vendordata, baseline = [], []
    for instance in instances:
        body = {
            'instance-id': instance,
            'project-id': identity.MEMBER_PROJECT_ID,
        }
        document: dict[str, Any] = {}

        def ask(
            body: dict[str, Any] = body, out: dict[str, Any] = document
        ) -> None:
            out.update(attach.post('/v1/vendordata', body))

        def query(instance: str = instance) -> None:
            cyborg.get('/accelerator_requests', params={'instance': instance})

        vendordata.append(timed(ask))
        if document.get('status') != expect:
            raise SystemExit('instance %s: %s' % (instance, document))
        baseline.append(timed(query))
    return percentiles(vendordata), percentiles(baseline)


def release_all(sandbox: stack.Sandbox) -> int:
    """Delete every lease's allocation from Placement (between runs)."""
    attach = sandbox.attach(timeout=LONG)
    placement = sandbox.placement()
    released, marker = 0, None
    while True:
        params = {'limit': '1000'}
        if marker:
            params['marker'] = marker
        page = attach.get('/v1/leases', params=params)['leases']
        for lease in page:
            placement.request(
                'DELETE', '/allocations/%s' % lease['id'], expect=(204, 404)
            )
        released += len(page)
        if len(page) < 1000:
            return released
        marker = page[-1]['id']


def run_backend(
    sandbox: stack.Sandbox,
    arqs: Arqs,
    backend: str,
    url: str,
    samples: tuple[int, int],
    rng: random.Random,
    hold: bool = False,
) -> dict[str, Any]:
    size = len(arqs.instances)
    print(
        '%d ARQs, %s ledger, pairing hold %s ...'
        % (size, backend, 'on' if hold else 'off'),
        file=sys.stderr,
        flush=True,
    )
    sandbox.reconfigure_attach(
        {'database_connection': url, 'pairing_hold': str(hold)}
    )
    first_ask, known = samples
    cold = rng.sample(arqs.instances, first_ask)
    first_vd, first_cy = latencies(sandbox, cold)
    began = time.perf_counter()
    first = sandbox.reconcile(timeout=LONG)
    create_wall = time.perf_counter() - began
    if (first['created'], first['errors']) != (size - first_ask, []):
        raise SystemExit(
            'the first pass did not place every lease: %s'
            % {k: v for k, v in first.items() if k != 'moves'}
        )
    steady = sandbox.reconcile(timeout=LONG)
    vendordata, cyborg = latencies(sandbox, rng.sample(arqs.instances, known))
    # Most instances have no pooled vGPU, and Nova asks for them too.
    none_vd, none_cy = latencies(
        sandbox, [str(uuid.uuid4()) for _ in range(known)], expect='none'
    )
    released = release_all(sandbox)
    return {
        'no_vgpu': {
            'vendordata_ms': none_vd,
            'cyborg_query_ms': none_cy,
            'ratio_p50': none_vd['p50'] / none_cy['p50'],
            'ratio_p99': none_vd['p99'] / none_cy['p99'],
        },
        'arqs': size,
        'backend': backend,
        'pairing_hold': hold,
        'placement_pass_s': first['duration_s'],
        'placement_wall_s': create_wall,
        'leases_per_s': first['created'] / first['duration_s'],
        'steady_pass_s': steady['duration_s'],
        'first_ask': {
            'vendordata_ms': first_vd,
            'cyborg_query_ms': first_cy,
            'ratio_p50': first_vd['p50'] / first_cy['p50'],
            'ratio_p99': first_vd['p99'] / first_cy['p99'],
        },
        'vendordata_ms': vendordata,
        'cyborg_query_ms': cyborg,
        'ratio_p50': vendordata['p50'] / cyborg['p50'],
        'ratio_p99': vendordata['p99'] / cyborg['p99'],
        'released': released,
    }


@contextlib.contextmanager
def ledgers(
    sandbox: stack.Sandbox, backends: list[str]
) -> Iterator[Callable[[str, int], str]]:
    """A fresh ledger URL per (backend, size); PostgreSQL if asked."""
    with contextlib.ExitStack() as stack_:
        server = None
        if 'postgresql' in backends:
            from tests.unit.attach.ledger import postgres

            server, cluster = postgres.start()
            stack_.callback(server.close)
            if cluster is not None:
                stack_.callback(cluster.stop)

        def fresh(backend: str, size: int, hold: bool = False) -> str:
            if backend == 'sqlite':
                name = 'bench-%d%s.sqlite' % (size, '-hold' if hold else '')
                return 'sqlite:///%s' % (sandbox.state.attach_dir / name)
            assert server is not None
            url: str = stack_.enter_context(server.schema())
            return url

        yield fresh


def print_table(results: list[dict[str, Any]], out: Any) -> None:
    rows = [
        (
            'ARQs',
            'ledger',
            'leases/s',
            'placing s',
            'steady pass s',
            'vendordata',
            'p50/p99 ms',
            'Cyborg query p50/p99 ms',
            'x p50',
            'x p99',
            'n',
        )
    ]
    for r in results:
        parts = [('first ask', r['first_ask']), ('known', r)]
        if 'no_vgpu' in r:
            parts.append(('no vGPU', r['no_vgpu']))
        for name, part in parts:
            vd, cy = part['vendordata_ms'], part['cyborg_query_ms']
            rows.append(
                (
                    str(r['arqs']),
                    r['backend'] + ('+hold' if r.get('pairing_hold') else ''),
                    '%.1f' % r['leases_per_s'],
                    '%.1f' % r['placement_pass_s'],
                    '%.2f' % r['steady_pass_s'],
                    name,
                    '%.1f / %.1f' % (vd['p50'], vd['p99']),
                    '%.0f / %.0f' % (cy['p50'], cy['p99']),
                    '%.3f' % part['ratio_p50'],
                    '%.3f' % part['ratio_p99'],
                    str(vd['n']),
                )
            )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print(
            '  '.join(
                cell.ljust(width)
                for cell, width in zip(row, widths, strict=True)
            ).rstrip(),
            file=out,
        )
    print(
        '\nx: vendordata against the Cyborg ARQ query it wraps, paired '
        'samples (n per row).',
        file=out,
    )


def run(
    state_dir: str,
    args: argparse.Namespace,
    sizes: list[int],
    samples: list[tuple[int, int]],
    backends: list[str],
    rng: random.Random,
    save: Callable[[list[dict[str, Any]], list[dict[str, Any]]], None],
    holds: tuple[bool, ...] = (False,),
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    sandbox = stack.Sandbox(
        state_dir, fleet(args.gpu_hosts, args.cpu_hosts), start_timeout=LONG
    )
    sandbox.start()
    results, setup = [], []
    try:
        sandbox.connect().accelerator.create_device_profile(
            name='bench-pool',
            groups=[
                dict(
                    SIZE,
                    **{
                        'resources:CUSTOM_ORIONX_VGPU': '1',
                        'trait:CUSTOM_ORIONX_POOL_DEFAULT': 'required',
                    },
                )
            ],
        )
        arqs = Arqs(sandbox, 'bench-pool')
        with ledgers(sandbox, backends) as fresh:
            for size, count in zip(sizes, samples, strict=True):
                arqs.grow(size)
                setup.append(
                    {
                        'arqs': size,
                        'create_s': arqs.create_s,
                        'bind_s': arqs.bind_s,
                        'list_all_s': timed(
                            lambda: nova_cyborg(sandbox).get(
                                '/accelerator_requests'
                            )
                        ),
                    }
                )
                for backend in backends:
                    for hold in holds:
                        results.append(
                            run_backend(
                                sandbox,
                                arqs,
                                backend,
                                fresh(backend, size, hold),
                                count,
                                rng,
                                hold,
                            )
                        )
                        save(results, setup)  # a long run keeps what it has
    finally:
        sandbox.stop()
    return results, setup


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--sizes', default='100,1000,10000')
    parser.add_argument(
        '--samples',
        default='60,60,10',
        help='vendordata samples per size (known leases)',
    )
    parser.add_argument(
        '--first-samples',
        default='20,20,3',
        help='vendordata samples per size (first asks)',
    )
    parser.add_argument('--backends', default='sqlite,postgresql')
    parser.add_argument(
        '--pairing-hold',
        default='off',
        help='off, on or off,on: run each size and ledger with '
        '[orionx_attach] pairing_hold off and/or on (the ledger column '
        'says +hold)',
    )
    parser.add_argument('--gpu-hosts', type=int, default=4)
    parser.add_argument('--cpu-hosts', type=int, default=6)
    parser.add_argument(
        '--state-dir',
        help='the sandbox state directory (default: a '
        'temporary one, removed afterwards)',
    )
    parser.add_argument('--seed', type=int, default=4)
    parser.add_argument('--json', help='write the results here')
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(',')]
    samples = list(
        zip(
            [int(s) for s in args.first_samples.split(',')],
            [int(s) for s in args.samples.split(',')],
            strict=True,
        )
    )
    backends = args.backends.split(',')
    modes = {'off': False, 'on': True}
    try:
        holds = tuple(modes[m] for m in args.pairing_hold.split(','))
    except KeyError:
        parser.error('--pairing-hold takes off, on or off,on')
    rng = random.Random(args.seed)
    began = time.perf_counter()

    def save(
        results: list[dict[str, Any]], setup: list[dict[str, Any]]
    ) -> None:
        if args.json:
            write_json(args, results, setup, time.perf_counter() - began)

    with contextlib.ExitStack() as cleanup:
        state_dir = args.state_dir or cleanup.enter_context(
            tempfile.TemporaryDirectory(prefix='bench-attach-')
        )
        results, setup = run(
            state_dir, args, sizes, samples, backends, rng, save, holds
        )
    total = time.perf_counter() - began
    save(results, setup)
    print_table(results, sys.stdout)
    for row in setup:
        print(
            '%(arqs)d ARQs: created in %(create_s).0f s, bound in '
            '%(bind_s).0f s (cumulative); listing all of them in Cyborg '
            'takes %(list_all_s).1f s' % row
        )
    print('benchmark took %.0f s' % total)
    return 0


def write_json(
    args: argparse.Namespace,
    results: list[dict[str, Any]],
    setup: list[dict[str, Any]],
    seconds: float,
) -> None:
    document = {
        'benchmark': 'attach',
        'command': ' '.join(
            ['python -m benchmarks.attach.bench_attach'] + sys.argv[1:]
        ),
        'machine': {
            'cpus': os.cpu_count(),
            'python': platform.python_version(),
            'platform': platform.platform(),
            'load_average': os.getloadavg(),
        },
        'fleet': {
            'gpu_hosts': args.gpu_hosts,
            'cpu_hosts': args.cpu_hosts,
            'gpus': 8 * args.gpu_hosts,
            'pool': POOL,
            'lease': SIZE,
        },
        'seconds': seconds,
        'setup': setup,
        'results': results,
    }
    with open(args.json, 'w', encoding='utf-8') as stream:
        json.dump(document, stream, indent=2, sort_keys=True)
        stream.write('\n')


if __name__ == '__main__':
    sys.exit(main())
