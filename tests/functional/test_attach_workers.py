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

"""The attach service as operators run it: gunicorn with workers.

The sandbox runs the service under gunicorn (``attach_workers``), the
way the install guide and the devstack plugin start it: requests spread
over the workers, the metrics of every worker add up (prometheus_client's
multiprocess mode; counters and the placement histograms alike),
``/healthz`` answers, and a burst of connections far larger than the
workers' threads is queued, not reset.
"""

from __future__ import annotations

import http.client
import json
import re
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from orionx_cyborg.sandbox import clients
from orionx_cyborg.sandbox import hosts
from orionx_cyborg.sandbox import identity
from orionx_cyborg.sandbox import stack
from tests.functional import attach_checks
from tests.functional import helpers

WORKERS = 3
BURST = 300


@pytest.fixture(scope='module')
def served(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[stack.Sandbox]:
    fleet = [
        h
        for h in hosts.orionx_fleet()
        if h.name in ('gpu-server-1', 'cpu-host-1')
    ]
    sandbox = stack.Sandbox(
        tmp_path_factory.mktemp('workers'), fleet, attach_workers=WORKERS
    )
    with helpers.started(sandbox):
        yield sandbox


def _post(port: int, path: str, body: Any, token: str | None) -> Any:
    conn = http.client.HTTPConnection('127.0.0.1', port, timeout=60)
    headers = {'Content-Type': 'application/json'}
    if token:
        headers['X-Auth-Token'] = token
    try:
        conn.request('POST', path, json.dumps(body), headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def _bound_instance(sandbox: stack.Sandbox) -> str:
    """An instance with one bound pooled-vGPU ARQ, as Nova leaves it."""
    name = helpers.unique('workers')
    sandbox.connect().accelerator.create_device_profile(
        name=name,
        groups=[
            {
                'resources:CUSTOM_ORIONX_VGPU': '1',
                'trait:CUSTOM_ORIONX_POOL_DEFAULT': 'required',
                'accel:orionx_gmem_mib': '1024',
                'accel:orionx_compute_pct': '5',
            }
        ],
    )
    return attach_checks.bound_instance(sandbox, name)


def _counter(text: str, name: str) -> float:
    match = re.search(r'^%s ([0-9.e+]+)$' % name, text, re.MULTILINE)
    assert match, text
    return float(match.group(1))


def test_workers_serve_leases_and_add_up_their_metrics(
    served: stack.Sandbox,
) -> None:
    port = served.manifest.attach_port
    instance = _bound_instance(served)
    body = {'instance-id': instance, 'project-id': identity.MEMBER_PROJECT_ID}
    documents = []
    # One connection per request: gunicorn hands them to any worker.
    for _ in range(12):
        status, data = _post(port, '/v1/vendordata', body, 'nova')
        assert status == 200, data
        documents.append(json.loads(data))
    assert {d['status'] for d in documents} == {'active'}
    assert len({d['vgpus'][0]['lease_id'] for d in documents}) == 1
    for _ in range(8):
        status, data = _post(
            port, '/v1/vendordata', {'instance-id': str(uuid.uuid4())}, 'nova'
        )
        assert status == 200 and json.loads(data)['status'] == 'none'
    # Every scrape, whichever worker answers, counts all 20.
    for _ in range(2 * WORKERS):
        text = (
            clients.plain(served.manifest.attach_url)
            .request('GET', '/metrics')
            .text
        )
        assert _counter(text, 'orionx_vendordata_requests_total') == 20.0
        # One lease placed, by whichever worker (or pass) came first; a
        # worker that lost the race decided too, but placed nothing.
        placed = 'orionx_placement_duration_seconds_count'
        assert _counter(text, placed) == 1.0
        decided = 'orionx_placement_decision_seconds_count'
        assert _counter(text, decided) >= 1.0

    # A worker that started before Cyborg saw it unreachable and says so
    # until its next call to Cyborg succeeds (its warm-up retries every
    # 5 s): soon every worker answers OK.
    def all_healthy() -> bool:
        answers = [
            clients.plain(served.manifest.attach_url).request(
                'GET', '/healthz', expect=(200, 503)
            )
            for _ in range(2 * WORKERS)
        ]
        return all(
            (a.status_code, a.text.strip()) == (200, 'OK') for a in answers
        )

    helpers.wait_for(all_healthy, timeout=30, what='every worker healthy')


def test_a_burst_of_connections_is_queued_not_reset(
    served: stack.Sandbox,
) -> None:
    port = served.manifest.attach_port
    outcomes: dict[str, int] = {}
    lock = threading.Lock()
    ready = threading.Barrier(BURST)

    def one() -> None:
        ready.wait()
        try:
            status, _ = _post(
                port,
                '/v1/vendordata',
                {'instance-id': str(uuid.uuid4())},
                'nova',
            )
            outcome = str(status)
        except OSError as err:
            outcome = type(err).__name__
        except http.client.HTTPException as err:
            outcome = type(err).__name__
        with lock:
            outcomes[outcome] = outcomes.get(outcome, 0) + 1

    threads = [threading.Thread(target=one) for _ in range(BURST)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes == {'200': BURST}


def _health_answers(sandbox: stack.Sandbox) -> list[tuple[int, str]]:
    """/healthz over new connections, enough to reach every worker."""
    answers = []
    for _ in range(4 * WORKERS):
        answer = clients.plain(sandbox.manifest.attach_url).request(
            'GET', '/healthz', expect=(200, 503)
        )
        answers.append((answer.status_code, answer.text.strip()))
    return answers


def test_every_worker_gives_the_same_health_verdict(
    served: stack.Sandbox,
) -> None:
    """One worker sees Cyborg gone (it runs the pass); all say so.

    Before health was shared, only the worker that ran the pass knew:
    the others answered 200 OK.
    """
    admin = {'X-Auth-Token': identity.ADMIN_TOKEN}
    served.stop_service('cyborg')
    try:
        failed = clients.plain(served.manifest.attach_url).request(
            'POST', '/v1/reconcile', headers=admin, expect=(500, 503)
        )
        assert failed.status_code == 503, failed.text
        answers = _health_answers(served)
        assert {status for status, _ in answers} == {503}, answers
        assert len({text for _, text in answers}) == 1, answers
        assert 'Cyborg unreachable' in answers[0][1]
    finally:
        served.start_service('cyborg')
    # One pass, run by one worker, clears it for every worker.
    passed = clients.plain(served.manifest.attach_url).request(
        'POST', '/v1/reconcile', headers=admin
    )
    assert passed.status_code == 200, passed.text
    answers = _health_answers(served)
    assert set(answers) == {(200, 'OK')}, answers
