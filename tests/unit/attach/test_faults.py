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

"""The crash-point hook: inert unless armed, then the process ends there."""

import os
import subprocess
import sys
from unittest import mock

import fixtures
import testtools

from orionx_cyborg.attach import faults

# A child process that passes one crash point three times, saying so.
CHILD = '''
import sys
from orionx_cyborg.attach import faults
for passage in (1, 2, 3):
    print(passage, flush=True)
    faults.crash_point(sys.argv[1])
'''


class TestCrashPoint(testtools.TestCase):
    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.MockPatchObject(faults, '_reached', {}))
        self.exit = self.useFixture(
            fixtures.MockPatch('os._exit', autospec=True)
        ).mock

    def arm(self, value):
        self.useFixture(
            fixtures.EnvironmentVariable(faults.ENVIRONMENT, value)
        )

    def test_unarmed_or_another_point_does_nothing(self):
        self.useFixture(fixtures.EnvironmentVariable(faults.ENVIRONMENT))
        faults.crash_point(faults.CLAIM_AFTER_PLACEMENT)
        self.arm(faults.CLAIM_BEFORE_PLACEMENT)
        faults.crash_point(faults.CLAIM_AFTER_PLACEMENT)
        self.exit.assert_not_called()

    def test_the_nth_passage_exits(self):
        self.arm('%s:2' % faults.RELEASE_AFTER_PLACEMENT)
        with mock.patch('os.write', autospec=True) as write:
            faults.crash_point(faults.RELEASE_AFTER_PLACEMENT)
            self.exit.assert_not_called()
            faults.crash_point(faults.RELEASE_AFTER_PLACEMENT)
            self.exit.assert_called_once_with(faults.EXIT_STATUS)
            faults.crash_point(faults.RELEASE_AFTER_PLACEMENT)
        self.assertEqual(1, self.exit.call_count)
        write.assert_called_once_with(2, mock.ANY)

    def test_points_are_distinct(self):
        self.assertEqual(len(faults.POINTS), len(set(faults.POINTS)))


class TestCrashPointProcess(testtools.TestCase):
    """A real process: it ends at once with the crash status."""

    def run_child(self, armed):
        env = dict(os.environ, **{faults.ENVIRONMENT: armed})
        return subprocess.run(
            [sys.executable, '-c', CHILD, faults.MOVE_AFTER_PLACEMENT],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def test_exits_at_the_named_passage(self):
        result = self.run_child('%s:2' % faults.MOVE_AFTER_PLACEMENT)
        self.assertEqual(faults.EXIT_STATUS, result.returncode)
        self.assertEqual('1\n2\n', result.stdout)
        self.assertIn(
            'Crash point %s reached (2)' % faults.MOVE_AFTER_PLACEMENT,
            result.stderr,
        )

    def test_runs_through_when_another_point_is_armed(self):
        result = self.run_child(faults.MOVE_BEFORE_PLACEMENT)
        self.assertEqual(0, result.returncode)
        self.assertEqual('1\n2\n3\n', result.stdout)
