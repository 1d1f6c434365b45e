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

"""The allocator: rejections, constraints, locality, health, changes."""

import random

import testtools

from orionx_cyborg import allocator as alloc
from orionx_cyborg.allocator import fragmentation
from orionx_cyborg.allocator import policies
from tests.unit.allocator import base

Reason = alloc.RejectionReason
GIB = base.GIB


def rejection(gpus, request, policy='binpack'):
    decision = alloc.Allocator(gpus, policy=policy).allocate(request)
    assert isinstance(decision, alloc.Rejection), decision
    return decision.reason


class TestRejections(testtools.TestCase):
    def test_no_gpu_of_model(self):
        self.assertEqual(
            Reason.NO_GPU_OF_MODEL,
            rejection(
                [base.gpu('g', model='T4')],
                base.request(10, models=frozenset({'H200'})),
            ),
        )

    def test_empty_pool_has_no_gpu_of_any_model(self):
        self.assertEqual(
            Reason.NO_GPU_OF_MODEL, rejection([], base.request(10))
        )

    def test_no_healthy_gpu(self):
        self.assertEqual(
            Reason.NO_HEALTHY_GPU,
            rejection([base.gpu('g', healthy=False)], base.request(10)),
        )

    def test_slice_larger_than_any_gpu(self):
        self.assertEqual(
            Reason.EXCEEDS_GPU_CAPACITY,
            rejection(
                [base.gpu('g')],
                base.request(10, memory_mib=32 * GIB),
            ),
        )

    def test_insufficient_memory_in_total(self):
        # Two GPUs with 4 GiB free each: 8 GiB in all, 16 GiB asked.
        gpus = [
            base.gpu('a', free_mem_pct=25),
            base.gpu('b', free_mem_pct=25),
        ]
        self.assertEqual(
            Reason.INSUFFICIENT_MEMORY,
            rejection(gpus, base.request(10, memory_mib=16 * GIB)),
        )

    def test_insufficient_compute_in_total(self):
        # 20% + 20% compute free, 50% asked; memory is plentiful.
        gpus = [
            base.gpu('a', free_pct=20, free_mem_pct=100),
            base.gpu('b', free_pct=20, free_mem_pct=100),
        ]
        self.assertEqual(
            Reason.INSUFFICIENT_COMPUTE,
            rejection(gpus, base.request(50, memory_mib=GIB)),
        )

    def test_fragmented_in_one_dimension(self):
        # 30% + 30% free = 60% >= 50% asked, but not on one GPU.
        gpus = [base.gpu('a', free_pct=30), base.gpu('b', free_pct=30)]
        self.assertEqual(Reason.FRAGMENTED, rejection(gpus, base.request(50)))

    def test_fragmented_across_dimensions(self):
        # One GPU has the memory, the other the compute.
        gpus = [
            base.gpu('mem', free_pct=0, free_mem_pct=100),
            base.gpu('comp', free_pct=100, free_mem_pct=0),
        ]
        self.assertEqual(
            Reason.FRAGMENTED,
            rejection(gpus, base.request(50, memory_mib=8 * GIB)),
        )

    def test_fewer_fitting_gpus_than_slices(self):
        gpus = [base.gpu('a'), base.gpu('b'), base.gpu('c', free_pct=10)]
        self.assertEqual(
            Reason.INSUFFICIENT_GPUS,
            rejection(gpus, base.request(50, count=3)),
        )

    def test_same_host_unsatisfiable(self):
        gpus = [base.gpu('a', 'h1'), base.gpu('b', 'h2')]
        request = base.request(
            100, count=2, host_affinity=alloc.HostAffinity.SAME_HOST
        )
        self.assertEqual(
            Reason.AFFINITY_UNSATISFIABLE, rejection(gpus, request)
        )

    def test_different_hosts_unsatisfiable(self):
        gpus = [base.gpu('a', 'h1'), base.gpu('b', 'h1')]
        request = base.request(
            10, count=2, host_affinity=alloc.HostAffinity.DIFFERENT_HOSTS
        )
        self.assertEqual(
            Reason.ANTI_AFFINITY_UNSATISFIABLE, rejection(gpus, request)
        )

    def test_rejection_takes_nothing(self):
        gpus = [base.gpu('a', 'h1'), base.gpu('b', 'h2', free_pct=10)]
        allocator = alloc.Allocator(gpus, policy='binpack')
        allocator.allocate(base.request(50, count=2))
        self.assertEqual(
            [100, 10], [g.free_compute_pct for g in allocator.gpus()]
        )

    def test_explain_matches_allocate_without_taking(self):
        # One GPU with 30% of its memory free cannot hold 50%.
        allocator = alloc.Allocator(
            [base.gpu('a', free_pct=30, memory_mib=1000)]
        )
        self.assertEqual(
            Reason.INSUFFICIENT_MEMORY,
            allocator.explain(base.request(50)).reason,
        )
        self.assertIsNone(allocator.explain(base.request(30)))
        self.assertEqual(30, allocator.gpu('a').free_compute_pct)

    def test_rejection_detail_has_the_numbers(self):
        decision = alloc.Allocator(
            [base.gpu('a'), base.gpu('b', free_pct=10)]
        ).allocate(base.request(50, count=3))
        self.assertIn(
            '1 GPUs can hold a slice, 3 slices asked', decision.detail
        )


class TestConstraints(testtools.TestCase):
    def test_model_constraint_overrides_the_policy(self):
        # Binpack would take the fuller T4; only the A10 is allowed.
        gpus = [
            base.gpu('t4', model='T4', free_pct=50),
            base.gpu('a10', model='A10', memory_mib=24 * GIB),
        ]
        request = base.request(25, models=frozenset({'A10'}))
        decision = alloc.Allocator(gpus, policy='binpack').allocate(request)
        self.assertEqual(('a10',), decision.gpu_ids)

    def test_slices_of_one_request_never_share_a_gpu(self):
        allocator = alloc.Allocator(
            [base.gpu('a'), base.gpu('b')], policy='binpack'
        )
        decision = allocator.allocate(base.request(10, count=2))
        self.assertEqual({'a', 'b'}, set(decision.gpu_ids))

    def test_different_hosts(self):
        # Binpack alone would put both slices on h1 (the fullest GPUs).
        gpus = [
            base.gpu('h1-a', 'h1', free_pct=50),
            base.gpu('h1-b', 'h1', free_pct=50),
            base.gpu('h2-a', 'h2'),
        ]
        request = base.request(
            10, count=2, host_affinity=alloc.HostAffinity.DIFFERENT_HOSTS
        )
        decision = alloc.Allocator(gpus, policy='binpack').allocate(request)
        self.assertEqual({'h1', 'h2'}, set(decision.hosts))

    def test_same_host(self):
        # h1 has one idle GPU, h2 two: only h2 can hold two whole GPUs.
        gpus = [
            base.gpu('h1-a', 'h1'),
            base.gpu('h1-b', 'h1', free_pct=0),
            base.gpu('h2-a', 'h2'),
            base.gpu('h2-b', 'h2'),
        ]
        request = base.request(
            100, count=2, host_affinity=alloc.HostAffinity.SAME_HOST
        )
        for policy in alloc.POLICIES:
            decision = alloc.Allocator(gpus, policy=policy).allocate(request)
            self.assertEqual(('h2', 'h2'), decision.hosts, policy)
            self.assertEqual({'h2-a', 'h2-b'}, set(decision.gpu_ids))

    def test_same_host_prefers_the_best_host_by_policy(self):
        # Both hosts fit two 50% slices; binpack takes the fuller host.
        gpus = [
            base.gpu('h1-a', 'h1'),
            base.gpu('h1-b', 'h1'),
            base.gpu('h2-a', 'h2', free_pct=50),
            base.gpu('h2-b', 'h2', free_pct=50),
        ]
        request = base.request(
            50, count=2, host_affinity=alloc.HostAffinity.SAME_HOST
        )
        decision = alloc.Allocator(gpus, policy='binpack').allocate(request)
        self.assertEqual(('h2', 'h2'), decision.hosts)

    def test_percent_memory_resolves_per_gpu(self):
        gpus = [base.gpu('big', model='G3', memory_mib=80 * GIB)]
        decision = alloc.Allocator(gpus).allocate(base.request(50))
        self.assertEqual(40 * GIB, decision.slices[0].memory_mib)


class _PoolWatchingPolicy(policies.BinpackPolicy):
    def __init__(self):
        super().__init__()
        self.seen = []

    def observe_pool(self, idle_gpus, healthy_gpus):
        self.seen.append((idle_gpus, healthy_gpus))


class TestObservePool(testtools.TestCase):
    def test_the_policy_sees_the_pool_before_each_search(self):
        policy = _PoolWatchingPolicy()
        allocator = alloc.Allocator(
            [
                base.gpu('a'),
                base.gpu('b'),
                base.gpu('c', free_pct=40),
                base.gpu('d', healthy=False),
            ],
            policy=policy,
        )
        allocator.allocate(base.request(100))
        allocator.allocate(base.request(60))
        self.assertEqual([(2, 3), (1, 3)], policy.seen)


class TestHealth(testtools.TestCase):
    def test_unhealthy_gpus_get_nothing(self):
        allocator = alloc.Allocator(
            [base.gpu('sick', free_pct=50), base.gpu('well')], policy='binpack'
        )
        allocator.set_health('sick', False)
        self.assertEqual(
            ('well',), allocator.allocate(base.request(25)).gpu_ids
        )

    def test_recovered_gpu_is_used_again(self):
        allocator = alloc.Allocator(
            [base.gpu('sick', free_pct=50), base.gpu('well')], policy='binpack'
        )
        allocator.set_health('sick', False)
        allocator.set_health('sick', True)
        self.assertEqual(
            ('sick',), allocator.allocate(base.request(25)).gpu_ids
        )

    def test_unhealthy_gpu_keeps_its_slices_until_released(self):
        allocator = alloc.Allocator([base.gpu('g')])
        placement = allocator.allocate(base.request(25))
        allocator.set_health('g', False)
        self.assertEqual(75, allocator.gpu('g').free_compute_pct)
        allocator.release(placement)
        self.assertEqual(100, allocator.gpu('g').free_compute_pct)


class TestLocality(testtools.TestCase):
    def test_own_host_breaks_ties(self):
        gpus = [base.gpu('a', 'h1'), base.gpu('b', 'h2')]
        for policy in alloc.POLICIES:
            decision = alloc.Allocator(gpus, policy=policy).allocate(
                base.request(25, preferred_host='h2')
            )
            self.assertEqual(('b',), decision.gpu_ids, policy)

    def test_own_rack_breaks_ties_after_own_host(self):
        gpus = [
            base.gpu('a', 'h1', locality='r1'),
            base.gpu('b', 'h2', locality='r2'),
            base.gpu('c', 'h3', locality='r2'),
        ]
        decision = alloc.Allocator(gpus).allocate(
            base.request(25, preferred_host='h9', preferred_locality='r2')
        )
        self.assertEqual(('b',), decision.gpu_ids)

    def test_tie_break_does_not_override_the_policy(self):
        # Binpack scores remote (half used) 1.5 + ... higher than the idle
        # local GPU: remote 0.75 + 0.75 = 1.5, local 0.25 + 0.25 = 0.5.
        gpus = [base.gpu('remote', 'h1', free_pct=50), base.gpu('local', 'h2')]
        decision = alloc.Allocator(gpus, policy='binpack').allocate(
            base.request(25, preferred_host='h2')
        )
        self.assertEqual(('remote',), decision.gpu_ids)

    def test_weight_decides_when_larger_than_the_score_gap(self):
        # The gap is 1.0 (see above): weight 2 takes the local GPU, 0.5
        # does not.
        gpus = [base.gpu('remote', 'h1', free_pct=50), base.gpu('local', 'h2')]
        for weight, expected in ((2.0, 'local'), (0.5, 'remote')):
            allocator = alloc.Allocator(
                gpus,
                policy='binpack',
                locality=alloc.Locality.WEIGHTED,
                locality_weight=weight,
            )
            decision = allocator.allocate(
                base.request(25, preferred_host='h2')
            )
            self.assertEqual((expected,), decision.gpu_ids)

    def test_strict_takes_a_local_gpu_whenever_one_fits(self):
        gpus = [base.gpu('remote', 'h1', free_pct=50), base.gpu('local', 'h2')]
        allocator = alloc.Allocator(
            gpus, policy='binpack', locality=alloc.Locality.STRICT
        )
        decision = allocator.allocate(base.request(25, preferred_host='h2'))
        self.assertEqual(('local',), decision.gpu_ids)

    def test_local_member_is_picked_inside_a_class(self):
        # Three identical idle GPUs form one class; the VM's host wins.
        gpus = [base.gpu('a', 'h1'), base.gpu('b', 'h2'), base.gpu('c', 'h3')]
        decision = alloc.Allocator(gpus).allocate(
            base.request(10, preferred_host='h3')
        )
        self.assertEqual(('c',), decision.gpu_ids)

    def test_same_host_request_prefers_the_vms_host(self):
        gpus = [base.gpu(g + h, h) for h in ('h1', 'h2') for g in 'ab']
        request = base.request(
            100,
            count=2,
            host_affinity=alloc.HostAffinity.SAME_HOST,
            preferred_host='h2',
        )
        decision = alloc.Allocator(gpus).allocate(request)
        self.assertEqual(('h2', 'h2'), decision.hosts)


class TestPoolChanges(testtools.TestCase):
    def test_release_gives_room_back(self):
        allocator = alloc.Allocator([base.gpu('g')])
        placement = allocator.allocate(base.request(40, count=1))
        allocator.release(placement)
        self.assertTrue(allocator.gpu('g').is_idle)

    def test_double_release_is_an_error(self):
        allocator = alloc.Allocator([base.gpu('g')])
        placement = allocator.allocate(base.request(40))
        allocator.release(placement)
        self.assertRaises(alloc.CapacityError, allocator.release, placement)

    def test_release_on_a_removed_gpu_is_ignored(self):
        allocator = alloc.Allocator([base.gpu('a'), base.gpu('b')])
        placement = allocator.allocate(base.request(40, count=2))
        allocator.remove_gpu('a')
        allocator.release(placement)
        self.assertTrue(allocator.gpu('b').is_idle)

    def test_added_gpu_is_used(self):
        allocator = alloc.Allocator([base.gpu('a', free_pct=10)])
        allocator.add_gpu(base.gpu('b'))
        self.assertEqual(('b',), allocator.allocate(base.request(50)).gpu_ids)

    def test_duplicate_gpu_is_refused(self):
        allocator = alloc.Allocator([base.gpu('a')])
        self.assertRaises(
            alloc.DuplicateGpuError, allocator.add_gpu, base.gpu('a')
        )

    def test_unknown_gpu_is_refused(self):
        allocator = alloc.Allocator([base.gpu('a')])
        self.assertRaises(alloc.UnknownGpuError, allocator.remove_gpu, 'z')
        self.assertRaises(alloc.UnknownGpuError, allocator.set_health, 'z', 1)
        self.assertRaises(alloc.UnknownGpuError, allocator.gpu, 'z')

    def test_update_replaces_free_room(self):
        allocator = alloc.Allocator([base.gpu('a')])
        allocator.update_gpu(base.gpu('a', free_pct=20))
        self.assertEqual(
            Reason.INSUFFICIENT_MEMORY,
            allocator.allocate(base.request(30)).reason,
        )

    def test_observe_false_leaves_the_mix_alone(self):
        mix = alloc.RequestMix(refresh_every=1, prior_weight=1.0)
        allocator = alloc.Allocator([base.gpu('a')], mix=mix)
        before = allocator.mix_snapshot
        allocator.allocate(base.request(7), observe=False)
        self.assertIs(before, mix.snapshot())

    def test_observed_requests_change_the_mix(self):
        mix = alloc.RequestMix(refresh_every=1, prior_weight=1.0)
        allocator = alloc.Allocator([base.gpu('a')], mix=mix)
        allocator.allocate(base.request(7))
        shapes = allocator.mix_snapshot.shapes
        self.assertIn(alloc.TaskShape(compute_pct=7, memory_pct=7), shapes)


class _RecordingPolicy(policies.CountAwarePolicy):
    """Count-aware, remembering the smallest memory of every prepare."""

    def __init__(self):
        super().__init__()
        self.smallest = []

    def prepare(self, snapshot, smallest_memory_mib=0):
        self.smallest.append(smallest_memory_mib)
        super().prepare(snapshot, smallest_memory_mib)


class TestPoolMemorySizes(testtools.TestCase):
    def setUp(self):
        super().setUp()
        self.policy = _RecordingPolicy()
        self.allocator = alloc.Allocator(
            [base.gpu('big', memory_mib=32 * base.GIB)], policy=self.policy
        )

    def test_policy_is_prepared_with_the_smallest_gpu(self):
        self.assertEqual([32 * base.GIB], self.policy.smallest)

    def test_a_smaller_gpu_prepares_the_policy_again(self):
        self.allocator.add_gpu(base.gpu('small', memory_mib=16 * base.GIB))
        self.assertEqual(16 * base.GIB, self.policy.smallest[-1])
        self.assertEqual(2, len(self.policy.smallest))

    def test_gpus_of_known_sizes_change_nothing(self):
        self.allocator.add_gpu(base.gpu('big2', memory_mib=32 * base.GIB))
        self.allocator.add_gpu(base.gpu('huge', memory_mib=80 * base.GIB))
        self.allocator.update_gpu(
            base.gpu('big2', free_pct=50, memory_mib=32 * base.GIB)
        )
        self.allocator.remove_gpu('huge')
        self.assertEqual([32 * base.GIB], self.policy.smallest)

    def test_removing_the_last_smallest_gpu_prepares_again(self):
        for name in ('small-a', 'small-b'):
            self.allocator.add_gpu(base.gpu(name, memory_mib=16 * base.GIB))
        self.allocator.remove_gpu('small-a')
        self.assertEqual(16 * base.GIB, self.policy.smallest[-1])
        self.allocator.remove_gpu('small-b')
        self.assertEqual(
            [32 * base.GIB, 16 * base.GIB, 32 * base.GIB],
            self.policy.smallest,
        )

    def test_a_slice_larger_than_the_small_gpus_switches_the_measure(self):
        mix = alloc.FixedMix(
            alloc.MixSnapshot.from_weights(
                {alloc.TaskShape(compute_pct=50, memory_mib=24 * base.GIB): 1}
            )
        )
        policy = policies.CountAwarePolicy()
        allocator = alloc.Allocator(
            [base.gpu('big', memory_mib=32 * base.GIB)], policy=policy, mix=mix
        )
        self.assertIs(
            fragmentation.usable_or_stranded, policy.context_model().amount
        )
        allocator.add_gpu(base.gpu('small', memory_mib=16 * base.GIB))
        self.assertIs(
            fragmentation.free_compute_fraction, policy.context_model().amount
        )


class _CountingPolicy(policies.PartnerAwarePolicy):
    """Partner-aware, counting its scores; optionally without its floor."""

    def __init__(self, floor=True):
        super().__init__()
        self.floor = floor
        self.scored = 0

    def has_score_floor(self):
        return self.floor and super().has_score_floor()

    def score(self, gpu, need_mem, need_comp):
        self.scored += 1
        return super().score(gpu, need_mem, need_comp)


class TestScoreFloor(testtools.TestCase):
    # Slices alone: partner-aware ranks in tiers and has a floor.
    sharing = base.fixed_mix((50, 50, 1, 1))

    def _pair(self, gpus, **kwargs):
        with_floor, without = _CountingPolicy(), _CountingPolicy(floor=False)
        return (
            (
                alloc.Allocator(
                    gpus, policy=with_floor, mix=self.sharing, **kwargs
                ),
                with_floor,
            ),
            (
                alloc.Allocator(
                    gpus, policy=without, mix=self.sharing, **kwargs
                ),
                without,
            ),
        )

    def test_classes_of_worse_tiers_are_not_scored(self):
        # The idle GPUs (tier 1, more than the reserve) come first; the
        # roomy used GPUs (tier 2) are skipped; 'close' (tier 0) is scored
        # and wins.
        gpus = [
            *(base.gpu('idle%d' % i) for i in range(3)),
            *(base.gpu('roomy%d' % p, free_pct=p) for p in range(50, 95, 5)),
            base.gpu('close', free_pct=12),
        ]
        (floored, counted), (plain, all_scored) = self._pair(gpus)
        request = base.request(10)
        self.assertEqual(('close',), floored.allocate(request).gpu_ids)
        self.assertEqual(('close',), plain.allocate(request).gpu_ids)
        self.assertEqual(2, counted.scored)
        self.assertEqual(11, all_scored.scored)

    def test_decisions_are_those_without_the_floor(self):
        # Property: two allocators, with and without the floor, take the
        # same random requests on the same random pool, in every
        # locality mode, with preferred hosts and racks or without. Half
        # the GPUs are idle at first, and too few of them at the end for
        # the tiers.
        rng = random.Random(5)
        free = [90, 60, 45, 30, 12, 5]
        for locality in alloc.Locality:
            gpus = [
                base.gpu(
                    'g%d' % i,
                    host='h%d' % (i % 7),
                    free_pct=100 if i % 2 else rng.choice(free),
                    free_mem_pct=100 if i % 2 else rng.choice(free),
                    locality='r%d' % (i % 3),
                )
                for i in range(40)
            ]
            pair = self._pair(gpus, locality=locality, locality_weight=0.5)
            for _ in range(120):
                request = base.request(
                    rng.choice([5, 10, 20, 40]),
                    rng.choice([5, 10, 20, 40]),
                    preferred_host=rng.choice([None, 'h1', 'h4']),
                    preferred_locality=rng.choice([None, 'r2']),
                )
                decisions = [a.allocate(request) for a, _ in pair]
                self.assertEqual(decisions[1], decisions[0])
            self.assertLess(pair[0][1].scored, pair[1][1].scored)
