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

"""The attach service's own work per lease, on pools of up to 6,216 GPUs.

The attach load benchmark (``benchmarks/attach_load``) runs the service
against the sandbox's real Placement and Cyborg, whose pool is one host
of 8 GPUs. This one measures, in one process, what the service itself
does for each new lease on the allocator benchmark's pools (``tiny``, 56
GPUs; ``B1``, 6,212 GPUs of seven models; ``B2``, 6,216 H200): read the
device profile, check the size and the eligible GPUs, decide (the
allocator), write the ledger (SQLite, a file) and claim. Cyborg and
Placement are in-memory stand-ins here, so their time is not in these
figures (``attach_load`` measures the claim against the real
Placement): this is the service's CPU per lease, the part that grows
with the pool.

Each (tree, pool) is a fresh process leasing ``--leases`` ARQs of a
seeded mix of sizes; this tree and ``--baseline`` alternate, round by
round, and each round's ratio compares runs made seconds apart::

    git worktree add /tmp/baseline <commit>
    python -m benchmarks.attach_decision.bench_decision \\
        --baseline /tmp/baseline \\
        --json benchmarks/attach_decision/results.json

A tree whose service reports its placement timings
(``LeaseService(timings=...)``) also gives the decision alone.
"""

from __future__ import annotations

import argparse
import functools
import inspect
import json
import math
import os
import pathlib
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from typing import Any

POOL = 'default'
ENTITLEMENT_RP = 'e0000000-0000-4000-8000-000000000000'
#: (GPU memory MiB, compute %) of the leases, drawn with a seed: the
#: slices of the allocator benchmark's trace, rounded, all of which fit
#: the smallest GPU of B1 (16 GiB).
SIZES = (
    (2048, 10),
    (4096, 25),
    (8192, 25),
    (8192, 50),
    (12288, 75),
    (16384, 100),
)
CLUSTERS = ('tiny', 'B1', 'B2')
RUN_TIMEOUT_S = 900


class Cyborg:
    """Cyborg's answers for a pool of *gpus*, from memory."""

    def __init__(self, clients: Any, resources: Any, gpus: Any) -> None:
        traits = frozenset({'OWNER_CYBORG', resources.pool_trait(POOL)})
        self._devices = []
        self._deployables = []
        for index, gpu in enumerate(gpus):
            prefix = '%s_%04d' % (gpu.host, index)
            self._devices.append(
                clients.Device(
                    uuid=str(uuid.UUID(int=index + 1)),
                    hostname=gpu.host,
                    vendor='10de',
                    model=gpu.model,
                    std_board_info={
                        'uuid': gpu.gpu_id,
                        'pci_address': '0000:%02x:00.0' % (index % 256),
                        'deployable_prefix': prefix,
                    },
                )
            )
            for suffix, rc, total in (
                ('GMEM', resources.RC_POOL_MEMORY, gpu.memory_mib),
                ('COMPUTE', resources.RC_POOL_COMPUTE, 100),
            ):
                self._deployables.append(
                    _deployable(
                        clients,
                        resources,
                        '%s_%s' % (prefix, suffix),
                        rc,
                        total,
                        traits,
                    )
                )
        self._deployables.append(
            _deployable(
                clients,
                resources,
                'cpu1_ORIONX_VGPU_default',
                resources.RC_ENTITLEMENT,
                1_000_000,
                traits,
                ENTITLEMENT_RP,
            )
        )
        self._profiles = {
            'bench-%d-%d' % size: clients.DeviceProfile(
                'bench-%d-%d' % size,
                (
                    {
                        'resources:CUSTOM_ORIONX_VGPU': '1',
                        'accel:orionx_gmem_mib': str(size[0]),
                        'accel:orionx_compute_pct': str(size[1]),
                    },
                ),
            )
            for size in SIZES
        }

    def devices(self) -> list[Any]:
        return list(self._devices)

    def deployables(self) -> list[Any]:
        return list(self._deployables)

    def device_profile(self, name: str) -> Any:
        return self._profiles.get(name)


def _deployable(
    clients: Any,
    resources: Any,
    name: str,
    rc: str,
    total: int,
    traits: frozenset[str],
    rp: str | None = None,
) -> Any:
    return clients.Deployable(
        uuid=str(uuid.uuid4()),
        name=name,
        rp_uuid=rp or str(uuid.uuid4()),
        num_accelerators=total,
        driver_name=resources.DRIVER_NAME,
        resource_class=rc,
        traits=traits,
    )


class Placement:
    """Keeps the service's allocations; every claim succeeds."""

    def __init__(self, clients: Any) -> None:
        self._clients = clients
        self.consumers: dict[str, Any] = {}

    def allocations(self, consumer: str) -> Any:
        held = self.consumers.get(consumer)
        return self._clients.ConsumerAllocations(
            generation=None if held is None else 1,
            allocations=held or {},
            consumer_type=self._clients.CONSUMER_TYPE,
        )

    def claim(
        self,
        consumer: str,
        allocations: Any,
        project_id: str,
        user_id: str,
        consumer_generation: Any,
    ) -> None:
        self.consumers[consumer] = allocations


class Timings:
    def __init__(self) -> None:
        self.decided: list[float] = []
        self.placed: list[float] = []

    def placement_decided(self, duration_s: float) -> None:
        self.decided.append(duration_s)

    def lease_placed(self, duration_s: float) -> None:
        self.placed.append(duration_s)


def one_run(cluster_name: str, leases: int, seed: int) -> dict[str, Any]:
    """Lease *leases* ARQs on *cluster_name* with the tree on sys.path."""
    from oslo_config import cfg

    from benchmarks.allocator import clusters
    from orionx_cyborg import allocator
    from orionx_cyborg import clients
    from orionx_cyborg import conf as orionx_conf
    from orionx_cyborg import resources
    from orionx_cyborg import sizing
    from orionx_cyborg.attach import binding
    from orionx_cyborg.attach import leasetokens
    from orionx_cyborg.attach import ledger as ledger_mod
    from orionx_cyborg.attach import service as service_mod
    from orionx_cyborg.attach.ledger import engine as ledger_engine
    from orionx_cyborg.attach.runtimes import base as runtimes

    conf = cfg.ConfigOpts()
    conf.register_opts(
        [cfg.StrOpt('host', default='bench'), cfg.StrOpt('state_path')]
    )
    orionx_conf.register_opts(conf)
    conf([], project='orionx-bench', default_config_files=[])
    gpus = clusters.by_name(cluster_name).gpus
    cyborg = Cyborg(clients, resources, gpus)
    placement = Placement(clients)
    timings = Timings()
    with tempfile.TemporaryDirectory(prefix='bench-decision-') as tmp:
        ledger = ledger_mod.Ledger(
            ledger_engine.create_engine('sqlite:///%s/ledger.sqlite' % tmp),
            owns_engine=True,
        )
        ledger.upgrade()
        settings = service_mod.ServiceSettings(
            pools=(POOL,),
            policy=allocator.DEFAULT_POLICY,
            locality=allocator.Locality.TIE_BREAK,
            default_size=sizing.Size(8192, 25),
            remote_transport=binding.Transport.RDMA,
            server_port=9960,
            server_addresses={},
            retry_after=15,
            placement_retries=2,
        )
        extra = {}
        parameters = inspect.signature(service_mod.LeaseService).parameters
        if 'timings' in parameters:
            extra['timings'] = timings
        service = service_mod.LeaseService(
            settings,
            cyborg,
            placement,
            ledger,
            leasetokens.TokenIssuer('k', 3600),
            runtimes.load(conf, 'orionx'),
            **extra,
        )
        rng = random.Random(seed)
        service.view()
        per_lease: list[float] = []
        active = 0
        for _ in range(leases):
            size = rng.choice(SIZES)
            arq = clients.Arq(
                uuid=str(uuid.UUID(int=rng.getrandbits(128))),
                state='Bound',
                device_profile_name='bench-%d-%d' % size,
                device_profile_group_id=0,
                hostname='cpu1',
                device_rp_uuid=ENTITLEMENT_RP,
                instance_uuid=str(uuid.UUID(int=rng.getrandbits(128))),
                project_id='a' * 32,
                attach_handle_type=resources.AH_REMOTE,
                attach_handle_uuid=str(uuid.UUID(int=rng.getrandbits(128))),
                attach_handle_info={'pool': POOL, 'slot': '0'},
            )
            began = time.perf_counter()
            outcome = service.ensure_leases([(arq, POOL)])[arq.uuid]
            per_lease.append(time.perf_counter() - began)
            active += getattr(outcome, 'state', None) is not None and (
                outcome.state.value == 'active'
            )
        ledger.close()
    return {
        'gpus': len(gpus),
        'leases': leases,
        'active': active,
        'per_lease_us': _summary(per_lease),
        'decision_us': _summary(timings.decided),
        'path_us': _summary(timings.placed),
    }


def _summary(samples: Sequence[float]) -> dict[str, float]:
    if not samples:
        return {}
    ordered = sorted(samples)

    def at(fraction: float) -> float:
        index = min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1)
        return round(ordered[index] * 1e6, 1)

    return {
        'n': len(ordered),
        'p50': at(0.5),
        'p99': at(0.99),
        'max': round(ordered[-1] * 1e6, 1),
        'mean': round(statistics.fmean(ordered) * 1e6, 1),
    }


def run_in(
    tree: pathlib.Path, cluster: str, leases: int, seed: int
) -> dict[str, Any]:
    """One run in a fresh process that imports *tree*'s code."""
    done = subprocess.run(
        [
            sys.executable,
            str(pathlib.Path(__file__).resolve()),
            '--one',
            json.dumps([cluster, leases, seed]),
        ],
        env=dict(os.environ, PYTHONPATH=str(tree)),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )
    if done.returncode:
        raise SystemExit('%s %s: %s' % (tree, cluster, done.stderr[-2000:]))
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


def revision(tree: pathlib.Path) -> str:
    return subprocess.run(
        ['git', '-C', str(tree), 'rev-parse', '--short', 'HEAD'],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def compare(
    here: pathlib.Path,
    baseline: pathlib.Path | None,
    cluster: str,
    leases: int,
    rounds: int,
    seed: int,
) -> dict[str, Any]:
    """Rounds of this tree (and the baseline), alternating who is first."""
    record: dict[str, Any] = {'cluster': cluster, 'rounds': []}
    for index in range(rounds):
        trees = [('this', here)]
        if baseline is not None:
            trees.append(('baseline', baseline))
            if index % 2 == 0:
                trees.reverse()
        runs = {
            name: run_in(tree, cluster, leases, seed) for name, tree in trees
        }
        if baseline is not None:
            for key in ('p50', 'p99'):
                runs['ratio_' + key] = round(
                    runs['this']['per_lease_us'][key]
                    / runs['baseline']['per_lease_us'][key],
                    3,
                )
        record['rounds'].append(runs)
        print(
            cluster,
            index,
            json.dumps({k: v for k, v in runs.items()}),
            file=sys.stderr,
        )
    return record


def _median(
    rounds: Sequence[dict[str, Any]], tree: str, part: str, key: str
) -> float:
    values = [r[tree][part].get(key) for r in rounds]
    if None in values:
        return float('nan')
    return float(statistics.median(values))


def table(records: Sequence[dict[str, Any]], baseline: bool) -> str:
    lines = [
        'pool   GPUs   per lease µs p50 / p99 (this tree)   '
        'decision µs p50 / p99   path µs p50 / p99'
        + ('   baseline p50 / p99      ratio p50 / p99' if baseline else '')
    ]
    for record in records:
        rounds = record['rounds']
        median = functools.partial(_median, rounds)
        line = '%-6s %-6d %-38s %-23s %-18s' % (
            record['cluster'],
            rounds[0]['this']['gpus'],
            '%.0f / %.0f'
            % (
                median('this', 'per_lease_us', 'p50'),
                median('this', 'per_lease_us', 'p99'),
            ),
            '%.0f / %.0f'
            % (
                median('this', 'decision_us', 'p50'),
                median('this', 'decision_us', 'p99'),
            ),
            '%.0f / %.0f'
            % (
                median('this', 'path_us', 'p50'),
                median('this', 'path_us', 'p99'),
            ),
        )
        if baseline:
            line += '   %-23s %.2f / %.2f' % (
                '%.0f / %.0f'
                % (
                    median('baseline', 'per_lease_us', 'p50'),
                    median('baseline', 'per_lease_us', 'p99'),
                ),
                statistics.median(r['ratio_p50'] for r in rounds),
                statistics.median(r['ratio_p99'] for r in rounds),
            )
        lines.append(line)
    return '\n'.join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--one', help=argparse.SUPPRESS)
    parser.add_argument('--baseline', type=pathlib.Path)
    parser.add_argument('--clusters', default=','.join(CLUSTERS))
    parser.add_argument('--leases', type=int, default=2000)
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--seed', type=int, default=1042)
    parser.add_argument('--json', type=pathlib.Path)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(one_run(*json.loads(args.one))))
        return 0
    here = pathlib.Path(__file__).resolve().parents[2]
    load_before = os.getloadavg()
    began = time.perf_counter()
    records = [
        compare(
            here, args.baseline, cluster, args.leases, args.rounds, args.seed
        )
        for cluster in args.clusters.split(',')
    ]
    text = table(records, args.baseline is not None)
    print(text)
    if args.json:
        document = {
            'command': 'python -m benchmarks.attach_decision.bench_decision '
            + ' '.join(sys.argv[1:] if argv is None else argv),
            'this': revision(here),
            'baseline': revision(args.baseline) if args.baseline else None,
            'records': records,
            'table': text.splitlines(),
            'took_s': round(time.perf_counter() - began),
            'machine': {
                'cpus': os.cpu_count(),
                'python': platform.python_version(),
                'load_average_at_start': load_before,
                'load_average': os.getloadavg(),
            },
        }
        args.json.write_text(json.dumps(document, indent=1) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
