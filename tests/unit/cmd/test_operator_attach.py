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

"""``pool status`` and ``leases list|show`` against the real attach API.

The attach service's application (over the stand-ins of Cyborg and
Placement its own API tests use) is served over HTTP on a free port with
the sandbox's no-auth filter; the commands reach it through openstacksdk
and keystoneauth as they would in production: by ``--attach-url`` with
an ``admin_token`` cloud, or through a Keystone catalog served beside it.
"""

import io
import json
import threading
import uuid

import fixtures
from keystoneauth1 import fixture as ks_fixture
from werkzeug import serving

from orionx_cyborg import clients
from orionx_cyborg.attach import api
from orionx_cyborg.attach import context
from orionx_cyborg.clients import attach as attach_client
from orionx_cyborg.cmd import cli
from orionx_cyborg.cmd import operator
from tests.unit.attach import test_api as attach_tests

OS_VARIABLES = (
    'OS_CLOUD',
    'OS_AUTH_TYPE',
    'OS_TOKEN',
    'OS_ENDPOINT',
    'OS_AUTH_URL',
    'OS_USERNAME',
    'OS_PASSWORD',
    'OS_PROJECT_NAME',
    'OS_USER_DOMAIN_NAME',
    'OS_PROJECT_DOMAIN_NAME',
    'OS_REGION_NAME',
    'OS_INTERFACE',
    'ORIONX_ATTACH_URL',
)


class FakeKeystone:
    """Enough of Keystone v3 for keystoneauth's password plugin."""

    def __init__(self, app, token):
        self.app = app
        self.token = token
        self.base = None

    def __call__(self, environ, start_response):
        path = environ.get('PATH_INFO', '')
        if not path.startswith('/identity'):
            return self.app(environ, start_response)
        if environ['REQUEST_METHOD'] == 'POST':
            body = ks_fixture.V3Token()
            body.set_project_scope()
            service = body.add_service('orionx-attach')
            service.add_standard_endpoints(
                public=self.base + '/attach', region='RegionOne'
            )
            headers = [('X-Subject-Token', self.token)]
            return self._json(start_response, '201 Created', body, headers)
        version = {
            'version': {
                'id': 'v3.14',
                'status': 'stable',
                'links': [
                    {'rel': 'self', 'href': self.base + '/identity/v3/'}
                ],
                'media-types': [],
            }
        }
        return self._json(start_response, '200 OK', version)

    @staticmethod
    def _json(start_response, status, body, headers=()):
        data = json.dumps(body).encode()
        start_response(
            status,
            [
                ('Content-Type', 'application/json'),
                ('Content-Length', str(len(data))),
            ]
            + list(headers),
        )
        return [data]


class StripPrefix:
    """The attach service mounted under /attach, as behind a proxy."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        path = environ.get('PATH_INFO', '')
        if path.startswith('/attach'):
            environ['PATH_INFO'] = path[len('/attach') :] or '/'
        return self.app(environ, start_response)


class AttachCommandsTestCase(attach_tests.ApiTestCase):
    def setUp(self):
        super().setUp()
        for name in OS_VARIABLES:
            self.useFixture(fixtures.EnvironmentVariable(name))
        self.keystone = FakeKeystone(
            StripPrefix(
                context.NoAuthMiddleware(
                    api.create_app(self.service, self.reconciler)
                )
            ),
            'admin',
        )
        server = serving.make_server(
            '127.0.0.1', 0, self.keystone, threaded=True
        )
        self.base = 'http://127.0.0.1:%d' % server.server_port
        self.keystone.base = self.base
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        self.addCleanup(thread.join, 5)
        self.addCleanup(server.shutdown)
        self.mine = str(uuid.uuid4())
        self.theirs = str(uuid.uuid4())
        self.cyborg.bind(self.mine, project=attach_tests.PROJECT)
        self.cyborg.bind(self.theirs, project=attach_tests.OTHER)
        self.reconciler.run_pass()

    def token(self, token):
        for name, value in (
            ('OS_AUTH_TYPE', 'admin_token'),
            ('OS_TOKEN', token),
            ('OS_ENDPOINT', self.base),
        ):
            self.useFixture(fixtures.EnvironmentVariable(name, value))
        self.useFixture(
            fixtures.EnvironmentVariable(
                'ORIONX_ATTACH_URL', self.base + '/attach'
            )
        )

    def run_cli(self, *argv):
        args = cli.build_parser(extra=operator.register).parse_args(argv)
        out = io.StringIO()
        self.stderr = io.StringIO()
        self.useFixture(fixtures.MonkeyPatch('sys.stderr', self.stderr))
        code = args.handler(args, out)
        return code, out.getvalue()


class TestDeprecation(AttachCommandsTestCase):
    def test_each_alias_names_the_command_that_replaces_it(self):
        self.token('admin')
        lease_id = self.ledger.list(instance=self.mine)[0].id
        for argv, new in (
            (('pool', 'status'), 'openstack orionx pool list'),
            (
                ('pool', 'status', 'default'),
                'openstack orionx pool show NAME',
            ),
            (
                ('leases', 'list'),
                'openstack orionx lease list --all-projects',
            ),
            (('leases', 'show', lease_id), 'openstack orionx lease show'),
        ):
            code, _ = self.run_cli(*argv)
            self.assertEqual(0, code)
            self.assertIn(
                'orionx-cyborg %s is deprecated' % ' '.join(argv[:2]),
                self.stderr.getvalue(),
            )
            self.assertIn('use "%s"' % new, self.stderr.getvalue())


class TestPoolStatus(AttachCommandsTestCase):
    def test_table(self):
        self.token('admin')
        code, out = self.run_cli('pool', 'status')
        self.assertEqual(0, code)
        lines = out.splitlines()
        self.assertEqual(
            [
                'POOL',
                'GPUS',
                'UNHEALTHY',
                'GPU',
                'MEMORY',
                'MIB',
                'COMPUTE',
                '%',
                'LEASES',
                'FRAGMENTATION',
            ],
            lines[0].split(),
        )
        self.assertEqual(
            [
                'default',
                '1',
                '0',
                '32768/40000',
                '(82%)',
                '50/100',
                '(50%)',
                'active=2',
            ],
            lines[1].split()[:8],
        )

    def test_one_pool_with_its_gpus(self):
        self.token('admin')
        code, out = self.run_cli('pool', 'status', 'default')
        self.assertEqual(0, code)
        self.assertIn('GPU    HOST  MODEL        HEALTH   GPU MEMORY MIB', out)
        self.assertIn(
            'GPU-1  gpu1  NVIDIA H200  healthy  32768/40000 (82%)', out
        )

    def test_json(self):
        self.token('admin')
        code, out = self.run_cli('pool', 'status', '-f', 'json')
        (pool,) = json.loads(out)['pools']
        self.assertEqual(
            (0, 'default', 32768),
            (code, pool['name'], pool['gmem_mib']['used']),
        )

    def test_errors_of_the_service_are_shown(self):
        self.token('demo:' + attach_tests.PROJECT)
        error = self.assertRaises(
            clients.Forbidden,
            self.run_cli,
            'pool',
            'status',
            'default',
        )
        self.assertIn(
            'answered 403 to GET /v1/pools/default: Policy does not allow '
            'orionx_attach:pools:show.',
            str(error),
        )


class TestLeases(AttachCommandsTestCase):
    def test_list_as_admin(self):
        self.token('admin')
        code, out = self.run_cli('leases', 'list')
        self.assertEqual(0, code)
        self.assertEqual(
            [
                'ID',
                'INSTANCE',
                'PROJECT',
                'STATE',
                'POOL',
                'SIZE',
                'GPU',
                'ENDPOINT',
            ],
            out.splitlines()[0].split(),
        )
        self.assertIn(self.mine, out)
        self.assertIn(self.theirs, out)
        self.assertIn(
            'active  default  16384 MiB/25%  gpu1 0000:18:00.0  '
            'rdma://192.0.2.10:9960',
            out,
        )

    def test_list_filters_and_paging(self):
        self.token('admin')
        _, out = self.run_cli(
            'leases', 'list', '--instance', self.mine, '-f', 'json'
        )
        (lease,) = json.loads(out)['leases']
        self.assertEqual(self.mine, lease['instance_uuid'])
        _, out = self.run_cli('leases', 'list', '--limit', '1', '-f', 'json')
        self.assertEqual(1, len(json.loads(out)['leases']))
        _, out = self.run_cli(
            'leases', 'list', '--state', 'pending', '-f', 'json'
        )
        self.assertEqual([], json.loads(out)['leases'])

    def test_state_choices_are_the_ledgers(self):
        self.assertEqual(
            [s.value for s in attach_tests.ledger_mod.LeaseState],
            list(operator.LEASE_STATES),
        )

    def test_every_page_is_read(self):
        self.token('admin')
        self.useFixture(
            fixtures.MockPatchObject(attach_client, 'PAGE_SIZE', 1)
        )
        _, out = self.run_cli('leases', 'list', '-f', 'json')
        self.assertEqual(
            {self.mine, self.theirs},
            {lease['instance_uuid'] for lease in json.loads(out)['leases']},
        )

    def test_a_project_sees_its_own(self):
        self.token('demo:' + attach_tests.PROJECT)
        _, out = self.run_cli('leases', 'list', '-f', 'json')
        self.assertEqual(
            [self.mine],
            [lease['instance_uuid'] for lease in json.loads(out)['leases']],
        )

    def test_show(self):
        self.token('admin')
        lease_id = self.ledger.list(instance=self.mine)[0].id
        code, out = self.run_cli('leases', 'show', lease_id)
        self.assertEqual(0, code)
        self.assertIn('instance_uuid    %s' % self.mine, out)
        self.assertIn('endpoint         rdma://192.0.2.10:9960', out)
        self.assertIn('AT', out.split('\n\n')[1])
        self.assertIn(' claimed ', out)
        _, out = self.run_cli('leases', 'show', lease_id, '-f', 'json')
        self.assertEqual(
            ['claimed', 'placed'],
            [e['event'] for e in json.loads(out)['events']],
        )

    def test_show_unknown(self):
        self.token('admin')
        error = self.assertRaises(
            clients.NotFound,
            self.run_cli,
            'leases',
            'show',
            'nope',
        )
        self.assertIn(
            'answered 404 to GET /v1/leases/nope: No lease nope.', str(error)
        )


class TestCatalog(AttachCommandsTestCase):
    def test_the_endpoint_comes_from_the_catalog(self):
        for name, value in (
            ('OS_AUTH_TYPE', 'password'),
            ('OS_AUTH_URL', self.base + '/identity/v3'),
            ('OS_USERNAME', 'operator'),
            ('OS_PASSWORD', 'secret'),
            ('OS_PROJECT_NAME', 'admin'),
            ('OS_USER_DOMAIN_NAME', 'Default'),
            ('OS_PROJECT_DOMAIN_NAME', 'Default'),
            ('OS_REGION_NAME', 'RegionOne'),
        ):
            self.useFixture(fixtures.EnvironmentVariable(name, value))
        code, out = self.run_cli('leases', 'list', '-f', 'json')
        self.assertEqual(0, code)
        self.assertEqual(2, len(json.loads(out)['leases']))

    def test_no_cloud_at_all(self):
        error = self.assertRaises(
            operator.connection.ConnectionFailed,
            self.run_cli,
            'pool',
            'status',
        )
        self.assertIn('Cannot connect to the cloud', str(error))
