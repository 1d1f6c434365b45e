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

"""The devstack plugin, phase by phase, with devstack's functions stubbed.

Each test sources ``devstack/settings`` and ``devstack/plugin.sh`` in
bash, as ``stack.sh`` does, over the stubs of ``stubs.sh`` (which record
every call) and fake ``orionx-cyborg*`` commands, then reads the calls
and the configuration files written.
"""

import configparser
import getpass
import os
import re
import stat
import subprocess
import sys

from tests import base

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
PLUGIN = os.path.join(REPO, 'devstack')
SAMPLE = os.path.join(PLUGIN, 'files', 'profiles.yaml')
ATTACH_URL = 'http://192.0.2.1:9780'
FAKE_COMMAND = """#!/bin/bash
printf '%s\\037' exec "$(basename "$0")" "$@" >> "$CALLS"
printf '\\n' >> "$CALLS"
failures="$FAKE_FAILURES/$(basename "$0")"
if [[ -f "$failures" ]]; then
    left=$(cat "$failures")
    if [[ "$left" -gt 0 ]]; then
        echo $((left - 1)) > "$failures"
        exit 1
    fi
fi
"""
COMMANDS = ('orionx-cyborg', 'orionx-cyborg-attach-dbsync')
SERVICES = (
    'key,n-api,n-api-meta,n-cpu,placement-api,cyborg,cyborg-api,'
    'cyborg-cond,cyborg-agent,tempest'
)


class PluginTestCase(base.TestCase):
    def setUp(self):
        super().setUp()
        self.bin = os.path.join(self.tmp, 'bin')
        self.failures = os.path.join(self.tmp, 'failures')
        for directory in (self.bin, self.failures):
            os.makedirs(directory)
        for name in COMMANDS:
            path = os.path.join(self.bin, name)
            with open(path, 'w') as stream:
                stream.write(FAKE_COMMAND)
            os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)
        self.calls_file = os.path.join(self.tmp, 'calls')
        self.cyborg_conf = os.path.join(self.tmp, 'cyborg.conf')
        self.nova_conf = os.path.join(self.tmp, 'nova.conf')
        self.tempest_conf = os.path.join(self.tmp, 'tempest.conf')
        self.conf_dir = os.path.join(self.tmp, 'etc-orionx-cyborg')
        self.data_dir = os.path.join(self.tmp, 'data')
        self.attach_conf = os.path.join(
            self.conf_dir, 'orionx-cyborg-attach.conf'
        )
        self.env = {
            'PATH': os.environ.get('PATH', '/usr/bin:/bin'),
            'PYTHON': sys.executable,
            'STUB_DIR': HERE,
            'CALLS': self.calls_file,
            'FAKE_FAILURES': self.failures,
            'ENABLED_SERVICES': SERVICES,
            'DEST': os.path.join(self.tmp, 'opt'),
            'DATA_DIR': self.data_dir,
            'STACK_USER': getpass.getuser(),
            'SERVICE_HOST': '192.0.2.1',
            'SERVICE_PROTOCOL': 'http',
            'SERVICE_LISTEN_ADDRESS': '0.0.0.0',
            'SERVICE_TIMEOUT': '60',
            'REGION_NAME': 'RegionOne',
            'ENABLE_DEBUG_LOG_LEVEL': 'True',
            'CYBORG_CONF': self.cyborg_conf,
            'NOVA_CONF': self.nova_conf,
            'TEMPEST_CONFIG': self.tempest_conf,
            'ORIONX_CYBORG_BIN_DIR': self.bin,
            'ORIONX_CYBORG_CONF_DIR': self.conf_dir,
            'ORIONX_PROFILES_SYNC_INTERVAL': '0',
        }

    def phase(self, *args, **env):
        """Source settings and plugin.sh with *args*; (status, calls)."""
        if os.path.exists(self.calls_file):
            os.unlink(self.calls_file)
        script = (
            'set -o errexit\n'
            'source "$STUB_DIR/stubs.sh"\n'
            'source "%s/settings"\n'
            'source "%s/plugin.sh" %s\n' % (PLUGIN, PLUGIN, ' '.join(args))
        )
        result = subprocess.run(
            ['bash', '-c', script],
            env=dict(self.env, **env),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        self.output = result.stdout + result.stderr
        return result.returncode, self.calls()

    def calls(self, name=None):
        if not os.path.exists(self.calls_file):
            return []
        with open(self.calls_file) as stream:
            calls = [
                tuple(line.rstrip('\n').split('\x1f')[:-1]) for line in stream
            ]
        # What settings does is the same in every phase.
        calls = [
            c
            for c in calls
            if c[0]
            not in ('define_plugin', 'plugin_requires', 'enable_service')
        ]
        if name is not None:
            calls = [c for c in calls if c[0] == name]
        return calls

    def ini(self, path):
        parser = configparser.ConfigParser(
            interpolation=None, default_section='__none__'
        )
        parser.optionxform = str
        parser.read(path)
        return {s: dict(parser.items(s)) for s in parser.sections()}

    def write_ini(self, path, text):
        with open(path, 'w') as stream:
            stream.write(text)


class TestSettings(PluginTestCase):
    def test_plugin_declaration(self):
        self.phase('stack', 'pre-install')
        with open(self.calls_file) as stream:
            text = stream.read().replace('\x1f', ' ')
        self.assertIn('define_plugin orionx-cyborg', text)
        self.assertIn('plugin_requires orionx-cyborg cyborg', text)
        self.assertIn('enable_service orionx-cyborg-attach', text)


class TestPreInstall(PluginTestCase):
    def test_good_settings_do_nothing(self):
        status, calls = self.phase('stack', 'pre-install')
        self.assertEqual(0, status, self.output)
        self.assertEqual(['echo_summary'], [c[0] for c in calls])

    def test_bad_settings_stop_the_stack(self):
        for env, message in (
            ({'ORIONX_DEFAULT_MODE': 'whole'}, 'ORIONX_DEFAULT_MODE=whole'),
            (
                {'ORIONX_VGPU_DEVICES': '0000:3a:00.0'},
                'need ORIONX_ENABLED_VGPU_TYPES',
            ),
            (
                {
                    'ORIONX_STRICT_ADMISSION': 'True',
                    'DISABLED_SERVICES': 'orionx-cyborg-attach',
                },
                'needs the orionx-cyborg-attach service',
            ),
        ):
            status, calls = self.phase('stack', 'pre-install', **env)
            self.assertEqual(1, status, env)
            (die,) = self.calls('die')
            self.assertIn(message, die[2])


class TestInstall(PluginTestCase):
    def test_installs_the_checkout(self):
        status, _ = self.phase('stack', 'install')
        self.assertEqual(0, status, self.output)
        self.assertEqual(
            [('setup_develop', REPO)], self.calls('setup_develop')
        )


class TestPostConfig(PluginTestCase):
    def setUp(self):
        super().setUp()
        # As Cyborg's plugin leaves it.
        self.write_ini(
            self.cyborg_conf, '[agent]\nenabled_drivers = fake_driver\n'
        )

    def test_cyborg_conf(self):
        status, _ = self.phase(
            'stack',
            'post-config',
            ORIONX_FAKE_TOPOLOGY='hgx-h200',
            ORIONX_PASSTHROUGH_DEVICES='0000:18:00.0',
            ORIONX_POOL_ENTITLEMENT='8',
        )
        self.assertEqual(0, status, self.output)
        conf = self.ini(self.cyborg_conf)
        self.assertEqual(
            'fake_driver,orionx_gpu_driver', conf['agent']['enabled_drivers']
        )
        self.assertEqual(
            {
                'default_mode': 'pool',
                'passthrough_devices': '0000:18:00.0',
                'fake_topology': 'hgx-h200',
            },
            conf['orionx_gpu'],
        )
        self.assertEqual(
            {'name': 'default', 'entitlement': '8'}, conf['orionx_pool']
        )
        self.assertNotIn('orionx_admission', conf)

    def test_twice_is_the_same(self):
        self.phase('stack', 'post-config')
        self.phase('stack', 'post-config')
        self.assertEqual(
            'fake_driver,orionx_gpu_driver',
            self.ini(self.cyborg_conf)['agent']['enabled_drivers'],
        )
        self.assertEqual(
            'orionx@%s/v1/vendordata' % ATTACH_URL,
            self.ini(self.nova_conf)['api']['vendordata_dynamic_targets'],
        )

    def test_no_fake_topology_on_real_gpus(self):
        self.phase('stack', 'post-config')
        self.assertNotIn(
            'fake_topology', self.ini(self.cyborg_conf)['orionx_gpu']
        )

    def test_attach_service_conf(self):
        status, calls = self.phase('stack', 'post-config')
        self.assertEqual(0, status, self.output)
        conf = self.ini(self.attach_conf)['orionx_attach']
        secret = conf.pop('secret_key')
        self.assertRegex(secret, r'^[0-9a-f]{64}$')
        self.assertEqual(
            {
                'bind_host': '0.0.0.0',
                'bind_port': '9780',
                'auth_strategy': 'keystone',
                'state_path': os.path.join(self.data_dir, 'orionx-cyborg'),
                'pools': 'default',
                'reconcile_interval': '30',
            },
            conf,
        )
        self.assertEqual(
            'RegionOne', self.ini(self.attach_conf)['placement']['region_name']
        )
        self.assertEqual(
            {
                'connection': 'mysql+pymysql://root:secret@127.0.0.1/'
                'orionx_attach?charset=utf8'
            },
            self.ini(self.attach_conf)['database'],
        )
        self.assertEqual(
            {'debug': 'True'}, self.ini(self.attach_conf)['DEFAULT']
        )
        self.assertIn(
            (
                'configure_keystone_authtoken_middleware',
                self.attach_conf,
                'orionx-attach',
            ),
            calls,
        )
        for service in ('cyborg', 'placement'):
            self.assertIn(
                (
                    'configure_keystoneauth',
                    self.attach_conf,
                    'orionx-attach',
                    service,
                ),
                calls,
            )
        self.assertTrue(os.path.isdir(self.conf_dir))

    def test_sqlite_ledger_and_fixed_key(self):
        self.phase(
            'stack',
            'post-config',
            ORIONX_ATTACH_USE_DATABASE='False',
            ORIONX_ATTACH_SECRET_KEY='k' * 16,
        )
        conf = self.ini(self.attach_conf)['orionx_attach']
        self.assertEqual('k' * 16, conf['secret_key'])
        self.assertEqual(
            'sqlite:///%s/orionx-cyborg/attach.sqlite' % self.data_dir,
            self.ini(self.attach_conf)['database']['connection'],
        )

    def test_keystone_accounts(self):
        _, calls = self.phase('stack', 'post-config')
        self.assertIn(('create_service_user', 'orionx-attach', 'admin'), calls)
        self.assertIn(
            (
                'get_or_create_service',
                'orionx-attach',
                'orionx-attach',
                'OrionX pooled vGPU attach service',
            ),
            calls,
        )
        self.assertIn(
            (
                'get_or_create_endpoint',
                'orionx-attach',
                'RegionOne',
                ATTACH_URL,
                ATTACH_URL,
                ATTACH_URL,
            ),
            calls,
        )

    def test_nova_vendordata(self):
        self.write_ini(
            self.nova_conf,
            '[api]\nvendordata_dynamic_targets = other@http://x/v\n',
        )
        _, calls = self.phase('stack', 'post-config')
        api = self.ini(self.nova_conf)['api']
        self.assertEqual('StaticJSON,DynamicJSON', api['vendordata_providers'])
        self.assertEqual(
            'other@http://x/v,orionx@%s/v1/vendordata' % ATTACH_URL,
            api['vendordata_dynamic_targets'],
        )
        self.assertIn(
            (
                'configure_keystoneauth',
                self.nova_conf,
                'nova',
                'vendordata_dynamic_auth',
            ),
            calls,
        )

    def test_a_node_without_nova_or_the_service(self):
        status, calls = self.phase(
            'stack',
            'post-config',
            ENABLED_SERVICES='cyborg,cyborg-agent',
            DISABLED_SERVICES='orionx-cyborg-attach',
        )
        self.assertEqual(0, status, self.output)
        self.assertFalse(os.path.exists(self.nova_conf))
        self.assertFalse(os.path.exists(self.attach_conf))
        self.assertEqual([], self.calls('create_service_user'))
        self.assertIn('orionx_gpu', self.ini(self.cyborg_conf))

    def test_strict_admission(self):
        _, calls = self.phase(
            'stack', 'post-config', ORIONX_STRICT_ADMISSION='True'
        )
        self.assertIn(
            (
                'configure_keystoneauth',
                self.cyborg_conf,
                'cyborg',
                'orionx_admission',
            ),
            calls,
        )
        self.assertEqual(
            {'service_type': 'orionx-attach', 'region_name': 'RegionOne'},
            self.ini(self.cyborg_conf)['orionx_admission'],
        )


class TestExtra(PluginTestCase):
    def test_database_service_and_profiles(self):
        status, calls = self.phase('stack', 'extra')
        self.assertEqual(0, status, self.output)
        names = [c[0] for c in calls if c[0] != 'echo_summary']
        self.assertEqual(
            [
                'recreate_database',
                'exec',
                'run_process',
                'wait_for_service',
                'exec',
            ],
            names,
        )
        self.assertIn(('recreate_database', 'orionx_attach'), calls)
        dbsync, sync = self.calls('exec')
        self.assertEqual(
            (
                'exec',
                'orionx-cyborg-attach-dbsync',
                '--config-file',
                self.attach_conf,
                'upgrade',
            ),
            dbsync,
        )
        self.assertEqual(
            (
                'run_process',
                'orionx-cyborg-attach',
                '%s/gunicorn -c python:orionx_cyborg.attach.gunicorn_conf '
                '--bind 0.0.0.0:9780 --workers 2 '
                'orionx_cyborg.attach.wsgi:init_application()' % self.bin,
                '',
                '',
                'ORIONX_CYBORG_ATTACH_CONFIG=%s' % self.attach_conf,
            ),
            self.calls('run_process')[0],
        )
        self.assertEqual(
            ('wait_for_service', '60', ATTACH_URL + '/healthz'),
            self.calls('wait_for_service')[0],
        )
        self.assertEqual(
            (
                'exec',
                'orionx-cyborg',
                'profiles',
                'sync',
                '--os-cloud',
                'devstack-admin',
                '--file',
                SAMPLE,
            ),
            sync,
        )
        self.assertEqual([], self.calls('stop_process'))

    def test_sync_waits_for_the_agents(self):
        with open(os.path.join(self.failures, 'orionx-cyborg'), 'w') as f:
            f.write('2')
        status, _ = self.phase('stack', 'extra')
        self.assertEqual(0, status, self.output)
        syncs = [c for c in self.calls('exec') if c[1] == 'orionx-cyborg']
        self.assertEqual(3, len(syncs))
        self.assertEqual(
            2,
            self.output.count('Waiting for the Cyborg agents to report GPUs'),
        )

    def test_sync_gives_up(self):
        with open(os.path.join(self.failures, 'orionx-cyborg'), 'w') as f:
            f.write('100')
        status, _ = self.phase(
            'stack', 'extra', ORIONX_PROFILES_SYNC_TIMEOUT='0'
        )
        self.assertEqual(1, status)
        (die,) = self.calls('die')
        self.assertIn('orionx-cyborg profiles sync failed for 0s', die[2])

    def test_no_profiles_file(self):
        status, _ = self.phase('stack', 'extra', ORIONX_PROFILES_FILE='')
        self.assertEqual(0, status, self.output)
        self.assertEqual(
            ['orionx-cyborg-attach-dbsync'], [c[1] for c in self.calls('exec')]
        )

    def test_strict_admission_restarts_the_conductor(self):
        _, calls = self.phase('stack', 'extra', ORIONX_STRICT_ADMISSION='True')
        self.assertEqual(
            [('stop_process', 'cyborg-cond')], self.calls('stop_process')
        )
        self.assertEqual(
            (
                'run_process',
                'cyborg-cond',
                '%s/orionx-cyborg-conductor --config-file=%s'
                % (self.bin, self.cyborg_conf),
            ),
            self.calls('run_process')[1],
        )

    def test_sqlite_ledger_needs_no_database(self):
        self.phase('stack', 'extra', ORIONX_ATTACH_USE_DATABASE='False')
        self.assertEqual([], self.calls('recreate_database'))


class TestTestConfig(PluginTestCase):
    def test_tempest_and_pool_status(self):
        status, _ = self.phase('stack', 'test-config')
        self.assertEqual(0, status, self.output)
        self.assertEqual(
            {
                'service_available': {'orionx_attach': 'True'},
                'orionx': {
                    'catalog_type': 'orionx-attach',
                    'region': 'RegionOne',
                    'pool': 'default',
                    'vendordata_target': 'orionx',
                },
            },
            self.ini(self.tempest_conf),
        )
        self.assertEqual(
            [
                (
                    'exec',
                    'orionx-cyborg',
                    'pool',
                    'status',
                    '--os-cloud',
                    'devstack-admin',
                )
            ],
            self.calls('exec'),
        )

    def test_tempest_plugin_options(self):
        status, _ = self.phase(
            'stack',
            'test-config',
            METADATA_PROXY_SHARED_SECRET='s3cret',
            ORIONX_TEMPEST_GPU_LESS_HOST='compute-2',
            ORIONX_TEMPEST_COMPUTE_STOP_COMMAND='ssh {host} stop',
            ORIONX_TEMPEST_COMPUTE_START_COMMAND='ssh {host} start',
        )
        self.assertEqual(0, status, self.output)
        orionx = self.ini(self.tempest_conf)['orionx']
        self.assertEqual('http://192.0.2.1:8775', orionx['metadata_url'])
        self.assertEqual('s3cret', orionx['metadata_proxy_shared_secret'])
        self.assertEqual('compute-2', orionx['gpu_less_host'])
        self.assertEqual('ssh {host} stop', orionx['compute_stop_command'])
        self.assertEqual('ssh {host} start', orionx['compute_start_command'])

    def test_the_plugin_joins_tempest_plugins(self):
        script = (
            'source "$STUB_DIR/stubs.sh"\n'
            'source "%s/settings"\n'
            'source "%s/settings"\n'
            'echo "[$TEMPEST_PLUGINS]"\n' % (PLUGIN, PLUGIN)
        )
        for before, after in (
            ('', '[%s]' % REPO),
            ('/opt/stack/other', '[/opt/stack/other %s]' % REPO),
        ):
            result = subprocess.run(
                ['bash', '-c', script],
                env=dict(self.env, TEMPEST_PLUGINS=before),
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            self.assertEqual(0, result.returncode, result.stderr)
            self.assertEqual(after, result.stdout.strip().splitlines()[-1])
        result = subprocess.run(
            ['bash', '-c', script],
            env=dict(self.env, ORIONX_TEMPEST_PLUGIN='False'),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        self.assertEqual('[]', result.stdout.strip().splitlines()[-1])


class TestUnstackAndClean(PluginTestCase):
    def test_unstack_stops_the_service(self):
        status, calls = self.phase('unstack')
        self.assertEqual(0, status, self.output)
        self.assertEqual(
            [('stop_process', 'orionx-cyborg-attach')],
            self.calls('stop_process'),
        )

    def test_clean_removes_configuration_and_state(self):
        self.phase('stack', 'post-config')
        self.assertTrue(os.path.exists(self.attach_conf))
        status, _ = self.phase('clean')
        self.assertEqual(0, status, self.output)
        self.assertFalse(os.path.exists(self.conf_dir))
        self.assertFalse(
            os.path.exists(os.path.join(self.data_dir, 'orionx-cyborg'))
        )


class TestShellStyle(PluginTestCase):
    def test_plugin_sh_only_dispatches(self):
        with open(os.path.join(PLUGIN, 'plugin.sh')) as stream:
            text = stream.read()
        self.assertNotIn('iniset', text)
        self.assertNotIn('function ', text)
        functions = set(re.findall(r'^\s+([a-z_]+)$', text, re.M)) - {'esac'}
        with open(os.path.join(PLUGIN, 'lib', 'orionx-cyborg')) as stream:
            defined = set(
                re.findall(r'^function ([a-z_]+) ', stream.read(), re.M)
            )
        self.assertTrue(functions)
        self.assertLessEqual(functions, defined)
