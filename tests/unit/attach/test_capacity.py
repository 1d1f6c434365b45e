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

"""The pool view's age bound: every worker sees what Cyborg reports."""

from __future__ import annotations

from unittest import mock

import testtools

from orionx_cyborg import allocator
from orionx_cyborg import clients
from orionx_cyborg.attach import capacity
from tests.unit.attach import test_api


class CountingCyborg(test_api.FakeCyborg):
    def __init__(self):
        super().__init__()
        self.reads = 0
        self.down = False
        self.reported = True

    def devices(self):
        self.reads += 1
        if self.down:
            raise clients.ServiceUnavailable(service="cyborg", reason="down")
        return super().devices() if self.reported else []

    def deployables(self):
        return super().deployables() if self.reported else []


class TestPoolViewAge(testtools.TestCase):
    def setUp(self):
        super().setUp()
        self.now = 1000.0
        self.cyborg = CountingCyborg()
        # Background re-reads, run when a test says so.
        self.spawned = []
        self.capacity = capacity.PoolCapacity(
            ('default',),
            allocator.DEFAULT_POLICY,
            allocator.Locality.TIE_BREAK,
            self.cyborg,
            mock.Mock(),
            max_age_s=5.0,
            clock=lambda: self.now,
            spawn=self.spawned.append,
        )

    def gpus(self):
        return len(self.capacity.view().members('default'))

    def run_background(self):
        while self.spawned:
            self.spawned.pop(0)()

    def test_a_young_view_is_served_from_the_cache(self):
        self.assertEqual(1, self.gpus())
        self.now += 4.9
        self.assertEqual(1, self.gpus())
        self.assertEqual(1, self.cyborg.reads)

    def test_gpus_reported_after_the_first_read_show_once_it_ages(self):
        # A worker that read the pools before the agents reported.
        self.cyborg.reported = False
        self.assertEqual(0, self.gpus())
        self.cyborg.reported = True
        self.now += 1
        self.assertEqual(0, self.gpus())
        self.assertEqual([], self.spawned)
        self.now += 5
        # The aged view is served at once; one re-read is started.
        self.assertEqual(0, self.gpus())
        self.assertEqual(0, self.gpus())
        self.assertEqual(1, len(self.spawned))
        self.run_background()
        self.assertEqual(1, self.gpus())
        self.assertEqual(2, self.cyborg.reads)

    def test_no_request_waits_for_an_unreadable_cyborg_once_it_has_a_view(
        self,
    ):
        self.assertEqual(1, self.gpus())
        self.cyborg.down = True
        self.now += 10
        self.assertEqual(1, self.gpus())
        self.assertEqual(1, self.cyborg.reads)
        self.run_background()
        self.assertEqual(2, self.cyborg.reads)
        # The failed re-read let go: the next request starts another.
        self.assertEqual(1, self.gpus())
        self.cyborg.down = False
        self.run_background()
        self.assertEqual(3, self.cyborg.reads)
        self.now += 1
        self.assertEqual(1, self.gpus())
        self.assertEqual([], self.spawned)

    def test_a_refresh_asked_for_is_never_served_stale(self):
        self.assertEqual(1, self.gpus())
        self.cyborg.down = True
        self.assertRaises(
            clients.ServiceUnavailable, self.capacity.view, refresh=True
        )

    def test_without_any_view_an_unreadable_cyborg_is_an_error(self):
        self.cyborg.down = True
        self.assertRaises(clients.ServiceUnavailable, self.capacity.view)
