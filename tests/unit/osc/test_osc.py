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

"""``openstack orionx ...`` through python-openstackclient's own shell.

The real ``openstack`` shell (in process) loads the plugin by its entry
points and talks over HTTP to the attach service's real application,
served with the sandbox's no-auth filter over the stand-ins of Cyborg
and Placement of its own API tests (see :mod:`tests.unit.cmd.
test_operator_attach`); the token names the caller.
"""

import argparse
import io
import json
from importlib import metadata

import fixtures
import yaml
from openstackclient import shell as osc_shell
from openstackclient.common import clientmanager

from orionx_cyborg.clients import attach
from orionx_cyborg.osc import plugin
from tests import base
from tests.unit.attach import test_api as attach_tests
from tests.unit.cmd import test_operator_attach as served

LEASE_COLUMNS = [
    'ID',
    'Instance',
    'Project',
    'State',
    'Pool',
    'GPU Memory MiB',
    'Compute Pct',
    'VM Host',
    'GPU Host',
    'Endpoint',
]


class OscTestCase(served.AttachCommandsTestCase):
    def setUp(self):
        super().setUp()
        for name in ('OS_ORIONX_API_VERSION', 'OS_ORIONX_TIMEOUT'):
            self.useFixture(fixtures.EnvironmentVariable(name))
        # OSC caches a plugin's client on the ClientManager class, once
        # per process (one command per process); each test has its own
        # service.
        # (set on osc_lib's base class, which openstackclient's extends)
        (manager,) = [
            cls
            for cls in clientmanager.ClientManager.__mro__
            if plugin.API_NAME in cls.__dict__
        ]
        cached = manager.__dict__[plugin.API_NAME]
        setattr(manager, plugin.API_NAME, property(plugin.make_client))
        self.addCleanup(setattr, manager, plugin.API_NAME, cached)

    def openstack(self, token, *argv):
        self.token(token)
        # The attach service is the admin_token plugin's endpoint.
        self.useFixture(
            fixtures.EnvironmentVariable('OS_ENDPOINT', self.base + '/attach')
        )
        shell = osc_shell.OpenStackShell()
        out = io.StringIO()
        err = io.StringIO()
        shell.stdout = out
        shell.stderr = err
        self.useFixture(fixtures.MonkeyPatch('sys.stderr', err))
        code = shell.run(list(argv))
        return code, out.getvalue(), err.getvalue()

    def json(self, token, *argv):
        code, out, err = self.openstack(token, *argv, '-f', 'json')
        self.assertEqual(0, code, err)
        return json.loads(out)


class TestPoolCommands(OscTestCase):
    def test_list_table(self):
        code, out, _ = self.openstack('admin', 'orionx', 'pool', 'list')
        self.assertEqual(0, code)
        self.assertIn(
            '| default |    1 |         0 |       0 | 32768/40000 (82%) '
            '| 50/100 (50%) | active=2 |',
            out,
        )

    def test_list_json_is_structured(self):
        (pool,) = self.json('admin', 'orionx', 'pool', 'list')
        self.assertEqual(
            {
                'Name',
                'GPUs',
                'Unhealthy',
                'Pending',
                'GPU Memory MiB',
                'Compute Pct',
                'Leases',
                'Fragmentation',
            },
            set(pool),
        )
        self.assertEqual(
            {'capacity': 40000, 'used': 32768, 'free': 7232},
            pool['GPU Memory MiB'],
        )
        self.assertEqual({'active': 2}, pool['Leases'])

    def test_show_with_its_gpus_and_columns(self):
        pool = self.json('admin', 'orionx', 'pool', 'show', 'default')
        (gpu,) = pool['gpus']
        self.assertEqual(
            ('GPU-1', 'gpu1', 2), (gpu['gpu_uuid'], gpu['host'], gpu['leases'])
        )
        code, out, _ = self.openstack(
            'admin', 'orionx', 'pool', 'show', 'default', '-c', 'gpus'
        )
        self.assertIn(
            '| gpus  | GPU-1 gpu1 NVIDIA H200 healthy memory 32768/40000 '
            'compute 50/100 leases 2 |',
            out,
        )

    def test_yaml_and_csv(self):
        code, out, _ = self.openstack(
            'admin', 'orionx', 'pool', 'list', '-f', 'yaml'
        )
        self.assertEqual('default', yaml.safe_load(out)[0]['Name'])
        code, out, _ = self.openstack(
            'admin', 'orionx', 'pool', 'list', '-f', 'csv', '-c', 'Name'
        )
        self.assertEqual('"Name"\n"default"\n', out.replace('\r', ''))

    def test_a_member_is_refused_with_the_services_message(self):
        code, _, err = self.openstack(
            'demo:' + attach_tests.PROJECT, 'orionx', 'pool', 'list'
        )
        self.assertEqual(1, code)
        self.assertIn('Policy does not allow orionx_attach:pools:list', err)

    def test_unknown_pool(self):
        code, _, err = self.openstack(
            'admin', 'orionx', 'pool', 'show', 'nosuch'
        )
        self.assertEqual(1, code)
        self.assertIn('This service serves no pool nosuch', err)


class TestLeaseCommands(OscTestCase):
    def test_an_operator_sees_every_project(self):
        leases = self.json(
            'admin', 'orionx', 'lease', 'list', '--all-projects'
        )
        self.assertEqual(LEASE_COLUMNS, list(leases[0]))
        self.assertEqual(
            {self.mine, self.theirs}, {lease['Instance'] for lease in leases}
        )
        self.assertEqual(
            {'rdma://192.0.2.10:9960'}, {lease['Endpoint'] for lease in leases}
        )

    def test_a_project_sees_only_its_own(self):
        token = 'demo:' + attach_tests.PROJECT
        for extra in ((), ('--all-projects',)):
            leases = self.json(token, 'orionx', 'lease', 'list', *extra)
            self.assertEqual(
                [self.mine], [lease['Instance'] for lease in leases]
            )

    def test_filters_and_long(self):
        leases = self.json(
            'admin',
            'orionx',
            'lease',
            'list',
            '--all-projects',
            '--project',
            attach_tests.OTHER,
            '--state',
            'active',
            '--pool',
            'default',
            '--long',
        )
        (lease,) = leases
        self.assertEqual(self.theirs, lease['Instance'])
        self.assertEqual('GPU-1', lease['GPU'])
        self.assertEqual(
            [],
            self.json('admin', 'orionx', 'lease', 'list', '--host', 'nowhere'),
        )

    def test_a_bad_state_is_refused_by_the_parser(self):
        exit_ = self.assertRaises(
            SystemExit,
            self.openstack,
            'admin',
            'orionx',
            'lease',
            'list',
            '--state',
            'lost',
        )
        self.assertEqual(2, exit_.code)

    def test_show(self):
        (listed,) = self.json(
            'admin', 'orionx', 'lease', 'list', '--instance', self.mine
        )
        lease = self.json('admin', 'orionx', 'lease', 'show', listed['ID'])
        self.assertEqual(
            {
                'id',
                'state',
                'instance_uuid',
                'project_id',
                'vm_host',
                'arq_uuid',
                'pool',
                'gmem_mib',
                'compute_pct',
                'gpu_uuid',
                'gpu_host',
                'gpu_pci_address',
                'endpoint',
                'created_at',
                'placed_at',
                'events',
            },
            set(lease),
        )
        self.assertEqual('active', lease['state'])
        self.assertTrue(lease['events'])
        self.assertEqual({'at', 'event', 'detail'}, set(lease['events'][0]))

    def test_another_projects_lease_is_not_found(self):
        (theirs,) = self.json(
            'admin', 'orionx', 'lease', 'list', '--instance', self.theirs
        )
        code, _, err = self.openstack(
            'demo:' + attach_tests.PROJECT,
            'orionx',
            'lease',
            'show',
            theirs['ID'],
        )
        self.assertEqual(1, code)
        self.assertIn('No lease %s' % theirs['ID'], err)


class TestPlugin(base.TestCase):
    def test_entry_points(self):
        (extension,) = [
            ep
            for ep in metadata.entry_points(group='openstack.cli.extension')
            if ep.name == 'orionx'
        ]
        self.assertIs(plugin, extension.load())
        commands = {
            ep.name: ep.value
            for ep in metadata.entry_points(group='openstack.orionx.v1')
        }
        self.assertEqual(
            {
                'orionx_pool_list',
                'orionx_pool_show',
                'orionx_lease_list',
                'orionx_lease_show',
                'orionx_gpu_list',
                'orionx_gpu_show',
            },
            set(commands),
        )
        for value in commands.values():
            self.assertTrue(metadata.EntryPoint('x', value, 'g').load())

    def test_options(self):
        parser = plugin.build_option_parser(argparse.ArgumentParser())
        args = parser.parse_args(
            ['--os-orionx-api-version', '1', '--os-orionx-timeout', '5']
        )
        self.assertEqual(
            ('1', 5.0), (args.os_orionx_api_version, args.os_orionx_timeout)
        )

    def test_make_client_takes_the_managers_session_region_interface(self):
        class Options:
            config = {'orionx_timeout': 9}

            def get_endpoint(self, service_type):
                return (
                    'http://override'
                    if service_type == (attach.SERVICE_TYPE)
                    else None
                )

        class Manager:
            _cli_options = Options()
            session = object()
            interface = 'internal'
            region_name = 'RegionTwo'

        clients = plugin.make_client(Manager())
        adapter = clients.attach._adapter
        self.assertEqual(
            (
                'orionx-attach',
                'internal',
                'RegionTwo',
                'http://override',
                False,
            ),
            (
                adapter.service_type,
                adapter.interface,
                adapter.region_name,
                adapter.endpoint_override,
                adapter.raise_exc,
            ),
        )
        self.assertEqual(9.0, clients.timeout)
        self.assertEqual(
            'accelerator', clients.cyborg._http._adapter.service_type
        )
        self.assertEqual(
            'placement', clients.placement._http._adapter.service_type
        )
