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

"""The openstacksdk seam: conversions, errors, the trait keeper.

Its calls against real Cyborg, Placement and the Nova stand-in are in
tests/functional/test_profiles_sync.py; here a connection stand-in
checks what the seam makes of answers and failures.
"""

import json
import types

from keystoneauth1 import exceptions as ks_exceptions

from orionx_cyborg.profiles import cloud
from orionx_cyborg.profiles import state
from tests import base


class Response:
    def __init__(self, status, body=None):
        self.status_code = status
        self.content = b'' if body is None else json.dumps(body).encode()
        self.text = self.content.decode()
        self._body = body

    def json(self):
        return self._body


class FakePlacement:
    """Placement's traits and providers, for the keeper's calls."""

    def __init__(self):
        self.providers = {}
        self.traits = set()
        self.calls = []

    def request(
        self, path, method, json=None, microversion=None, headers=None
    ):
        self.calls.append((method, path))
        parts = path.strip('/').split('/')
        if parts[0] == 'traits':
            created = parts[1] not in self.traits
            self.traits.add(parts[1])
            return Response(201 if created else 204)
        if method == 'POST':
            self.providers[json['uuid']] = {'generation': 0, 'traits': []}
            return Response(200, {'uuid': json['uuid']})
        provider = self.providers.get(parts[1])
        if provider is None:
            return Response(404, {'errors': []})
        if len(parts) == 2:
            return Response(200, {'uuid': parts[1]})
        if method == 'PUT':
            assert (
                json['resource_provider_generation'] == provider['generation']
            )
            provider['traits'] = json['traits']
            provider['generation'] += 1
        return Response(
            200,
            {
                'traits': provider['traits'],
                'resource_provider_generation': provider['generation'],
            },
        )


def flavor(**fields):
    values = dict(
        id='f1',
        name='g1',
        vcpus=2,
        ram=2048,
        disk=10,
        ephemeral=0,
        swap='',
        is_public=True,
        extra_specs={},
    )
    values.update(fields)
    return types.SimpleNamespace(**values)


class FailingProxy:
    def __getattr__(self, name):
        def fail(*args, **kwargs):
            raise ks_exceptions.ConnectFailure('connection refused')

        return fail


class TestCloud(base.TestCase):
    def setUp(self):
        super().setUp()
        self.placement = FakePlacement()
        self.profiles = []
        self.flavors = []
        self.conn = types.SimpleNamespace(
            placement=self.placement,
            accelerator=types.SimpleNamespace(
                device_profiles=lambda: list(self.profiles)
            ),
            compute=types.SimpleNamespace(
                flavors=lambda **query: list(self.flavors)
            ),
        )
        self.cloud = cloud.Cloud(self.conn)

    def test_state_converts_profiles_and_flavors(self):
        self.profiles.append(
            types.SimpleNamespace(
                uuid='u1',
                name='p',
                groups=[{'resources:PGPU': '1'}],
                description=None,
            )
        )
        self.flavors.append(
            flavor(extra_specs={'orionx:managed': 'true', 'hw:numa_nodes': 1})
        )
        current = self.cloud.state()
        (profile,) = current.profiles
        self.assertEqual(
            ('u1', 'p', ({'resources:PGPU': '1'},), ''),
            (profile.uuid, profile.name, profile.groups, profile.description),
        )
        (converted,) = current.flavors
        # Nova shows "no swap" as "" before microversion 2.75.
        self.assertEqual((2, 2048, 10, 0, 0, True), converted.shape())
        self.assertTrue(converted.managed)
        self.assertEqual('1', converted.extra_specs['hw:numa_nodes'])
        self.assertFalse(current.trait_kept)

    def test_keep_trait_once(self):
        self.cloud.keep_trait()
        self.assertEqual({'CUSTOM_ORIONX_UNHEALTHY'}, self.placement.traits)
        keeper = self.placement.providers[cloud.TRAIT_KEEPER_UUID]
        self.assertEqual(['CUSTOM_ORIONX_UNHEALTHY'], keeper['traits'])
        self.assertTrue(self.cloud.state().trait_kept)
        # Again: nothing new is created.
        self.placement.calls = []
        self.cloud.keep_trait()
        self.assertNotIn(('POST', '/resource_providers'), self.placement.calls)
        self.assertEqual(1, len(self.placement.providers))

    def test_placement_errors_are_named(self):
        self.placement.request = lambda *a, **k: Response(
            403, {'errors': [{'detail': 'policy'}]}
        )
        err = self.assertRaises(cloud.CloudError, self.cloud.keep_trait)
        self.assertIn(
            'PUT /traits/CUSTOM_ORIONX_UNHEALTHY on Placement '
            'failed: HTTP 403',
            str(err),
        )

    def test_connection_errors_become_cloud_errors(self):
        self.conn.accelerator = FailingProxy()
        err = self.assertRaises(cloud.CloudError, self.cloud.state)
        self.assertIn(
            'Reading the device profiles and flavors failed: '
            'connection refused',
            str(err),
        )

    def test_servers_count_by_the_profile_in_their_flavor(self):
        servers = [
            types.SimpleNamespace(
                flavor={'extra_specs': {state.DEVICE_PROFILE_SPEC: 'p'}}
            ),
            types.SimpleNamespace(
                flavor=flavor(extra_specs={state.DEVICE_PROFILE_SPEC: 'p'})
            ),
            types.SimpleNamespace(flavor={'original_name': 'm1'}),
        ]
        self.conn.compute.servers = lambda **query: servers
        self.assertEqual({'p': 2}, dict(self.cloud._servers_by_profile()))
