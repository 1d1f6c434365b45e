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

"""A smoke test of the fragmentation benchmark on a 56-GPU pool.

The benchmark needs numpy (``benchmarks/allocator/requirements.txt``); the
test is skipped where it is not installed.
"""

import collections
import importlib.util
import io
import json
import pathlib
import statistics
import sys
import tempfile

import fixtures
import testtools

from tests.unit.allocator import base

HAVE_NUMPY = importlib.util.find_spec('numpy') is not None
HAVE_MATPLOTLIB = importlib.util.find_spec('matplotlib') is not None


@testtools.skipUnless(HAVE_NUMPY, 'the benchmark needs numpy')
class TestSimulatorSmoke(testtools.TestCase):
    def setUp(self):
        super().setUp()
        from benchmarks.allocator import simulate

        self.simulate = simulate

    def run_spec(
        self, policy, arrival='inflate', memory='M3', variant='default'
    ):
        return self.simulate.run(
            self.simulate.RunSpec('tiny', variant, memory, arrival, policy, 42)
        )

    def test_every_policy_fills_the_pool_without_departures(self):
        # run() itself checks that the runtime allocator's view equals the
        # simulator's after every run.
        for policy in self.simulate.POLICIES:
            result = self.run_spec(policy, variant='multigpu50')
            curve = [point[1] for point in result['curve']]
            self.assertEqual(sorted(curve), curve, policy)
            at = result['at'][130]
            for metric in ('alloc_comp', 'alloc_mem', 'frag_2d'):
                self.assertTrue(0.0 <= at[metric] <= 1.0, (policy, metric))
            self.assertGreater(at['alloc_comp'], 0.5, policy)
            self.assertGreater(sum(result['failed'].values()), 0, policy)

    def test_m1_allocates_memory_like_compute(self):
        at = self.run_spec('stranding-aware', memory='M1')['at'][130]
        self.assertAlmostEqual(at['alloc_comp'], at['alloc_mem'], delta=0.01)
        # Equal up to the MiB rounding of percentages.
        self.assertAlmostEqual(at['frag_2d'], at['frag_gpu'], delta=1e-4)

    def test_churn_reaches_a_steady_state(self):
        result = self.run_spec('fgd', arrival='churn', memory='M2')
        steady = result['steady']
        self.assertTrue(0.3 < steady['alloc_comp'] <= 1.0, steady)
        self.assertGreater(
            result['decisions'], sum(result['arrived'].values())
        )

    def test_pairing_hold_counts_what_it_never_served(self):
        result = self.run_spec('partner-aware+hold100', variant='gpushare60')
        hold = result['hold']
        self.assertGreater(hold['held'], 0)
        # Every task still held at the end is counted as not served.
        self.assertEqual(
            hold['pending_at_end'], result['reasons'].get('held', 0)
        )
        self.assertLessEqual(hold['wait_p50'], hold['wait_p99'])
        plain = self.run_spec('partner-aware', variant='gpushare60')
        self.assertNotIn('hold', plain)
        self.assertNotIn('held', plain['reasons'])

    def test_pairing_hold_without_reserve_is_the_plain_policy(self):
        held = self.run_spec('partner-aware+hold0', variant='gpushare60')
        plain = self.run_spec('partner-aware', variant='gpushare60')
        self.assertEqual(0, held['hold']['held'])
        self.assertEqual(plain['curve'], held['curve'])

    def test_pairing_hold_holds_nothing_where_partners_are_common(self):
        # Under M1 any two slices whose compute fits pair, so nothing is
        # held and every decision is the plain policy's.
        for variant in ('default', 'gpushare100'):
            held = self.run_spec(
                'partner-aware+hold', memory='M1', variant=variant
            )
            plain = self.run_spec(
                'partner-aware', memory='M1', variant=variant
            )
            self.assertEqual(0, held['hold']['held'], variant)
            self.assertEqual(plain['curve'], held['curve'], variant)

    def test_pairing_hold_with_a_bounded_wait(self):
        # Every held task is asked again after at most 5 arrivals.
        result = self.run_spec(
            'partner-aware+hold100w5', variant='gpushare100'
        )
        hold = result['hold']
        self.assertGreater(hold['held'], 0)
        self.assertLessEqual(hold['wait_p99'], 5)
        self.assertLessEqual(hold['pending_at_end'], 5)
        unbounded = self.run_spec(
            'partner-aware+hold100', variant='gpushare100'
        )
        self.assertGreater(unbounded['hold']['pending_at_end'], 5)

    def test_hold_wait_table(self):
        from benchmarks.allocator import hold_wait

        rows = [
            hold_wait._one(
                self.simulate.RunSpec(
                    'tiny', 'gpushare100', 'M3', 'inflate', policy, 42
                )
            )
            for policy in ('partner-aware', 'partner-aware+hold100w5')
        ]
        self.assertIsNone(rows[0]['hold'])
        self.assertTrue(0 < rows[1]['unserved_sharing'] < 1)
        text = hold_wait.table(rows)
        self.assertIn('partner-aware+hold100w5', text)
        self.assertIn('5 / 5', text)

    def test_defragmenting_moves_keep_the_views_equal(self):
        # run() checks that the allocator's view equals the simulator's,
        # so every move was applied on both sides.
        for memory in ('M1', 'M3'):
            result = self.run_spec(
                'partner-aware+defrag5', arrival='churn', memory=memory
            )
            self.assertGreater(result['defrag']['passes'], 0, memory)
            self.assertGreater(result['defrag']['moves'], 0, memory)
        plain = self.run_spec('partner-aware', arrival='churn')
        self.assertNotIn('defrag', plain)

    def test_pairing_hold_constants_in_the_name(self):
        named = self.run_spec('partner-aware+hold50s10', variant='gpushare60')
        default = self.run_spec('partner-aware+hold', variant='gpushare60')
        self.assertEqual(default['curve'], named['curve'])
        # A partner share of 0 holds nothing.
        never = self.run_spec('partner-aware+hold100s0', variant='gpushare60')
        self.assertEqual(0, never['hold']['held'])
        self.assertRaises(ValueError, self.run_spec, 'partner-aware+holdx')

    def test_trials_print_each_candidate_against_the_best(self):
        text = base.trials_output(
            '--variants=default',
            '--competitors=fgd,random',
            '--candidates=partner-aware,partner-aware+hold100',
        )
        self.assertIn('tiny/M3 default', text)
        self.assertIn('partner-aware: mean', text)
        self.assertIn('partner-aware+hold100: mean', text)

    def test_trials_compare_at_the_point_asked(self):
        import contextlib

        from benchmarks.allocator import run
        from benchmarks.allocator import simulate
        from benchmarks.allocator import trials

        text = base.trials_output(
            '--variants=default',
            '--competitors=fgd',
            '--candidates=partner-aware',
            '--point=100',
        )

        def at_100(policy):
            spec = simulate.RunSpec(
                'tiny', 'default', 'M3', 'inflate', policy, run.DEV_SEEDS[0]
            )
            return simulate.run(spec)['at'][100]['alloc_comp']

        diff = 100 * (at_100('partner-aware') - at_100('fgd'))
        self.assertIn('partner-aware %+.2f' % diff, text)
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            self.assertRaises(
                SystemExit,
                trials.main,
                ['--arrival=churn', '--point=100', '--candidates=fgd'],
            )
        self.assertIn('--point', err.getvalue())

    def test_pairing_hold_under_churn(self):
        # Held tasks placed after they arrive also leave again: run()
        # checks that the allocator's view equals the simulator's.
        result = self.run_spec('partner-aware+hold', arrival='churn')
        self.assertTrue(0.3 < result['steady']['alloc_comp'] <= 1.0)
        self.assertIn('hold', result)

    def test_churn_runs_on_the_churn_variants_asked(self):
        from benchmarks.allocator import run

        specs = run.full_matrix(
            [42],
            clusters=('B1',),
            variants=('default', 'gpushare60', 'gpushare80'),
            memories=('M1',),
            policies=('fgd', 'count-aware'),
        )
        churn = {(s.variant, s.policy) for s in specs if s.arrival == 'churn'}
        self.assertEqual(
            {
                (v, p)
                for v in ('default', 'gpushare80')
                for p in ('fgd', 'count-aware')
            },
            churn,
        )

    def test_churn_tables_per_variant(self):
        from benchmarks.allocator import report
        from benchmarks.allocator import run

        records = [
            dict(r, cluster='B1', variant=variant)
            for variant, policy in (
                ('default', 'fgd'),
                ('gpushare80', 'binpack'),
            )
            for r in run.aggregate(
                [self.run_spec(policy, arrival='churn', memory='M2')]
            )
        ]
        default = report.churn_table(records)
        shared = report.churn_table(records, 'gpushare80')
        self.assertIn('FGD', default)
        self.assertNotIn('GPU binpack', default)
        self.assertIn('GPU binpack', shared)
        self.assertNotIn('FGD', shared)
        section = report.results_section(
            records,
            [],
            {'command': 'run', 'runs': 2, 'elapsed_s': 0, 'seeds': [42]},
        )
        self.assertIn('Churn, gpushare80', section)

    def test_report_tables_and_plot(self):
        from benchmarks.allocator import report
        from benchmarks.allocator import run

        results = [
            self.run_spec(policy, memory=memory)
            for policy in ('fgd', 'stranding-aware', 'binpack')
            for memory in ('M1', 'M2')
        ]
        records = run.aggregate(results)
        self.assertEqual(6, len(records))
        table = report.allocation_tables(
            [dict(r, cluster='B1') for r in records]
        )
        self.assertIn('stranding-aware', table)
        self.assertIn('**B1, M2**', table)
        held = run.aggregate(
            [
                self.run_spec('partner-aware+hold'),
                self.run_spec('partner-aware'),
            ]
        )
        costs = report.hold_table(held)
        self.assertEqual(1, costs.count('tiny'), costs)
        self.assertIn('default', costs)
        if HAVE_MATPLOTLIB:
            with tempfile.TemporaryDirectory() as out:
                report.plot_curves(
                    [dict(r, cluster='B1') for r in records], pathlib.Path(out)
                )
                self.assertTrue(
                    (pathlib.Path(out) / 'allocation_B1.png').exists()
                )


class _RunCommandTest(testtools.TestCase):
    """``run.py``'s command line, writing into a temporary directory."""

    def setUp(self):
        super().setUp()
        from benchmarks.allocator import run
        from benchmarks.allocator import simulate

        self.run = run
        self.simulate = simulate
        self.out = pathlib.Path(self.useFixture(fixtures.TempDir()).path)


@testtools.skipUnless(HAVE_NUMPY, 'the benchmark needs numpy')
class TestReportFromResults(_RunCommandTest):
    """``--report-only`` without ``runs.jsonl``: from results.json."""

    def setUp(self):
        super().setUp()
        run, simulate = self.run, self.simulate
        results = [
            simulate.run(
                simulate.RunSpec('tiny', 'default', 'M3', 'inflate', p, seed)
            )
            for p in ('fgd', 'stranding-aware', 'partner-aware')
            for seed in (42, 43)
        ]
        self.patch(run.report, 'plot_curves', lambda *args: None)
        run.write_outputs(
            results, [], self.out, {'seed_set': 'dev'}, readme=False
        )

    def written(self):
        return {
            name: (self.out / name).read_text()
            for name in ('results.json', 'summary.csv', 'paired.csv')
        }

    def test_the_recorded_outputs_are_written_again(self):
        before = self.written()
        self.assertEqual(
            0,
            self.run.main(
                ['--report-only', '--no-readme', '--out', str(self.out)]
            ),
        )
        self.assertEqual(before, self.written())
        self.assertFalse((self.out / 'runs.jsonl').exists())

    def test_paired_comparisons_follow_compared(self):
        self.patch(self.run, 'COMPARED', ('stranding-aware', 'partner-aware'))
        self.run.rewrite_from_results(self.out, readme=False)
        paired = (self.out / 'paired.csv').read_text().splitlines()[1:]
        self.assertEqual(
            ['stranding-aware', 'partner-aware'],
            [line.split(',')[0] for line in paired],
        )

    def test_nothing_recorded_is_an_error_and_runs_nothing(self):
        (self.out / 'results.json').unlink()
        stderr = self.useFixture(fixtures.StringStream('stderr'))
        self.useFixture(fixtures.MonkeyPatch('sys.stderr', stderr.stream))
        self.assertEqual(
            2,
            self.run.main(
                ['--report-only', '--no-readme', '--out', str(self.out)]
            ),
        )
        self.assertIn(
            'run the benchmark first', stderr.getDetails()['stderr'].as_text()
        )
        self.assertFalse((self.out / 'runs.jsonl').exists())


@testtools.skipUnless(HAVE_NUMPY, 'the benchmark needs numpy')
class TestLatencyOnly(_RunCommandTest):
    """``--latency-only`` adds its cells to latency.json."""

    def setUp(self):
        super().setUp()
        simulate = self.simulate

        def tiny_matrix(quick, variants=None, policies=None, seeds=(42,)):
            return [
                simulate.RunSpec('tiny', 'default', 'M3', 'inflate', p, s)
                for p in policies
                for s in seeds
            ]

        self.patch(self.run, 'latency_matrix', tiny_matrix)
        self.useFixture(fixtures.MonkeyPatch('sys.stdout', io.StringIO()))

    def cells(self, *argv):
        argv = ['--latency-only', *argv, '--out', str(self.out)]
        self.assertEqual(0, self.run.main(argv))
        return json.loads((self.out / 'latency.json').read_text())

    def recorded_runs(self):
        # The results of the runs, as they are executed.
        runs = []
        execute = self.run.execute

        def recording(specs, jobs, sink=None):
            results = execute(specs, jobs, sink)
            runs.extend(results)
            return results

        self.patch(self.run, 'execute', recording)
        return runs

    def measure(self, policies):
        cells = self.cells('--policies', policies, '--seeds', '1')
        return sorted(c['policy'] for c in cells)

    def test_runs_every_seed_and_keeps_the_worst_p99(self):
        runs = self.recorded_runs()
        (cell,) = self.cells(
            '--policies', 'binpack', '--seed-set', 'dev', '--seeds', '3'
        )
        self.assertEqual([42, 43, 44], cell['seeds'])
        p99 = [r['latency_us']['p99'] for r in runs]
        self.assertEqual(max(p99), cell['p99_worst_us'])
        self.assertEqual(
            statistics.fmean(p99), cell['latency_us']['p99']['mean']
        )
        self.assertIn('worst run', sys.stdout.getvalue())
        # Without the baseline beside it, no ratio.
        self.assertIsNone(cell['vs_baseline'])

    def test_ratios_to_the_baseline_run_beside(self):
        runs = self.recorded_runs()
        baseline = self.run.report.LATENCY_BASELINE
        cells = self.cells(
            '--policies',
            'binpack,%s' % baseline,
            '--seed-set',
            'dev',
            '--seeds',
            '2',
        )
        by_seed = {
            (r['spec']['policy'], r['spec']['seed']): r['latency_us']
            for r in runs
        }
        ratios = {
            q: statistics.geometric_mean(
                by_seed['binpack', s][q] / by_seed[baseline, s][q]
                for s in (42, 43)
            )
            for q in ('p50', 'p99')
        }
        vs = {c['policy']: c['vs_baseline'] for c in cells}
        self.assertEqual(ratios, vs['binpack'])
        self.assertEqual({'p50': 1.0, 'p99': 1.0}, vs[baseline])

    def test_a_policy_measured_alone_keeps_the_others(self):
        self.assertEqual(['binpack', 'spread'], self.measure('binpack,spread'))
        self.assertEqual(
            ['binpack', 'count-aware', 'spread'], self.measure('count-aware')
        )
        # Measured again, a cell replaces its earlier record.
        self.assertEqual(
            ['binpack', 'count-aware', 'spread'], self.measure('count-aware')
        )


@testtools.skipUnless(HAVE_NUMPY, 'the benchmark needs numpy')
class TestWorkloads(testtools.TestCase):
    def setUp(self):
        super().setUp()
        from benchmarks.allocator import trace_stats
        from benchmarks.allocator import workloads

        self.trace_stats = trace_stats
        self.workloads = workloads

    def sampler(self, memory='M2', seed=1, variant='default'):
        return self.workloads.TaskSampler(variant, memory, 80 * 1024, seed)

    def tasks(self, n, memory='M2', seed=1):
        sampler = self.sampler(memory, seed)
        return [sampler.sample() for _ in range(n)]

    def test_distribution_sums_to_one(self):
        for memory in self.workloads.MEMORY_MODELS:
            total = sum(self.sampler(memory).distribution().values())
            self.assertAlmostEqual(1.0, total)

    def test_task_kinds_follow_the_trace(self):
        # default: 3,078 sharing of 7,064 GPU tasks = 43.6%.
        tasks = self.tasks(20000)
        kinds = collections.Counter(t.kind for t in tasks)
        self.assertAlmostEqual(
            3078 / 7064, kinds['sharing'] / 20000, delta=0.01
        )

    def test_seeds_reproduce_the_workload(self):
        a = self.tasks(50, seed=5)
        b = self.tasks(50, seed=5)
        c = self.tasks(50, seed=6)
        self.assertEqual(a, b)
        self.assertNotEqual(a, c)

    def test_m3_is_anti_correlated(self):
        tasks = [t for t in self.tasks(2000, 'M3') if t.kind == 'sharing']
        self.assertGreater(len(tasks), 500)
        for task in tasks:
            self.assertLessEqual(
                abs(100 - task.compute_pct - task.memory_pct), 13
            )

    def test_inflation_stops_at_the_target(self):
        tasks = self.workloads.inflation(self.sampler(), 100, 1.3)
        asked = sum(t.gpus for t in tasks)
        self.assertTrue(130 <= asked < 130 + 8, asked)

    def test_node_mix_has_the_traces_totals(self):
        mix = self.trace_stats.NODE_MIX
        self.assertEqual(1213, sum(mix.values()))
        self.assertEqual(6212, sum(n * c for (_, n), c in mix.items()))


@testtools.skipUnless(HAVE_NUMPY, 'the benchmark needs numpy')
class TestFailures(testtools.TestCase):
    def setUp(self):
        super().setUp()
        from benchmarks.allocator import failures
        from benchmarks.allocator import simulate

        self.failures = failures
        self.simulate = simulate
        self.spec = simulate.RunSpec(
            'tiny', 'gpushare60', 'M2', 'inflate', 'count-aware', 42
        )

    def test_refusals_are_the_runs_failures(self):
        refused, idle = self.failures.watch(self.spec, at=10)
        result = self.simulate.run(self.spec)
        self.assertEqual(sum(result['failed'].values()), sum(refused.values()))
        by_kind = {}
        for (label, _bucket), n in refused.items():
            kind = label.split()[0]
            by_kind[kind] = by_kind.get(kind, 0) + n
        self.assertEqual(
            {k: v for k, v in result['failed'].items() if v}, by_kind
        )
        # Ten arrivals cannot have used more than ten GPUs of the pool.
        self.assertGreaterEqual(sum(idle.values()), len(self.pool()) - 10)

    def pool(self):
        from benchmarks.allocator import clusters

        return clusters.by_name('tiny').gpus

    def test_labels(self):
        from benchmarks.allocator import workloads

        self.assertEqual(
            'sharing 40G',
            self.failures.task_label(
                workloads.Task('sharing', 1, 30, memory_mib=40960)
            ),
        )
        self.assertEqual(
            'sharing 70%',
            self.failures.task_label(
                workloads.Task('sharing', 1, 30, memory_pct=70)
            ),
        )
        self.assertEqual(
            'multi',
            self.failures.task_label(
                workloads.Task('multi', 2, 100, memory_pct=100)
            ),
        )

    def test_the_command_prints_each_policy(self):
        import contextlib
        import io

        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            status = self.failures.main(
                [
                    '--cluster=tiny',
                    '--variant=gpushare60',
                    '--memory=M2',
                    '--seeds=1',
                    '--jobs=1',
                    '--at=10',
                    '--policies=count-aware,fgd-2dfit',
                ]
            )
        self.assertEqual(0, status)
        text = out.getvalue()
        self.assertIn('count-aware: refused per 1000 arrivals', text)
        self.assertIn('fgd-2dfit: refused per 1000 arrivals', text)
        self.assertIn('idle GPUs after 10 arrivals', text)

    def test_a_hold_is_refused(self):
        import contextlib
        import io

        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            error = self.assertRaises(
                SystemExit,
                self.failures.main,
                ['--cluster=tiny', '--policies=partner-aware+hold'],
            )
        self.assertEqual(2, error.code)
        self.assertIn('plain policies only', err.getvalue())
