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

"""The configuration-LP bound on hand-checked arrivals."""

import importlib.util

import testtools

HAVE_SCIPY = importlib.util.find_spec('scipy') is not None


@testtools.skipUnless(HAVE_SCIPY, 'the bound needs scipy')
class TestConfigurationBound(testtools.TestCase):
    def setUp(self):
        super().setUp()
        from benchmarks.allocator import bound
        from benchmarks.allocator import clusters
        from benchmarks.allocator import workloads
        from orionx_cyborg.allocator import AllocatorGpu

        self.bound = bound
        self.task = workloads.Task
        self.cluster = clusters.Cluster(
            't',
            tuple(
                AllocatorGpu.idle('h%d-gpu%d' % (h, i), 'h%d' % h, 'T4', 16384)
                for h in range(2)
                for i in range(2)
            ),
        )

    def test_shares_that_do_not_pair_take_a_gpu_each(self):
        # 60% compute each: two never share a GPU, so five of them fill
        # at most the four GPUs at 60%.
        tasks = [self.task('sharing', 1, 60, memory_pct=40)] * 5
        result = self.bound.configuration_bound(tasks, self.cluster)
        self.assertAlmostEqual(0.6, result['bound'])

    def test_complementary_shares_fill_gpus(self):
        # A 70/30 and a 30/70 (compute/memory) fit together exactly.
        tasks = [self.task('sharing', 1, 70, memory_pct=30)] * 4 + [
            self.task('sharing', 1, 30, memory_pct=70)
        ] * 4
        result = self.bound.configuration_bound(tasks, self.cluster)
        self.assertAlmostEqual(1.0, result['bound'])

    def test_memory_limits_what_compute_allows(self):
        # Compute would fit four 25% shares per GPU, memory only two.
        tasks = [self.task('sharing', 1, 25, memory_pct=50)] * 20
        result = self.bound.configuration_bound(tasks, self.cluster)
        self.assertAlmostEqual(0.5, result['bound'])

    def test_multi_gpu_tasks_need_a_large_enough_host(self):
        # Hosts have two GPUs: a 4-GPU task fits nowhere; two 2-GPU
        # tasks and nothing else fill the pool.
        tasks = [self.task('multi', 4, 100, memory_pct=100)] * 2 + [
            self.task('multi', 2, 100, memory_pct=100)
        ]
        result = self.bound.configuration_bound(tasks, self.cluster)
        self.assertAlmostEqual(0.5, result['bound'])
