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

"""The side-by-side comparison of two trees' decision latency."""

import pathlib

import testtools

from benchmarks.allocator import ab

BASE = pathlib.Path('/baseline')
HERE = pathlib.Path('/candidate')
CELL = ('tiny', 'default', 'M1', 'inflate', 'count-aware', 42)


class _Runner:
    """Gives each tree's runs in turn, remembering the order asked."""

    def __init__(self, p99s, digests=None):
        self.p99s = {tree: list(values) for tree, values in p99s.items()}
        self.digests = digests or {BASE: 'same', HERE: 'same'}
        self.calls = []

    def __call__(self, tree, cell):
        self.calls.append(tree)
        p99 = self.p99s[tree].pop(0)
        return {
            'latency_us': {'p50': p99 / 4, 'p99': p99, 'max': p99 * 2},
            'digest': self.digests[tree],
        }


class TestCompare(testtools.TestCase):
    def test_the_trees_take_turns_to_run_first(self):
        runner = _Runner({BASE: [1, 1, 1], HERE: [1, 1, 1]})
        ab.compare(BASE, HERE, [CELL], 3, runner)
        self.assertEqual([BASE, HERE, HERE, BASE, BASE, HERE], runner.calls)

    def test_ratios_pair_the_runs_of_one_round(self):
        # Round 1: 50 over 100; round 2: 200 over 200. The geometric mean
        # of 0.5 and 1 is sqrt(0.5), not the ratio of the medians (1.0).
        runner = _Runner({BASE: [100, 200], HERE: [50, 200]})
        (record,) = ab.compare(BASE, HERE, [CELL], 2, runner)
        summary = ab.summarise(record)
        self.assertAlmostEqual(0.5**0.5, summary['p99_ratio'])
        self.assertAlmostEqual(0.5**0.5, summary['p50_ratio'])
        self.assertEqual(150, summary['baseline_p99'])
        self.assertEqual(125, summary['candidate_p99'])
        self.assertTrue(record['same_placements'])

    def test_different_placements_are_reported(self):
        runner = _Runner(
            {BASE: [100], HERE: [100]}, {BASE: 'before', HERE: 'after'}
        )
        records = ab.compare(BASE, HERE, [CELL], 1, runner)
        self.assertFalse(records[0]['same_placements'])
        table = ab.table(records)
        self.assertIn('NO', table)
        self.assertIn('geometric mean', table)

    def test_a_run_of_the_tiny_pool_in_this_tree(self):
        # A real subprocess on this tree's code: latencies, and the same
        # digest twice (a run depends only on its cell).
        here = pathlib.Path(ab.__file__).resolve().parents[2]
        first = ab.run_in(here, CELL)
        second = ab.run_in(here, CELL)
        self.assertEqual(first['digest'], second['digest'])
        self.assertEqual(64, len(first['digest']))
        self.assertGreater(first['latency_us']['p99'], 0)
