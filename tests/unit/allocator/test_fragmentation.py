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

"""The fragmentation formulas, checked against hand computations."""

import random

import testtools

from orionx_cyborg import allocator as alloc
from orionx_cyborg.allocator import fragmentation as frag
from tests.unit.allocator import base

Load = frag.GpuLoad


def model(*shapes, amount=frag.free_amount):
    snapshot = base.fixed_mix(*shapes).snapshot()
    return frag.FragmentationModel(snapshot, amount)


class TestFreeCapacity(testtools.TestCase):
    def test_mean_of_fractions(self):
        # (50% memory + 20% compute) / 2
        self.assertAlmostEqual(0.35, frag.free_amount(1000, 100, 500, 20))

    def test_larger_fraction(self):
        self.assertAlmostEqual(
            0.5, frag.largest_free_fraction(1000, 100, 500, 20)
        )

    def test_usable_gpu_counts_as_one_whatever_its_room(self):
        self.assertEqual(1.0, frag.usable_or_stranded(1000, 100, 500, 20))
        self.assertEqual(1.0, frag.usable_or_stranded(1000, 100, 1, 1))

    def test_a_gpu_full_in_one_dimension_counts_what_it_strands(self):
        # No compute left: the 40% of memory is stranded.
        self.assertAlmostEqual(0.4, frag.usable_or_stranded(1000, 100, 400, 0))
        self.assertAlmostEqual(0.3, frag.usable_or_stranded(1000, 100, 0, 30))
        self.assertEqual(0.0, frag.usable_or_stranded(1000, 100, 0, 0))

    def test_free_compute_ignores_memory(self):
        self.assertAlmostEqual(
            0.2, frag.free_compute_fraction(1000, 100, 900, 20)
        )
        self.assertAlmostEqual(
            0.6, frag.free_compute_fraction(1000, 100, 0, 60)
        )


class TestGpuFragment(testtools.TestCase):
    def test_free_room_is_a_fragment_for_shapes_that_do_not_fit(self):
        # Mix: 30% (p=0.5) and 60% (p=0.5). A GPU with 50% free fits the
        # first only: fragment = 0.5 free x 0.5 weight = 0.25.
        m = model((30, 30, 1, 1), (60, 60, 1, 1))
        self.assertAlmostEqual(0.25, m.gpu_fragment(Load(1000, 100, 500, 50)))

    def test_a_gpu_that_fits_everything_has_no_fragment(self):
        m = model((30, 30, 1, 1), (60, 60, 1, 1))
        self.assertEqual(0.0, m.gpu_fragment(Load(1000, 100, 1000, 100)))

    def test_memory_alone_can_strand_compute(self):
        # 80% compute free but 10% memory: the 30/30 shape does not fit.
        # Fragment = (0.1 + 0.8) / 2 = 0.45.
        m = model((30, 30, 1, 1))
        self.assertAlmostEqual(0.45, m.gpu_fragment(Load(1000, 100, 100, 80)))

    def test_larger_fraction_counts_stranded_compute_whole(self):
        m = model((30, 30, 1, 1), amount=frag.largest_free_fraction)
        self.assertAlmostEqual(0.8, m.gpu_fragment(Load(1000, 100, 100, 80)))

    def test_mib_shapes_compare_against_free_mib(self):
        snapshot = alloc.MixSnapshot.from_weights(
            {alloc.TaskShape(compute_pct=10, memory_mib=600): 1.0}
        )
        m = frag.FragmentationModel(snapshot)
        # 500 MiB free < 600: all free room (0.5 + 0.5) / 2 is fragment.
        self.assertAlmostEqual(0.5, m.gpu_fragment(Load(1000, 100, 500, 50)))


class TestHostTerm(testtools.TestCase):
    def setUp(self):
        super().setUp()
        # Whole GPUs (p=0.5) and pairs of whole GPUs on one host (p=0.5).
        self.m = model((100, 100, 1, 1), (100, 100, 2, 1))

    def test_context_lists_fitting_gpus_of_hosts_that_can_hold_the_pair(
        self,
    ):
        loads = [
            Load(1000, 100, 1000, 100),
            Load(1000, 100, 1000, 100),
            Load(1000, 100, 500, 50),
        ]
        # Two idle GPUs fit the pair shape: count 2 (= needed), free 2.0.
        self.assertEqual(
            [((0, 2, 2.0),), ((0, 2, 2.0),), ()],
            self.m.host_context(loads),
        )

    def test_count_is_capped_above_what_the_shape_needs(self):
        loads = [Load(1000, 100, 1000, 100)] * 4
        self.assertEqual([((0, 3, 0.0),)] * 4, self.m.host_context(loads))

    def test_host_that_cannot_hold_the_pair_counts_its_idle_gpu(self):
        # One idle GPU and one full GPU: the idle one fits whole GPUs (no
        # fragment for them) but the host cannot take a pair, so its free
        # GPU is a fragment for the pair shape: 0.5 x 1.0 = 0.5.
        loads = [Load(1000, 100, 1000, 100), Load(1000, 100, 0, 0)]
        self.assertAlmostEqual(0.5, self.m.host_fragment(loads))

    def test_placing_on_an_idle_pair_breaks_it(self):
        # Two idle GPUs on one host; a 50% slice on one of them leaves one
        # idle GPU: the pair shape cannot fit any more. Before: 0. After:
        # GPU term 0.5 free x 1.0 (neither shape fits) = 0.5, plus host
        # term 0.5 x 1.0 (the idle GPU) = 0.5: delta = +1.0.
        loads = [Load(1000, 100, 1000, 100), Load(1000, 100, 1000, 100)]
        context = self.m.host_context(loads)[0]
        self.assertAlmostEqual(
            1.0, self.m.placement_delta(loads[0], context, 500, 50)
        )

    def test_placement_delta_matches_host_difference(self):
        # Property: for random hosts, the incremental delta of one slice
        # equals host_fragment(after) - host_fragment(before).
        rng = random.Random(7)
        m = model(
            (100, 100, 1, 2), (50, 50, 2, 1), (25, 40, 4, 1), (20, 10, 1, 2)
        )
        for _ in range(300):
            loads = [
                Load(
                    1000,
                    100,
                    rng.choice([0, 250, 500, 750, 1000]),
                    rng.choice([0, 25, 50, 75, 100]),
                )
                for _ in range(rng.randint(1, 5))
            ]
            contexts = m.host_context(loads)
            i = rng.randrange(len(loads))
            need_mem = rng.choice([0, 100, 250])
            need_comp = rng.choice([0, 10, 25])
            if (
                need_mem > loads[i].free_memory_mib
                or need_comp > loads[i].free_compute_pct
            ):
                continue
            after = list(loads)
            after[i] = Load(
                1000,
                100,
                loads[i].free_memory_mib - need_mem,
                loads[i].free_compute_pct - need_comp,
            )
            expected = m.host_fragment(after) - m.host_fragment(loads)
            self.assertAlmostEqual(
                expected,
                m.placement_delta(loads[i], contexts[i], need_mem, need_comp),
                places=6,
            )

    def test_pool_fragment_sums_hosts_and_skips_unhealthy(self):
        gpus = [
            base.gpu('a', 'h1', memory_mib=1000),
            base.gpu('b', 'h1', free_pct=0, memory_mib=1000),
            base.gpu('c', 'h2', memory_mib=1000),
            base.gpu('d', 'h2', memory_mib=1000, healthy=False),
        ]
        # h1: 0.5 (see above); h2 without its unhealthy GPU is the same.
        self.assertAlmostEqual(1.0, self.m.pool_fragment(gpus))


class TestDeltaBound(testtools.TestCase):
    def test_bound_is_the_weights_plus_each_host_term_times_its_count(self):
        # Whole GPUs (p=0.5) and pairs on one host (p=0.5): 1.0 of GPU
        # terms, 0.5 x 2 of host term.
        m = model((100, 100, 1, 1), (100, 100, 2, 1))
        self.assertAlmostEqual(2.0, m.delta_bound, places=5)
        self.assertGreater(m.delta_bound, 2.0)

    def test_no_placement_delta_exceeds_the_bound(self):
        # Property, for every measure of free capacity: random hosts, a
        # random slice on one of their GPUs.
        rng = random.Random(11)
        shapes = (
            (100, 100, 4, 3),
            (50, 20, 2, 1),
            (30, 70, 1, 2),
            (10, 40, 3, 1),
        )
        measures = (
            frag.free_amount,
            frag.largest_free_fraction,
            frag.usable_or_stranded,
            frag.free_compute_fraction,
        )
        # Idle GPUs are likelier, so that hosts that can just hold a
        # 4-GPU task are common.
        free = [(1000, 100)] * 3 + [(700, 50), (300, 10), (0, 0), (1000, 10)]
        largest = 0.0
        for amount in measures:
            m = model(*shapes, amount=amount)
            for _ in range(300):
                loads = [
                    Load(1000, 100, *rng.choice(free))
                    for _ in range(rng.randint(1, 8))
                ]
                i = rng.randrange(len(loads))
                need_mem = rng.choice([0, 200, 300, 700])
                need_comp = rng.choice([0, 10, 30, 50])
                if (
                    need_mem > loads[i].free_memory_mib
                    or need_comp > loads[i].free_compute_pct
                ):
                    continue
                context = m.host_context(loads)[i]
                delta = m.placement_delta(
                    loads[i], context, need_mem, need_comp
                )
                self.assertLessEqual(abs(delta), m.delta_bound)
                largest = max(largest, abs(delta))
        # The host terms matter: some delta is larger than the weights of
        # the mix alone could make it.
        self.assertGreater(largest, 1.0)
