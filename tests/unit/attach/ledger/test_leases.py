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

"""Creating, reading, listing and deleting leases."""

from __future__ import annotations

import dataclasses
import datetime
import uuid

import pytest

from orionx_cyborg import exception
from orionx_cyborg.attach.ledger import InvalidArgument
from orionx_cyborg.attach.ledger import InvalidTransition
from orionx_cyborg.attach.ledger import LeaseExists
from orionx_cyborg.attach.ledger import LeaseNotFound
from orionx_cyborg.attach.ledger import LeaseRecord
from orionx_cyborg.attach.ledger import LeaseState
from orionx_cyborg.attach.ledger import MarkerNotFound
from orionx_cyborg.attach.ledger import StaleLease
from tests.unit.attach.ledger import builders
from tests.unit.attach.ledger.conftest import EPOCH


class TestCreate:
    def test_a_new_lease_is_pending_first_in_line_at_version_1(self, ledger):
        lease = ledger.create(builders.new_lease())
        assert lease.state is LeaseState.PENDING
        assert lease.version == 1
        assert lease.seq == 1
        assert lease.created_at == lease.updated_at == EPOCH
        assert lease.placed_at is None
        assert not lease.placed

    def test_what_is_created_is_what_is_read_back(self, ledger):
        created = ledger.create(builders.new_lease())
        assert isinstance(created, LeaseRecord)
        assert ledger.get(created.id) == created
        assert ledger.get_by_arq(created.arq_uuid) == created

    def test_records_are_frozen(self, ledger):
        lease = ledger.create(builders.new_lease())
        with pytest.raises(dataclasses.FrozenInstanceError):
            lease.state = LeaseState.ACTIVE

    def test_times_are_utc_and_aware(self, ledger, clock):
        clock.now = datetime.datetime(
            2026,
            3,
            1,
            12,
            0,
            0,
            123456,
            tzinfo=datetime.timezone(datetime.timedelta(hours=8)),
        )
        lease = ledger.get(ledger.create(builders.new_lease()).id)
        assert lease.created_at.tzinfo is datetime.UTC
        assert lease.created_at == clock.now
        assert lease.created_at.hour == 4
        assert lease.created_at.microsecond == 123456

    def test_uuids_are_stored_in_canonical_form(self, ledger):
        arq = uuid.uuid4()
        lease = ledger.create(
            builders.new_lease(id=arq.hex.upper(), arq_uuid='{%s}' % arq)
        )
        assert lease.id == lease.arq_uuid == str(arq)
        assert ledger.get(arq.hex).id == str(arq)
        assert ledger.get_by_arq(str(arq).upper()).id == str(arq)

    def test_the_same_arq_twice_is_refused(self, ledger):
        first = ledger.create(builders.new_lease())
        with pytest.raises(LeaseExists) as caught:
            ledger.create(builders.new_lease(arq_uuid=first.arq_uuid))
        assert caught.value.existing == first
        assert first.arq_uuid in str(caught.value)
        assert isinstance(caught.value, exception.OrionXException)
        assert ledger.list() == [first]

    def test_the_same_id_twice_is_refused(self, ledger):
        first = ledger.create(builders.new_lease())
        with pytest.raises(LeaseExists) as caught:
            ledger.create(builders.new_lease(id=first.id))
        assert caught.value.existing == first

    def test_a_refused_create_uses_no_queue_number(self, ledger):
        first = ledger.create(builders.new_lease())
        with pytest.raises(LeaseExists):
            ledger.create(builders.new_lease(arq_uuid=first.arq_uuid))
        assert ledger.create(builders.new_lease()).seq == first.seq + 1

    def test_a_claiming_lease_may_be_created_with_its_gpu(self, ledger):
        lease = ledger.create(
            builders.new_lease(
                state=LeaseState.CLAIMING, **builders.gpu('GPU-3')
            )
        )
        assert lease.state is LeaseState.CLAIMING
        assert lease.gpu_uuid == 'GPU-3'
        assert lease.placed_at is None

    def test_an_adopted_active_lease_is_placed_now(self, ledger, clock):
        lease = ledger.create(
            builders.new_lease(state=LeaseState.ACTIVE, **builders.gpu())
        )
        assert lease.placed_at == clock.now

    @pytest.mark.parametrize(
        'state', [LeaseState.MOVING, LeaseState.RELEASING]
    )
    def test_leases_cannot_be_born_moving_or_releasing(self, ledger, state):
        with pytest.raises(InvalidArgument):
            ledger.create(builders.new_lease(state=state, **builders.gpu()))

    @pytest.mark.parametrize(
        'overrides',
        [
            {'state': LeaseState.CLAIMING},
            {'state': LeaseState.ACTIVE, 'gpu_uuid': 'GPU-0'},
            {'gpu_uuid': 'GPU-0'},
            {'gmem_mib': 0},
            {'compute_pct': -1},
            {'gmem_mib': True},
            {'arq_uuid': 'not-a-uuid'},
            {'instance_uuid': None},
            {'project_id': ''},
            {'pool': 'p' * 256},
            {'placed_at': datetime.datetime(2026, 1, 1)},
        ],
        ids=[
            'claiming-without-gpu',
            'active-without-rps',
            'pending-with-gpu',
            'no-memory',
            'negative-compute',
            'bool-size',
            'bad-arq',
            'no-instance',
            'empty-project',
            'long-pool',
            'naive-time',
        ],
    )
    def test_invalid_leases_are_refused_before_any_write(
        self, ledger, overrides
    ):
        with pytest.raises(InvalidArgument):
            ledger.create(builders.new_lease(**overrides))
        assert ledger.list() == []

    def test_a_naive_clock_is_refused(self, ledger, clock):
        clock.now = datetime.datetime(2026, 1, 1)
        with pytest.raises(InvalidArgument):
            ledger.create(builders.new_lease())


class TestGet:
    def test_unknown_leases_are_not_found(self, ledger):
        with pytest.raises(LeaseNotFound):
            ledger.get(str(uuid.uuid4()))
        with pytest.raises(LeaseNotFound):
            ledger.get('not-a-uuid')
        with pytest.raises(LeaseNotFound):
            ledger.get_by_arq(str(uuid.uuid4()))
        with pytest.raises(LeaseNotFound):
            ledger.get_by_arq('not-a-uuid')


class TestList:
    def test_filters_combine(self, ledger):
        vm = str(uuid.uuid4())
        mine = ledger.create(
            builders.new_lease(
                instance_uuid=vm, project_id='p1', vm_host='h1', pool='a'
            )
        )
        builders.active(
            ledger,
            'GPU-7',
            instance_uuid=vm,
            project_id='p1',
            vm_host='h2',
            pool='a',
        )
        ledger.create(
            builders.new_lease(project_id='p2', vm_host='h1', pool='b')
        )
        assert [mine] == ledger.list(instance=vm, host='h1')
        assert [mine] == ledger.list(instance=vm.upper(), host='h1')
        assert {2, 1} == {
            len(ledger.list(project='p1')),
            len(ledger.list(pool='b')),
        }
        assert [mine] == ledger.list(project='p1', state=LeaseState.PENDING)
        assert ['GPU-7'] == [
            lease.gpu_uuid for lease in ledger.list(gpu='GPU-7')
        ]
        assert 2 == len(
            ledger.list(
                state=[LeaseState.PENDING, LeaseState.ACTIVE], project='p1'
            )
        )
        assert [] == ledger.list(project='nobody')

    def test_order_is_creation_order_whatever_the_clock_says(
        self, ledger, clock
    ):
        created = []
        for _ in range(5):
            created.append(ledger.create(builders.new_lease()).id)
            clock.advance(-60)  # a clock stepping back must not matter
        assert created == [lease.id for lease in ledger.list()]

    def test_pages_follow_the_marker(self, ledger):
        created = [ledger.create(builders.new_lease()).id for _ in range(7)]
        pages = []
        marker = None
        while True:
            page = ledger.list(limit=3, marker=marker)
            if not page:
                break
            pages.append([lease.id for lease in page])
            marker = page[-1].id
        assert [created[0:3], created[3:6], created[6:7]] == pages

    def test_pages_hold_when_leases_come_and_go(self, ledger):
        created = [ledger.create(builders.new_lease()) for _ in range(4)]
        first = ledger.list(limit=2)
        ledger.delete(created[0].id)
        newcomer = ledger.create(builders.new_lease())
        rest = ledger.list(marker=first[-1].id)
        assert [lease.id for lease in rest] == [
            created[2].id,
            created[3].id,
            newcomer.id,
        ]

    def test_filters_apply_to_pages(self, ledger):
        wanted = []
        for index in range(6):
            lease = ledger.create(
                builders.new_lease(pool='a' if index % 2 else 'b')
            )
            if index % 2:
                wanted.append(lease.id)
        page = ledger.list(pool='a', limit=2)
        page += ledger.list(pool='a', limit=2, marker=page[-1].id)
        assert wanted == [lease.id for lease in page]

    def test_a_missing_marker_is_an_error(self, ledger):
        with pytest.raises(MarkerNotFound):
            ledger.list(marker=str(uuid.uuid4()))
        with pytest.raises(InvalidArgument):
            ledger.list(marker='nonsense')

    def test_limits(self, ledger):
        for _ in range(3):
            ledger.create(builders.new_lease())
        assert [] == ledger.list(limit=0)
        assert 3 == len(ledger.list(limit=None))
        with pytest.raises(InvalidArgument):
            ledger.list(limit=-1)

    def test_a_listed_lease_is_the_lease_get_reads(self, ledger):
        lease = builders.active(ledger, 'GPU-3')
        (listed,) = ledger.list(instance=lease.instance_uuid)
        assert ledger.get(lease.id) == listed
        assert listed.state is LeaseState.ACTIVE
        assert listed.created_at.tzinfo is not None
        assert listed.placed_at is not None
        assert listed.placed_at.tzinfo is not None

    def test_each_call_binds_its_own_filter_values(self, ledger):
        # The query of a combination of filters is built once and kept:
        # the values of one call must never leak into the next.
        first, second = (
            ledger.create(builders.new_lease(vm_host=host, pool=pool))
            for host, pool in (('h1', 'a'), ('h2', 'b'))
        )
        for lease in (first, second, first):
            assert [lease] == ledger.list(instance=lease.instance_uuid)
            assert [lease] == ledger.list(
                host=lease.vm_host, pool=lease.pool, limit=5
            )
            assert [lease] == ledger.list(
                instance=lease.instance_uuid, state=LeaseState.PENDING
            )
            assert [] == ledger.list(
                instance=lease.instance_uuid, state=LeaseState.ACTIVE
            )
        assert [] == ledger.list(host='h1', pool='b')
        assert [second] == ledger.list(marker=first.id, limit=1)
        assert [first, second] == ledger.list()

    def test_an_empty_state_list_matches_nothing(self, ledger):
        ledger.create(builders.new_lease())
        assert [] == ledger.list(state=[])

    def test_unknown_states_are_refused(self, ledger):
        with pytest.raises(InvalidArgument):
            ledger.list(state='sleeping')


class TestPending:
    def test_pending_leases_come_first_come_first_served_per_pool(
        self, ledger
    ):
        a = [ledger.create(builders.new_lease(pool='a')) for _ in range(3)]
        b = ledger.create(builders.new_lease(pool='b'))
        assert [lease.id for lease in ledger.pending('a')] == [
            lease.id for lease in a
        ]
        assert [b.id] == [lease.id for lease in ledger.pending('b')]
        assert [a[0].id] == [lease.id for lease in ledger.pending('a', 1)]
        assert [] == ledger.pending('c')

    def test_seq_increases_strictly_and_is_never_reused(self, ledger):
        first = ledger.create(builders.new_lease())
        second = ledger.create(builders.new_lease())
        ledger.delete(second.id)
        third = ledger.create(builders.new_lease())
        assert first.seq < second.seq < third.seq

    def test_a_lease_that_did_not_fit_keeps_its_place(self, ledger):
        first, second = (ledger.create(builders.new_lease()) for _ in range(2))
        claiming = ledger.transition(
            first.id, 1, LeaseState.CLAIMING, **builders.gpu()
        )
        assert [second.id] == [lease.id for lease in ledger.pending('default')]
        ledger.transition(claiming.id, claiming.version, LeaseState.PENDING)
        assert [first.id, second.id] == [
            lease.id for lease in ledger.pending('default')
        ]

    def test_placed_leases_are_not_pending(self, ledger):
        builders.active(ledger)
        assert [] == ledger.pending('default')


class TestAwaitingPartner:
    def test_held_leases_are_outside_the_queue_oldest_first(self, ledger):
        held = [
            ledger.create(
                builders.new_lease(state=LeaseState.AWAITING_PARTNER)
            )
            for _ in range(2)
        ]
        queued = ledger.create(builders.new_lease())
        other = ledger.create(
            builders.new_lease(pool='b', state=LeaseState.AWAITING_PARTNER)
        )
        assert [queued.id] == [lease.id for lease in ledger.pending('default')]
        assert [h.id for h in held] == [
            lease.id for lease in ledger.awaiting_partner('default')
        ]
        assert [other.id] == [
            lease.id for lease in ledger.awaiting_partner('b')
        ]

    def test_a_queued_held_lease_keeps_its_arrival_order(self, ledger):
        held = ledger.create(
            builders.new_lease(state=LeaseState.AWAITING_PARTNER)
        )
        later = ledger.create(builders.new_lease())
        ledger.transition(
            held.id, held.version, LeaseState.PENDING, event='queued'
        )
        assert [held.id, later.id] == [
            lease.id for lease in ledger.pending('default')
        ]
        assert [] == ledger.awaiting_partner('default')

    def test_a_held_lease_names_no_gpu(self, ledger):
        with pytest.raises(InvalidArgument, match='awaiting-partner lease'):
            ledger.create(
                builders.new_lease(
                    state=LeaseState.AWAITING_PARTNER, **builders.gpu()
                )
            )

    def test_a_held_lease_is_claimed_with_a_gpu_or_deleted(self, ledger):
        held, gone = (
            ledger.create(
                builders.new_lease(state=LeaseState.AWAITING_PARTNER)
            )
            for _ in range(2)
        )
        claimed = ledger.transition(
            held.id, held.version, LeaseState.CLAIMING, **builders.gpu()
        )
        assert claimed.gpu_uuid == 'GPU-0'
        assert ledger.delete(gone.id) == gone


class TestDelete:
    def test_a_pending_lease_may_be_deleted(self, ledger):
        lease = ledger.create(builders.new_lease())
        assert ledger.delete(lease.id) == lease
        with pytest.raises(LeaseNotFound):
            ledger.get(lease.id)
        with pytest.raises(LeaseNotFound):
            ledger.delete(lease.id)

    def test_a_releasing_lease_may_be_deleted(self, ledger):
        lease = builders.active(ledger)
        lease = ledger.transition(
            lease.id, lease.version, LeaseState.RELEASING
        )
        ledger.delete(lease.id, lease.version, event='released')
        assert [] == ledger.list()
        assert ['released'] == [e.event for e in ledger.events(lease.id)]

    @pytest.mark.parametrize(
        'state', [LeaseState.CLAIMING, LeaseState.ACTIVE, LeaseState.MOVING]
    )
    def test_a_lease_that_may_hold_an_allocation_is_kept(self, ledger, state):
        lease = builders.active(ledger)
        if state is LeaseState.MOVING:
            lease = ledger.transition(lease.id, lease.version, state)
        elif state is LeaseState.CLAIMING:
            lease = ledger.create(
                builders.new_lease(state=state, **builders.gpu())
            )
        with pytest.raises(InvalidTransition) as caught:
            ledger.delete(lease.id)
        assert caught.value.target == 'deleted'
        assert ledger.get(lease.id) == lease

    def test_a_stale_delete_loses(self, ledger):
        lease = ledger.create(builders.new_lease())
        ledger.transition(lease.id, 1, LeaseState.RELEASING)
        with pytest.raises(StaleLease):
            ledger.delete(lease.id, expected_version=1)
        ledger.delete(lease.id, expected_version=2)
