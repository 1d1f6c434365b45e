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

import testtools

from orionx_cyborg import allocator as alloc
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


class TestRegistry(testtools.TestCase):
    def test_every_name_makes_its_policy(self):
        for name in alloc.POLICIES:
            self.assertEqual(name, alloc.make_policy(name).name)

    def test_default_policy_is_registered(self):
        self.assertIn(alloc.DEFAULT_POLICY, alloc.POLICIES)
        self.assertEqual('stranding-aware', alloc.DEFAULT_POLICY)

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
