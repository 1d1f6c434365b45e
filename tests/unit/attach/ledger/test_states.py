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

"""The state machine itself, without a database."""

import itertools

import testtools

from orionx_cyborg.attach.ledger import states
from orionx_cyborg.attach.ledger.states import LeaseState as S

ALLOWED = {
    (S.PENDING, S.CLAIMING),
    (S.CLAIMING, S.ACTIVE),
    (S.CLAIMING, S.PENDING),
    (S.ACTIVE, S.MOVING),
    (S.MOVING, S.ACTIVE),
    (S.AWAITING_PARTNER, S.CLAIMING),
    (S.AWAITING_PARTNER, S.PENDING),
} | {(source, S.RELEASING) for source in S}


class TestStateMachine(testtools.TestCase):
    def test_exactly_the_documented_transitions_are_allowed(self):
        for source, target in itertools.product(S, S):
            self.assertEqual(
                (source, target) in ALLOWED,
                states.can_transition(source, target),
                '%s -> %s' % (source, target),
            )

    def test_every_state_has_an_entry(self):
        self.assertEqual(set(S), set(states.TRANSITIONS))

    def test_releasing_is_a_dead_end_but_for_retries(self):
        self.assertEqual({S.RELEASING}, states.TRANSITIONS[S.RELEASING])

    def test_state_values_are_the_stored_strings(self):
        self.assertEqual(
            [
                'pending',
                'claiming',
                'active',
                'moving',
                'releasing',
                'awaiting-partner',
            ],
            [state.value for state in S],
        )

    def test_placed_and_deletable_states_do_not_overlap(self):
        self.assertEqual(set(), states.PLACED_STATES & states.DELETABLE_STATES)
        self.assertEqual(
            {S.CLAIMING, S.ACTIVE, S.MOVING}, states.PLACED_STATES
        )

    def test_waiting_states_are_not_placed_and_may_be_deleted(self):
        self.assertEqual(
            {S.PENDING, S.AWAITING_PARTNER}, states.UNPLACED_STATES
        )
        self.assertEqual(set(), states.PLACED_STATES & states.UNPLACED_STATES)
        self.assertLessEqual(states.UNPLACED_STATES, states.DELETABLE_STATES)
