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

"""``POST /v1/admissions``: the ARQ is checked with Cyborg, and a lease
the call did not create is never released."""

import dataclasses
import uuid

from orionx_cyborg import clients
from orionx_cyborg.attach import ledger as ledger_mod
from tests.unit.attach import test_api


class AdmissionTestCase(test_api.ApiTestCase):
    def binding(self, instance=None, host='cpu1'):
        """An ARQ Cyborg's conductor is binding now (BindStarted)."""
        arq = self.cyborg.bind(instance or str(uuid.uuid4()), host=host)
        started = dataclasses.replace(arq, state='BindStarted')
        self.cyborg.arqs_[self.cyborg.arqs_.index(arq)] = started
        return started

    def body(self, arq, **changes):
        body = {
            'arq_uuid': arq.uuid,
            'instance_uuid': arq.instance_uuid,
            'hostname': arq.hostname,
            'project_id': arq.project_id,
            'device_rp_uuid': arq.device_rp_uuid,
            'device_profile_name': arq.device_profile_name,
            'device_profile_group_id': arq.device_profile_group_id,
        }
        body.update(changes)
        return body

    def admit(self, body):
        return self.call('POST', '/v1/admissions', token='cyborg', json=body)

    def fill_the_pool(self):
        """Two active 16 GiB leases on the 40000 MiB GPU, one pending."""
        for _ in range(3):
            self.cyborg.bind(str(uuid.uuid4()))
        self.reconciler.run_pass()
        states = sorted(lease.state.value for lease in self.ledger.list())
        self.assertEqual(['active', 'active', 'pending'], states)


class TestTheArqIsChecked(AdmissionTestCase):
    def test_an_arq_being_bound_is_admitted(self):
        arq = self.binding()
        status, doc, _ = self.admit(self.body(arq))
        self.assertEqual(201, status, doc)
        self.assertEqual('active', doc['state'])
        self.assertEqual(arq.uuid, doc['arq_uuid'])
        # Admitting again is idempotent.
        status, again, _ = self.admit(self.body(arq))
        self.assertEqual((201, doc['id']), (status, again['id']))

    def test_a_made_up_arq_is_refused(self):
        arq = self.binding()
        body = self.body(arq, arq_uuid=str(uuid.uuid4()))
        status, doc, _ = self.admit(body)
        self.assertEqual(409, status)
        self.assertIn('Cyborg has no such ARQ', doc['error']['message'])
        self.assertEqual([], self.ledger.list())

    def test_an_arq_not_being_bound_is_refused(self):
        arq = self.binding()
        self.cyborg.arqs_[-1] = dataclasses.replace(arq, state='Initial')
        status, doc, _ = self.admit(self.body(arq))
        self.assertEqual(409, status)
        self.assertIn('Initial in Cyborg', doc['error']['message'])
        self.assertEqual([], self.ledger.list())

    def test_a_body_that_differs_from_cyborg_is_refused(self):
        arq = self.binding()
        for field, value in (
            ('instance_uuid', str(uuid.uuid4())),
            ('device_rp_uuid', str(uuid.uuid4())),
            ('hostname', 'gpu1'),
            ('project_id', test_api.OTHER),
        ):
            status, doc, _ = self.admit(self.body(arq, **{field: value}))
            self.assertEqual(409, status, field)
            self.assertIn('ARQ %s' % arq.uuid, doc['error']['message'])
        self.assertEqual([], self.ledger.list())

    def test_cyborg_down_is_a_503_with_retry_after(self):
        arq = self.binding()
        self.cyborg.down = True
        status, _, response = self.admit(self.body(arq))
        self.assertEqual(503, status)
        self.assertEqual('15', response.headers['Retry-After'])

    def test_over_long_fields_are_400(self):
        arq = self.binding()
        for field, value in (
            ('hostname', 'h' * 256),
            ('project_id', 'p' * 65),
        ):
            status, doc, _ = self.admit(self.body(arq, **{field: value}))
            self.assertEqual(400, status, field)
            self.assertIn('longer than', doc['error']['message'])


class TestNoLeaseIsReleasedThatTheCallDidNotCreate(AdmissionTestCase):
    def test_readmitting_a_pending_lease_keeps_its_queue_place(self):
        self.fill_the_pool()
        (pending,) = self.ledger.list(state=ledger_mod.LeaseState.PENDING)
        arq = next(a for a in self.cyborg.arqs_ if a.uuid == pending.arq_uuid)
        status, doc, _ = self.admit(self.body(arq))
        self.assertEqual(409, status)
        self.assertIn('kept', doc['error']['message'])
        after = self.ledger.get(pending.id)
        self.assertEqual(ledger_mod.LeaseState.PENDING, after.state)
        self.assertEqual(pending.seq, after.seq)

    def test_a_lease_the_call_queued_is_dropped(self):
        self.fill_the_pool()
        arq = self.binding()
        status, doc, _ = self.admit(self.body(arq))
        self.assertEqual(409, status)
        self.assertIn('has no room', doc['error']['message'])
        self.assertRaises(
            ledger_mod.LeaseNotFound, self.ledger.get_by_arq, arq.uuid
        )
        self.assertEqual(3, len(self.ledger.list()))


class RacedPlacement(test_api.FakePlacement):
    """Placement whose first claims find the GPU taken.

    As when another worker placed there first; then it has room again.
    """

    def __init__(self, conflicts):
        super().__init__()
        self.conflicts = conflicts

    def claim(self, consumer, allocations, *args):
        if self.conflicts:
            self.conflicts -= 1
            raise clients.NoRoom(what=consumer, reason='conflict')
        super().claim(consumer, allocations, *args)


class TestALostRaceIsClaimedAgain(AdmissionTestCase):
    def use_placement(self, conflicts):
        placement = RacedPlacement(conflicts)
        self.placement = self.cyborg.placement = placement
        self.service.placement = placement

    def test_a_claim_that_lost_a_race_is_tried_once_more(self):
        self.use_placement(conflicts=1)
        arq = self.binding()
        status, doc, _ = self.admit(self.body(arq))
        self.assertEqual(201, status, doc)
        self.assertEqual('active', doc['state'])
        self.assertEqual([doc['id']], list(self.placement.consumers))
        events = [e.event for e in self.ledger.events(doc['id'])]
        self.assertEqual(
            ['claimed', 'pending', 'claimed', 'placed'], events[-4:]
        )

    def test_only_once(self):
        self.use_placement(conflicts=2)
        arq = self.binding()
        status, doc, _ = self.admit(self.body(arq))
        self.assertEqual(409, status)
        self.assertIn('has no room', doc['error']['message'])
        self.assertEqual({}, self.placement.consumers)
