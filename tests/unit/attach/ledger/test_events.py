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

"""The audit trail: lease events."""

from __future__ import annotations

import datetime
import uuid

import pytest

from orionx_cyborg.attach.ledger import InvalidArgument
from orionx_cyborg.attach.ledger import InvalidTransition
from orionx_cyborg.attach.ledger import LeaseExists
from orionx_cyborg.attach.ledger import LeaseState as S
from orionx_cyborg.attach.ledger import StaleLease
from tests.unit.attach.ledger import builders


class TestEvents:
    def test_events_are_kept_in_order_with_their_detail(self, ledger, clock):
        lease = ledger.create(
            builders.new_lease(), event='created', detail={'pool': 'default'}
        )
        clock.advance()
        lease = ledger.transition(
            lease.id,
            1,
            S.CLAIMING,
            event='claimed',
            detail={'gpu': 'GPU-0'},
            **builders.gpu(),
        )
        clock.advance()
        ledger.record_event(lease.id, 'placed', 'on GPU-0')
        events = ledger.events(lease.id)
        assert ['created', 'claimed', 'placed'] == [e.event for e in events]
        assert [{'pool': 'default'}, {'gpu': 'GPU-0'}, 'on GPU-0'] == [
            e.detail_data() for e in events
        ]
        assert events[0].at == events[1].at - datetime.timedelta(seconds=1)
        assert events[2].at.tzinfo is datetime.UTC
        assert events[0].id < events[1].id < events[2].id
        assert {lease.id} == {e.lease_id for e in events}

    def test_events_outlive_their_lease(self, ledger):
        lease = ledger.create(builders.new_lease(), event='created')
        ledger.delete(
            lease.id, event='released', detail={'reason': 'instance deleted'}
        )
        assert ['created', 'released'] == [
            e.event for e in ledger.events(lease.id)
        ]

    def test_events_of_unknown_consumers_are_allowed(self, ledger):
        # e.g. an orphan allocation the reconciler repaired.
        consumer = str(uuid.uuid4())
        event = ledger.record_event(consumer, 'repaired', {'orphan': True})
        assert ledger.events(consumer) == [event]

    def test_the_limit_keeps_the_newest(self, ledger):
        lease = ledger.create(builders.new_lease())
        other = ledger.create(builders.new_lease())
        for index in range(5):
            ledger.record_event(lease.id, 'moved', {'n': index})
            ledger.record_event(other.id, 'moved', {'n': index})
        assert [{'n': 3}, {'n': 4}] == [
            e.detail_data() for e in ledger.events(lease.id, limit=2)
        ]
        assert 10 == len(ledger.events())
        assert 3 == len(ledger.events(limit=3))
        assert [] == ledger.events(limit=0)

    def test_a_failed_change_records_nothing(self, ledger):
        lease = ledger.create(builders.new_lease(), event='created')
        with pytest.raises(StaleLease):
            ledger.transition(lease.id, 7, S.RELEASING, event='released')
        with pytest.raises(InvalidTransition):
            ledger.transition(lease.id, 1, S.ACTIVE, event='placed')
        with pytest.raises(LeaseExists):
            ledger.create(
                builders.new_lease(arq_uuid=lease.arq_uuid), event='created'
            )
        assert ['created'] == [e.event for e in ledger.events()]

    def test_secrets_are_masked(self, ledger):
        lease = ledger.create(builders.new_lease())
        event = ledger.record_event(
            lease.id,
            'created',
            {
                'secret': 's3cr3t',
                'nested': {'password': 'pw', 'ok': 1},
                'note': 'token=abc',
            },
        )
        assert 's3cr3t' not in event.detail
        assert 'pw' not in event.detail.replace('password', '')
        assert 'abc' not in event.detail
        assert event.detail_data()['nested']['ok'] == 1
        assert ledger.events(lease.id) == [event]

    @pytest.mark.parametrize(
        'event, detail',
        [
            ('', None),
            ('x' * 33, None),
            ('created', 'x' * 5000),
            ('created', 42),
        ],
    )
    def test_bad_events_are_refused(self, ledger, event, detail):
        with pytest.raises(InvalidArgument):
            ledger.record_event(str(uuid.uuid4()), event, detail)
        assert [] == ledger.events()

    def test_a_detail_needs_an_event(self, ledger):
        with pytest.raises(InvalidArgument):
            ledger.create(builders.new_lease(), detail='why')

    def test_old_events_can_be_purged(self, ledger, clock):
        lease = ledger.create(builders.new_lease())
        ledger.record_event(lease.id, 'old')
        cutoff = clock.advance(3600)
        ledger.record_event(lease.id, 'new')
        assert 1 == ledger.purge_events(cutoff)
        assert ['new'] == [e.event for e in ledger.events()]
        with pytest.raises(InvalidArgument):
            ledger.purge_events(datetime.datetime(2026, 1, 1))

    def test_purged_event_ids_are_not_reused(self, ledger, clock):
        lease = ledger.create(builders.new_lease())
        last = ledger.record_event(lease.id, 'old')
        ledger.purge_events(clock.advance())
        assert ledger.record_event(lease.id, 'new').id > last.id
