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

"""The PostgreSQL test helper: how it finds or refuses a server."""

import os
import subprocess
import sys

import fixtures
import testtools

from tests.unit.attach.ledger import postgres


class TestFindBindir(testtools.TestCase):
    def test_the_newest_installed_version_wins(self):
        found = [
            '/usr/lib/postgresql/9/bin/initdb',
            '/usr/lib/postgresql/16/bin/initdb',
            '/usr/lib/postgresql/15/bin/initdb',
        ]
        self.useFixture(fixtures.MockPatch('glob.glob', return_value=found))
        self.assertEqual('/usr/lib/postgresql/16/bin', postgres.find_bindir())

    def test_path_is_the_fallback(self):
        self.useFixture(fixtures.MockPatch('glob.glob', return_value=[]))
        self.useFixture(
            fixtures.MockPatch(
                'shutil.which', return_value='/opt/pg/bin/initdb'
            )
        )
        self.assertEqual('/opt/pg/bin', postgres.find_bindir())


class TestStart(testtools.TestCase):
    def test_without_server_or_binaries_it_says_why(self):
        self.useFixture(fixtures.EnvironmentVariable(postgres.URL_ENVIRONMENT))
        self.useFixture(
            fixtures.MockPatch(
                'tests.unit.attach.ledger.postgres.find_bindir',
                return_value=None,
            )
        )
        error = self.assertRaises(postgres.Unavailable, postgres.start)
        self.assertIn('apt-get install postgresql', str(error))
        self.assertIn(postgres.URL_ENVIRONMENT, str(error))

    def test_a_given_server_is_used_as_it_is(self):
        self.useFixture(
            fixtures.EnvironmentVariable(
                postgres.URL_ENVIRONMENT,
                'postgresql+psycopg://u:p@db.example:5433/ledger',
            )
        )
        cluster = self.useFixture(
            fixtures.MockPatch('tests.unit.attach.ledger.postgres.Cluster')
        ).mock
        server, started = postgres.start()
        self.addCleanup(server.close)
        self.assertIsNone(started)
        cluster.assert_not_called()
        self.assertEqual('db.example', server.url.host)


class TestStaleClusters(testtools.TestCase):
    def test_only_directories_of_dead_runs_are_removed(self):
        tmp = self.useFixture(fixtures.TempDir()).path
        self.useFixture(
            fixtures.MockPatch('tempfile.gettempdir', return_value=tmp)
        )
        dead = subprocess.run(
            [sys.executable, '-c', 'import os; print(os.getpid())'],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for name, owner in (
            ('dead', dead),
            ('live', str(os.getpid())),
            ('unowned', None),
        ):
            directory = os.path.join(tmp, postgres.PREFIX + name)
            os.mkdir(directory)
            if owner is not None:
                with open(
                    os.path.join(directory, postgres.OWNER_FILE), 'w'
                ) as stream:
                    stream.write(owner + '\n')
        postgres.remove_stale_clusters()
        self.assertEqual(
            [postgres.PREFIX + 'live', postgres.PREFIX + 'unowned'],
            sorted(os.listdir(tmp)),
        )
