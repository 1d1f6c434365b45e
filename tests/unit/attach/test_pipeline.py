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

"""The middleware pipeline: health, public paths, size limit, ids."""

import json
import threading
import time
import types
import uuid

from keystonemiddleware import fixture as ks_fixture
from keystonemiddleware import opts as ks_opts
from werkzeug import test as werkzeug_test

from orionx_cyborg import clients
from orionx_cyborg.attach import api
from orionx_cyborg.attach import app as app_mod
from orionx_cyborg.attach import health
from orionx_cyborg.attach import pipeline
from tests.unit.attach import test_api


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


class PipelineTestCase(test_api.ApiTestCase):
    def setUp(self):
        super().setUp()
        self.clock = Clock()
        self.tracker = health.DependencyTracker(self.clock)
        self.health = health.Health(
            self.ledger,
            self.tracker,
            reconcile_interval=30,
            missed_passes=3,
            stall_s=20,
            clock=self.clock,
            background=_now,
        )
        self.client = werkzeug_test.Client(self.application())


class TestHealth(PipelineTestCase):
    def test_healthy(self):
        status, text, _ = self.call('GET', '/healthz', token=None)
        self.assertEqual((200, 'OK'), (status, text.strip()))

    def test_an_unreachable_dependency_is_named(self):
        call = self.tracker.started('Cyborg')
        self.tracker.finished(
            call, clients.TimedOut(service='Cyborg', reason='read timeout')
        )
        status, text, _ = self.call('GET', '/healthz', token=None)
        self.assertEqual(503, status)
        self.assertIn('Cyborg unreachable', text)
        self.assertNotIn('Placement', text)
        # The next answer clears it.
        self.tracker.finished(self.tracker.started('Cyborg'), None)
        self.assertEqual(200, self.call('GET', '/healthz', token=None)[0])

    def test_a_call_waiting_too_long_counts_as_unreachable(self):
        self.tracker.started('Placement')
        self.clock.now += 19
        self.assertEqual(200, self.call('GET', '/healthz', token=None)[0])
        self.clock.now += 2
        status, text, _ = self.call('GET', '/healthz', token=None)
        self.assertEqual(503, status)
        self.assertIn('Placement a call has waited over 20 s', text)

    def test_a_4xx_answer_means_reachable(self):
        call = self.tracker.started('Placement')
        self.tracker.finished(
            call,
            clients.RequestFailed(
                service='Placement',
                status=404,
                method='GET',
                path='/x',
                reason='no',
            ),
        )
        self.assertEqual(200, self.call('GET', '/healthz', token=None)[0])

    def test_no_successful_pass_for_n_intervals(self):
        self.clock.now += 89
        self.assertEqual(200, self.call('GET', '/healthz', token=None)[0])
        self.health.pass_failed(RuntimeError('Cyborg said 500'))
        self.clock.now += 2
        status, text, _ = self.call('GET', '/healthz', token=None)
        self.assertEqual(503, status)
        self.assertIn('no reconcile pass succeeded for 91 s', text)
        self.assertIn('Cyborg said 500', text)
        self.health.pass_succeeded()
        self.assertEqual(200, self.call('GET', '/healthz', token=None)[0])

    def test_an_unreachable_ledger(self):
        self.ledger.close()
        self.ledger.count_by_state = _raise
        status, text, _ = self.call('GET', '/healthz', token=None)
        self.assertEqual(503, status)
        self.assertIn('ledger unreachable', text)

    def test_details_for_admins_only(self):
        status, doc, _ = self.call(
            'GET',
            '/v1/health',
            token='admin',
            headers={'Accept': 'application/json'},
        )
        self.assertEqual(200, status)
        self.assertIn('seconds_since_successful_pass', json.dumps(doc))
        self.assertEqual(403, self.call('GET', '/v1/health', token='demo')[0])
        self.assertEqual(401, self.call('GET', '/v1/health', token=None)[0])
        _, public, _ = self.call('GET', '/healthz', token=None)
        self.assertNotIn('seconds_since_successful_pass', public)


class TestHealthSharedByWorkers(PipelineTestCase):
    """Two workers (two trackers, two Health) sharing one ledger: each
    sees only its own calls and passes, both give the same verdict.
    """

    def setUp(self):
        super().setUp()
        self.other_tracker = health.DependencyTracker(self.clock)
        self.other = health.Health(
            self.ledger,
            self.other_tracker,
            reconcile_interval=30,
            missed_passes=3,
            stall_s=20,
            clock=self.clock,
            background=_now,
        )

    def verdicts(self):
        return [h.check()[:2] for h in (self.health, self.other)]

    def test_a_dependency_one_worker_saw_fail_is_named_by_both(self):
        call = self.other_tracker.started('Cyborg')
        self.other_tracker.finished(
            call, clients.TimedOut(service='Cyborg', reason='read timeout')
        )
        [(mine, reasons), (its, its_reasons)] = self.verdicts()
        self.assertEqual((False, False), (mine, its))
        self.assertEqual(reasons, its_reasons)
        self.assertIn('Cyborg unreachable', reasons[0])
        # This worker, which never saw the failure, gets an answer later:
        # its newer word clears it for both.
        self.clock.now += 1
        self.tracker.finished(self.tracker.started('Cyborg'), None)
        self.assertEqual([(True, []), (True, [])], self.verdicts())

    def test_a_stalled_call_in_one_worker_is_seen_by_both(self):
        self.tracker.started('Placement')
        self.clock.now += 21
        [(mine, reasons), (its, its_reasons)] = self.verdicts()
        self.assertEqual((False, False), (mine, its))
        self.assertEqual(
            ['Placement a call has waited over 20 s'], its_reasons
        )

    def test_a_pass_clears_another_workers_failure(self):
        call = self.other_tracker.started('Cyborg')
        self.other_tracker.finished(
            call, clients.TimedOut(service='Cyborg', reason='read timeout')
        )
        self.clock.now += 1
        # This worker's pass: its Cyborg calls answer (no change for its
        # own tracker, which never saw the failure).
        self.tracker.finished(self.tracker.started('Cyborg'), None)
        self.health.pass_succeeded()
        self.assertTrue(self.other.check()[0])

    def test_the_request_that_sees_a_change_does_not_wait_for_it(self):
        # The default: the report is written in a thread of its own.
        written = threading.Event()
        release = threading.Event()

        class StuckLedger:
            def report_health(self, *args, **kwargs):
                release.wait(10)  # a write lock held by someone else
                written.set()

        tracker = health.DependencyTracker()
        health.Health(StuckLedger(), tracker, 30, 3, 20)
        began = time.monotonic()
        tracker.finished(
            tracker.started('Cyborg'),
            clients.TimedOut(service='Cyborg', reason='read timeout'),
        )
        self.assertLess(time.monotonic() - began, 1.0)
        self.assertFalse(written.is_set())
        release.set()
        self.assertTrue(written.wait(10))

    def test_the_passes_of_one_worker_count_for_both(self):
        self.clock.now += 80
        self.health.pass_succeeded()  # the leader runs the passes
        self.clock.now += 80
        # 160 s after the start, 80 s after the pass: both healthy.
        self.assertEqual([(True, []), (True, [])], self.verdicts())
        self.health.pass_failed(RuntimeError('Placement said 500'))
        self.clock.now += 11
        [(mine, reasons), (its, its_reasons)] = self.verdicts()
        self.assertEqual((False, False), (mine, its))
        self.assertEqual(reasons, its_reasons)
        self.assertIn('no reconcile pass succeeded for 91 s', reasons[0])
        self.assertIn('Placement said 500', reasons[0])
        details = self.other.check()[2]
        self.assertEqual(91.0, details['seconds_since_successful_pass'])

    def test_an_older_report_does_not_undo_a_newer_one(self):
        self.clock.now += 5
        call = self.tracker.started('Cyborg')
        self.tracker.finished(
            call, clients.TimedOut(service='Cyborg', reason='read timeout')
        )
        # The other worker's success, seen earlier, arrives later.
        stored = self.ledger.report_health(
            'Cyborg', True, None, health._utc(self.clock.now - 3)
        )
        self.assertFalse(stored)
        self.assertFalse(self.other.check()[0])


def _now(work):
    work()


def _raise(*args, **kwargs):
    raise RuntimeError('database is gone')


class TestMiddleware(PipelineTestCase):
    def test_a_body_over_the_limit_is_refused_with_413(self):
        self.flags(group='oslo_middleware', max_request_body_size=1024)
        body = {'instance-id': str(uuid.uuid4()), 'pad': 'x' * 2048}
        status, _, _ = self.vendordata(body)
        self.assertEqual(413, status)
        body['pad'] = 'x'
        self.assertEqual(200, self.vendordata(body)[0])

    def test_every_answer_has_a_request_id(self):
        _, _, response = self.call('GET', '/metrics', token=None)
        self.assertTrue(
            response.headers['x-openstack-request-id'].startswith('req-')
        )


class TestBehindKeystonemiddleware(test_api.ApiTestCase):
    """The production authentication: keystonemiddleware's auth_token."""

    def setUp(self):
        super().setUp()
        self.tokens = self.useFixture(ks_fixture.AuthTokenFixture())
        self.admin = uuid.uuid4().hex
        self.tokens.add_token_data(
            token_id=self.admin,
            project_id=uuid.uuid4().hex,
            role_list=['admin', 'reader', 'member'],
        )
        app_mod.register_opts(self.conf)
        self.flags(group='orionx_attach', auth_strategy='keystone')
        for group, options in ks_opts.list_auth_token_opts():
            self.conf.register_opts(options, group=group)
        # Where a 401 sends the client.
        self.flags(
            group='keystone_authtoken',
            www_authenticate_uri='http://keystone.example:5000',
        )
        self.client = werkzeug_test.Client(
            pipeline.build(
                self.conf,
                api.create_app(self.service, self.reconciler),
                lambda inner: app_mod._authenticated(self.conf, inner),
                self.health,
            )
        )

    def test_health_and_metrics_need_no_token(self):
        status, text, _ = self.call('GET', '/healthz', token=None)
        self.assertEqual((200, 'OK'), (status, text.strip()))
        status, text, _ = self.call('GET', '/metrics', token=None)
        self.assertEqual(200, status)
        self.assertIn('orionx_vendordata_requests_total', text)

    def test_everything_else_needs_one(self):
        for method, path in (
            ('GET', '/v1/leases'),
            ('GET', '/v1/pools'),
            ('GET', '/v1/health'),
            ('POST', '/v1/vendordata'),
        ):
            status, _, _ = self.call(method, path, token=None)
            self.assertEqual(401, status, path)

    def test_a_valid_token_reaches_the_policy(self):
        # A project's admin is no operator (orionx_attach:pools:show).
        status, _, _ = self.call('GET', '/v1/health', token=self.admin)
        self.assertEqual(403, status)
        status, _, _ = self.call('GET', '/v1/pools', token=self.admin)
        self.assertEqual(403, status)


class TestWarmUp(test_api.ApiTestCase):
    def test_the_pool_view_is_read_again_until_cyborg_answers(self):
        self.cyborg.down = True
        components = types.SimpleNamespace(service=self.service)
        thread = app_mod.Components.warm_up(components, retry_s=0.05)
        time.sleep(0.2)
        self.assertTrue(thread.is_alive())
        self.assertIsNone(self.service.capacity.cached_view())
        self.cyborg.down = False
        thread.join(10)
        self.assertFalse(thread.is_alive())
        self.assertIn('GPU-1', self.service.capacity.cached_view().gpus)
