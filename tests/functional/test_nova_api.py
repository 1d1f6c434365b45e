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

"""Nova's DynamicJSON vendordata hook and flavors through openstacksdk."""

from __future__ import annotations

import json
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from typing import Any

import pytest

from orionx_cyborg.sandbox import identity
from orionx_cyborg.sandbox import stack
from orionx_cyborg.sandbox import wsgi
from tests.functional import helpers


class Target:
    """A DynamicJSON target in the test process: records, answers."""

    def __init__(self, status: str, body: bytes) -> None:
        self.status = status
        self.body = body
        self.requests: list[dict[str, Any]] = []
        self.port = wsgi.free_port()
        self.server = wsgi.make_server('127.0.0.1', self.port, self)
        wsgi.serve_in_thread(self.server, 'vendordata-target')

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        length = int(environ.get('CONTENT_LENGTH') or 0)
        self.requests.append(
            {
                'body': json.loads(environ['wsgi.input'].read(length)),
                'token': environ.get('HTTP_X_AUTH_TOKEN'),
            }
        )
        start_response(self.status, [('Content-Type', 'application/json')])
        return [self.body]

    @property
    def url(self) -> str:
        return 'http://127.0.0.1:%d/' % self.port


@pytest.fixture
def targets(sandbox: stack.Sandbox) -> Iterator[dict[str, Target]]:
    good = Target('200 OK', b'{"orionx": {"state": "pending"}}')
    failing = Target('500 Internal Server Error', b'{"error": "boom"}')
    not_json = Target('200 OK', b'<html>')
    nova = sandbox.nova_sandbox()
    before = nova.get('/sandbox/vendordata_targets')['targets']
    nova.put(
        '/sandbox/vendordata_targets',
        {
            'targets': [
                'good@' + good.url,
                'failing@' + failing.url,
                'not_json@' + not_json.url,
                'down@http://127.0.0.1:%d/' % wsgi.free_port(),
            ]
        },
    )
    yield {'good': good, 'failing': failing, 'not_json': not_json}
    nova.put('/sandbox/vendordata_targets', {'targets': before})
    for target in (good, failing, not_json):
        target.server.shutdown()
        target.server.server_close()


def test_vendordata_targets_get_the_instance_and_failures_are_empty(
    sandbox: stack.Sandbox,
    targets: dict[str, Target],
    boot: Callable[..., dict[str, Any]],
) -> None:
    record = boot('1', metadata={'role': 'trainer'}, user_data='aGVsbG8=')
    assert record['status'] == 'ACTIVE', record['fault']
    answer = sandbox.nova_sandbox().get(
        '/sandbox/servers/%s/vendor_data2.json' % record['id']
    )
    assert answer == {
        'good': {'orionx': {'state': 'pending'}},
        'failing': {},
        'not_json': {},
        'down': {},
    }
    [call] = targets['good'].requests
    body = call['body']
    assert body['instance-id'] == record['id']
    assert body['project-id'] == identity.MEMBER_PROJECT_ID
    assert body['hostname'] == record['hostname']
    assert body['metadata'] == {'role': 'trainer'}
    assert body['user-data'] == 'aGVsbG8='
    assert body['boot-roles'] == 'member,reader'
    assert body['image-id']
    assert call['token'] == identity.SERVICE_TOKEN


def test_metadata_service_path_serves_vendor_data2(
    sandbox: stack.Sandbox,
    targets: dict[str, Target],
    boot: Callable[..., dict[str, Any]],
) -> None:
    record = boot('1')
    metadata = sandbox.nova_sandbox()
    answer = metadata.get(
        '/openstack/latest/vendor_data2.json',
        headers={'X-Instance-ID': record['id']},
    )
    assert answer['good'] == {'orionx': {'state': 'pending'}}
    assert answer['failing'] == {}


def test_flavors_with_extra_specs_through_openstacksdk(
    admin_conn: Any,
) -> None:
    name = helpers.unique('sdk-flavor')
    flavor = admin_conn.compute.create_flavor(
        name=name, ram=2048, vcpus=2, disk=20
    )
    try:
        admin_conn.compute.create_flavor_extra_specs(
            flavor, {'accel:device_profile': 'some-profile', 'a': 'b'}
        )
        found = admin_conn.compute.find_flavor(name)
        assert found.id == flavor.id
        specs = admin_conn.compute.fetch_flavor_extra_specs(flavor)
        assert specs.extra_specs == {
            'accel:device_profile': 'some-profile',
            'a': 'b',
        }
        admin_conn.compute.delete_flavor_extra_specs_property(flavor, 'a')
        assert (
            admin_conn.compute.get_flavor_extra_specs_property(
                flavor, 'accel:device_profile'
            )
            == 'some-profile'
        )
        names = {f.name for f in admin_conn.compute.flavors()}
        assert {name, 'm1.tiny'} <= names
    finally:
        admin_conn.compute.delete_flavor(flavor)
    assert admin_conn.compute.find_flavor(name) is None
