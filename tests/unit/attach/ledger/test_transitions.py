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

"""Changing state: the state machine and optimistic concurrency."""

from __future__ import annotations

import threading
import uuid

import pytest

from orionx_cyborg.attach.ledger import InvalidArgument
from orionx_cyborg.attach.ledger import InvalidTransition
from orionx_cyborg.attach.ledger import LeaseNotFound
from orionx_cyborg.attach.ledger import LeaseState as S
from orionx_cyborg.attach.ledger import Ledger
from orionx_cyborg.attach.ledger import StaleLease
from orionx_cyborg.attach.ledger import states
from tests.unit.attach.ledger import builders


def lease_in(ledger: Ledger, state: S):
    """A lease brought to *state* through allowed transitions."""
    if state is S.AWAITING_PARTNER:
        # Only a new lease awaits a partner.
        return ledger.create(builders.new_lease(state=state))
    lease = ledger.create(builders.new_lease())
    path = {
        S.PENDING: [],
        S.CLAIMING: [S.CLAIMING],
        S.ACTIVE: [S.CLAIMING, S.ACTIVE],
        S.MOVING: [S.CLAIMING, S.ACTIVE, S.MOVING],
        S.RELEASING: [S.RELEASING],
    }[state]
    for step in path:
        fields = builders.gpu() if step is S.CLAIMING else {}
        lease = ledger.transition(lease.id, lease.version, step, **fields)
    return lease


class TestStateMachine:
    @pytest.mark.parametrize('source', list(S))
    def test_every_transition_is_checked(self, ledger, source):
        for target in S:
            lease = lease_in(ledger, source)
            fields = builders.gpu('GPU-9') if target in (S.CLAIMING,) else {}
            if states.can_transition(source, target):
                moved = ledger.transition(
                    lease.id, lease.version, target, **fields
                )
                assert moved.state is target
                assert moved.version == lease.version + 1
                assert ledger.get(lease.id) == moved
            else:
                with pytest.raises(InvalidTransition) as caught:
                    ledger.transition(
                        lease.id, lease.version, target, **fields
                    )
                assert caught.value.current == lease
                assert ledger.get(lease.id) == lease

    def test_a_full_life(self, ledger, clock):
        lease = ledger.create(builders.new_lease())
        clock.advance()
        lease = ledger.transition(
            lease.id, 1, S.CLAIMING, **builders.gpu('GPU-1')
        )
        assert lease.placed and lease.placed_at is None
        clock.advance()
        lease = ledger.transition(lease.id, 2, S.ACTIVE)
        assert lease.placed_at == clock.now == lease.updated_at
        placed_at = lease.placed_at
        clock.advance()
        lease = ledger.transition(lease.id, 3, S.MOVING)
        assert lease.placed_at == placed_at
        clock.advance()
        lease = ledger.transition(
            lease.id, 4, S.ACTIVE, **builders.gpu('GPU-2', host='gpu-2')
        )
        assert (lease.gpu_uuid, lease.gpu_host) == ('GPU-2', 'gpu-2')
        assert lease.placed_at == clock.now
        lease = ledger.transition(lease.id, 5, S.RELEASING)
        lease = ledger.transition(lease.id, 6, S.RELEASING)
        assert lease.version == 7
        assert lease == ledger.get(lease.id)
        assert lease.created_at < lease.updated_at

    def test_going_back_to_pending_forgets_the_gpu(self, ledger):
        lease = lease_in(ledger, S.CLAIMING)
        lease = ledger.transition(lease.id, lease.version, S.PENDING)
        assert ledger.get(lease.id) == lease
        for name in (
            'gpu_host',
            'gpu_uuid',
            'gpu_pci_address',
            'memory_rp_uuid',
            'compute_rp_uuid',
            'placed_at',
        ):
            assert getattr(lease, name) is None, name

    def test_pending_with_a_gpu_is_refused(self, ledger):
        lease = lease_in(ledger, S.CLAIMING)
        with pytest.raises(InvalidArgument):
            ledger.transition(
                lease.id, lease.version, S.PENDING, gpu_uuid='GPU-1'
            )

    def test_claiming_needs_a_gpu_and_both_rps(self, ledger):
        lease = ledger.create(builders.new_lease())
        fields = builders.gpu()
        del fields['compute_rp_uuid']
        with pytest.raises(InvalidArgument) as caught:
            ledger.transition(lease.id, 1, S.CLAIMING, **fields)
        assert 'compute_rp_uuid' in str(caught.value)
        assert ledger.get(lease.id) == lease

    def test_a_move_cannot_drop_the_gpu(self, ledger):
        lease = lease_in(ledger, S.ACTIVE)
        with pytest.raises(InvalidArgument):
            ledger.transition(
                lease.id, lease.version, S.MOVING, memory_rp_uuid=None
            )

    def test_fields_change_with_the_state(self, ledger):
        lease = lease_in(ledger, S.ACTIVE)
        lease = ledger.transition(
            lease.id,
            lease.version,
            S.MOVING,
            gmem_mib=8192,
            compute_pct=50,
            vm_host='compute-9',
        )
        assert ledger.get(lease.id) == lease
        assert (lease.gmem_mib, lease.compute_pct, lease.vm_host) == (
            8192,
            50,
            'compute-9',
        )

    @pytest.mark.parametrize(
        'fields',
        [
            {'arq_uuid': str(uuid.uuid4())},
            {'seq': 99},
            {'version': 9},
            {'state': 'active'},
            {'created_at': None},
            {'gmem_mib': 0},
            {'memory_rp_uuid': 'rp'},
            {'vm_host': None},
        ],
    )
    def test_fields_that_cannot_change_are_refused(self, ledger, fields):
        lease = ledger.create(builders.new_lease())
        with pytest.raises((InvalidArgument, TypeError)):
            ledger.transition(lease.id, 1, S.RELEASING, **fields)
        assert ledger.get(lease.id) == lease

    def test_state_names_are_accepted_and_checked(self, ledger):
        lease = ledger.create(builders.new_lease())
        assert ledger.transition(lease.id, 1, 'releasing').state is (
            S.RELEASING
        )
        with pytest.raises(InvalidArgument):
            ledger.transition(lease.id, 2, 'sleeping')

    def test_an_unknown_lease_is_not_found(self, ledger):
        with pytest.raises(LeaseNotFound):
            ledger.transition(str(uuid.uuid4()), 1, S.RELEASING)


class TestOptimisticConcurrency:
    def test_of_two_writers_with_the_same_version_the_second_loses(
        self, ledger
    ):
        lease = ledger.create(builders.new_lease())
        seen_by_reconciler = ledger.get(lease.id)
        seen_by_api = ledger.get(lease.id)
        ledger.transition(
            seen_by_api.id, seen_by_api.version, S.CLAIMING, **builders.gpu()
        )
        with pytest.raises(StaleLease) as caught:
            ledger.transition(
                seen_by_reconciler.id, seen_by_reconciler.version, S.RELEASING
            )
        assert caught.value.current.state is S.CLAIMING
        assert caught.value.current.version == 2
        assert caught.value.current == ledger.get(lease.id)

    def test_a_stale_version_loses_before_the_state_machine_is_asked(
        self, ledger
    ):
        lease = lease_in(ledger, S.ACTIVE)
        with pytest.raises(StaleLease):
            ledger.transition(lease.id, 1, S.CLAIMING, **builders.gpu())

    def test_racing_threads_one_winner(self, database_url, clock):
        # Separate ledgers and engines, as in two processes.
        writers = [
            Ledger.from_url(database_url, clock=clock) for _ in range(6)
        ]
        try:
            writers[0].upgrade()
            lease = writers[0].create(builders.new_lease())
            barrier = threading.Barrier(len(writers))
            outcomes = []

            def race(ledger, index):
                barrier.wait()
                try:
                    ledger.transition(
                        lease.id,
                        lease.version,
                        S.RELEASING,
                        event='released-by-%d' % index,
                    )
                    outcomes.append('won')
                except StaleLease:
                    outcomes.append('stale')

            threads = [
                threading.Thread(target=race, args=(ledger, index))
                for index, ledger in enumerate(writers)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(30)
            assert sorted(outcomes) == ['stale'] * 5 + ['won']
            assert writers[0].get(lease.id).version == 2
            assert 1 == len(writers[0].events(lease.id))
        finally:
            for ledger in writers:
                ledger.close()

    def test_concurrent_creates_get_distinct_seqs(self, ledger):
        # One shared ledger, as in a threaded WSGI server.
        created = []
        errors = []

        def create(count):
            try:
                for _ in range(count):
                    created.append(ledger.create(builders.new_lease()).seq)
            except Exception as exc:  # reported below
                errors.append(exc)

        threads = [
            threading.Thread(target=create, args=(5,)) for _ in range(4)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert errors == []
        assert sorted(created) == list(range(1, 21))
        assert [lease.seq for lease in ledger.list()] == list(range(1, 21))
