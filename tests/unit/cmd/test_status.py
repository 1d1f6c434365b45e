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

"""``orionx-cyborg-status upgrade check`` and the [database] options."""

import io
import os

import fixtures
from oslo_config import cfg
from oslo_upgradecheck import upgradecheck

from orionx_cyborg.attach import app as app_mod
from orionx_cyborg.attach import ledger as ledger_mod
from orionx_cyborg.cmd import status
from tests import base

Code = upgradecheck.Code


class StatusTestCase(base.TestCase):
    def setUp(self):
        super().setUp()
        self.ledger_url = 'sqlite:///%s/attach.sqlite' % self.tmp

    def load(self, text=''):
        path = os.path.join(self.tmp, 'attach.conf')
        with open(path, 'w') as f:
            f.write(text)
        conf = cfg.ConfigOpts()
        app_mod.register_opts(conf)
        conf(['--config-file', path], default_config_files=[])
        return conf

    def migrate(self):
        with ledger_mod.Ledger.from_url(self.ledger_url) as ledger:
            ledger.upgrade()


class TestDatabaseOptions(StatusTestCase):
    def test_the_old_option_is_still_read(self):
        conf = self.load(
            '[orionx_attach]\ndatabase_connection = %s\n' % self.ledger_url
        )
        self.assertEqual(self.ledger_url, app_mod.database_url(conf))
        conf = self.load('[database]\nconnection = %s\n' % self.ledger_url)
        self.assertEqual(self.ledger_url, app_mod.database_url(conf))

    def test_default_is_sqlite_in_state_path(self):
        conf = self.load('[orionx_attach]\nstate_path = %s\n' % self.tmp)
        self.assertEqual(
            'sqlite:///%s/attach.sqlite' % self.tmp, app_mod.database_url(conf)
        )

    def test_pool_options_reach_a_server_engine(self):
        conf = self.load(
            '[database]\nmax_pool_size = 7\nmax_overflow = 3\n'
            'pool_timeout = 9\nconnection_recycle_time = 60\n'
        )
        self.assertEqual(
            {
                'pool_size': 7,
                'max_overflow': 3,
                'pool_timeout': 9,
                'pool_recycle': 60,
            },
            app_mod.engine_options(conf, 'postgresql+psycopg://db/x'),
        )
        self.assertEqual({}, app_mod.engine_options(conf, self.ledger_url))

    def test_start_waits_for_the_database_then_gives_up(self):
        missing = os.path.join(self.tmp, 'no', 'such', 'dir', 'x.sqlite')
        conf = self.load(
            '[database]\nconnection = sqlite:///%s\nmax_retries = 2\n'
            'retry_interval = 3\n' % missing
        )
        sleeps = []
        self.assertRaises(
            ledger_mod.LedgerUnavailable,
            app_mod.open_ledger,
            conf,
            sleep=sleeps.append,
        )
        self.assertEqual([3, 3], sleeps)

    def test_start_goes_on_once_the_database_answers(self):
        conf = self.load('[database]\nconnection = %s\n' % self.ledger_url)
        ledger = app_mod.open_ledger(conf, sleep=self.fail)
        self.addCleanup(ledger.close)
        self.assertIsNone(ledger.current_revision())


class TestUpgradeCheck(StatusTestCase):
    def results(self, conf):
        checks = status.Checks(conf)
        return {name: func(checks) for name, func in checks._upgrade_checks}

    def code(self, conf, name):
        return self.results(conf)[name].code

    def test_schema(self):
        conf = self.load('[database]\nconnection = %s\n' % self.ledger_url)
        result = self.results(conf)['Lease ledger schema']
        self.assertEqual(Code.FAILURE, result.code)
        self.assertIn('orionx-cyborg-attach-dbsync upgrade', result.details)
        self.migrate()
        self.assertEqual(Code.SUCCESS, self.code(conf, 'Lease ledger schema'))

    def policy(self, text, name='policy.yaml'):
        path = os.path.join(self.tmp, name)
        with open(path, 'w') as f:
            f.write(text)
        return self.load('[oslo_policy]\npolicy_file = %s\n' % path)

    def test_policy_file(self):
        for text, expected in (
            ('"orionx_attach:pools:list": "role:reader"\n', Code.SUCCESS),
            ('"orionx_attach:pools:list": "rule:nope"\n', Code.FAILURE),
            ('"orionx_attach:pools:list": "role:a and ("\n', Code.FAILURE),
            ('"orionx_attach:pool:lsit": "role:reader"\n', Code.WARNING),
        ):
            result = self.results(self.policy(text))['Policy file']
            self.assertEqual(expected, result.code, (text, result.details))
        conf = self.policy('{"orionx_attach:pools:list": ""}', 'policy.json')
        self.assertEqual(
            Code.FAILURE, self.code(conf, 'Policy file JSON to YAML migration')
        )

    def test_coordination(self):
        name = 'Coordination backend'
        for database, coordination, expected in (
            (self.ledger_url, None, Code.SUCCESS),
            ('mysql+pymysql://u:p@db/x', None, Code.WARNING),
            ('mysql+pymysql://u:p@db/x', 'file:///var/lib/x', Code.WARNING),
            ('mysql+pymysql://u:p@db/x', 'etcd3+http://e:2379', Code.SUCCESS),
            (self.ledger_url, 'redis://r:6379', Code.WARNING),
        ):
            text = '[database]\nconnection = %s\n' % database
            if coordination:
                text += '[orionx_attach]\ncoordination_url = %s\n' % (
                    coordination
                )
            result = self.results(self.load(text))[name]
            self.assertEqual(expected, result.code, (database, coordination))

    def test_command(self):
        self.migrate()
        path = os.path.join(self.tmp, 'attach.conf')
        with open(path, 'w') as f:
            f.write('[database]\nconnection = %s\n' % self.ledger_url)
        out = io.StringIO()
        self.useFixture(fixtures.MonkeyPatch('sys.stdout', out))
        self.assertEqual(
            0, status.main(['--config-file', path, 'upgrade', 'check'])
        )
        self.assertIn('Lease ledger schema', out.getvalue())
        self.assertNotIn('Failure', out.getvalue())
