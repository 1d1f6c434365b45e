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

"""The pairing hold in the lease service, over the stand-ins.

A pool of four 64 GiB GPUs (``binpack``, so the order is known): one
whole-GPU lease takes the first, a memory-heavy slice (44 GiB, 20%)
opens the second, and the next memory-heavy slice would open the third
and leave one idle GPU of four, below the reserve of half: it waits as
``awaiting-partner``. The real services are in
``tests/functional/test_attach_pairing.py``.
"""

import dataclasses
import datetime
import uuid

import fixtures

from orionx_cyborg import allocator
from orionx_cyborg.attach import capacity
from orionx_cyborg.attach import ledger as ledger_mod
from tests.unit.attach import test_api
from tests.unit.attach import test_vendors

State = ledger_mod.LeaseState
HOLD = capacity.HoldSettings(reserve=0.5, partner_share=1.0, max_wait_s=300)
GPU_MIB = 65536


class PairingCyborg(test_vendors.MixedCyborg):
    """Four NVIDIA H200s and profiles of four shapes."""

    def __init__(self):
        super().__init__()
        self.profiles = {
            'whole': test_vendors.profile(
                'whole', gmem=GPU_MIB, **{'accel:orionx_compute_pct': '100'}
            ),
            'memory-heavy': test_vendors.profile(
                'memory-heavy',
                gmem=45056,
                **{'accel:orionx_compute_pct': '20'},
            ),
            'compute-heavy': test_vendors.profile(
                'compute-heavy',
                gmem=12288,
                **{'accel:orionx_compute_pct': '70'},
            ),
        }


class HoldTestCase(test_vendors.VendorTestCase):
    RUNTIMES = ('orionx',)

    def setUp(self):
        super().setUp()
        self.patch_gpus()
        self.cyborg = PairingCyborg()
        self.cyborg.placement = self.placement
        self.now = ledger_mod.utc_now()
        self.service = self.make_hold_service(HOLD)
        self.reconciler = test_api.reconciler_mod.LeaseReconciler(self.service)

    def patch_gpus(self):
        gpus = tuple(
            ('GPU-%d' % n, '10de', 'NVIDIA H200', GPU_MIB, 'CUSTOM_H200')
            for n in range(1, 5)
        )
        self.useFixture(fixtures.MockPatchObject(test_vendors, 'GPUS', gpus))

    def make_hold_service(self, hold):
        return self.lease_service(
            dataclasses.replace(self.service.settings, hold=hold),
            clock=lambda: self.now,
        )

    def fill(self):
        """A whole GPU taken, one memory-heavy slice active, one held."""
        _, whole = self.lease('whole')
        _, first = self.lease('memory-heavy')
        instance, held = self.lease('memory-heavy')
        self.assertEqual(
            (State.ACTIVE, State.ACTIVE, State.AWAITING_PARTNER),
            (whole.state, first.state, held.state),
        )
        return whole, first, held, instance

    def gpu_of_allocation(self, lease_id):
        allocations = self.placement.consumers[lease_id]
        view = self.service.view()
        (gpu,) = {
            g.gpu_uuid
            for g in view.gpus.values()
            if g.memory_rp_uuid in allocations
            and g.compute_rp_uuid in allocations
        }
        return gpu


class TestHolding(HoldTestCase):
    def test_a_slice_that_would_open_a_scarce_gpu_alone_waits(self):
        _, _, held, instance = self.fill()
        self.assertIsNone(held.gpu_uuid)
        self.assertNotIn(held.id, self.placement.consumers)
        self.assertEqual(
            [held.id],
            [lease.id for lease in self.ledger.awaiting_partner('default')],
        )
        self.assertEqual([], self.ledger.pending('default'))
        [event] = self.ledger.events(held.id)
        self.assertEqual(
            ('awaiting-partner', {'max_wait_s': 300.0}),
            (event.event, event.detail_data()),
        )
        status, doc, _ = self.vendordata(
            {'instance-id': instance, 'project-id': test_api.PROJECT}
        )
        self.assertEqual(200, status)
        self.assertEqual(15, doc['retry_after'])
        (vgpu,) = doc['vgpus']
        self.assertEqual('pending', vgpu['state'])
        self.assertIn('partner', vgpu['reason'])

    def test_a_complementary_slice_is_placed_with_the_held_one(self):
        _, first, held, _ = self.fill()
        _, arriving = self.lease('compute-heavy')
        paired = self.ledger.get(held.id)
        self.assertEqual(
            (State.ACTIVE, State.ACTIVE), (paired.state, arriving.state)
        )
        self.assertEqual(paired.gpu_uuid, arriving.gpu_uuid)
        self.assertNotIn(paired.gpu_uuid, {first.gpu_uuid})
        # Placement holds both, on that GPU's providers.
        self.assertEqual(
            {paired.gpu_uuid},
            {
                self.gpu_of_allocation(paired.id),
                self.gpu_of_allocation(arriving.id),
            },
        )
        events = [e.event for e in self.ledger.events(held.id)]
        self.assertEqual(['awaiting-partner', 'paired', 'placed'], events)
        detail = self.ledger.events(held.id)[1].detail_data()
        self.assertEqual(arriving.arq_uuid, detail['with_arq'])
        self.assertEqual([], self.ledger.awaiting_partner('default'))

    def test_without_the_hold_the_same_slice_opens_a_gpu(self):
        self.service = self.make_hold_service(None)
        self.lease('whole')
        self.lease('memory-heavy')
        _, second = self.lease('memory-heavy')
        self.assertEqual(State.ACTIVE, second.state)

    def test_a_slice_whose_partners_are_common_is_not_held(self):
        # With the default share, the prior's halves and quarters could
        # share the GPU with it: no reason to hold.
        self.service = self.make_hold_service(
            dataclasses.replace(HOLD, partner_share=0.1)
        )
        self.lease('whole')
        self.lease('memory-heavy')
        _, second = self.lease('memory-heavy')
        self.assertEqual(State.ACTIVE, second.state)

    def test_strict_admission_never_holds(self):
        self.lease('whole')
        self.lease('memory-heavy')
        instance = str(uuid.uuid4())
        arq = self.cyborg.bind_profile(instance, 'memory-heavy')
        binding = dataclasses.replace(arq, state='BindStarted')
        self.cyborg.arqs_[self.cyborg.arqs_.index(arq)] = binding
        lease = self.service.admit(binding)
        self.assertEqual(State.ACTIVE, lease.state)

    def test_a_held_lease_released_meanwhile_is_left_alone(self):
        _, _, held, _ = self.fill()
        # Another worker released it after this one read the held list.
        releasing = self.ledger.transition(
            held.id, held.version, State.RELEASING
        )
        self.ledger.delete(releasing.id, releasing.version)
        self.useFixture(
            fixtures.MockPatchObject(
                self.ledger, 'awaiting_partner', return_value=[held]
            )
        )
        _, arriving = self.lease('compute-heavy')
        self.assertEqual(State.ACTIVE, arriving.state)
        self.assertNotIn(held.id, self.placement.consumers)
        # The held slice went back: the GPU holds the arriving one only.
        gpus = {
            g.gpu_id: g for g in self.service.capacity.snapshot('default')[1]
        }
        gpu = gpus[arriving.gpu_uuid]
        self.assertEqual(
            (GPU_MIB - 12288, 30),
            (gpu.free_memory_mib, gpu.free_compute_pct),
        )


class TestQueueing(HoldTestCase):
    def test_a_pass_keeps_a_held_lease_while_the_pool_is_short(self):
        _, _, held, _ = self.fill()
        report = self.reconciler.run_pass()
        self.assertEqual(0, report.queued_held)
        self.assertEqual(
            State.AWAITING_PARTNER, self.ledger.get(held.id).state
        )

    def test_after_the_longest_wait_a_pass_queues_and_places_it(self):
        _, _, held, _ = self.fill()
        self.now += datetime.timedelta(seconds=HOLD.max_wait_s + 1)
        report = self.reconciler.run_pass()
        self.assertEqual((1, 1), (report.queued_held, report.placed))
        lease = self.ledger.get(held.id)
        self.assertEqual(State.ACTIVE, lease.state)
        queued = [
            e for e in self.ledger.events(held.id) if e.event == 'queued'
        ]
        self.assertEqual(
            [{'reason': 'waited 300 s for a partner'}],
            [e.detail_data() for e in queued],
        )

    def test_idle_gpus_again_queue_it(self):
        whole, _, held, _ = self.fill()
        # The whole GPU's instance is deleted: the pass releases its
        # lease, then three of four GPUs are idle and taking one leaves
        # two, half of the pool.
        self.cyborg.arqs_ = [
            a for a in self.cyborg.arqs_ if a.uuid != whole.arq_uuid
        ]
        report = self.reconciler.run_pass()
        self.assertEqual(
            (1, 1, 1), (report.released, report.queued_held, report.placed)
        )
        queued = [
            e for e in self.ledger.events(held.id) if e.event == 'queued'
        ]
        self.assertEqual(
            'the pool has idle GPUs again', queued[0].detail_data()['reason']
        )
        self.assertEqual(State.ACTIVE, self.ledger.get(held.id).state)

    def test_several_held_leases_do_not_all_take_the_last_idle_gpus(self):
        # A reserve of 0.6 of four GPUs holds once two would stay idle.
        self.service = self.make_hold_service(
            dataclasses.replace(HOLD, reserve=0.6)
        )
        states = [self.lease('memory-heavy')[1].state for _ in range(3)]
        self.assertEqual(
            [State.ACTIVE, State.AWAITING_PARTNER, State.AWAITING_PARTNER],
            states,
        )
        # At half, three idle GPUs let one open (two stay idle), and
        # then no more: counting only the pool as it is, both would go.
        self.service = self.make_hold_service(HOLD)
        self.assertEqual(1, len(self.service.queue_held('default')))
        self.assertEqual(1, len(self.ledger.awaiting_partner('default')))

    def test_turning_the_hold_off_queues_every_held_lease(self):
        _, _, held, _ = self.fill()
        self.service = self.make_hold_service(None)
        self.reconciler = test_api.reconciler_mod.LeaseReconciler(self.service)
        report = self.reconciler.run_pass()
        self.assertEqual((1, 1), (report.queued_held, report.placed))
        self.assertEqual(State.ACTIVE, self.ledger.get(held.id).state)

    def test_a_held_lease_whose_arq_is_gone_is_released(self):
        _, _, held, _ = self.fill()
        self.cyborg.arqs_ = [
            a for a in self.cyborg.arqs_ if a.uuid != held.arq_uuid
        ]
        report = self.reconciler.run_pass()
        self.assertEqual(1, report.released)
        self.assertRaises(ledger_mod.LeaseNotFound, self.ledger.get, held.id)


class TestTheMixOutlivesAllocators(HoldTestCase):
    def test_the_learned_mix_survives_a_rebuild(self):
        request = allocator.VgpuRequest(compute_pct=20, memory_mib=45056)
        # More than the 200 observations after which the mix is compared.
        for _ in range(250):
            self.service.capacity.allocate('default', request)
        before = self.service.capacity.snapshot('default')[0]
        self.service.forget_allocators()
        after = self.service.capacity.snapshot('default')[0]
        shape = allocator.TaskShape.of(request)
        self.assertIn(shape, before.shapes)
        self.assertEqual(before, after)
