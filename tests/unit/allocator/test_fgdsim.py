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

"""The CPU-aware replica of FGD's simulator, on hand-checked cases."""

import importlib.util

import testtools

HAVE_NUMPY = importlib.util.find_spec('numpy') is not None


def _trace(fgdsim, nodes, pods=()):
    return fgdsim.Trace(
        tuple(n[0] for n in nodes),
        tuple(n[1] for n in nodes),
        tuple(n[2] for n in nodes),
        tuple(n[3] for n in nodes),
        tuple(pods),
    )


@testtools.skipUnless(HAVE_NUMPY, 'the benchmark needs numpy')
class TestFgdSim(testtools.TestCase):
    def setUp(self):
        super().setUp()
        import numpy as np

        from benchmarks.allocator import fgdsim

        self.np = np
        self.fgdsim = fgdsim

    def pod(self, cpu, milli, count=1, memory=0):
        return self.fgdsim.Pod(cpu, memory, count, milli)

    def test_typical_pods_cover_95_percent_most_common_first(self):
        pods = (
            [self.pod(4000, 500)] * 60
            + [self.pod(8000, 1000)] * 36
            + [self.pod(2000, 0, 0)] * 3
            + [self.pod(1000, 250)]
        )
        typical = self.fgdsim.typical_pods(pods)
        self.assertEqual(
            [(4000, 500), (8000, 1000)],
            [(p.cpu, p.milli) for p, _ in typical],
        )
        self.assertAlmostEqual(60 / 96, typical[0][1])

    def test_ties_go_to_the_smallest_name(self):
        # Three identical idle nodes: BestFit scores them alike and takes
        # the first in name order, wherever that node is in the trace.
        trace = _trace(self.fgdsim, [(32000, 65536, 2, 'T4')] * 3)
        order = self.np.array([2, 0, 1])
        cluster = self.fgdsim.Cluster(trace, order)
        policy = self.fgdsim.BestFitPolicy(
            cluster, trace, self.np.random.default_rng(0)
        )
        node, gpus = policy.choose(self.pod(1000, 300))
        self.assertEqual(0, node)
        self.assertEqual(2, int(cluster.order[node]))
        self.assertEqual([0], gpus)

    def test_fgd_packs_a_share_where_it_fragments_least(self):
        # Typical pods ask for 0.6 GPU, so node 1's GPU with 0.4 free is a
        # fragment. A 0.4 share there removes the fragment (score
        # int(100 * sigmoid(0.4)) = 59); on an idle GPU it changes nothing
        # (50). FGD takes node 1's used GPU, not node 0's idle one.
        pods = [self.pod(1000, 600)] * 10
        trace = _trace(self.fgdsim, [(64000, 262144, 2, 'T4')] * 2, pods=pods)
        cluster = self.fgdsim.Cluster(trace)
        cluster.take(self.pod(1000, 600), 1, [1])
        policy = self.fgdsim.FgdPolicy(
            cluster, trace, self.np.random.default_rng(0)
        )
        self.assertEqual((1, [1]), policy.choose(self.pod(1000, 400)))

    def test_fgd_counts_a_node_without_cpu_as_fragment(self):
        # The only typical pod needs 8 CPUs; a pod that leaves node 0 with
        # 4 CPUs makes its idle GPUs a fragment, so FGD takes node 1.
        typical = [self.pod(8000, 1000)] * 10
        trace = _trace(
            self.fgdsim,
            [(12000, 262144, 2, 'T4'), (64000, 262144, 2, 'T4')],
            pods=typical,
        )
        cluster = self.fgdsim.Cluster(trace)
        policy = self.fgdsim.FgdPolicy(
            cluster, trace, self.np.random.default_rng(0)
        )
        node, _ = policy.choose(self.pod(8000, 0, 0))
        self.assertEqual(1, node)

    def test_node_order_is_a_seeded_permutation(self):
        a = self.fgdsim.node_order(50, 42)
        self.assertEqual(list(range(50)), sorted(a.tolist()))
        self.assertEqual(a.tolist(), self.fgdsim.node_order(50, 42).tolist())
        self.assertNotEqual(
            a.tolist(), self.fgdsim.node_order(50, 43).tolist()
        )
        self.assertEqual(
            list(range(50)),
            self.fgdsim.node_order(50, 42, shuffle=False).tolist(),
        )

    def test_inflation_reaches_130_percent_of_the_trace_cluster(self):
        trace = self.fgdsim.load('default')
        self.assertEqual(6212 * 1000, trace.capacity_milli)
        self.assertEqual(8152, len(trace.pods))
        pods = self.fgdsim.arrivals(trace, 42)
        asked = sum(p.gpu_milli for p in pods) / trace.capacity_milli
        self.assertTrue(1.29 < asked <= 1.3, asked)
        self.assertEqual(1088, sum(1 for p in pods[:8152] if p.count == 0))

    def test_random_run_allocates_and_fails_some_pods(self):
        result = self.fgdsim.run('gpushare100', 'random', 42)
        self.assertTrue(0.7 < result['alloc_final'] < 0.9, result)
        self.assertGreater(sum(result['failed'].values()), 0)
