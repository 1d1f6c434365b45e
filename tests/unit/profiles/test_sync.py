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

"""The sync's plan and its execution, on a cloud in memory."""

import yaml

from orionx_cyborg.profiles import model
from orionx_cyborg.profiles import state
from orionx_cyborg.profiles import sync
from tests import base
from tests.unit.profiles import fakes

FILE = """
defaults:
  flavor: {vcpus: 2, ram: 2048, disk: 10}
profiles:
  - name: h200
    description: A whole H200
    whole_gpu: {model: H200}
    flavors: [{name: g.h200}]
  - name: pool16
    pooled: {size: 16g-25pct}
    flavors: [{name: p.16g}, {name: p.16g.big, vcpus: 8}]
"""


def desired(text=FILE):
    return model.parse(yaml.safe_load(text), 'test.yaml')


def edited(text, old, new):
    assert old in text, old
    return text.replace(old, new)


class SyncTestCase(base.TestCase):
    def setUp(self):
        super().setUp()
        self.cloud = fakes.FakeCloud()

    def sync(self, text=FILE, **kwargs):
        self.cloud.writes = []
        return sync.sync(self.cloud, desired(text), **kwargs)

    def actions(self, result):
        return [
            (a.op.value, a.name)
            for a in result.plan.profile_actions + result.plan.flavor_actions
        ]


class TestCreate(SyncTestCase):
    def test_first_run_creates_profiles_then_flavors(self):
        result = self.sync()
        self.assertTrue(result.ok)
        self.assertEqual(
            [
                ('keep_trait',),
                ('create_profile', 'h200'),
                ('create_profile', 'pool16'),
                ('create_flavor', 'g.h200'),
                ('create_flavor', 'p.16g'),
                ('create_flavor', 'p.16g.big'),
            ],
            self.cloud.writes,
        )
        profile = self.cloud.profile_named('pool16')
        self.assertEqual(state.Owner('pool16', 1), profile.owner)
        self.assertEqual(
            'A whole H200 [orionx:managed profile=h200 rev=1]',
            self.cloud.profile_named('h200').description,
        )
        flavor = self.cloud.flavor_named('p.16g.big')
        self.assertEqual(
            {
                'accel:device_profile': 'pool16',
                'orionx:managed': 'true',
                'orionx:profile': 'pool16',
            },
            dict(flavor.extra_specs),
        )
        self.assertEqual(8, flavor.vcpus)

    def test_second_run_changes_nothing(self):
        self.sync()
        result = self.sync()
        self.assertEqual([], self.cloud.writes)
        self.assertEqual(0, result.plan.changes)
        self.assertEqual(
            (2, 3),
            (result.plan.profiles_up_to_date, result.plan.flavors_up_to_date),
        )
        # Listing every server is only done when a change needs it.
        self.assertEqual(0, self.cloud.usage_calls)

    def test_dry_run_changes_nothing(self):
        result = self.sync(dry_run=True)
        self.assertEqual([], self.cloud.writes)
        self.assertEqual(6, result.plan.changes)
        self.assertTrue(result.plan.keep_trait)
        self.assertEqual([], result.done)

    def test_unsatisfiable_profile_is_an_error_and_not_created(self):
        text = edited(FILE, 'model: H200', 'model: H100')
        result = self.sync(text)
        self.assertFalse(result.ok)
        (error,) = result.plan.errors
        self.assertEqual('device profile h200', error.subject)
        self.assertIn(
            'no reported inventory can ever satisfy it: no PGPU '
            'provider has CUSTOM_GPU_MODEL_H100',
            error.message,
        )
        self.assertIsNone(self.cloud.profile_named('h200'))
        self.assertIsNone(self.cloud.flavor_named('g.h200'))
        # The others are made all the same.
        self.assertIsNotNone(self.cloud.flavor_named('p.16g'))

    def test_allow_unsatisfiable(self):
        text = edited(FILE, 'model: H200', 'model: H100')
        result = self.sync(text, allow_unsatisfiable=True)
        self.assertTrue(result.ok)
        self.assertIn('can ever satisfy', result.plan.warnings[0].message)
        self.assertIsNotNone(self.cloud.flavor_named('g.h200'))

    def test_names_taken_by_others_are_errors(self):
        self.cloud.add_profile('h200', [{'resources:PGPU': '1'}], 'hand made')
        self.cloud.add_flavor('p.16g', {'hw:cpu_policy': 'dedicated'})
        result = self.sync()
        messages = {p.subject: p.message for p in result.plan.errors}
        self.assertIn(
            'not managed by orionx-cyborg', messages['device profile h200']
        )
        self.assertIn('not managed by orionx-cyborg', messages['flavor p.16g'])
        self.assertNotIn(('delete_profile', 'h200'), self.cloud.writes)
        self.assertNotIn(('delete_flavor', 'p.16g'), self.cloud.writes)
        self.assertIsNone(self.cloud.flavor_named('g.h200'))


class TestChanges(SyncTestCase):
    def setUp(self):
        super().setUp()
        self.sync()

    def test_unused_changed_profile_is_replaced_in_place(self):
        result = self.sync(edited(FILE, '16g-25pct', '16g-50pct'))
        self.assertEqual(
            [('delete_profile', 'pool16'), ('create_profile', 'pool16')],
            self.cloud.writes,
        )
        self.assertIn('nothing uses it', result.plan.profile_actions[0].reason)
        self.assertEqual(
            '50',
            self.cloud.profile_named('pool16').groups[0][
                'accel:orionx_compute_pct'
            ],
        )

    def test_used_changed_profile_gets_a_new_revision(self):
        self.cloud.usage_ = {'pool16': state.Usage(arqs=2, servers=1)}
        result = self.sync(edited(FILE, '16g-25pct', '16g-50pct'))
        self.assertEqual(
            [
                ('create_profile', 'pool16--r2'),
                ('update_flavor', 'p.16g'),
                ('update_flavor', 'p.16g.big'),
            ],
            self.cloud.writes,
        )
        self.assertEqual(
            state.Owner('pool16', 2),
            self.cloud.profile_named('pool16--r2').owner,
        )
        self.assertEqual(
            'pool16--r2', self.cloud.flavor_named('p.16g').device_profile
        )
        self.assertIsNotNone(self.cloud.profile_named('pool16'))
        (note,) = result.plan.notes
        self.assertEqual('device profile pool16', note.subject)
        self.assertIn(
            'superseded by pool16--r2 but still used by 2 '
            'accelerator request(s) and 1 server(s)',
            note.message,
        )
        # Once unused, the next sync deletes the old revision.
        self.cloud.usage_ = {}
        self.sync(edited(FILE, '16g-25pct', '16g-50pct'))
        self.assertEqual([('delete_profile', 'pool16')], self.cloud.writes)
        # A third change replaces the revision in use now, in place.
        self.sync(edited(FILE, '16g-25pct', '8g-50pct'))
        self.assertEqual(
            [
                ('delete_profile', 'pool16--r2'),
                ('create_profile', 'pool16--r2'),
            ],
            self.cloud.writes,
        )

    def test_a_flavor_of_others_keeps_a_superseded_revision(self):
        self.cloud.usage_ = {'pool16': state.Usage(servers=1)}
        self.sync(edited(FILE, '16g-25pct', '16g-50pct'))
        self.cloud.usage_ = {}
        self.cloud.add_flavor('hand-made', {'accel:device_profile': 'pool16'})
        result = self.sync(edited(FILE, '16g-25pct', '16g-50pct'))
        self.assertEqual([], self.cloud.writes)
        self.assertIn(
            'flavor(s) hand-made, not managed here',
            result.plan.notes[0].message,
        )

    def test_extra_specs_are_updated(self):
        text = edited(
            FILE,
            "[{name: g.h200}]",
            "[{name: g.h200, extra_specs: {hw:numa_nodes: 1}}]",
        )
        result = self.sync(text)
        self.assertEqual([('update_flavor', 'g.h200')], self.cloud.writes)
        self.assertEqual(
            'extra specs: hw:numa_nodes=1',
            result.plan.flavor_actions[0].reason,
        )
        # A key the file no longer has goes away.
        self.sync()
        self.assertNotIn(
            'hw:numa_nodes', self.cloud.flavor_named('g.h200').extra_specs
        )

    def test_new_size_replaces_the_flavor(self):
        result = self.sync(edited(FILE, 'vcpus: 8', 'vcpus: 16'))
        self.assertEqual(
            [('delete_flavor', 'p.16g.big'), ('create_flavor', 'p.16g.big')],
            self.cloud.writes,
        )
        self.assertIn('vcpus 8 -> 16', result.plan.flavor_actions[0].reason)
        self.assertEqual(16, self.cloud.flavor_named('p.16g.big').vcpus)

    def test_count_adds_group_policy(self):
        self.sync(edited(FILE, 'model: H200}', 'model: H200, count: 2}'))
        self.assertEqual(2, len(self.cloud.profile_named('h200').groups))
        self.assertEqual(
            'isolate',
            self.cloud.flavor_named('g.h200').extra_specs['group_policy'],
        )

    def test_description_change_is_noted(self):
        result = self.sync(edited(FILE, 'A whole H200', 'One H200'))
        self.assertEqual([], self.cloud.writes)
        self.assertIn(
            'Cyborg cannot update a profile', result.plan.notes[0].message
        )


class TestPrune(SyncTestCase):
    SMALLER = FILE.split('  - name: pool16')[0]

    def setUp(self):
        super().setUp()
        self.sync()

    def test_without_prune_only_notes(self):
        result = self.sync(self.SMALLER)
        self.assertEqual([], self.cloud.writes)
        self.assertEqual(
            {'device profile pool16', 'flavor p.16g', 'flavor p.16g.big'},
            {n.subject for n in result.plan.notes},
        )
        self.assertTrue(result.ok)

    def test_prune_deletes_flavors_then_profiles(self):
        self.sync(self.SMALLER, prune=True)
        self.assertEqual(
            [
                ('delete_flavor', 'p.16g'),
                ('delete_flavor', 'p.16g.big'),
                ('delete_profile', 'pool16'),
            ],
            self.cloud.writes,
        )

    def test_prune_keeps_a_profile_in_use(self):
        self.cloud.usage_ = {'pool16': state.Usage(servers=3)}
        result = self.sync(self.SMALLER, prune=True)
        self.assertEqual(
            [('delete_flavor', 'p.16g'), ('delete_flavor', 'p.16g.big')],
            self.cloud.writes,
        )
        self.assertIn(
            'still used by 3 server(s); kept', result.plan.notes[0].message
        )

    def test_prune_never_touches_what_it_does_not_own(self):
        self.cloud.add_profile('other', [{'resources:FPGA': '1'}])
        self.cloud.add_flavor('m1.small', {})
        self.sync(prune=True)
        self.assertEqual([], self.cloud.writes)


class TestFailures(SyncTestCase):
    def test_a_failed_step_stops_and_a_rerun_finishes(self):
        self.cloud.fail_on = ('create_flavor', 'p.16g')
        result = self.sync()
        self.assertFalse(result.ok)
        self.assertEqual(
            [
                'create placement provider orionx-cyborg-trait-keeper',
                'create device profile h200',
                'create device profile pool16',
                'create flavor g.h200',
            ],
            result.done,
        )
        self.assertIn(
            'create flavor p.16g: create_flavor p.16g failed: HTTP 500',
            result.failure,
        )
        self.cloud.fail_on = None
        result = self.sync()
        self.assertTrue(result.ok)
        self.assertEqual(
            [('create_flavor', 'p.16g'), ('create_flavor', 'p.16g.big')],
            self.cloud.writes,
        )
