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

"""The pairing hold, and the allocator queries it relies on."""

import testtools

from orionx_cyborg import allocator as alloc
from tests.unit.allocator import base


class RecordingMix(alloc.FixedMix):
    """A fixed mix that remembers what it was shown."""

    def __init__(self):
        super().__init__(
            alloc.MixSnapshot.from_weights(
                {alloc.TaskShape(compute_pct=50, memory_pct=55): 1.0}
            )
        )
        self.seen = []

    def observe(self, shape):
        self.seen.append(shape)


def pool(*gpus, mix=None):
    # By default a mix of slices that never pair (compute 50 + 50 fits,
    # memory 55 + 55 does not), so partners of every request are scarce.
    if mix is None:
        mix = base.fixed_mix((50, 55, 1, 1.0))
    return alloc.Allocator(list(gpus), policy='partner-aware', mix=mix)


def free(allocator, gpu_id):
    gpu = allocator.gpu(gpu_id)
    # Memory in whole percent, rounded up (slices round their MiB up).
    return gpu.free_compute_pct, -(
        -gpu.free_memory_mib * 100 // gpu.memory_mib
    )


class TestAllocateOn(testtools.TestCase):
    def test_places_on_the_given_gpu(self):
        allocator = pool(base.gpu('a'), base.gpu('b'))
        grant = allocator.allocate_on(base.request(30), 'b')
        self.assertEqual(('b',), grant.gpu_ids)
        self.assertEqual((70, 70), free(allocator, 'b'))
        self.assertEqual((100, 100), free(allocator, 'a'))

    def test_too_full_takes_nothing(self):
        allocator = pool(base.gpu('a', free_pct=20))
        self.assertIsNone(allocator.allocate_on(base.request(30), 'a'))
        self.assertEqual((20, 20), free(allocator, 'a'))

    def test_memory_too_full_takes_nothing(self):
        allocator = pool(base.gpu('a', free_pct=90, free_mem_pct=10))
        self.assertIsNone(allocator.allocate_on(base.request(30, 20), 'a'))

    def test_unhealthy_or_other_model_takes_nothing(self):
        allocator = pool(base.gpu('a', healthy=False), base.gpu('b'))
        self.assertIsNone(allocator.allocate_on(base.request(30), 'a'))
        request = base.request(30, models=frozenset({'H200'}))
        self.assertIsNone(allocator.allocate_on(request, 'b'))

    def test_more_than_one_slice_is_refused(self):
        allocator = pool(base.gpu('a'))
        self.assertRaises(
            ValueError, allocator.allocate_on, base.request(30, count=2), 'a'
        )

    def test_unknown_gpu(self):
        allocator = pool(base.gpu('a'))
        self.assertRaises(
            alloc.UnknownGpuError,
            allocator.allocate_on,
            base.request(30),
            'nope',
        )


class TestIdleCounts(testtools.TestCase):
    def test_idle_and_healthy(self):
        allocator = pool(
            base.gpu('a'),
            base.gpu('b', free_pct=50),
            base.gpu('c', healthy=False),
            base.gpu('d', model='L4'),
        )
        self.assertEqual(2, allocator.idle_gpus())
        self.assertEqual(3, allocator.healthy_gpus())
        self.assertEqual(1, allocator.idle_gpus(frozenset({'T4'})))
        self.assertEqual(2, allocator.healthy_gpus(frozenset({'T4'})))


class TestTryAllocate(testtools.TestCase):
    def test_places_as_allocate_does(self):
        allocator = pool(base.gpu('a', free_pct=40, free_mem_pct=40))
        grant = allocator.try_allocate(base.request(30))
        self.assertEqual(('a',), grant.gpu_ids)
        self.assertEqual((10, 10), free(allocator, 'a'))

    def test_no_room_takes_nothing_and_says_none(self):
        allocator = pool(base.gpu('a', free_pct=40, free_mem_pct=40))
        self.assertIsNone(allocator.try_allocate(base.request(50, 30)))
        self.assertEqual((40, 40), free(allocator, 'a'))
        # allocate says why for the same request.
        self.assertEqual(
            alloc.RejectionReason.INSUFFICIENT_COMPUTE,
            allocator.allocate(base.request(50, 30)).reason,
        )

    def test_observe(self):
        mix = RecordingMix()
        allocator = pool(base.gpu('a'), mix=mix)
        allocator.try_allocate(base.request(30), observe=False)
        allocator.try_allocate(base.request(20))
        self.assertEqual([20], [s.compute_pct for s in mix.seen])


def binpack(*gpus):
    return alloc.Allocator(list(gpus), policy='binpack')


class TestAllocatePair(testtools.TestCase):
    def test_second_beside_the_first_where_the_policy_puts_it(self):
        # Binpack fills the used GPU 'b' before opening 'a'.
        allocator = binpack(base.gpu('a'), base.gpu('b', free_pct=60))
        first, second = allocator.allocate_pair(
            base.request(30), base.request(20)
        )
        self.assertEqual(('b',), first.gpu_ids)
        self.assertEqual(('b',), second.gpu_ids)
        self.assertEqual(
            (30, 20),
            (first.slices[0].compute_pct, second.slices[0].compute_pct),
        )
        self.assertEqual((10, 10), free(allocator, 'b'))
        self.assertEqual((100, 100), free(allocator, 'a'))

    def test_second_too_big_beside_the_first_takes_nothing(self):
        allocator = binpack(base.gpu('a'), base.gpu('b', free_pct=60))
        before = allocator.state.index_view()
        # 30 + 40 fit 'a' alone, but the first goes to 'b' (60 free).
        self.assertIsNone(
            allocator.allocate_pair(base.request(30), base.request(40))
        )
        self.assertEqual((60, 60), free(allocator, 'b'))
        self.assertEqual(before, allocator.state.index_view())

    def test_second_memory_too_big_takes_nothing(self):
        # Compute fits beside, memory does not (30% + 71% of 16 GiB).
        allocator = pool(base.gpu('a'))
        self.assertIsNone(
            allocator.allocate_pair(base.request(30), base.request(20, 71))
        )
        self.assertEqual((100, 100), free(allocator, 'a'))

    def test_second_of_another_model_takes_nothing(self):
        allocator = pool(base.gpu('a'))
        other = base.request(20, models=frozenset({'L4'}))
        self.assertIsNone(allocator.allocate_pair(base.request(30), other))
        self.assertEqual((100, 100), free(allocator, 'a'))

    def test_first_that_fits_nowhere(self):
        allocator = pool(base.gpu('a', free_pct=20))
        self.assertIsNone(
            allocator.allocate_pair(base.request(30), base.request(10))
        )
        self.assertEqual((20, 20), free(allocator, 'a'))

    def test_neither_joins_the_mix(self):
        mix = RecordingMix()
        allocator = pool(base.gpu('a'), mix=mix)
        self.assertIsNotNone(
            allocator.allocate_pair(base.request(30), base.request(20))
        )
        self.assertEqual([], mix.seen)

    def test_more_than_one_slice_is_refused(self):
        allocator = pool(base.gpu('a'), base.gpu('b'))
        for first, second in (
            (base.request(30, count=2), base.request(20)),
            (base.request(30), base.request(20, count=2)),
        ):
            self.assertRaises(
                ValueError, allocator.allocate_pair, first, second
            )
        self.assertEqual(2, allocator.idle_gpus())


class TestHeldRequests(testtools.TestCase):
    def test_add_and_remove(self):
        first = alloc.Held('x', base.request(30))
        held = alloc.HeldRequests([first])
        held.add(alloc.Held('y', base.request(30)))
        self.assertEqual(2, len(held))
        self.assertIn('x', held)
        self.assertIs(first, held.remove('x'))
        self.assertNotIn('x', held)
        self.assertEqual(1, len(held))
        self.assertRaises(KeyError, held.remove, 'x')

    def test_a_key_is_held_once(self):
        held = alloc.HeldRequests([alloc.Held('x', base.request(30))])
        self.assertRaises(
            ValueError, held.add, alloc.Held('x', base.request(40))
        )
        self.assertRaises(
            ValueError,
            alloc.HeldRequests,
            [alloc.Held('y', base.request(30))] * 2,
        )

    def test_oldest_of_each_shape(self):
        held = alloc.HeldRequests()
        for key, compute in (('a1', 30), ('b1', 40), ('a2', 30), ('a3', 30)):
            held.add(alloc.Held(key, base.request(compute)))
        held.remove('a1')
        groups = [
            [(arrival, h.key) for arrival, h in firsts]
            for firsts in held.oldest(2)
        ]
        self.assertEqual([[(2, 'a2'), (3, 'a3')], [(1, 'b1')]], groups)
        held.remove('b1')
        self.assertEqual(
            [['a2']], [[h.key for _, h in f] for f in held.oldest(1)]
        )


class TestPairingHold(testtools.TestCase):
    def test_places_freely_above_the_reserve(self):
        allocator = pool(*(base.gpu(str(i)) for i in range(4)))
        hold = alloc.PairingHold(allocator, reserve=0.5)
        admission = hold.admit(base.request(30, 70))
        self.assertFalse(admission.held)
        self.assertIsInstance(admission.decision, alloc.Grant)
        self.assertEqual(3, allocator.idle_gpus())

    def test_holds_a_slice_that_would_open_a_reserved_gpu(self):
        allocator = pool(*(base.gpu(str(i)) for i in range(4)))
        hold = alloc.PairingHold(allocator, reserve=0.5)
        hold.admit(base.request(30, 70))
        hold.admit(base.request(30, 70))
        admission = hold.admit(base.request(30, 70))
        self.assertTrue(admission.held)
        self.assertIsNone(admission.partner)
        # Nothing of the held request is taken.
        self.assertEqual(2, allocator.idle_gpus())

    def test_pairs_with_a_used_gpu_instead_of_holding(self):
        allocator = pool(base.gpu('a', free_pct=70, free_mem_pct=30))
        hold = alloc.PairingHold(allocator, reserve=1.0)
        admission = hold.admit(base.request(70, 29))
        self.assertEqual(('a',), admission.decision.gpu_ids)
        self.assertEqual((0, 1), free(allocator, 'a'))

    def test_places_a_held_partner_with_the_arrival(self):
        allocator = pool(base.gpu('a'), base.gpu('b'))
        hold = alloc.PairingHold(allocator, reserve=1.0)
        first = base.request(30, 69)
        self.assertTrue(hold.admit(first).held)
        held = [
            alloc.Held('poor', base.request(50, 50)),
            alloc.Held('first', first),
        ]
        admission = hold.admit(base.request(70, 30), held)
        key, partner_grant = admission.partner
        self.assertEqual('first', key)
        self.assertEqual(partner_grant.gpu_ids, admission.decision.gpu_ids)
        gpu = partner_grant.gpu_ids[0]
        self.assertEqual((0, 1), free(allocator, gpu))
        self.assertEqual(1, allocator.idle_gpus())

    def test_held_requests_give_the_partner_a_list_gives(self):
        first = base.request(30, 69)
        held = [
            alloc.Held('poor', base.request(50, 50)),
            alloc.Held('first', first),
        ]
        partners = []
        for given in (held, alloc.HeldRequests(held)):
            allocator = pool(base.gpu('a'), base.gpu('b'))
            hold = alloc.PairingHold(allocator, reserve=1.0)
            partners.append(hold.admit(base.request(70, 30), given).partner)
        self.assertEqual(['first', 'first'], [p[0] for p in partners])

    def test_oldest_partner_of_equal_fill_across_shapes(self):
        # 4 GiB of a 16 GiB GPU and 25% fill it alike; 'pct' arrived
        # before 'mib2', though the shape of 'mib2' was held first.
        held = alloc.HeldRequests()
        held.add(alloc.Held('mib1', base.request(30, memory_mib=4 * base.GIB)))
        held.add(alloc.Held('pct', base.request(30, 25)))
        held.add(alloc.Held('mib2', base.request(30, memory_mib=4 * base.GIB)))
        held.remove('mib1')
        allocator = pool(base.gpu('a'), base.gpu('b'))
        hold = alloc.PairingHold(allocator, reserve=1.0, tries=1)
        admission = hold.admit(base.request(70, 75), held)
        self.assertEqual('pct', admission.partner[0])
        self.assertEqual(
            (0, 0), free(allocator, admission.decision.gpu_ids[0])
        )

    def test_no_partner_when_the_pair_overflows(self):
        allocator = pool(base.gpu('a'), base.gpu('b'))
        hold = alloc.PairingHold(allocator, reserve=1.0)
        held = [alloc.Held('x', base.request(40, 70))]
        admission = hold.admit(base.request(70, 30), held)
        self.assertTrue(admission.held)
        self.assertEqual(2, allocator.idle_gpus())

    def test_partner_of_another_model_is_not_taken(self):
        allocator = pool(base.gpu('a'), base.gpu('b'))
        hold = alloc.PairingHold(allocator, reserve=1.0)
        other = base.request(30, 70, models=frozenset({'L4'}))
        admission = hold.admit(base.request(70, 30), [alloc.Held('x', other)])
        self.assertIsNone(admission.partner)

    def test_pair_that_does_not_fit_on_the_gpu_is_undone(self):
        # 30% + 70% of 16 GiB round up to one MiB more than the GPU has.
        allocator = pool(base.gpu('a'), base.gpu('b'))
        hold = alloc.PairingHold(allocator, reserve=1.0)
        admission = hold.admit(
            base.request(70, 30), [alloc.Held('x', base.request(30, 70))]
        )
        self.assertIsNone(admission.partner)
        self.assertTrue(admission.held)
        self.assertEqual(2, allocator.idle_gpus())

    def test_next_partner_is_tried_when_the_best_does_not_fit(self):
        # Memory in MiB is only checked by placing: 10 + 10 GiB do not
        # fit a 16 GiB GPU, 10 + 4 GiB do.
        allocator = pool(base.gpu('a'), base.gpu('b'))
        hold = alloc.PairingHold(allocator, reserve=1.0)
        held = [
            alloc.Held('big', base.request(40, memory_mib=10 * base.GIB)),
            alloc.Held('small', base.request(20, memory_mib=4 * base.GIB)),
        ]
        admission = hold.admit(
            base.request(50, memory_mib=10 * base.GIB), held
        )
        self.assertEqual('small', admission.partner[0])
        self.assertEqual(
            admission.partner[1].gpu_ids, admission.decision.gpu_ids
        )
        self.assertEqual(1, allocator.idle_gpus())

    def test_whole_and_large_requests_are_never_held(self):
        allocator = pool(base.gpu('a'), base.gpu('b'))
        hold = alloc.PairingHold(allocator, reserve=1.0, below_pct=80)
        self.assertFalse(hold.admit(base.request(100)).held)
        self.assertFalse(hold.admit(base.request(80, 20)).held)
        self.assertEqual(0, allocator.idle_gpus())

    def test_partner_share_of_the_learned_mix(self):
        mix = base.fixed_mix(
            (30, 70, 1, 0.5), (70, 29, 1, 0.25), (50, 50, 1, 0.25)
        )
        hold = alloc.PairingHold(pool(base.gpu('a'), mix=mix))
        # Only (70, 29) fits beside (30, 70); (50, 50) has too much memory.
        self.assertAlmostEqual(0.25, hold.partner_share(base.request(30, 70)))
        self.assertAlmostEqual(1.0, hold.partner_share(base.request(10, 10)))

    def test_sizes_in_mib_count_as_a_share_of_the_largest_gpu(self):
        # What the attach service asks: MiB, here as a share of the
        # 16 GiB GPU. 11 GiB is 69%: two cannot share one; 4 GiB (25%)
        # fits beside either (it would not on the 8 GiB GPU).
        gib = base.GIB
        mix = alloc.FixedMix(
            alloc.MixSnapshot.from_weights(
                {
                    alloc.TaskShape(compute_pct=20, memory_mib=11 * gib): 0.75,
                    alloc.TaskShape(compute_pct=20, memory_mib=4 * gib): 0.25,
                }
            )
        )
        hold = alloc.PairingHold(
            pool(base.gpu('a'), base.gpu('b', memory_mib=8 * gib), mix=mix)
        )
        heavy = base.request(20, memory_mib=11 * gib)
        self.assertAlmostEqual(0.25, hold.partner_share(heavy))
        light = base.request(20, memory_mib=4 * gib)
        self.assertAlmostEqual(1.0, hold.partner_share(light))

    def test_the_largest_gpu_is_looked_up_once_per_share(self):
        # The lookup is a pass over the pool's classes: once per call for
        # all the shapes in MiB of the mix, not once per shape.
        gib = base.GIB
        mix = alloc.FixedMix(
            alloc.MixSnapshot.from_weights(
                {
                    alloc.TaskShape(compute_pct=c, memory_mib=m * gib): 1
                    for c, m in ((10, 2), (20, 4), (30, 6), (40, 8))
                }
            )
        )
        allocator = pool(base.gpu('a'), base.gpu('b', free_pct=50), mix=mix)
        hold = alloc.PairingHold(allocator)
        passes = []
        classes = allocator.state.classes

        def counted(gpu_models=frozenset()):
            passes.append(gpu_models)
            return classes(gpu_models)

        self.patch(allocator.state, 'classes', counted)
        self.assertAlmostEqual(
            1.0, hold.partner_share(base.request(20, memory_mib=4 * gib))
        )
        self.assertEqual(1, len(passes))
        hold.partner_share(base.request(20, 20))
        self.assertEqual(2, len(passes))

    def test_a_held_slice_in_mib_pairs_only_with_one_that_fits(self):
        gib = base.GIB
        allocator = pool(base.gpu('a'), base.gpu('b'), base.gpu('c'))
        hold = alloc.PairingHold(allocator, reserve=1.0)
        held = [alloc.Held('h', base.request(20, memory_mib=11 * gib))]
        alike = hold.admit(base.request(20, memory_mib=11 * gib), held)
        self.assertIsNone(alike.partner)
        other = hold.admit(base.request(70, memory_mib=4 * gib), held)
        self.assertEqual('h', other.partner[0])
        self.assertEqual(other.partner[1].gpu_ids, other.decision.gpu_ids)

    def test_partner_share_ignores_whole_and_multi_gpu_shapes(self):
        mix = base.fixed_mix((100, 100, 1, 0.5), (100, 100, 2, 0.5))
        hold = alloc.PairingHold(pool(base.gpu('a'), mix=mix))
        self.assertEqual(1.0, hold.partner_share(base.request(30, 70)))

    def test_slices_with_common_partners_are_not_held(self):
        # Under proportional memory most slices pair with most others: a
        # held slice would wait for nothing.
        mix = base.fixed_mix((25, 25, 1, 0.5), (50, 50, 1, 0.5))
        allocator = pool(base.gpu('a'), base.gpu('b'), mix=mix)
        hold = alloc.PairingHold(allocator, reserve=1.0)
        admission = hold.admit(base.request(30, 30))
        self.assertFalse(admission.held)
        self.assertEqual(1, allocator.idle_gpus())

    def test_may_open(self):
        allocator = pool(*(base.gpu(str(i)) for i in range(10)))
        hold = alloc.PairingHold(allocator, reserve=0.5)
        self.assertTrue(hold.may_open(base.request(30)))
        for _ in range(5):
            allocator.allocate(base.request(100))
        self.assertFalse(hold.may_open(base.request(30)))

    def test_learns_each_request_once(self):
        mix = RecordingMix()
        allocator = pool(base.gpu('a'), base.gpu('b'), mix=mix)
        hold = alloc.PairingHold(allocator, reserve=1.0)
        first = base.request(30, 70)
        hold.admit(first)
        hold.admit(base.request(70, 30), [alloc.Held('x', first)])
        self.assertEqual([30, 70], [s.compute_pct for s in mix.seen])

    def test_bad_arguments(self):
        allocator = pool(base.gpu('a'))
        self.assertRaises(
            ValueError, alloc.PairingHold, allocator, reserve=1.5
        )
        self.assertRaises(
            ValueError, alloc.PairingHold, allocator, below_pct=0
        )
