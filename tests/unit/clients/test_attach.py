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

"""The attach service's API client, through a real keystoneauth Adapter.

The session under the adapter is a stand-in that records what the
adapter asks of it (service type, interface, region, timeout) and hands
the request to the attach service's real application (its production
middleware with the no-auth filter, over the stand-ins of Cyborg and
Placement of its own API tests), or answers from a script for the
failures a live service cannot be made to show on demand.
"""

import json
import uuid

from keystoneauth1 import exceptions as ks_exceptions
from keystoneauth1 import session as ks_session
from werkzeug import test as werkzeug_test

from orionx_cyborg import clients
from orionx_cyborg.clients import attach
from tests import base
from tests.unit.attach import test_api as attach_tests


class Response:
    def __init__(self, status, body=None, text=None):
        self.status_code = status
        self.text = text if text is not None else json.dumps(body)
        self.content = self.text.encode()

    def json(self):
        return json.loads(self.text)


class FakeSession(ks_session.Session):
    """Records each request; answers from *app* or from a script."""

    def __init__(self, app=None, token='admin', project=None, script=()):
        super().__init__()
        self.client = werkzeug_test.Client(app) if app else None
        self.token = token
        self.project = project
        self.script = list(script)
        self.calls = []

    def request(self, url, method, **kwargs):
        self.calls.append((method, url, kwargs))
        if self.script:
            step = self.script.pop(0)
            if isinstance(step, Exception):
                raise step
            return step
        response = self.client.open(
            url,
            method=method,
            query_string=kwargs.get('params'),
            json=kwargs.get('json'),
            headers=dict(
                kwargs.get('headers') or {}, **{'X-Auth-Token': self.token}
            ),
        )
        return Response(
            response.status_code, text=response.get_data(as_text=True)
        )

    def get_project_id(self, auth=None):
        return self.project


def _client(session, **kwargs):
    return attach.AttachClient.from_session(
        session, interface='internal', region_name='RegionTwo', **kwargs
    )


class TestTransport(base.TestCase):
    def test_service_type_interface_region_and_timeout_reach_the_session(
        self,
    ):
        session = FakeSession(script=[Response(200, {'pools': []})])
        self.assertEqual([], _client(session, timeout=7.5).pools())
        ((method, url, kwargs),) = session.calls
        self.assertEqual(('GET', '/v1/pools'), (method, url))
        self.assertEqual(
            {
                'service_type': 'orionx-attach',
                'interface': 'internal',
                'region_name': 'RegionTwo',
            },
            {
                key: kwargs['endpoint_filter'][key]
                for key in ('service_type', 'interface', 'region_name')
            },
        )
        self.assertEqual(7.5, kwargs['timeout'])
        self.assertFalse(kwargs['raise_exc'])
        # The attach API has no microversions: no header is sent.
        self.assertNotIn('microversion', kwargs)

    def test_every_call_has_the_default_timeout(self):
        session = FakeSession(
            script=[
                Response(200, {'pools': []}),
                Response(200, {'leases': []}),
                Response(200, {'healthy': True, 'reasons': []}),
            ]
        )
        client = _client(session)
        client.pools()
        client.leases(all_projects=True)
        client.health()
        self.assertEqual(
            [attach.DEFAULT_TIMEOUT] * 3,
            [kwargs['timeout'] for _, _, kwargs in session.calls],
        )

    def test_endpoint_override(self):
        session = FakeSession(script=[Response(200, {'pools': []})])
        _client(session, endpoint_override='http://attach:9911').pools()
        self.assertEqual(
            'http://attach:9911', session.calls[0][2]['endpoint_override']
        )

    def test_no_answer_in_time_is_timed_out(self):
        session = FakeSession(script=[ks_exceptions.ConnectTimeout('slow')])
        err = self.assertRaises(clients.TimedOut, _client(session).pools)
        self.assertIn('orionx-cyborg-attach', str(err))

    def test_refused_connection_and_5xx_are_unavailable(self):
        session = FakeSession(
            script=[
                ks_exceptions.ConnectFailure('refused'),
                Response(
                    503,
                    {
                        'error': {
                            'code': 503,
                            'title': 'Service Unavailable',
                            'message': 'The lease ledger is unavailable.',
                        }
                    },
                ),
                ks_exceptions.EndpointNotFound('no orionx-attach'),
            ]
        )
        client = _client(session)
        self.assertRaises(clients.ConnectFailed, client.pools)
        err = self.assertRaises(clients.ServerError, client.pools)
        self.assertIn('The lease ledger is unavailable.', str(err))
        self.assertRaises(clients.ServiceUnavailable, client.pools)

    def test_a_health_answer_without_a_document_is_a_server_error(self):
        session = FakeSession(script=[Response(503, text='')])
        self.assertRaises(clients.ServerError, _client(session).health)


class ApiClientTestCase(attach_tests.ApiTestCase):
    def setUp(self):
        super().setUp()
        self.mine = str(uuid.uuid4())
        self.theirs = str(uuid.uuid4())
        self.cyborg.bind(self.mine, project=attach_tests.PROJECT)
        self.cyborg.bind(self.theirs, project=attach_tests.OTHER)
        self.reconciler.run_pass()

    def attach_client(self, token='admin', project=None):
        self.session = FakeSession(self.application(), token, project)
        return _client(self.session)


class TestPools(ApiClientTestCase):
    def test_list(self):
        (pool,) = self.attach_client().pools()
        self.assertEqual('default', pool.name)
        self.assertEqual(1, pool.gpus_total)
        self.assertEqual(
            attach.Usage(capacity=40000, used=32768, free=7232),
            pool.gmem_mib,
        )
        self.assertEqual(attach.Usage(100, 50, 50), pool.compute_pct)
        self.assertEqual(2, pool.leases['active'])
        self.assertEqual(0, pool.pending)
        self.assertIsNone(pool.gpus)
        self.assertAlmostEqual(81.92, pool.gmem_mib.percent)

    def test_show_has_the_gpus(self):
        pool = self.attach_client().pool('default')
        (gpu,) = pool.gpus
        self.assertEqual(
            ('GPU-1', 'gpu1', 'NVIDIA H200', True, 2),
            (gpu.gpu_uuid, gpu.host, gpu.model, gpu.healthy, gpu.leases),
        )
        self.assertEqual(50, gpu.compute_pct.used)

    def test_gpus_of_every_pool(self):
        ((pool, gpu),) = self.attach_client().gpus()
        self.assertEqual(('default', 'GPU-1'), (pool, gpu.gpu_uuid))

    def test_unknown_pool_is_not_found(self):
        err = self.assertRaises(
            clients.NotFound, self.attach_client().pool, 'no such'
        )
        self.assertEqual(404, err.kwargs['status'])
        self.assertIn('This service serves no pool', str(err))
        # The name is one path segment, quoted.
        self.assertEqual('/v1/pools/no%20such', self.session.calls[0][1])

    def test_a_project_member_may_not_see_pools(self):
        client = self.attach_client('demo:' + attach_tests.PROJECT)
        self.assertRaises(clients.Forbidden, client.pools)
        self.assertRaises(clients.Forbidden, client.health)


class TestLeases(ApiClientTestCase):
    def test_an_admin_sees_every_project_with_all_projects(self):
        leases = self.attach_client(project='admin-project').leases(
            all_projects=True
        )
        self.assertEqual(
            {self.mine, self.theirs}, {lease.instance_uuid for lease in leases}
        )

    def test_without_all_projects_the_callers_own_project(self):
        client = self.attach_client(project=attach_tests.OTHER)
        (lease,) = client.leases()
        self.assertEqual(self.theirs, lease.instance_uuid)
        self.assertEqual(
            {'project': attach_tests.OTHER, 'limit': '1000'},
            self.session.calls[0][2]['params'],
        )

    def test_a_project_sees_only_its_own_whatever_it_asks(self):
        token = 'demo:' + attach_tests.PROJECT
        client = self.attach_client(token, project=attach_tests.PROJECT)
        self.assertEqual(
            [self.mine],
            [lease.instance_uuid for lease in client.leases()],
        )
        self.assertEqual(
            [self.mine],
            [
                lease.instance_uuid
                for lease in client.leases(all_projects=True)
            ],
        )
        self.assertEqual([], client.leases(project=attach_tests.OTHER))

    def test_filters(self):
        client = self.attach_client()
        (lease,) = client.leases(instance=self.mine, all_projects=True)
        self.assertEqual(attach_tests.PROJECT, lease.project_id)
        self.assertEqual(
            2,
            len(
                client.leases(
                    state='active', pool='default', all_projects=True
                )
            ),
        )
        self.assertEqual([], client.leases(host='nowhere', all_projects=True))
        self.assertEqual(
            {'instance': self.mine, 'limit': '1000'},
            self.session.calls[0][2]['params'],
        )

    def test_an_unknown_state_is_a_bad_request(self):
        err = self.assertRaises(
            clients.BadRequest,
            self.attach_client().leases,
            state='lost',
            all_projects=True,
        )
        self.assertIn('state must be one of', str(err))

    def test_pages_are_followed_and_limit_honoured(self):
        client = self.attach_client()
        self.patch(attach, 'PAGE_SIZE', 1)
        leases = client.leases(all_projects=True)
        self.assertEqual(2, len(leases))
        self.assertEqual(
            leases[0].id, self.session.calls[1][2]['params']['marker']
        )
        self.assertEqual(1, len(client.leases(all_projects=True, limit=1)))

    def test_show_has_events_and_endpoint(self):
        client = self.attach_client()
        (listed,) = client.leases(instance=self.mine, all_projects=True)
        self.assertIsNone(listed.events)
        lease = client.lease(listed.id)
        self.assertEqual('active', lease.state)
        self.assertEqual('GPU-1', lease.gpu_uuid)
        self.assertEqual('rdma://192.0.2.10:9960', str(lease.endpoint))
        self.assertTrue(lease.events)
        self.assertTrue(all(e.event for e in lease.events))

    def test_another_projects_lease_is_not_found(self):
        (theirs,) = self.attach_client().leases(
            instance=self.theirs, all_projects=True
        )
        client = self.attach_client('demo:' + attach_tests.PROJECT)
        self.assertRaises(clients.NotFound, client.lease, theirs.id)
        self.assertRaises(clients.NotFound, client.lease, 'nonsense')


class TestHealth(ApiClientTestCase):
    def test_healthy(self):
        health = self.attach_client().health()
        self.assertTrue(health.healthy)
        self.assertEqual((), health.reasons)
        self.assertEqual(2, health.details['leases'])
