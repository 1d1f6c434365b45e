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

"""Faults: the attach service killed mid-operation; Cyborg or Placement down.

A sandbox of its own (gpu-server-1 with three pool H200s, cpu-host-1),
so the kills and restarts never touch the shared one. Every trial ends
the same way: the service is started again, one reconcile pass runs, and
the three stores must agree (:func:`attach_checks.problems` finds
nothing): every bound entitlement ARQ has exactly one lease, every lease
one allocation holding both providers of one GPU, and no allocation of
consumer type ``ORIONX_LEASE`` lacks a lease.

* **Crash points** (:mod:`orionx_cyborg.attach.faults`): the service is
  started with ``$ORIONX_ATTACH_CRASH_AT=<point>:<n>`` and made to reach
  that step boundary (a lease created through Nova's vendordata or by a
  pass, released, moved off an unhealthy GPU, an allocation restored, an
  orphan released); it must exit there, leaving the stores disagreeing,
  which the pass repairs. Every boundary, at the first and a later
  occurrence.
* **Random kills**: SIGKILL after a random delay while a pass or
  concurrent vendordata calls create leases, or a pass releases them.
  The delay is drawn from a window per operation that narrows towards
  the lease steps: a kill that found nothing started yet raises its
  lower end, one that found everything done lowers its upper end.
  ``$ORIONX_ATTACH_FAULT_TRIALS`` (default 34: with the 16 crash-point
  trials, 50) sets how many;
  ``$ORIONX_ATTACH_FAULT_SEED`` repeats a run's delays.

Each trial's outcome (what the kill interrupted) is printed at the end
(``pytest -s``).
"""

from __future__ import annotations

import configparser
import dataclasses
import os
import random
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from orionx_cyborg import resources
from orionx_cyborg.attach import faults
from orionx_cyborg.sandbox import hosts
from orionx_cyborg.sandbox import identity
from orionx_cyborg.sandbox import processes
from orionx_cyborg.sandbox import stack
from tests.functional import attach_checks
from tests.functional import helpers

TRIALS = int(os.environ.get('ORIONX_ATTACH_FAULT_TRIALS', '34'))
SEED = int(
    os.environ.get('ORIONX_ATTACH_FAULT_SEED', str(time.time_ns() % 1000003))
)
GPU_HOST = 'gpu-server-1'
BATCH = 3  # leases created or released per operation
# The first window of random delays before the kill, by operation
# (seconds): about the time the operation takes on an idle 2-core
# machine (a pass reads Cyborg before its lease steps and audits every
# GPU after them).
KILL_WINDOW = {'pass-create': 0.3, 'vendordata': 0.2, 'pass-release': 0.2}
NARROWEST = 0.03
# What a disagreement means (see attach_checks.problems); the first
# three only a crash inside an operation leaves.
HALF_WAY = 'half-way lease'
MISMATCH = 'allocation differs from its lease'
ORPHAN = 'allocation without a lease'
NOT_YET = 'ARQ without a lease yet'
GONE = 'lease of a gone ARQ'
INTERRUPTED = frozenset({HALF_WAY, MISMATCH, ORPHAN})


@dataclasses.dataclass
class Trial:
    name: str
    interrupted: list[str]
    """What the stores disagreed on while the service was down."""
    report: dict[str, Any]

    @property
    def kinds(self) -> set[str]:
        return {_kind(problem) for problem in self.interrupted}


def _kind(problem: str) -> str:
    if problem.endswith((' is claiming', ' is moving', ' is releasing')):
        return HALF_WAY
    if ' has 0 leases' in problem:
        return NOT_YET
    if ' has no bound ARQ ' in problem:
        return GONE
    if problem.endswith('of ORIONX_LEASE has no lease'):
        return ORPHAN
    return MISMATCH


outcomes: list[Trial] = []


class Window:
    """Random kill delays, narrowed towards where the lease steps run."""

    def __init__(self, upper: float) -> None:
        self.lower, self.upper = 0.0, upper

    def draw(self, rng: random.Random) -> float:
        return rng.uniform(self.lower, self.upper)

    def learn(self, delay: float, kinds: set[str]) -> None:
        if kinds & INTERRUPTED:
            return
        if kinds:  # nothing interrupted yet: the steps come later
            self.lower = min(delay, self.upper)
        else:  # all done already: the steps came earlier
            self.upper = max(delay, self.lower)
        if self.upper - self.lower < NARROWEST:
            # Never collapse: timings vary from one trial to the next.
            self.lower = max(0.0, self.lower - NARROWEST)
            self.upper += NARROWEST


class Harness:
    """The fault sandbox and what the trials do with it."""

    def __init__(self, sandbox: stack.Sandbox, flavor_id: str) -> None:
        self.sandbox = sandbox
        self.flavor_id = flavor_id
        self.compute = sandbox.compute(identity.MEMBER_TOKEN)
        self.live: list[str] = []
        self.rng = random.Random(SEED)
        self.windows = {
            kind: Window(upper) for kind, upper in KILL_WINDOW.items()
        }

    # -- instances ---------------------------------------------------

    def boot(self, count: int, host: str | None = None) -> list[str]:
        """One after the other.

        Cyborg's SQLite refuses concurrent binds ("database is locked").
        """
        started = []
        for _ in range(count):
            body: dict[str, Any] = {
                'name': helpers.unique('fault'),
                'flavorRef': self.flavor_id,
            }
            if host:
                body['availability_zone'] = 'nova:%s' % host
            server = self.compute.post('/servers', {'server': body})['server'][
                'id'
            ]
            record = helpers.wait_for_server(self.sandbox, server)
            assert record['status'] == 'ACTIVE', record['fault']
            started.append(server)
        return started

    def delete(self, servers: list[str]) -> None:
        for server in servers:
            self.compute.request(
                'DELETE', '/servers/%s' % server, expect=(204, 404)
            )

    def clean(self) -> None:
        """Delete every server and release their leases (no crash)."""
        self.delete([s['id'] for s in self.compute.get('/servers')['servers']])
        self.live = []
        self.settle()
        assert attach_checks.leases(self.sandbox) == []

    # -- the service -------------------------------------------------

    def arm(self, point: str, nth: int) -> None:
        self.sandbox.restart_service(
            stack.ATTACH, env={faults.ENVIRONMENT: '%s:%d' % (point, nth)}
        )

    def wait_crashed(self) -> int | None:
        popen = self.sandbox.service(stack.ATTACH).popen
        try:
            return popen.wait(timeout=30)
        except subprocess.TimeoutExpired:
            return None

    def kill(self) -> None:
        self.sandbox.stop_service(stack.ATTACH, signal.SIGKILL)

    def down_state(self) -> list[str]:
        """What disagrees while the service is down (read its ledger)."""
        stores = attach_checks.read_stores(
            self.sandbox, attach_checks.ledger_leases(self.sandbox)
        )
        return attach_checks.problems(stores)

    def recover(self, name: str) -> Trial:
        """Start the service, one pass: the stores must agree."""
        interrupted = self.down_state()
        self.sandbox.start_service(stack.ATTACH)
        report = self.settle()
        trial = Trial(name, interrupted, report)
        outcomes.append(trial)
        return trial

    def settle(self) -> dict[str, Any]:
        report = self.sandbox.reconcile()
        assert report['errors'] == [], report
        stores = attach_checks.read_stores(self.sandbox)
        found = attach_checks.problems(stores)
        assert not found, '\n'.join(found)
        return report

    # -- what the trials trigger -------------------------------------

    def vendordata(self, server: str) -> dict[str, Any]:
        """Through the Nova stand-in: ``{}`` when the service failed."""
        return attach_checks.vendordata(self.sandbox, server)

    def run_pass(self) -> None:
        """``POST /v1/reconcile``, which a crash answers with nothing."""
        try:
            self.sandbox.reconcile()
        except (requests.ConnectionError, requests.Timeout):
            pass


@pytest.fixture(scope='module')
def fault_sandbox(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[stack.Sandbox]:
    fleet = [
        h for h in hosts.orionx_fleet() if h.name in (GPU_HOST, 'cpu-host-1')
    ]
    sbx = stack.Sandbox(
        tmp_path_factory.mktemp('faults'), fleet, arq_binding_timeout=20.0
    )
    try:
        with helpers.started(sbx):
            yield sbx
    finally:
        _print_outcomes()


@pytest.fixture(scope='module')
def harness(fault_sandbox: stack.Sandbox) -> Iterator[Harness]:
    yield Harness(
        fault_sandbox,
        attach_checks.create_pooled_flavor(
            fault_sandbox, 'fault-pool', 4096, 5
        ),
    )


@pytest.fixture
def clean(harness: Harness) -> Iterator[Harness]:
    """A trial on an empty pool, which leaves it empty."""
    if harness.live or attach_checks.leases(harness.sandbox):
        harness.clean()  # what the random kills left
    yield harness
    if not processes_running(harness):
        harness.sandbox.start_service(stack.ATTACH)
    harness.clean()


def processes_running(harness: Harness) -> bool:
    return processes.is_running(harness.sandbox.service(stack.ATTACH).record)


def _print_outcomes() -> None:
    if not outcomes:
        return
    hit = [t for t in outcomes if t.kinds & INTERRUPTED]
    print(
        '\nattach fault trials (seed %d): %d; %d were killed inside a '
        'lease operation (a half-way lease or an allocation that differs '
        'from its lease), all repaired by one pass:'
        % (SEED, len(outcomes), len(hit))
    )
    for trial in outcomes:
        print(
            '  %-36s %s'
            % (trial.name, ', '.join(sorted(trial.kinds)) or 'stores agreed')
        )


# -- crash points -------------------------------------------------------


def _create_by_vendordata(h: Harness, nth: int) -> None:
    servers = h.boot(nth)
    for server in servers[:-1]:
        assert h.vendordata(server)['status'] == 'active'
    # Nova gets no answer from a crashed target: its entry is {}.
    assert h.vendordata(servers[-1]) == {}


def _create_by_pass(h: Harness, nth: int) -> None:
    h.boot(BATCH)
    h.run_pass()


CREATE = [
    (faults.CLAIM_BEFORE_PLACEMENT, 1, _create_by_vendordata),
    (faults.CLAIM_BEFORE_PLACEMENT, 2, _create_by_pass),
    (faults.CLAIM_BEFORE_PLACEMENT, 3, _create_by_pass),
    (faults.CLAIM_AFTER_PLACEMENT, 1, _create_by_pass),
    (faults.CLAIM_AFTER_PLACEMENT, 2, _create_by_vendordata),
    (faults.CLAIM_AFTER_PLACEMENT, 3, _create_by_pass),
]


@pytest.mark.parametrize(
    'point, nth, trigger',
    CREATE,
    ids=['%s:%d-%s' % (p, n, t.__name__[1:]) for p, n, t in CREATE],
)
def test_crash_while_creating_leases(
    clean: Harness,
    point: str,
    nth: int,
    trigger: Callable[[Harness, int], None],
) -> None:
    clean.arm(point, nth)
    trigger(clean, nth)
    assert clean.wait_crashed() == faults.EXIT_STATUS
    trial = clean.recover('%s:%d' % (point, nth))
    # The crash left a lease half-way; the pass finished it.
    assert HALF_WAY in trial.kinds, trial
    assert trial.report['repaired'] >= 1
    leases = attach_checks.leases(clean.sandbox)
    assert {lease['state'] for lease in leases} == {'active'}


@pytest.mark.parametrize('nth', [1, 2])
@pytest.mark.parametrize(
    'point', [faults.RELEASE_BEFORE_PLACEMENT, faults.RELEASE_AFTER_PLACEMENT]
)
def test_crash_while_releasing_leases(
    clean: Harness, point: str, nth: int
) -> None:
    servers = clean.boot(2)
    clean.settle()
    clean.arm(point, nth)
    clean.delete(servers)
    clean.run_pass()
    assert clean.wait_crashed() == faults.EXIT_STATUS
    trial = clean.recover('%s:%d' % (point, nth))
    assert any(p.endswith(' is releasing') for p in trial.interrupted)
    # Before the Placement call the allocation is still there.
    assert (MISMATCH in trial.kinds) == (
        point == faults.RELEASE_BEFORE_PLACEMENT
    ), trial
    assert attach_checks.leases(clean.sandbox) == []


@pytest.mark.parametrize('nth', [1, 2])
@pytest.mark.parametrize(
    'point', [faults.MOVE_BEFORE_PLACEMENT, faults.MOVE_AFTER_PLACEMENT]
)
def test_crash_while_moving_leases(
    clean: Harness, point: str, nth: int
) -> None:
    servers = clean.boot(2, host=GPU_HOST)
    clean.settle()
    # Every lease on one GPU, then that GPU fails.
    leases = attach_checks.leases(clean.sandbox)
    address = leases[0]['gpu_pci_address']
    sick = [lease for lease in leases if lease['gpu_pci_address'] == address]
    if len(sick) < nth:
        pytest.fail(
            'only %d leases on %s (the policy spread them)'
            % (len(sick), address)
        )
    try:
        clean.arm(point, nth)
        clean.sandbox.edit_topology(
            GPU_HOST, lambda h: h.replace_gpu(address, lost=True)
        )
        clean.sandbox.update_resources([GPU_HOST])
        clean.run_pass()
        assert clean.wait_crashed() == faults.EXIT_STATUS
        trial = clean.recover('%s:%d' % (point, nth))
        assert any(p.endswith(' is moving') for p in trial.interrupted)
        moved = attach_checks.leases(clean.sandbox)
        assert len(moved) == len(servers)
        assert address not in {lease['gpu_pci_address'] for lease in moved}
    finally:
        clean.sandbox.edit_topology(
            GPU_HOST, lambda h: h.replace_gpu(address, lost=False)
        )
        clean.sandbox.update_resources([GPU_HOST])


def test_crash_after_restoring_a_lost_allocation(clean: Harness) -> None:
    clean.boot(1)
    clean.settle()
    [lease] = attach_checks.leases(clean.sandbox)
    clean.sandbox.placement().delete('/allocations/%s' % lease['id'])
    clean.arm(faults.RESTORE_AFTER_PLACEMENT, 1)
    clean.run_pass()
    assert clean.wait_crashed() == faults.EXIT_STATUS
    trial = clean.recover(faults.RESTORE_AFTER_PLACEMENT)
    # Restored before the crash: nothing to do after it.
    assert trial.interrupted == []
    assert helpers.allocations_of(clean.sandbox, lease['id'])['allocations']


def test_crash_after_releasing_an_orphan(clean: Harness) -> None:
    gpu = next(iter(attach_checks.pool_gpus(clean.sandbox).values()))
    orphan = str(uuid.uuid4())
    clean.sandbox.placement().put(
        '/allocations/%s' % orphan,
        {
            'allocations': {
                gpu.memory_rp: {'resources': {resources.RC_POOL_MEMORY: 1024}},
                gpu.compute_rp: {'resources': {resources.RC_POOL_COMPUTE: 1}},
            },
            'project_id': identity.MEMBER_PROJECT_ID,
            'user_id': 'someone',
            'consumer_generation': None,
            'consumer_type': attach_checks.CONSUMER_TYPE,
        },
    )
    assert any(orphan in p for p in clean.down_state())
    clean.arm(faults.ORPHAN_AFTER_PLACEMENT, 1)
    clean.run_pass()
    assert clean.wait_crashed() == faults.EXIT_STATUS
    trial = clean.recover(faults.ORPHAN_AFTER_PLACEMENT)
    assert trial.interrupted == []
    assert helpers.allocations_of(clean.sandbox, orphan)['allocations'] == {}


# -- random kills -------------------------------------------------------


def _concurrent_vendordata(h: Harness, servers: list[str]) -> None:
    threads = [
        threading.Thread(target=h.vendordata, args=(server,))
        for server in servers
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)


@pytest.mark.parametrize('index', range(TRIALS))
def test_random_kill(harness: Harness, index: int) -> None:
    h = harness
    if index % 2 == 0:
        # Create: a pass, or Nova's vendordata calls, make the leases.
        h.live = h.boot(BATCH)
        how = h.rng.choice(['pass-create', 'vendordata'])
        servers = list(h.live)
        work: Callable[[], None] = (
            h.run_pass
            if how == 'pass-create'
            else lambda: _concurrent_vendordata(h, servers)
        )
    else:
        # Release: the instances go, a pass releases their leases.
        if not h.live:
            h.live = h.boot(BATCH)
            h.settle()
        h.delete(h.live)
        h.live = []
        how, work = 'pass-release', h.run_pass
    delay = h.windows[how].draw(h.rng)
    thread = threading.Thread(target=work)
    thread.start()
    time.sleep(delay)
    h.kill()
    thread.join(60)
    trial = h.recover('random %s +%dms' % (how, delay * 1000))
    h.windows[how].learn(delay, trial.kinds)
    leases = attach_checks.leases(h.sandbox)
    assert len(leases) == len(h.live), (SEED, trial)


# -- Cyborg or Placement down -------------------------------------------


def _direct_vendordata(h: Harness, server: str) -> requests.Response:
    return requests.post(
        str(h.sandbox.manifest.attach_url) + '/v1/vendordata',
        json={'instance-id': server, 'project-id': identity.MEMBER_PROJECT_ID},
        headers={'X-Auth-Token': identity.SERVICE_TOKEN},
        timeout=30,
    )


@pytest.mark.parametrize('service', ['placement', 'cyborg'])
def test_a_dependency_down_is_503_then_recovers_losing_nothing(
    clean: Harness, service: str
) -> None:
    h = clean
    leased, waiting = h.boot(2)
    before = h.vendordata(leased)
    assert before['status'] == 'active'
    lease_id = before['vgpus'][0]['lease_id']
    name = {'placement': 'Placement', 'cyborg': 'Cyborg'}[service]
    h.sandbox.stop_service(service)
    try:
        answer = _direct_vendordata(h, waiting)
        assert answer.status_code == 503, answer.text
        message = answer.json()['error']['message']
        assert message.startswith('%s is unavailable' % name), message
        assert message.endswith('Try again later.')
        assert answer.headers['Retry-After'] == '15'
        # Nova logs the error and gives the guest an empty entry;
        # nothing was recorded for the waiting instance.
        assert h.vendordata(waiting) == {}
        assert attach_checks.leases(h.sandbox, instance=waiting) == []
        if service == 'placement':
            # The lease already placed needs no Placement to be shown.
            again = _direct_vendordata(h, leased)
            assert again.status_code == 200
            assert again.json()['vgpus'][0]['lease_id'] == lease_id
        with pytest.raises(Exception) as err:
            h.sandbox.reconcile()
        assert '503' in str(err.value)
        # The health check names the dependency (it answered 200 before).
        health = requests.get(
            str(h.sandbox.manifest.attach_url) + '/healthz', timeout=10
        )
        assert health.status_code == 503, health.text
        assert '%s unreachable' % name in health.text
    finally:
        h.sandbox.start_service(service)
    h.settle()
    # Nothing lost: the same lease; the waiting one is placed now.
    after = h.vendordata(leased)
    assert after['vgpus'][0]['lease_id'] == lease_id
    assert after['vgpus'][0]['gpu_uuid'] == before['vgpus'][0]['gpu_uuid']
    assert h.vendordata(waiting)['status'] == 'active'
    assert len(attach_checks.leases(h.sandbox)) == 2


def test_no_secret_in_the_log_after_all_that(harness: Harness) -> None:
    harness.clean()
    harness.vendordata(harness.boot(1)[0])
    harness.clean()
    key = _conf_value(harness.sandbox, 'secret_key')
    secrets = attach_checks.seen_secrets | {key}
    log = harness.sandbox.state.log(stack.ATTACH).read_text()
    assert 'Crash point' in log or not outcomes
    assert [s for s in secrets if s in log] == []


def _conf_value(sandbox: stack.Sandbox, option: str) -> str:
    conf = configparser.RawConfigParser()
    conf.read(sandbox.state.attach_conf)
    return conf.get('orionx_attach', option)
