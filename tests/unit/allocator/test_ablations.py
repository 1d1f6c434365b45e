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
class TestAblationsRun(testtools.TestCase):
    def test_the_simulator_and_trials_run_them_by_name(self):
        import contextlib
        import io

        from benchmarks.allocator import ablations
        from benchmarks.allocator import simulate
        from benchmarks.allocator import trials

        self.assertFalse(set(ablations.BASELINES) & set(simulate.POLICIES))
        self.assertFalse(
            set(ablations.RUNTIME_POLICIES) & set(simulate.POLICIES)
        )
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            trials.main(
                [
                    '--clusters=tiny',
                    '--variants=gpushare60',
                    '--seeds=1',
                    '--jobs=1',
                    '--competitors=fgd-2dfit',
                    '--candidates=fgd-2dfit-exact,count-aware-tiered',
                ]
            )
        text = out.getvalue()
        self.assertIn('fgd-2dfit-exact: mean', text)
        self.assertIn('count-aware-tiered: mean', text)
