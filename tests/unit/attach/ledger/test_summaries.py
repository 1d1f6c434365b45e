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

"""Counts per state and usage per GPU."""

from __future__ import annotations

from orionx_cyborg.attach.ledger import GpuUsage
from orionx_cyborg.attach.ledger import LeaseState as S
from tests.unit.attach.ledger import builders


class TestCountByState:
    def test_an_empty_ledger_counts_zero_in_every_state(self, ledger):
        assert ledger.count_by_state() == dict.fromkeys(S, 0)

    def test_counts_per_pool_and_overall(self, ledger):
        builders.active(ledger, pool='a')
        builders.active(ledger, pool='a')
        ledger.create(builders.new_lease(pool='a'))
        ledger.create(builders.new_lease(pool='b'))
        expected_a = dict.fromkeys(S, 0) | {S.ACTIVE: 2, S.PENDING: 1}
        assert ledger.count_by_state('a') == expected_a
        assert ledger.count_by_state() == expected_a | {S.PENDING: 2}
        assert ledger.count_by_state('nowhere') == dict.fromkeys(S, 0)


class TestUsageByGpu:
    def test_usage_sums_placed_leases_per_gpu(self, ledger):
        builders.active(ledger, 'GPU-0', gmem_mib=16384, compute_pct=25)
        builders.active(ledger, 'GPU-0', gmem_mib=8192, compute_pct=50)
        builders.active(ledger, 'GPU-1', gmem_mib=1024, compute_pct=10)
        assert ledger.usage_by_gpu('default') == {
            'GPU-0': GpuUsage(
                gpu_uuid='GPU-0', gmem_mib=24576, compute_pct=75, leases=2
            ),
            'GPU-1': GpuUsage(
                gpu_uuid='GPU-1', gmem_mib=1024, compute_pct=10, leases=1
            ),
        }

    def test_claiming_and_moving_count_pending_and_releasing_do_not(
        self, ledger
    ):
        claiming = ledger.create(
            builders.new_lease(
                state=S.CLAIMING, gmem_mib=100, compute_pct=1, **builders.gpu()
            )
        )
        moving = builders.active(ledger, gmem_mib=200, compute_pct=2)
        ledger.transition(moving.id, moving.version, S.MOVING)
        releasing = builders.active(ledger, gmem_mib=400, compute_pct=4)
        ledger.transition(releasing.id, releasing.version, S.RELEASING)
        ledger.create(builders.new_lease(gmem_mib=800, compute_pct=8))
        usage = ledger.usage_by_gpu('default')['GPU-0']
        assert (usage.gmem_mib, usage.compute_pct, usage.leases) == (300, 3, 2)
        ledger.transition(claiming.id, claiming.version, S.PENDING)
        assert ledger.usage_by_gpu('default')['GPU-0'].leases == 1

    def test_usage_is_per_pool(self, ledger):
        builders.active(ledger, 'GPU-0', pool='a')
        builders.active(ledger, 'GPU-1', pool='b')
        assert list(ledger.usage_by_gpu('a')) == ['GPU-0']
        assert ledger.usage_by_gpu('c') == {}

    def test_large_sums_are_plain_ints(self, ledger):
        for _ in range(3):
            builders.active(ledger, gmem_mib=2**30, compute_pct=100)
        usage = ledger.usage_by_gpu('default')['GPU-0']
        assert usage.gmem_mib == 3 * 2**30
        assert type(usage.gmem_mib) is int
        assert type(usage.compute_pct) is int
