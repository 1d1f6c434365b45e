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

"""The benchmark's ablations: what each one changes, and nothing else."""

import importlib.util

import testtools

from tests.unit.allocator import base

HAVE_NUMPY = importlib.util.find_spec('numpy') is not None


@testtools.skipUnless(HAVE_NUMPY, 'the benchmark needs numpy')
class TestFgd2dFitExact(testtools.TestCase):
    def setUp(self):
        super().setUp()
        from benchmarks.allocator import ablations
        from benchmarks.allocator import baselines
        from benchmarks.allocator import clusters
        from benchmarks.allocator import pool
        from benchmarks.allocator import workloads
        from orionx_cyborg.allocator import AllocatorGpu

        gpus = tuple(
            AllocatorGpu.idle('h%d-gpu0' % h, 'h%d' % h, 'T4', 16384)
            for h in range(2)
        )
        self.pool = pool.PoolArrays(clusters.Cluster('t', gpus))
        self.share = workloads.Task('sharing', 1, 10, memory_pct=10)
        self.mix = {
            self.share: 0.7,
            workloads.Task('sharing', 1, 50, memory_pct=20): 0.2,
            workloads.Task('sharing', 1, 20, memory_pct=60): 0.1,
        }
        # Host 1's GPU runs 10% compute and half its memory: the 20%/60%
        # shape (weight 0.1) no longer fits it.
        self.pool.take(1, 8192, 10)
        self.quantised = baselines.BASELINES['fgd-2dfit']
        self.exact = ablations.BASELINES['fgd-2dfit-exact']

    def choose(self, factory):
        return factory(self.pool, self.mix, 0).choose(self.share)

    def test_fgds_integer_score_ties_and_the_first_host_wins(self):
        # Idle host 0: every shape fits before and after, delta 0. Host 1:
        # fragment 0.9 * 0.1 before, 0.8 * 0.1 after, delta -0.01. Both
        # score int(100 * sigmoid(-delta)) = 50, so host 0 (first) wins.
        self.assertEqual([0], self.choose(self.quantised))

    def test_the_exact_ablation_takes_the_smaller_delta(self):
        self.assertEqual([1], self.choose(self.exact))

    def test_only_the_score_differs(self):
        import numpy as np

        delta = np.array([-0.01, 0.0, 0.5])
        quantised = self.quantised(self.pool, self.mix, 0)
        exact = self.exact(self.pool, self.mix, 0)
        self.assertEqual(
            [50.0, 50.0, 37.0], list(quantised.share_scores(delta))
        )
        self.assertEqual([0.01, 0.0, -0.5], list(exact.share_scores(delta)))


@testtools.skipUnless(HAVE_NUMPY, 'the benchmark needs numpy')
class TestCountAwareTiered(testtools.TestCase):
    def setUp(self):
        super().setUp()
        from benchmarks.allocator import ablations
        from orionx_cyborg.allocator import MixSnapshot
        from orionx_cyborg.allocator import TaskShape
        from orionx_cyborg.allocator import policies

        self.ablations = ablations
        self.policies = policies
        # Whole GPUs are 0.8 of the demand: count-aware does not tier.
        self.whole_heavy = MixSnapshot.from_weights(
            {
                TaskShape(100, memory_pct=100): 0.8,
                TaskShape(50, memory_pct=50): 0.4,
            }
        )

    def test_tiers_whatever_the_mix(self):
        tiered = self.ablations.RUNTIME_POLICIES['count-aware-tiered']
        self.assertFalse(
            self.policies.CountAwarePolicy.keeps_open(self.whole_heavy)
        )
        self.assertTrue(tiered.keeps_open(self.whole_heavy))

    def test_everything_else_is_count_aware(self):
        tiered = self.ablations.RUNTIME_POLICIES['count-aware-tiered']()
        self.assertIsInstance(tiered, self.policies.CountAwarePolicy)
        self.assertNotIn(tiered.name, self.policies.POLICIES)


@testtools.skipUnless(HAVE_NUMPY, 'the benchmark needs numpy')
class TestCountAwareAnticorrelated(testtools.TestCase):
    # Whole GPUs are 0.4 of the demand: whole 0.2 (20 points), slices 0.3
    # + 0.3 at 30% and 70% compute (9 + 21). Anti-correlated, the 30%
    # slice asks 70% memory and the 70% slice 30%; correlated, each asks
    # its compute.
    def _mix(self, anticorrelated):
        low, high = (70, 30) if anticorrelated else (30, 70)
        return base.fixed_mix(
            (100, 100, 1, 0.2), (30, low, 1, 0.3), (70, high, 1, 0.3)
        )

    def _choose(self, policy, anticorrelated):
        from benchmarks.allocator import ablations
        from orionx_cyborg import allocator as alloc

        gpus = [
            base.gpu('idle'),
            base.gpu('used', free_pct=50, free_mem_pct=90),
        ]
        if policy in ablations.RUNTIME_POLICIES:
            policy = ablations.RUNTIME_POLICIES[policy]()
        allocator = alloc.Allocator(
            gpus, policy=policy, mix=self._mix(anticorrelated)
        )
        return allocator.allocate(base.request(30, memory_pct=70)).gpu_ids

    def test_tiers_an_anticorrelated_mix_up_to_half_whole_demand(self):
        # A 30%/70% slice; weights normalised to 0.25 / 0.375 / 0.375.
        #   idle (100/100 free -> 70/30): usable; the whole GPU and the
        #     30/70 slice no longer fit: 0 -> 0.625.
        #   used (50/90 free -> 20/20): usable; before, the whole GPU and
        #     the 70/30 slice do not fit (0.625); after, nothing: 1.0.
        # Untiered, 'used' (+0.375) beats 'idle' (+0.625); tiered, 'used'
        # keeps 20% (> 5%: tier 2) and 'idle' (tier 1) wins. The
        # correlated mix has the same deltas (its 70/70 slice takes the
        # 70/30 slice's place, its 30/30 slice the 30/70 slice's).
        ablation = 'count-aware-anticorrelated'
        self.assertEqual(('idle',), self._choose(ablation, True))
        self.assertEqual(('used',), self._choose(ablation, False))
        self.assertEqual(('used',), self._choose('count-aware', True))


@testtools.skipUnless(HAVE_NUMPY, 'the benchmark needs numpy')
class TestIdleReserveAblations(testtools.TestCase):
    # Half slices only (tiers). A 20% slice keeps both 'used' (80% free)
    # and 'idle' able to hold a half slice: the count is unchanged on
    # either, so without tiers the first in the pool's order, 'used',
    # wins; with tiers 'idle' (tier 1) goes before 'used' (60% left,
    # tier 2). 'idle' is the one idle GPU of 2 + ``full`` healthy ones.
    def _choose(self, name, full):
        from benchmarks.allocator import ablations
        from orionx_cyborg import allocator as alloc

        factory = ablations.RUNTIME_POLICIES.get(name)
        gpus = [base.gpu('used', free_pct=80), base.gpu('idle')]
        gpus += [base.gpu('full%d' % i, free_pct=0) for i in range(full)]
        allocator = alloc.Allocator(
            gpus,
            policy=name if factory is None else factory(),
            mix=base.fixed_mix((50, 50, 1, 1)),
        )
        return allocator.allocate(base.request(20)).gpu_ids

    def test_count_aware_tiers_while_more_than_a_fifth_is_idle(self):
        self.assertEqual(('idle',), self._choose('count-aware', 2))
        self.assertEqual(('used',), self._choose('count-aware', 3))

    def test_ungated_tiers_with_one_idle_gpu_in_ten(self):
        self.assertEqual(('idle',), self._choose('count-aware-ungated', 8))

    def test_untiered_never_tiers(self):
        self.assertEqual(('used',), self._choose('count-aware-untiered', 0))

    def test_the_reserves_of_ten_and_thirty_percent(self):
        self.assertEqual(('idle',), self._choose('count-aware-reserve10', 7))
        self.assertEqual(('used',), self._choose('count-aware-reserve10', 8))
        self.assertEqual(('idle',), self._choose('count-aware-reserve30', 1))
        self.assertEqual(('used',), self._choose('count-aware-reserve30', 2))


@testtools.skipUnless(HAVE_NUMPY, 'the benchmark needs numpy')
class TestLopsidedSliceAblations(testtools.TestCase):
    # Anti-correlated slices (30/70 and 70/30); 'idle' is 1 of 5 healthy
    # GPUs (not above the reserve). A 30/70 slice on 'used' (40/75 free)
    # leaves 10/5 (tier 2); by count-aware's measure both GPUs grow by
    # 0.5, so without tiers the first in the pool's order, 'used', wins.
    def _allocator(self, name):
        from benchmarks.allocator import ablations
        from orionx_cyborg import allocator as alloc

        factory = ablations.RUNTIME_POLICIES.get(name)
        gpus = [
            base.gpu('used', free_pct=40, free_mem_pct=75),
            base.gpu('idle'),
            *(base.gpu('full%d' % i, free_pct=0) for i in range(3)),
        ]
        return alloc.Allocator(
            gpus,
            policy=name if factory is None else factory(),
            mix=base.fixed_mix((30, 70, 1, 0.5), (70, 30, 1, 0.5)),
        )

    def _choose(self, allocator):
        return allocator.allocate(base.request(30, 70)).gpu_ids

    def test_reserve_all_holds_back_lopsided_slices_too(self):
        self.assertEqual(
            ('idle',), self._choose(self._allocator('count-aware'))
        )
        self.assertEqual(
            ('used',), self._choose(self._allocator('count-aware-reserve-all'))
        )

    def test_undeferred_passes_them_behind_a_hold(self):
        from orionx_cyborg import allocator as alloc

        deferred = self._allocator('partner-aware')
        undeferred = self._allocator('partner-aware-undeferred')
        for allocator in (deferred, undeferred):
            alloc.PairingHold(allocator)
        self.assertEqual(('used',), self._choose(deferred))
        self.assertEqual(('idle',), self._choose(undeferred))


@testtools.skipUnless(HAVE_NUMPY, 'the benchmark needs numpy')
class TestSlicesOnlyAblations(testtools.TestCase):
    # A balanced 40/40 slice of a mix of anti-correlated slices alone,
    # 'idle' 1 of 2 + full GPUs: on 'used' (40/75 free) it takes 0.375 ->
    # 0.35 by partner-aware's measure against +0.6 on 'idle', so the
    # tiers open 'idle' and without them it takes 'used'.
    def _choose(self, name, full):
        from benchmarks.allocator import ablations
        from orionx_cyborg import allocator as alloc

        factory = ablations.RUNTIME_POLICIES.get(name)
        gpus = [
            base.gpu('used', free_pct=40, free_mem_pct=75),
            base.gpu('idle'),
            *(base.gpu('full%d' % i, free_pct=0) for i in range(full)),
        ]
        allocator = alloc.Allocator(
            gpus,
            policy=name if factory is None else factory(),
            mix=base.fixed_mix((30, 70, 1, 0.5), (70, 30, 1, 0.5)),
        )
        return allocator.allocate(base.request(40)).gpu_ids

    def test_lopsided_only_holds_them_back_below_the_reserve(self):
        # 1 idle of 5: 20%, not above the reserve.
        self.assertEqual(('idle',), self._choose('count-aware', 3))
        self.assertEqual(
            ('used',), self._choose('count-aware-lopsided-only', 3)
        )

    def test_the_reserve_for_slices_alone(self):
        # 1 idle of 12 (8%): above 5%, not above 10%; 1 idle of 25 (4%):
        # above 0% only.
        self.assertEqual(('idle',), self._choose('count-aware', 10))
        self.assertEqual(
            ('used',), self._choose('count-aware-slices-reserve10', 10)
        )
        self.assertEqual(('used',), self._choose('count-aware', 23))
        self.assertEqual(
            ('idle',), self._choose('count-aware-slices-reserve0', 23)
        )


@testtools.skipUnless(HAVE_NUMPY, 'the benchmark needs numpy')
class TestMeasureAblations(testtools.TestCase):
    def test_counts_proportional_keeps_counting_slices_alone(self):
        # Proportional slices alone: the default measures room as
        # partner-aware does, the ablation still counts usable GPUs.
        from benchmarks.allocator import ablations
        from orionx_cyborg.allocator import fragmentation
        from orionx_cyborg.allocator import policies

        snapshot = base.fixed_mix(
            (30, 30, 1, 0.5), (70, 70, 1, 0.5)
        ).snapshot()
        default = policies.CountAwarePolicy()
        ablation = ablations.RUNTIME_POLICIES[
            'count-aware-counts-proportional'
        ]()
        for policy in (default, ablation):
            policy.prepare(snapshot)
        self.assertIs(
            fragmentation.largest_free_fraction,
            default.context_model().amount,
        )
        self.assertIs(
            fragmentation.usable_or_stranded,
            ablation.context_model().amount,
        )


@testtools.skipUnless(HAVE_NUMPY, 'the benchmark needs numpy')
class TestAblationsRun(testtools.TestCase):
    def test_the_simulator_and_trials_run_them_by_name(self):
        from benchmarks.allocator import ablations
        from benchmarks.allocator import simulate

        self.assertFalse(set(ablations.BASELINES) & set(simulate.POLICIES))
        self.assertFalse(
            set(ablations.RUNTIME_POLICIES) & set(simulate.POLICIES)
        )
        text = base.trials_output(
            '--variants=gpushare60',
            '--competitors=fgd-2dfit',
            '--candidates=fgd-2dfit-exact,count-aware-tiered,'
            'count-aware-anticorrelated,count-aware-ungated,'
            'partner-aware-undeferred+hold',
        )
        self.assertIn('fgd-2dfit-exact: mean', text)
        self.assertIn('count-aware-tiered: mean', text)
        self.assertIn('count-aware-anticorrelated: mean', text)
        self.assertIn('count-aware-ungated: mean', text)
        self.assertIn('partner-aware-undeferred+hold: mean', text)
