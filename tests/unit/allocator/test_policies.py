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

"""Each policy's choice on small pools, with the expected GPU by hand."""

import math

import testtools

from orionx_cyborg import allocator as alloc
from orionx_cyborg.allocator import fragmentation
from orionx_cyborg.allocator import policies
from tests.unit.allocator import base


def choose(gpus, request, policy, mix=None):
    allocator = alloc.Allocator(gpus, policy=policy, mix=mix)
    decision = allocator.allocate(request)
    assert isinstance(decision, alloc.Grant), decision
    return decision.gpu_ids


class TestHamiPolicies(testtools.TestCase):
    # Three GPUs of 16 GiB: idle, half used, three quarters used. A 25%
    # slice (25% compute, 25% memory) scores, by HAMi's formula
    # (req+used)/alloc for compute plus memory:
    #   idle:    0.25 + 0.25 = 0.5
    #   half:    0.75 + 0.75 = 1.5
    #   quarter: 1.00 + 1.00 = 2.0
    def setUp(self):
        super().setUp()
        self.gpus = [
            base.gpu('idle', free_pct=100),
            base.gpu('half', free_pct=50),
            base.gpu('quarter', free_pct=25),
        ]

    def test_binpack_takes_the_fullest(self):
        self.assertEqual(
            ('quarter',), choose(self.gpus, base.request(25), 'binpack')
        )

    def test_spread_takes_the_emptiest(self):
        self.assertEqual(
            ('idle',), choose(self.gpus, base.request(25), 'spread')
        )

    def test_binpack_weighs_memory_and_compute(self):
        # a: 60% compute free, 100% memory free -> 0.65 + 0.25 = 0.9
        # b: 100% compute free, 40% memory free -> 0.25 + 0.85 = 1.1
        gpus = [
            base.gpu('a', free_pct=60, free_mem_pct=100),
            base.gpu('b', free_pct=100, free_mem_pct=40),
        ]
        self.assertEqual(('b',), choose(gpus, base.request(25), 'binpack'))


class TestFragmentationAware(testtools.TestCase):
    def test_keeps_room_for_the_mix_where_binpack_does_not(self):
        # Mix: only 50% slices. A 25% slice on:
        #   roomy (75% free): 75 -> 50, a 50% slice still fits: delta 0.
        #   tight (50% free): 50 -> 25, no 50% slice fits any more:
        #     fragment 0 -> 0.25, delta +0.25.
        # Fragmentation-aware takes roomy; binpack takes tight (fuller).
        gpus = [base.gpu('roomy', free_pct=75), base.gpu('tight', free_pct=50)]
        mix = base.fixed_mix((50, 50, 1, 1))
        request = base.request(25)
        for policy in ('fragmentation-aware', 'stranding-aware'):
            self.assertEqual(('roomy',), choose(gpus, request, policy, mix))
        self.assertEqual(('tight',), choose(gpus, request, 'binpack', mix))

    def test_fills_a_gpu_that_is_already_a_fragment(self):
        # Mix: 50% slices. 'sliver' has 25% free: already a fragment of
        # 0.25 for the mix; a 25% slice fills it: delta -0.25. 'idle'
        # goes 100 -> 75, still fits a 50% slice: delta 0.
        gpus = [base.gpu('idle'), base.gpu('sliver', free_pct=25)]
        mix = base.fixed_mix((50, 50, 1, 1))
        self.assertEqual(
            ('sliver',),
            choose(gpus, base.request(25), 'fragmentation-aware', mix),
        )

    def test_protects_whole_hosts_for_multi_gpu_shapes(self):
        # Mix: 25% slices (p=0.5) and 2 whole GPUs on one host (p=0.5).
        # h1 has two idle GPUs (it can take the pair); h2 has one idle GPU
        # and one full one (it cannot). A 25% slice:
        #   on h1: the pair no longer fits on h1: host term 0 -> 0.5 x 1
        #     (the other idle GPU), plus the slice's GPU: 0.75 free is a
        #     fragment for the pair shape: 0.5 x 0.75. Delta +0.875.
        #   on h2: host term 0.5 x 1.0 -> 0 (the GPU no longer fits a
        #     whole GPU) and GPU term 0 -> 0.5 x 0.75: delta -0.125.
        gpus = [
            base.gpu('h1-a', 'h1'),
            base.gpu('h1-b', 'h1'),
            base.gpu('h2-a', 'h2'),
            base.gpu('h2-b', 'h2', free_pct=0),
        ]
        mix = base.fixed_mix((25, 25, 1, 1), (100, 100, 2, 1))
        self.assertEqual(
            ('h2-a',),
            choose(gpus, base.request(25), 'fragmentation-aware', mix),
        )


class TestStrandingAware(testtools.TestCase):
    def test_prefers_the_balanced_leftover(self):
        # Mix: 40%/40% slices. Both GPUs are fragments already: 'y' has
        # 30% compute / 60% memory free, 'x' 60% / 30% (so their mean free
        # fractions are equal). Request: 20% compute, 10% memory.
        #   x after: 40% / 20% -> mean 0.30, larger 0.40
        #   y after: 10% / 50% -> mean 0.30, larger 0.50
        # Before, both are 0.45 (mean) and 0.60 (larger). The mean ties
        # (fragmentation-aware keeps the first class, y); the larger
        # fraction prefers x, which strands less: -0.20 against -0.10.
        gpus = [
            base.gpu('y', free_pct=30, free_mem_pct=60, memory_mib=1000),
            base.gpu('x', free_pct=60, free_mem_pct=30, memory_mib=1000),
        ]
        mix = base.fixed_mix((40, 40, 1, 1))
        request = base.request(20, 10)
        self.assertEqual(('x',), choose(gpus, request, 'stranding-aware', mix))
        self.assertEqual(
            ('y',), choose(gpus, request, 'fragmentation-aware', mix)
        )


class TestPartnerAware(testtools.TestCase):
    # Mix of sharing slices only (50% compute, 50% memory): no whole-GPU
    # demand, so the policy ranks in tiers. 'used' has 45% of both free:
    # already a fragment of 0.45 for the mix.
    def setUp(self):
        super().setUp()
        self.sharing = base.fixed_mix((50, 50, 1, 1))
        self.gpus = [base.gpu('idle'), base.gpu('used', free_pct=45)]

    def test_opens_an_idle_gpu_rather_than_half_close_a_used_one(self):
        # 30%/30% on 'used' leaves 15% free (> 5%): tier 2. On 'idle' it
        # opens a GPU: tier 1. Stranding-aware takes 'used' (fragment
        # 0.45 -> 0.15, delta -0.30, against 0 on 'idle': 70% free still
        # fits a 50% slice).
        request = base.request(30)
        self.assertEqual(
            ('idle',),
            choose(self.gpus, request, 'partner-aware', self.sharing),
        )
        self.assertEqual(
            ('used',),
            choose(self.gpus, request, 'stranding-aware', self.sharing),
        )

    def test_closes_a_used_gpu_it_fills(self):
        # 40%/40% on 'used' leaves 5% of both: a close, tier 0.
        self.assertEqual(
            ('used',),
            choose(self.gpus, base.request(40), 'partner-aware', self.sharing),
        )

    def test_a_close_needs_both_dimensions(self):
        # 'used' has 45% compute but 80% memory free: 40%/40% leaves 5%
        # compute and 40% memory, which is not a close (tier 2).
        gpus = [
            base.gpu('idle'),
            base.gpu('used', free_pct=45, free_mem_pct=80),
        ]
        self.assertEqual(
            ('idle',),
            choose(gpus, base.request(40), 'partner-aware', self.sharing),
        )

    def test_uses_a_used_gpu_when_no_idle_one_fits(self):
        gpus = [base.gpu('used', free_pct=45), base.gpu('full', free_pct=0)]
        self.assertEqual(
            ('used',),
            choose(gpus, base.request(30), 'partner-aware', self.sharing),
        )

    def test_keeps_the_idle_reserve_for_whole_gpus(self):
        # The slice of test_opens_an_idle_gpu_rather_than_half_close_a_used_one
        # with full GPUs beside: 'idle' is 1 of 4 healthy GPUs (more than
        # the 20% reserve, tiers: 'idle'), then 1 of 5 (not more: ranked
        # like stranding-aware, 'used').
        full = [base.gpu('full%d' % i, free_pct=0) for i in range(3)]
        request = base.request(30)
        self.assertEqual(
            ('idle',),
            choose(
                self.gpus + full[:2], request, 'partner-aware', self.sharing
            ),
        )
        self.assertEqual(
            ('used',),
            choose(self.gpus + full, request, 'partner-aware', self.sharing),
        )

    def test_the_reserve_counts_healthy_gpus(self):
        # An unhealthy idle GPU is neither idle nor healthy for the
        # reserve: 1 idle of 4 healthy, tiers apply.
        full = [base.gpu('full%d' % i, free_pct=0) for i in range(2)]
        sick = base.gpu('sick', healthy=False)
        self.assertEqual(
            ('idle',),
            choose(
                [*self.gpus, *full, sick],
                base.request(30),
                'partner-aware',
                self.sharing,
            ),
        )

    def _below_the_reserve(self, free_pct, free_mem_pct, full=3):
        # 'idle' is 1 of 5 healthy GPUs: not more than the 20% reserve.
        return [
            base.gpu('idle'),
            base.gpu('used', free_pct=free_pct, free_mem_pct=free_mem_pct),
            *(base.gpu('full%d' % i, free_pct=0) for i in range(full)),
        ]

    def test_lopsided_slices_of_anticorrelated_mixes_pass_the_reserve(self):
        # Memory-heavy and compute-heavy slices (30/70 and 70/30). 'used'
        # has 40% compute and 75% memory free: a 30/70 slice leaves 10%
        # and 5% (not a close, tier 2) and takes 0.375 -> 0.10 of
        # fragment (delta -0.275) against +0.35 for opening 'idle';
        # stranding-aware takes 'used', the tiers 'idle'.
        mix = base.fixed_mix((30, 70, 1, 0.5), (70, 30, 1, 0.5))
        gpus = self._below_the_reserve(40, 75)
        request = base.request(30, 70)
        self.assertEqual(
            ('idle',), choose(gpus, request, 'partner-aware', mix)
        )
        self.assertEqual(
            ('used',), choose(gpus, request, 'stranding-aware', mix)
        )

    def _behind_a_hold(self, request):
        # The anti-correlated slices alone, below the reserve, with a
        # hold wrapping the allocator: the hold, not the policy, decides
        # about opening 'idle'.
        mix = base.fixed_mix((30, 70, 1, 0.5), (70, 30, 1, 0.5))
        allocator = alloc.Allocator(
            self._below_the_reserve(40, 75), policy='partner-aware', mix=mix
        )
        alloc.PairingHold(allocator)
        decision = allocator.allocate(request)
        self.assertIsInstance(decision, alloc.Grant)
        return decision.gpu_ids

    def test_a_pairing_hold_in_front_keeps_the_reserve_for_every_slice(self):
        # The lopsided slice above.
        self.assertEqual(('used',), self._behind_a_hold(base.request(30, 70)))

    def test_balanced_slices_stay_behind_the_reserve(self):
        # The same slices with whole GPUs beside (10 of 55 points of
        # demand: tiers, but not slices alone), a 40/40 slice (at most
        # half of both): 'used' 0.375 -> 0.35 (compute gone, 35% memory
        # stranded) against +0.6 on 'idle'. Above the reserve the tiers
        # open 'idle'.
        mix = base.fixed_mix(
            (30, 70, 1, 0.45), (70, 30, 1, 0.45), (100, 100, 1, 0.1)
        )
        request = base.request(40)
        self.assertEqual(
            ('used',),
            choose(
                self._below_the_reserve(40, 75), request, 'partner-aware', mix
            ),
        )
        self.assertEqual(
            ('idle',),
            choose(
                [base.gpu('idle'), base.gpu('used', 40, free_mem_pct=75)],
                request,
                'partner-aware',
                mix,
            ),
        )

    def test_slices_of_a_slices_only_mix_pass_while_some_gpus_are_idle(
        self,
    ):
        # The 40/40 slice of the test above in a mix of slices alone:
        # with 'idle' 1 of 5 healthy GPUs (20%, above the 5% for such
        # mixes) the tiers open 'idle'; 1 of 20 (5%, not above) 'used'.
        mix = base.fixed_mix((30, 70, 1, 0.5), (70, 30, 1, 0.5))
        request = base.request(40)
        self.assertEqual(
            ('idle',),
            choose(
                self._below_the_reserve(40, 75), request, 'partner-aware', mix
            ),
        )
        self.assertEqual(
            ('used',),
            choose(
                self._below_the_reserve(40, 75, full=18),
                request,
                'partner-aware',
                mix,
            ),
        )

    def test_a_pairing_hold_in_front_holds_them_behind_the_reserve(self):
        self.assertEqual(('used',), self._behind_a_hold(base.request(40)))

    def test_lopsided_slices_of_other_mixes_stay_behind_the_reserve(self):
        # Memory follows compute (30/30 and 70/70): the 30/70 slice on
        # 'used' takes 0.375 -> 0.10 against +0.35 on 'idle'.
        mix = base.fixed_mix((30, 30, 1, 0.5), (70, 70, 1, 0.5))
        self.assertEqual(
            ('used',),
            choose(
                self._below_the_reserve(40, 75),
                base.request(30, 70),
                'partner-aware',
                mix,
            ),
        )

    def _scores_and_floors(self, gpus, request, idle=None):
        # (class key, score criterion, floor) of every class that fits.
        policy = policies.PartnerAwarePolicy()
        allocator = alloc.Allocator(gpus, policy=policy, mix=self.sharing)
        if idle is not None:
            policy.observe_pool(idle, len(gpus))
        self.assertTrue(policy.has_score_floor())
        out = []
        for group in allocator.state.classes():
            need = request.memory_on(group.memory_mib)
            if (
                group.free_memory_mib >= need
                and group.free_compute_pct >= request.compute_pct
            ):
                score = policy.score(group, need, request.compute_pct)
                floor = policy.score_floor(group, need, request.compute_pct)
                out.append((group.free_compute_pct, score[0], floor))
        return sorted(out)

    def test_score_floor_never_exceeds_the_score_in_any_tier(self):
        # 'close' is tier 0 for 40/40, 'idle' tier 1, 'roomy' tier 2;
        # below the reserve (1 idle of 10) the slices are not tiered.
        gpus = [
            base.gpu('idle'),
            base.gpu('close', free_pct=45),
            base.gpu('roomy', free_pct=80),
        ]
        request = base.request(40)
        for idle in (None, 1):
            many = [base.gpu('full%d' % i, free_pct=0) for i in range(7)]
            scored = self._scores_and_floors(
                gpus + (many if idle else []), request, idle
            )
            self.assertEqual(3, len(scored))
            for _, score, floor in scored:
                self.assertLessEqual(floor, score)

    def test_a_worse_tier_has_a_floor_above_a_better_tiers_score(self):
        # What lets the allocator skip the deltas of worse tiers: the
        # floor of 'roomy' (tier 2) is above the score of 'idle' (tier
        # 1), whose floor is above the score of 'close' (tier 0).
        gpus = [
            base.gpu('idle'),
            base.gpu('close', free_pct=45),
            base.gpu('roomy', free_pct=80),
        ]
        close, roomy, idle = self._scores_and_floors(gpus, base.request(40))
        self.assertGreater(roomy[2], idle[1])
        self.assertGreater(idle[2], close[1])

    def test_no_score_floor_without_tiers(self):
        whole = base.fixed_mix((100, 100, 1, 1), (50, 50, 1, 1))
        partner = policies.PartnerAwarePolicy()
        alloc.Allocator([base.gpu('a')], policy=partner, mix=whole)
        self.assertFalse(partner.has_score_floor())
        stranding = policies.StrandingAwarePolicy()
        alloc.Allocator([base.gpu('a')], policy=stranding, mix=self.sharing)
        self.assertFalse(stranding.has_score_floor())
        self.assertEqual(
            -math.inf,
            stranding.score_floor(
                next(iter(alloc.Allocator([base.gpu('a')]).state.classes())),
                100,
                10,
            ),
        )

    def test_places_like_stranding_aware_under_whole_gpu_demand(self):
        # Whole GPUs are 100 of the 150 points of demand (2/3 >= 0.3): no
        # tiers. 'used' 0.45 -> 0.15 (delta -0.30); 'idle' 70% free fits
        # the half slice but not a whole GPU: 0.7 x 0.5 = +0.35.
        mix = base.fixed_mix((100, 100, 1, 1), (50, 50, 1, 1))
        self.assertEqual(
            ('used',),
            choose(self.gpus, base.request(30), 'partner-aware', mix),
        )

    def test_whole_gpu_share_weighs_demand_by_compute(self):
        # 0.2 x 100 (whole) + 0.1 x 2 x 100 (two whole GPUs) = 40 of
        # 40 + 0.4 x 50 + 0.3 x 25 = 67.5.
        snapshot = alloc.MixSnapshot.from_weights(
            {
                alloc.TaskShape(compute_pct=100, memory_pct=100): 0.2,
                alloc.TaskShape(compute_pct=100, memory_pct=100, count=2): 0.1,
                alloc.TaskShape(compute_pct=50, memory_pct=50): 0.4,
                alloc.TaskShape(compute_pct=25, memory_pct=75): 0.3,
            }
        )
        self.assertAlmostEqual(
            40 / 67.5, policies.whole_gpu_share(snapshot), places=9
        )


class TestCountAware(testtools.TestCase):
    def test_keeps_a_usable_gpu_usable(self):
        # Mix: whole GPUs (p=0.4) and half slices (p=0.6); whole-GPU
        # demand 40 of 70 points (>= 0.3), so no tiers. A 10% slice on
        #   idle (100% free -> 90%): the whole GPU no longer fits.
        #     stranding-aware: 0 -> 0.9 x 0.4 = +0.36
        #     count-aware:     0 -> 1 x 0.4   = +0.40
        #   used (55% free -> 45%): the half slice no longer fits either.
        #     stranding-aware: 0.55 x 0.4 = 0.22 -> 0.45 x 1 = +0.23
        #     count-aware:     1 x 0.4        -> 1 x 1      = +0.60
        # Counting GPUs, closing 'used' to half slices costs more than
        # opening 'idle'; measuring room, filling 'used' costs less.
        gpus = [base.gpu('idle'), base.gpu('used', free_pct=55)]
        mix = base.fixed_mix((100, 100, 1, 0.4), (50, 50, 1, 0.6))
        request = base.request(10)
        self.assertEqual(('idle',), choose(gpus, request, 'count-aware', mix))
        self.assertEqual(
            ('used',), choose(gpus, request, 'partner-aware', mix)
        )

    def test_ranks_in_partner_aware_tiers(self):
        # Only half slices: tiers. 30% on 'used' (45% free) leaves 15%:
        # tier 2, after the idle GPU (tier 1).
        gpus = [base.gpu('idle'), base.gpu('used', free_pct=45)]
        mix = base.fixed_mix((50, 50, 1, 1))
        self.assertEqual(
            ('idle',), choose(gpus, base.request(30), 'count-aware', mix)
        )

    def _measure(self, memories_mib, smallest_memory_mib):
        snapshot = alloc.MixSnapshot.from_weights(
            {
                alloc.TaskShape(compute_pct=50, memory_mib=m): 1.0
                for m in memories_mib
            }
        )
        policy = policies.CountAwarePolicy()
        policy.prepare(snapshot, smallest_memory_mib)
        return policy.context_model().amount

    def test_counts_gpus_when_every_slice_fits_the_smallest_gpu(self):
        self.assertIs(
            fragmentation.usable_or_stranded,
            self._measure([8 * base.GIB, 16 * base.GIB], 16 * base.GIB),
        )

    def test_measures_compute_when_a_slice_exceeds_the_smallest_gpu(self):
        self.assertIs(
            fragmentation.free_compute_fraction,
            self._measure([8 * base.GIB, 24 * base.GIB], 16 * base.GIB),
        )

    def _percent_measure(self, *shapes):
        policy = policies.CountAwarePolicy()
        policy.prepare(base.fixed_mix(*shapes).snapshot())
        return policy.context_model().amount

    def test_measures_room_where_proportional_slices_are_alone(self):
        # Memory follows compute (correlation +1), no whole GPUs.
        self.assertIs(
            fragmentation.largest_free_fraction,
            self._percent_measure((30, 30, 1, 0.5), (70, 70, 1, 0.5)),
        )

    def test_counts_gpus_for_proportional_slices_beside_whole_gpus(self):
        # Whole GPUs are 10 of 60 points of demand: not slices alone.
        self.assertIs(
            fragmentation.usable_or_stranded,
            self._percent_measure(
                (30, 30, 1, 0.45), (70, 70, 1, 0.45), (100, 100, 1, 0.1)
            ),
        )

    def test_counts_gpus_for_anticorrelated_slices_alone(self):
        self.assertIs(
            fragmentation.usable_or_stranded,
            self._percent_measure((30, 70, 1, 0.5), (70, 30, 1, 0.5)),
        )

    def test_counts_gpus_for_an_empty_pool(self):
        self.assertIs(
            fragmentation.usable_or_stranded,
            self._measure([24 * base.GIB], 0),
        )

    def test_exceeds_smallest_gpu_ignores_shares_and_host_shapes(self):
        snapshot = alloc.MixSnapshot.from_weights(
            {
                alloc.TaskShape(compute_pct=100, memory_pct=100): 0.5,
                alloc.TaskShape(
                    compute_pct=100, memory_mib=80 * base.GIB, count=2
                ): 0.5,
            }
        )
        self.assertFalse(
            policies.exceeds_smallest_gpu(snapshot, 16 * base.GIB)
        )


class TestRegistry(testtools.TestCase):
    def test_every_name_makes_its_policy(self):
        for name in alloc.POLICIES:
            self.assertEqual(name, alloc.make_policy(name).name)

    def test_default_policy_is_registered(self):
        self.assertIn(alloc.DEFAULT_POLICY, alloc.POLICIES)
        self.assertEqual('count-aware', alloc.DEFAULT_POLICY)

    def test_unknown_name_lists_the_known_ones(self):
        error = self.assertRaises(
            alloc.UnknownPolicyError, alloc.make_policy, 'first-fit'
        )
        self.assertIn('binpack', str(error))

    def test_allocator_accepts_a_policy_instance(self):
        allocator = alloc.Allocator(
            [base.gpu('g')], policy=alloc.make_policy('spread')
        )
        self.assertEqual('spread', allocator.policy_name)
