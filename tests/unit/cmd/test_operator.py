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

"""``orionx-cyborg profiles sync``: arguments, output, exit status."""

import functools
import io
import json
import os

import fixtures

from orionx_cyborg import exception
from orionx_cyborg.cmd import cli
from orionx_cyborg.cmd import operator
from tests import base
from tests.unit.profiles import fakes

FILE = """
profiles:
  - name: h200
    whole_gpu: {model: H200}
    flavors: [{name: g.h200, vcpus: 4, ram: 4096}]
  - name: pool16
    pooled: {size: 16g-25pct}
    flavors: [{name: p.16g, vcpus: 2, ram: 2048}]
"""


def flat(text):
    """*text* with every run of white space as one space (tables)."""
    return ' '.join(text.split())


def run(argv, register):
    """Parse and run like ``orionx-cyborg``'s main, with our commands."""
    parser = cli.build_parser(extra=register)
    args = parser.parse_args(argv)
    out = io.StringIO()
    try:
        code = args.handler(args, out)
    except exception.OrionXException as err:
        return 2, str(err), args
    return code, out.getvalue(), args


class TestProfilesSync(base.TestCase):
    def setUp(self):
        super().setUp()
        self.cloud = fakes.FakeCloud()
        self.seen = []
        self.path = self.write(FILE)

    def clouds(self, args):
        self.seen.append(args)
        return self.cloud

    def write(self, text, name='profiles.yaml'):
        path = os.path.join(self.tmp, name)
        with open(path, 'w') as stream:
            stream.write(text)
        return path

    def sync(self, *extra):
        register = functools.partial(operator.register, clouds=self.clouds)
        return run(['profiles', 'sync', '--file', self.path, *extra], register)

    def test_table_then_nothing_to_change(self):
        code, out, _ = self.sync()
        self.assertEqual(0, code)
        self.assertIn('Changes:\nOBJECT', out)
        out = flat(out)
        self.assertIn(
            'device profile create pool16 new; '
            'accel:orionx_compute_pct=25, accel:orionx_gmem_mib='
            '16384, resources:CUSTOM_ORIONX_VGPU=1',
            out,
        )
        self.assertIn(
            'flavor create g.h200 new; 4 vCPU, 4096 MiB RAM, 0 GB '
            'disk, accel:device_profile=h200',
            out,
        )
        self.assertIn(
            'placement provider create orionx-cyborg-trait-keeper', out
        )
        self.assertIn(
            '5 change(s) made, 0 device profile(s) and 0 '
            'flavor(s) up to date.',
            out,
        )
        code, out, _ = self.sync()
        self.assertEqual(0, code)
        self.assertEqual(
            '\nNothing to change: 2 device profile(s) and 2 '
            'flavor(s) up to date.\n',
            out,
        )

    def test_dry_run(self):
        code, out, _ = self.sync('--dry-run')
        self.assertEqual(0, code)
        self.assertIn('Plan (dry run: nothing changed):', out)
        self.assertIn('5 change(s) planned', out)
        self.assertEqual([], self.cloud.writes)

    def test_json(self):
        code, out, _ = self.sync('-f', 'json', '--dry-run')
        document = json.loads(out)
        self.assertEqual(0, code)
        self.assertTrue(document['dry_run'])
        self.assertFalse(document['changed'])
        self.assertEqual(
            {'object': 'flavor', 'action': 'create', 'name': 'p.16g'},
            {
                k: document['actions'][4][k]
                for k in ('object', 'action', 'name')
            },
        )

    def test_errors_give_status_1(self):
        self.path = self.write(FILE.replace('model: H200', 'model: H100'))
        code, out, _ = self.sync()
        self.assertEqual(1, code)
        self.assertIn(
            'Errors:\n  - device profile h200: no reported '
            'inventory can ever satisfy it',
            out,
        )
        self.assertIn('1 error(s)', out)

    def test_prune_and_kept_notes(self):
        self.sync()
        self.path = self.write(FILE.split('  - name: pool16')[0])
        code, out, _ = self.sync()
        self.assertIn(
            'Kept:\n  - flavor p.16g: not in the file; --prune deletes it', out
        )
        code, out, _ = self.sync('--prune')
        self.assertEqual(0, code)
        self.assertIn('device profile delete pool16', flat(out))
        self.assertIsNone(self.cloud.profile_named('pool16'))

    def test_failure_is_reported(self):
        self.cloud.fail_on = ('create_flavor', 'p.16g')
        code, out, _ = self.sync()
        self.assertEqual(1, code)
        self.assertIn('Stopped after 4 of 5 changes: create flavor p.16g', out)

    def test_invalid_file(self):
        self.path = self.write('profiles: nope')
        code, message, _ = self.sync()
        self.assertEqual(2, code)
        self.assertIn('profiles: expected a non-empty list', message)
        self.assertEqual([], self.seen)

    def test_cloud_arguments_default_to_the_environment(self):
        self.useFixture(fixtures.EnvironmentVariable('OS_CLOUD', 'prod'))
        self.useFixture(fixtures.EnvironmentVariable('OS_REGION_NAME', 'east'))
        _, _, args = self.sync('--dry-run')
        self.assertEqual(
            ('prod', 'east'), (args.os_cloud, args.os_region_name)
        )
        _, _, args = self.sync('--dry-run', '--os-cloud', 'lab')
        self.assertEqual('lab', args.os_cloud)
