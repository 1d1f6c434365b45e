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

"""The learned request mix."""

import testtools

from orionx_cyborg import allocator as alloc
from orionx_cyborg.allocator import mix as mix_mod

WHOLE = alloc.TaskShape(compute_pct=100, memory_pct=100)
HALF = alloc.TaskShape(compute_pct=50, memory_pct=50)
SMALL = alloc.TaskShape(compute_pct=10, memory_mib=2048)


def weights(snapshot):
    return dict(zip(snapshot.shapes, snapshot.weights, strict=True))


class TestRequestMix(testtools.TestCase):
    def test_prior_decides_before_any_request(self):
        snapshot = alloc.RequestMix().snapshot()
        self.assertEqual(
            {shape: w for shape, w in alloc.DEFAULT_PRIOR.items()},
            {s: round(w, 9) for s, w in weights(snapshot).items()},
        )

    def test_observed_requests_outweigh_the_prior(self):
        # 1000 requests against a prior worth 20: SMALL weighs
        # 1000/1020 = 0.980 < 0.99, so coverage also keeps WHOLE (8/1020)
        # and one 0.3 shape (6/1020), reaching 0.994; the three kept
        # shapes are renormalised: SMALL = 1000/1014.
        mix = alloc.RequestMix(window=1000, refresh_every=1)
        for _ in range(1000):
            mix.observe(SMALL)
        snapshot = weights(mix.snapshot())
        self.assertAlmostEqual(1000 / 1014, snapshot[SMALL])
        self.assertEqual(3, len(snapshot))
        self.assertIn(WHOLE, snapshot)

    def test_the_window_forgets_the_oldest(self):
        mix = alloc.RequestMix(
            window=2, prior_weight=0.001, refresh_every=1, coverage=1.0
        )
        mix.observe_all([WHOLE, HALF, SMALL])
        snapshot = weights(mix.snapshot())
        self.assertNotIn(WHOLE, [s for s, w in snapshot.items() if w > 0.01])
        self.assertAlmostEqual(0.5, snapshot[SMALL], places=3)

    def test_snapshot_waits_for_refresh_every(self):
        mix = alloc.RequestMix(refresh_every=10)
        first = mix.snapshot()
        mix.observe_all([SMALL] * 9)
        self.assertIs(first, mix.snapshot())
        mix.observe(SMALL)
        self.assertEqual(first.version + 1, mix.snapshot().version)

    def test_small_drift_keeps_the_snapshot(self):
        # One request in 10,000 moves the mix by far less than 5%.
        mix = alloc.RequestMix(window=10000, refresh_every=1)
        mix.observe_all([HALF] * 5000)
        settled = mix.snapshot()
        mix.observe(HALF)
        self.assertIs(settled, mix.snapshot())

    def test_max_shapes_bounds_the_snapshot(self):
        mix = alloc.RequestMix(refresh_every=1, max_shapes=2, coverage=1.0)
        mix.observe_all(
            alloc.TaskShape(compute_pct=c, memory_pct=c) for c in range(1, 30)
        )
        self.assertEqual(2, len(mix.snapshot().shapes))

    def test_bad_parameters_are_refused(self):
        self.assertRaises(ValueError, alloc.RequestMix, window=0)
        self.assertRaises(ValueError, alloc.RequestMix, coverage=0)


class TestShapes(testtools.TestCase):
    def test_same_host_slices_keep_their_count(self):
        request = alloc.VgpuRequest(
            compute_pct=100,
            memory_pct=100,
            count=4,
            host_affinity=alloc.HostAffinity.SAME_HOST,
        )
        self.assertEqual(4, alloc.TaskShape.of(request).count)

    def test_independent_slices_count_as_one(self):
        request = alloc.VgpuRequest(compute_pct=100, memory_pct=100, count=4)
        self.assertEqual(1, alloc.TaskShape.of(request).count)

    def test_from_weights_normalises_and_orders(self):
        snapshot = alloc.MixSnapshot.from_weights({HALF: 1, WHOLE: 3})
        self.assertEqual(
            ((WHOLE, HALF), (0.75, 0.25)), (snapshot.shapes, snapshot.weights)
        )

    def test_from_weights_needs_a_positive_weight(self):
        self.assertRaises(
            ValueError, alloc.MixSnapshot.from_weights, {HALF: 0}
        )

    def test_multi_shapes_order_ignores_weights(self):
        two = alloc.TaskShape(compute_pct=100, memory_pct=100, count=2)
        eight = alloc.TaskShape(compute_pct=100, memory_pct=100, count=8)
        a = alloc.MixSnapshot.from_weights({two: 1, eight: 2, HALF: 1})
        b = alloc.MixSnapshot.from_weights({two: 2, eight: 1})
        self.assertEqual((two, eight), a.multi_shapes)
        self.assertEqual(a.multi_shapes, b.multi_shapes)
        self.assertEqual((0.25, 0.5), a.multi_weights)

    def test_fixed_mix_ignores_requests(self):
        snapshot = alloc.MixSnapshot.from_weights({HALF: 1})
        mix = alloc.FixedMix(snapshot)
        mix.observe(WHOLE)
        self.assertIs(snapshot, mix.snapshot())


class TestMemoryComputeCorrelation(testtools.TestCase):
    def _correlation(self, shapes, smallest_memory_mib=16 * 1024):
        snapshot = alloc.MixSnapshot.from_weights(
            {alloc.TaskShape(**shape): weight for shape, weight in shapes}
        )
        return mix_mod.memory_compute_correlation(
            snapshot, smallest_memory_mib
        )

    def test_anticorrelated_slices(self):
        shapes = [
            (dict(compute_pct=30, memory_pct=70), 0.5),
            (dict(compute_pct=70, memory_pct=30), 0.5),
        ]
        self.assertAlmostEqual(-1.0, self._correlation(shapes))

    def test_proportional_slices(self):
        shapes = [
            (dict(compute_pct=25, memory_pct=25), 0.2),
            (dict(compute_pct=50, memory_pct=50), 0.5),
            (dict(compute_pct=75, memory_pct=75), 0.3),
        ]
        self.assertAlmostEqual(1.0, self._correlation(shapes))

    def test_independent_memory(self):
        # Every compute with every memory, equal weights: covariance 0.
        shapes = [
            (dict(compute_pct=c, memory_mib=g * 1024), 0.25)
            for c in (30, 70)
            for g in (4, 8)
        ]
        self.assertAlmostEqual(0.0, self._correlation(shapes))

    def test_mib_counts_as_a_fraction_of_the_smallest_gpu(self):
        # 70%, 8 GiB of 16 (0.5) and 4,915 MiB (0.3) against 30, 50 and
        # 70% compute: on one line, so -1; raw MiB next to 0.7 would not
        # be.
        shapes = [
            (dict(compute_pct=30, memory_pct=70), 0.3),
            (dict(compute_pct=50, memory_mib=8 * 1024), 0.3),
            (dict(compute_pct=70, memory_mib=4915), 0.4),
        ]
        self.assertAlmostEqual(-1.0, self._correlation(shapes), places=3)

    def test_whole_gpus_and_host_shapes_are_left_out(self):
        shapes = [
            (dict(compute_pct=30, memory_pct=70), 0.3),
            (dict(compute_pct=70, memory_pct=30), 0.3),
            (dict(compute_pct=100, memory_pct=100), 0.2),
            (dict(compute_pct=50, memory_pct=50, count=2), 0.2),
        ]
        self.assertAlmostEqual(-1.0, self._correlation(shapes))

    def test_undefined_is_zero(self):
        one = [(dict(compute_pct=30, memory_pct=70), 1.0)]
        self.assertEqual(0.0, self._correlation(one))
        same_compute = [
            (dict(compute_pct=50, memory_pct=30), 0.5),
            (dict(compute_pct=50, memory_pct=70), 0.5),
        ]
        self.assertEqual(0.0, self._correlation(same_compute))
        # MiB shapes with no pool to measure them against are left out.
        mib = [
            (dict(compute_pct=30, memory_mib=8 * 1024), 0.5),
            (dict(compute_pct=70, memory_mib=4 * 1024), 0.5),
        ]
        self.assertEqual(0.0, self._correlation(mib, 0))
