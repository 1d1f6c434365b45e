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

"""The Grafana dashboard queries only metrics the service exports.

Every PromQL expression of ``etc/grafana/orionx-cyborg.json`` (panels and
template variables) is parsed with a PromQL parser; every metric it
selects must be a series the attach service's metrics module exports:
the families of :class:`orionx_cyborg.attach.metrics.Recorder`'s
registry and of the pool collector (for a service with a pool view),
each family's series named as Prometheus names them (``_total`` of a
counter, ``_bucket``, ``_count`` and ``_sum`` of a histogram).
"""

import json
import pathlib
import re

import promql_parser

from orionx_cyborg.attach import metrics
from tests.unit.attach import test_api as attach_tests

DASHBOARD = (
    pathlib.Path(__file__).parents[3]
    / 'etc'
    / 'grafana'
    / 'orionx-cyborg.json'
)
#: Grafana's interval variables, which PromQL cannot parse in ranges.
GRAFANA_INTERVALS = re.compile(r'\$__(rate_interval|interval|range)\b')
LABEL_VALUES = re.compile(r'^label_values\((?P<selector>.+),\s*\w+\)$')
#: The series of a metric family, by its type.
SERIES = {
    'counter': ('_total',),
    'gauge': ('',),
    'histogram': ('_bucket', '_count', '_sum'),
    'summary': ('', '_count', '_sum'),
    'info': ('_info',),
}


def exported_series(service):
    families = list(metrics.Recorder().registry.collect())
    families += list(metrics._PoolCollector(service).collect())
    return {
        family.name + suffix
        for family in families
        for suffix in SERIES[family.type]
    }


def expressions(dashboard):
    """(where, PromQL) of every query of *dashboard*."""
    found = []

    def panels(items):
        for panel in items:
            yield panel
            yield from panels(panel.get('panels', ()))

    for panel in panels(dashboard['panels']):
        for target in panel.get('targets', ()):
            found.append(
                (
                    'panel %r %s' % (panel['title'], target['refId']),
                    target['expr'],
                )
            )
    for variable in dashboard['templating']['list']:
        query = variable.get('query')
        if isinstance(query, dict):
            query = query.get('query')
        if variable['type'] == 'query':
            match = LABEL_VALUES.match(query)
            found.append(
                (
                    'variable %s' % variable['name'],
                    match.group('selector') if match else query,
                )
            )
    return found


def metric_names(expr):
    """The metrics *expr* selects (by name or ``__name__`` matcher)."""
    tree = promql_parser.parse(GRAFANA_INTERVALS.sub('5m', expr))
    names = []

    def visit(node):
        if isinstance(node, promql_parser.VectorSelector):
            if node.name:
                names.append(node.name)
            for matcher in node.matchers.matchers:
                if matcher.name == '__name__':
                    names.append(matcher.value)

    promql_parser.walk(tree, pre_visit=visit)
    return names


def unknown_metrics(dashboard, exported):
    return [
        (where, name)
        for where, expr in expressions(dashboard)
        for name in metric_names(expr)
        if name not in exported
    ]


class TestGrafanaDashboard(attach_tests.ApiTestCase):
    def setUp(self):
        super().setUp()
        # A pass reads the pool view the pool gauges need.
        self.reconciler.run_pass()
        self.exported = exported_series(self.service)
        with DASHBOARD.open() as f:
            self.dashboard = json.load(f)

    def test_the_exported_series_are_derived_from_the_registry(self):
        for name in (
            'orionx_reconcile_passes_total',
            'orionx_vendordata_duration_seconds_bucket',
            'orionx_vendordata_duration_seconds_count',
            'orionx_pool_used_gmem_mib',
            'orionx_pending_oldest_age_seconds',
        ):
            self.assertIn(name, self.exported)
        # A counter's series is its _total; a histogram has no bare one.
        self.assertNotIn('orionx_reconcile_passes', self.exported)
        self.assertNotIn('orionx_vendordata_duration_seconds', self.exported)

    def test_every_query_names_only_exported_metrics(self):
        queries = expressions(self.dashboard)
        self.assertGreater(len(queries), 20)
        for where, expr in queries:
            self.assertTrue(metric_names(expr), '%s selects nothing' % where)
        self.assertEqual([], unknown_metrics(self.dashboard, self.exported))

    def test_the_dashboard_covers_what_operators_watch(self):
        used = {
            name
            for _, expr in expressions(self.dashboard)
            for name in metric_names(expr)
        }
        for name in (
            'orionx_pool_capacity_gmem_mib',
            'orionx_pool_used_gmem_mib',
            'orionx_pool_capacity_compute_pct',
            'orionx_leases',
            'orionx_pending_oldest_age_seconds',
            'orionx_pool_fragmentation_ratio',
            'orionx_reconcile_duration_seconds',
            'orionx_reconcile_failures_total',
            'orionx_vendordata_duration_seconds_bucket',
            'orionx_placement_decision_seconds_bucket',
            'orionx_placement_duration_seconds_bucket',
        ):
            self.assertIn(name, used)

    def test_an_unknown_or_misspelt_metric_fails(self):
        broken = json.loads(json.dumps(self.dashboard))
        broken['panels'][1]['targets'][0]['expr'] = (
            'sum(rate(orionx_reconcile_passes[5m])) + '
            'max({__name__="orionx_pool_used_gmem"})'
        )
        self.assertEqual(
            [
                ('panel %r A' % broken['panels'][1]['title'], name)
                for name in (
                    'orionx_reconcile_passes',
                    'orionx_pool_used_gmem',
                )
            ],
            unknown_metrics(broken, self.exported),
        )

    def test_a_query_that_is_not_promql_fails(self):
        self.assertRaises(
            ValueError, metric_names, 'sum(orionx_leases{pool="a"}'
        )
