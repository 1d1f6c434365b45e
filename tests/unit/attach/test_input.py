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

"""Bad input gets a 4xx with a message; every 503 says when to retry."""

import uuid

import fixtures

from orionx_cyborg.attach import app as app_mod
from orionx_cyborg.attach import ledger as ledger_mod
from tests.unit.attach import test_api


def nested(depth):
    return '[' * depth + ']' * depth


class TestDeepJson(test_api.ApiTestCase):
    def post(self, path, text, token):
        return self.call(
            'POST',
            path,
            token=token,
            data=text,
            content_type='application/json',
        )

    def test_deeply_nested_bodies_are_400(self):
        instance = '"%s"' % uuid.uuid4()
        # Within [oslo_middleware] max_request_body_size: a larger body
        # is refused with 413 before it is read (test_pipeline).
        for depth in (40, 20000):
            for path, token, text in (
                (
                    '/v1/vendordata',
                    'nova',
                    '{"instance-id": %s, "metadata": %s}'
                    % (instance, nested(depth)),
                ),
                ('/v1/vendordata', 'nova', nested(depth)),
                (
                    '/v1/admissions',
                    'cyborg',
                    '{"arq_uuid": %s}' % nested(depth),
                ),
            ):
                status, doc, _ = self.post(path, text, token)
                self.assertEqual(400, status, (path, depth))
                self.assertIn('error', doc)

    def test_an_ordinary_nova_body_is_accepted(self):
        body = {
            'instance-id': str(uuid.uuid4()),
            'metadata': {'a': {'b': [{'c': [1, 2]}]}},
            'boot-roles': 'member,reader',
        }
        status, doc, _ = self.vendordata(body)
        self.assertEqual((200, 'none'), (status, doc['status']))

    def test_the_depth_check(self):
        from orionx_cyborg.attach import api

        self.assertFalse(api._too_deep({'a': [1, {'b': 2}]}, 3))
        self.assertTrue(api._too_deep({'a': [1, {'b': [3]}]}, 3))
        self.assertFalse(api._too_deep({'a': [1, {'b': [3]}]}, 4))


class TestEvery503SaysWhenToRetry(test_api.ApiTestCase):
    def test_ledger_down(self):
        self.useFixture(
            fixtures.MockPatchObject(
                self.ledger,
                'list',
                side_effect=ledger_mod.LedgerUnavailable(reason='gone'),
            )
        )
        status, doc, response = self.call('GET', '/v1/leases', token='admin')
        self.assertEqual(503, status)
        self.assertEqual('15', response.headers['Retry-After'])
        self.assertNotIn('gone', doc['error']['message'])

    def test_a_503_of_the_middleware(self):
        def keystone_down(environ, start_response):
            start_response('503 Service Unavailable', [('X-A', 'b')])
            return [b'Keystone is unavailable']

        def ours(environ, start_response):
            start_response('503 Service Unavailable', [('Retry-After', '3')])
            return [b'']

        def fine(environ, start_response):
            start_response('200 OK', [])
            return [b'']

        seen = {}

        def start_response(status, headers, exc_info=None):
            seen[status] = dict(headers)

        app_mod.RetryAfter(keystone_down, 15)({}, start_response)
        self.assertEqual('15', seen['503 Service Unavailable']['Retry-After'])
        app_mod.RetryAfter(ours, 15)({}, start_response)
        self.assertEqual('3', seen['503 Service Unavailable']['Retry-After'])
        app_mod.RetryAfter(fine, 15)({}, start_response)
        self.assertNotIn('Retry-After', seen['200 OK'])
