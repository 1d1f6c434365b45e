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

"""The console's summaries: bars, queue, stranded room, totals."""

import datetime

import testtools

from orionx_cyborg import resources
from orionx_cyborg_dashboard import summary

GPU_A = 'aaaaaaaa-0000-0000-0000-000000000001'
GPU_B = 'bbbbbbbb-0000-0000-0000-000000000002'


def gpu(uuid, mem_used, comp_used, healthy=True, leases=0):
    return {
        'gpu_uuid': uuid,
        'host': 'gpu-server-1',
        'model': 'NVIDIA H200',
        'healthy': healthy,
        'gmem_mib': {
            'capacity': 16000,
            'used': mem_used,
            'free': 16000 - mem_used,
        },
        'compute_pct': {
            'capacity': 100,
            'used': comp_used,
            'free': 100 - comp_used,
        },
        'leases': leases,
    }


def lease(lid, state, gpu_uuid=None, mem=4000, comp=25, **extra):
    document = {
        'id': lid,
        'instance_uuid': 'inst-%s' % lid,
        'project_id': 'p1',
        'vm_host': 'host-a',
        'pool': 'default',
        'state': state,
        'gmem_mib': mem,
        'compute_pct': comp,
        'gpu_uuid': gpu_uuid,
        'created_at': '2026-12-05T08:00:00+00:00',
    }
    document.update(extra)
    return document


POOL = {
    'name': 'default',
    'gpus_total': 2,
    'unhealthy': 0,
    'pending': 1,
    'leases': {'active': 2, 'pending': 1},
    'fragmentation': 0.125,
    'gmem_mib': {'capacity': 32000, 'used': 12000, 'free': 20000},
    'compute_pct': {'capacity': 200, 'used': 100, 'free': 100},
    'gpus': [gpu(GPU_A, 8000, 100, leases=2), gpu(GPU_B, 4000, 0)],
}
LEASES = [
    lease('l1', 'active', GPU_A, 4000, 50),
    lease('l2', 'active', GPU_A, 4000, 50),
    lease('l3', 'pending', created_at='2026-12-05T08:59:00+00:00'),
    lease('l4', 'active', GPU_B, 4000, 0, pool='other'),
]


class TestStranded(testtools.TestCase):
    def test_memory_without_compute_is_stranded(self):
        # Half the memory free, no compute: all of it is stranded.
        self.assertEqual((8000, 0, 0.5), summary.stranded(16000, 100, 8000, 0))

    def test_balanced_room_strands_nothing(self):
        self.assertEqual((0, 0, 0.0), summary.stranded(16000, 100, 8000, 50))

    def test_compute_without_memory(self):
        memory, compute, gpus = summary.stranded(16000, 100, 4000, 75)
        self.assertEqual((0, 50), (memory, compute))
        self.assertAlmostEqual(0.5, gpus)

    def test_a_gpu_without_capacity(self):
        self.assertEqual((0, 0, 0.0), summary.stranded(0, 0, 0, 0))


class TestGpuBars(testtools.TestCase):
    def test_segments_per_placed_lease(self):
        bars = summary.gpu_bars(POOL, LEASES)
        self.assertEqual([GPU_A, GPU_B], [b.gpu_uuid for b in bars])
        first = bars[0]
        self.assertEqual(
            ['l1', 'l2'], [s.lease_id for s in first.memory.segments]
        )
        self.assertEqual(
            [25.0, 25.0], [s.percent for s in first.memory.segments]
        )
        self.assertEqual(
            [50.0, 50.0], [s.percent for s in first.compute.segments]
        )
        self.assertEqual(8000, first.memory.free)
        self.assertEqual(50.0, first.memory.free_percent)
        self.assertEqual(0, first.compute.free)
        # Memory free, compute full: stranded, by the allocator's measure.
        self.assertEqual(8000, first.stranded_memory_mib)
        self.assertAlmostEqual(0.5, first.stranded_gpus)
        self.assertAlmostEqual(0.25, first.free_gpus)

    def test_pending_leases_take_no_room(self):
        bars = summary.gpu_bars(POOL, [lease('p', 'pending', GPU_B)])
        self.assertEqual((), bars[1].memory.segments)


class TestPoolSummary(testtools.TestCase):
    def test_only_the_pools_own_leases(self):
        now = datetime.datetime(2026, 12, 5, 9, 0, tzinfo=datetime.UTC)
        pool = summary.pool_summary(POOL, LEASES, now)
        self.assertEqual(['l3'], [row['id'] for row in pool.pending])
        self.assertEqual(60, pool.pending[0]['waiting_s'])
        # l4 is another pool's: GPU B shows no segment.
        self.assertEqual((), pool.gpus[1].memory.segments)
        self.assertEqual(12.5, pool.fragmentation_percent)
        self.assertEqual(37.5, pool.memory.used_percent)
        self.assertEqual(50.0, pool.compute.used_percent)
        self.assertEqual(8000, pool.stranded_memory_mib)
        # GPU B: a quarter of its compute has no memory left beside it.
        self.assertEqual(25, pool.stranded_compute_pct)

    def test_unhealthy_gpus_are_not_capacity(self):
        document = dict(POOL, gpus=[gpu(GPU_A, 0, 100, healthy=False)])
        pool = summary.pool_summary(document, [])
        self.assertEqual(0, pool.stranded_memory_mib)
        self.assertEqual(0.0, pool.free_gpus)

    def test_queue_oldest_first_and_unknown_times(self):
        queue = summary.pending_queue(
            [
                lease('b', 'pending', created_at='2026-12-05T08:30:00'),
                lease('a', 'pending', created_at='2026-12-05T08:00:00'),
                lease('c', 'pending', created_at=None),
                lease('d', 'active'),
            ],
            datetime.datetime(2026, 12, 5, 9, 0, tzinfo=datetime.UTC),
        )
        self.assertEqual(['a', 'b', 'c'], [r['id'] for r in queue])
        self.assertEqual([3600, 1800, None], [r['waiting_s'] for r in queue])


class TestEntitlements(testtools.TestCase):
    def test_leases_per_host_against_placement(self):
        rows = summary.entitlement_use(
            LEASES + [lease('r', 'releasing')],
            {'host-a': {'total': 8, 'used': 3}, 'host-b': {'total': 4}},
        )
        self.assertEqual(
            [
                {
                    'host': 'host-a',
                    'leases': 4,
                    'total': 8,
                    'used': 3,
                    'percent': 50.0,
                },
                {
                    'host': 'host-b',
                    'leases': 0,
                    'total': 4,
                    'used': None,
                    'percent': 0.0,
                },
            ],
            rows,
        )

    def test_without_placement(self):
        rows = summary.entitlement_use(LEASES)
        self.assertEqual([None], [r['total'] for r in rows])


class TestProjectInstances(testtools.TestCase):
    def test_one_row_per_instance(self):
        rows = summary.project_instances(
            [
                lease('x2', 'active', GPU_A, instance_uuid='i1'),
                lease('x1', 'pending', instance_uuid='i1'),
                lease('y', 'active', GPU_B, instance_uuid='i2'),
            ]
        )
        self.assertEqual(['i1', 'i2'], [r['instance_uuid'] for r in rows])
        self.assertEqual(['x1', 'x2'], [v['id'] for v in rows[0]['vgpus']])
        self.assertEqual(['active', 'pending'], rows[0]['states'])
        self.assertEqual(
            (8000, 50), (rows[0]['gmem_mib'], rows[0]['compute_pct'])
        )


class TestPlacement(testtools.TestCase):
    PROVIDERS = [
        {
            'name': 'host-a_ORIONX_VGPU_DEFAULT',
            'uuid': 'u1',
            'root_name': 'host-a',
            'inventories': {
                resources.RC_ENTITLEMENT: {'total': 8, 'reserved': 0},
                'VCPU': {'total': 16, 'reserved': 0},
            },
            'usages': {resources.RC_ENTITLEMENT: 2},
        },
        {
            'name': 'gpu-server-1_0000_3b_00_0_PGPU',
            'uuid': 'u2',
            'root_name': 'gpu-server-1',
            'inventories': {resources.RC_PGPU: {'total': 1, 'reserved': 0}},
            'usages': {},
        },
    ]

    def test_rows_of_our_classes_only(self):
        rows = summary.placement_inventory(self.PROVIDERS)
        self.assertEqual(
            [
                ('gpu-server-1', resources.RC_PGPU, 1, 0, 1),
                ('host-a', resources.RC_ENTITLEMENT, 8, 2, 6),
            ],
            [
                (
                    r['host'],
                    r['resource_class'],
                    r['total'],
                    r['used'],
                    r['free'],
                )
                for r in rows
            ],
        )
        self.assertEqual(
            {'host-a': {'total': 8, 'used': 2}},
            summary.placement_entitlements(rows),
        )


class TestRegions(testtools.TestCase):
    def test_totals_per_region_and_overall(self):
        other = dict(POOL, name='p2', gpus_total=1, pending=0)
        totals = summary.region_totals(
            {'RegionTwo': [other], 'RegionOne': [POOL, other]}
        )
        self.assertEqual(
            ['RegionOne', 'RegionTwo'],
            [r['region'] for r in totals['regions']],
        )
        self.assertEqual(3, totals['regions'][0]['gpus'])
        self.assertEqual(3, totals['overall']['pools'])
        self.assertEqual(4, totals['overall']['gpus'])
        self.assertEqual(96000, totals['overall']['memory_capacity'])
        self.assertEqual(37.5, totals['overall']['memory_percent'])

    def test_no_region(self):
        totals = summary.region_totals({})
        self.assertEqual([], totals['regions'])
        self.assertEqual(0.0, totals['overall']['compute_percent'])


class TestHistory(testtools.TestCase):
    def test_oldest_first(self):
        events = summary.state_history(
            {
                'events': [
                    {'at': '2026-12-05T08:01:00', 'event': 'placed'},
                    {'at': '2026-12-05T08:00:00', 'event': 'created'},
                ]
            }
        )
        self.assertEqual(['created', 'placed'], [e['event'] for e in events])
