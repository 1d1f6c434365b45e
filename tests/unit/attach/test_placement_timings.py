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

"""How long placing a lease took: what the service reports, and the
histograms ``/metrics`` shows."""

import uuid

from werkzeug import test as werkzeug_test

from orionx_cyborg.attach import api
from orionx_cyborg.attach import context
from orionx_cyborg.attach import ledger as ledger_mod
from orionx_cyborg.attach import metrics
from orionx_cyborg.attach import pipeline
from orionx_cyborg.attach import reconciler as reconciler_mod
from tests.unit.attach import test_api

State = ledger_mod.LeaseState
TICK_S = 0.003


class Ticks:
    """A timer that moves on by TICK_S at every reading."""

    def __init__(self):
        self.readings = 0

    def __call__(self):
        self.readings += 1
        return self.readings * TICK_S


class Timings:
    def __init__(self):
        self.decided = []
        self.placed = []

    def placement_decided(self, duration_s):
        self.decided.append(round(duration_s, 9))

    def lease_placed(self, duration_s):
        self.placed.append(round(duration_s, 9))


class TimedTestCase(test_api.ApiTestCase):
    """The service with a ticking timer, its timings kept by *timings*."""

    def setUp(self):
        super().setUp()
        self.timings = self.make_timings()
        self.service = self.lease_service(timings=self.timings, timer=Ticks())
        self.reconciler = reconciler_mod.LeaseReconciler(self.service)
        counters = (
            self.timings
            if isinstance(self.timings, metrics.Recorder)
            else None
        )
        self.client = werkzeug_test.Client(
            pipeline.build(
                self.conf,
                api.create_app(
                    self.service,
                    self.reconciler,
                    counters,
                    health=self.health,
                ),
                context.NoAuthMiddleware,
                self.health,
            )
        )

    def make_timings(self):
        return Timings()

    def bind(self, count):
        instances = [str(uuid.uuid4()) for _ in range(count)]
        for instance in instances:
            self.cyborg.bind(instance)
        return instances


class TestPlacementTimings(TimedTestCase):
    def test_a_placed_lease_reports_its_decision_and_its_whole_path(self):
        (instance,) = self.bind(1)
        self.vendordata({'instance-id': instance})
        (lease,) = self.ledger.list()
        self.assertIs(State.ACTIVE, lease.state)
        # One reading before the decision, one after it, one once active.
        self.assertEqual([TICK_S], self.timings.decided)
        self.assertEqual([2 * TICK_S], self.timings.placed)

    def test_a_lease_without_room_reports_a_decision_only(self):
        # 16 GiB slices on a 40000 MiB GPU: two fit.
        for instance in self.bind(3):
            self.vendordata({'instance-id': instance})
        states = [lease.state for lease in self.ledger.list()]
        self.assertEqual(
            [State.ACTIVE, State.ACTIVE, State.PENDING],
            sorted(states, key=lambda s: s is State.PENDING),
        )
        self.assertEqual([TICK_S] * 3, self.timings.decided)
        self.assertEqual([2 * TICK_S] * 2, self.timings.placed)

    def test_a_lease_queued_behind_a_pending_one_is_not_decided(self):
        for instance in self.bind(4):
            self.vendordata({'instance-id': instance})
        self.assertEqual(2, len(self.ledger.pending('default')))
        # The fourth waits behind the third without asking the allocator.
        self.assertEqual(3, len(self.timings.decided))
        self.assertEqual(2, len(self.timings.placed))

    def test_a_pending_lease_placed_later_reports_its_path_from_then(self):
        first, second, third = self.bind(3)
        self.reconciler.run_pass()
        self.assertEqual(1, len(self.ledger.pending('default')))
        self.cyborg.arqs_ = [
            a for a in self.cyborg.arqs_ if a.instance_uuid != first
        ]
        del self.timings.decided[:], self.timings.placed[:]
        report = self.reconciler.run_pass()
        self.assertEqual(1, report.placed)
        self.assertEqual([TICK_S], self.timings.decided)
        self.assertEqual([2 * TICK_S], self.timings.placed)


class TestPlacementMetrics(TimedTestCase):
    def make_timings(self):
        return metrics.Recorder()

    def test_the_histograms_count_decisions_and_placed_leases(self):
        text = self.call('GET', '/metrics', token=None)[1]
        self.assertIn('orionx_placement_decision_seconds_count 0.0', text)
        self.assertIn('orionx_placement_duration_seconds_count 0.0', text)
        for instance in self.bind(3):
            self.vendordata({'instance-id': instance})
        text = self.call('GET', '/metrics', token=None)[1]
        # Three decisions of 3 ms, two leases active after 6 ms.
        self.assertIn('orionx_placement_decision_seconds_count 3.0', text)
        self.assertIn(
            'orionx_placement_decision_seconds_bucket{le="0.0025"} 0.0', text
        )
        self.assertIn(
            'orionx_placement_decision_seconds_bucket{le="0.005"} 3.0', text
        )
        self.assertIn('orionx_placement_duration_seconds_count 2.0', text)
        self.assertIn(
            'orionx_placement_duration_seconds_bucket{le="0.005"} 0.0', text
        )
        self.assertIn(
            'orionx_placement_duration_seconds_bucket{le="0.01"} 2.0', text
        )
