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

"""The client layer: adapter options, timeouts, errors and retries."""

import os

import fixtures
from keystoneauth1 import exceptions as ks_exceptions
from oslo_config import cfg

from orionx_cyborg import clients
from orionx_cyborg.clients import adapter
from orionx_cyborg.clients import http
from orionx_cyborg.clients import retry
from orionx_cyborg.conf import auth
from tests import base


class Response:
    def __init__(self, status, body=None):
        self.status_code = status
        self.content = b'{}' if body is None else b'x'
        self.text = ''
        self._body = body or {}

    def json(self):
        return self._body


class ScriptedAdapter:
    """Answers (or raises) from a script, one entry per request."""

    def __init__(self, *script):
        self.script = list(script)
        self.calls = []

    def request(self, path, method, **kwargs):
        self.calls.append((method, path, kwargs))
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        return step


class TestAuthOptions(base.TestCase):
    def test_every_group_has_a_timeout_and_its_service_type(self):
        conf = cfg.ConfigOpts()
        for group in (auth.CYBORG, auth.PLACEMENT, auth.ATTACH):
            auth.register_auth_opts(conf, group)
        conf([])
        self.assertEqual(60.0, conf.cyborg.timeout)
        self.assertEqual(10.0, conf.placement.timeout)
        self.assertEqual(30.0, conf.orionx_admission.timeout)
        self.assertEqual('accelerator', conf.cyborg.service_type)
        self.assertEqual(
            ['internal', 'public'], conf.placement.valid_interfaces
        )

    def test_the_loaded_adapter_uses_the_configured_timeout(self):
        conf = cfg.ConfigOpts()
        auth.register_auth_opts(conf, auth.PLACEMENT)
        conf(['--config-file', self._conf_file('timeout = 2.5')])
        loaded = adapter.load_adapter(conf, 'placement')
        self.assertEqual(2.5, loaded.session.timeout)
        self.assertEqual('placement', loaded.service_type)
        self.assertFalse(loaded.raise_exc)

    def _conf_file(self, line):
        path = os.path.join(self.useFixture(fixtures.TempDir()).path, 'c')
        with open(path, 'w') as f:
            f.write('[placement]\nauth_type = none\n%s\n' % line)
        return path

    def test_sample_lists_the_timeout_with_its_default(self):
        options = {o.dest: o for o in auth.list_opts()['cyborg']}
        self.assertEqual(60.0, options['timeout'].default)
        self.assertEqual('accelerator', options['service_type'].default)


class TestJsonHttp(base.TestCase):
    def _http(self, *script):
        self.adapter = ScriptedAdapter(*script)
        return http.JsonHttp(self.adapter, 'Placement', '1.39')

    def test_a_timeout_is_its_own_error(self):
        err = self.assertRaises(
            clients.TimedOut,
            self._http(ks_exceptions.ConnectTimeout('slow')).request,
            'GET',
            '/x',
        )
        self.assertIsInstance(err, clients.ServiceUnavailable)

    def test_refused_connections_and_5xx_are_unavailable(self):
        self.assertRaises(
            clients.ConnectFailed,
            self._http(ks_exceptions.ConnectFailure('refused')).request,
            'GET',
            '/x',
        )
        self.assertRaises(
            clients.ServerError,
            self._http(Response(503)).request,
            'GET',
            '/x',
        )

    def test_the_named_microversion_is_sent(self):
        self._http(Response(200)).request('GET', '/x')
        self.assertEqual('1.39', self.adapter.calls[0][2]['microversion'])

    def test_no_microversion_no_header_and_a_timeout_per_request(self):
        adapter = ScriptedAdapter(Response(200))
        http.JsonHttp(adapter, 'attach', None, timeout=4.0).request('GET', '/')
        self.assertNotIn('microversion', adapter.calls[0][2])
        self.assertEqual(4.0, adapter.calls[0][2]['timeout'])

    def test_client_errors_have_a_class_per_status(self):
        for status, error in (
            (400, clients.BadRequest),
            (401, clients.Unauthorized),
            (403, clients.Forbidden),
            (404, clients.NotFound),
            (409, clients.RequestFailed),
        ):
            err = self.assertRaises(
                error, self._http(Response(status)).request, 'GET', '/x'
            )
            self.assertIsInstance(err, clients.RequestFailed)
            self.assertEqual(status, err.kwargs['status'])

    def test_an_accepted_5xx_is_returned(self):
        status, _ = self._http(Response(503)).request(
            'GET', '/x', accept=(200, 503)
        )
        self.assertEqual(503, status)


class TestRetry(base.TestCase):
    def setUp(self):
        super().setUp()
        self.slept = []

    def _failing(self, *errors):
        script = list(errors)

        def call():
            if script:
                raise script.pop(0)
            return 'done'

        return call

    def test_conflicts_5xx_and_refused_connections_are_retried(self):
        call = self._failing(
            clients.GenerationConflict(what='c'),
            clients.ServerError(service='P', reason='503'),
            clients.ConnectFailed(service='P', reason='refused'),
        )
        self.assertEqual('done', retry.call(call, 3, self.slept.append))
        self.assertEqual([0.05, 0.1, 0.2], self.slept)

    def test_timeouts_and_4xx_are_not_retried(self):
        for error in (
            clients.TimedOut(service='P', reason='slow'),
            clients.NoRoom(what='c', reason='full'),
        ):
            call = self._failing(error)
            self.assertRaises(
                type(error), retry.call, call, 3, self.slept.append
            )
        self.assertEqual([], self.slept)

    def test_the_last_error_is_raised_when_retries_are_spent(self):
        call = self._failing(*[clients.GenerationConflict(what='c')] * 3)
        self.assertRaises(
            clients.GenerationConflict, retry.call, call, 2, self.slept.append
        )
        self.assertEqual(2, len(self.slept))

    def test_zero_retries_means_one_attempt(self):
        call = self._failing(clients.ServerError(service='P', reason='5xx'))
        self.assertRaises(
            clients.ServerError, retry.call, call, 0, self.slept.append
        )
        self.assertEqual([], self.slept)


class TestCyborgCollections(base.TestCase):
    def _client(self, *script):
        self.adapter = ScriptedAdapter(*script)
        return clients.CyborgClient(self.adapter)

    def test_an_empty_list_is_no_items(self):
        client = self._client(
            Response(200, {'arqs': []}),
            Response(200, {'deployables': []}),
            Response(200, {'devices': []}),
        )
        self.assertEqual([], client.arqs(instance='i-1'))
        self.assertEqual([], client.deployables())
        self.assertEqual([], client.devices())
        self.assertEqual(
            {'instance': 'i-1'}, self.adapter.calls[0][2]['params']
        )

    def test_a_404_on_a_collection_is_cyborg_unavailable(self):
        # Cyborg 17 answers 404 to every ARQ listing once one ARQ's
        # device profile is gone: no ARQ may be taken as released.
        for read, path in (
            (lambda c: c.arqs(), '/accelerator_requests'),
            (lambda c: c.arqs(instance='i-1'), '/accelerator_requests'),
            (lambda c: c.deployables(), '/deployables'),
            (lambda c: c.devices(), '/devices'),
        ):
            err = self.assertRaises(
                clients.ServerError, read, self._client(Response(404))
            )
            self.assertIsInstance(err, clients.ServiceUnavailable)
            self.assertIn('GET %s answered 404' % path, str(err))

    def test_a_404_on_one_arq_is_that_arq_gone(self):
        self.assertIsNone(self._client(Response(404)).arq('a-1'))
