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

"""Validation of the allocator's models."""

import testtools

from orionx_cyborg import allocator as alloc
from tests.unit.allocator import base


class TestGpu(testtools.TestCase):
    def test_idle_is_fully_free(self):
        gpu = alloc.AllocatorGpu.idle('g', 'h', 'T4', 16384, compute_pct=200)
        self.assertEqual(
            (16384, 200, True),
            (gpu.free_memory_mib, gpu.free_compute_pct, gpu.is_idle),
        )

    def test_partly_used_is_not_idle(self):
        self.assertFalse(base.gpu('g', free_pct=50).is_idle)

    def test_free_above_capacity_is_refused(self):
        self.assertRaises(
            ValueError,
            alloc.AllocatorGpu,
            'g',
            'h',
            'T4',
            100,
            free_memory_mib=101,
        )

    def test_negative_free_compute_is_refused(self):
        self.assertRaises(
            ValueError,
            alloc.AllocatorGpu,
            'g',
            'h',
            'T4',
            100,
            100,
            free_compute_pct=-1,
        )

    def test_zero_capacity_is_refused(self):
        self.assertRaises(ValueError, alloc.AllocatorGpu, 'g', 'h', 'T4', 0, 0)


class TestVgpuRequest(testtools.TestCase):
    def test_memory_in_mib_or_percent_not_both(self):
        self.assertRaises(
            ValueError,
            alloc.VgpuRequest,
            compute_pct=10,
            memory_mib=1,
            memory_pct=1,
        )

    def test_memory_is_required(self):
        self.assertRaises(ValueError, alloc.VgpuRequest, compute_pct=10)

    def test_count_must_be_positive(self):
        self.assertRaises(
            ValueError,
            alloc.VgpuRequest,
            compute_pct=10,
            memory_mib=1,
            count=0,
        )

    def test_percent_above_100_is_refused(self):
        self.assertRaises(
            ValueError, alloc.VgpuRequest, compute_pct=10, memory_pct=101
        )

    def test_percent_rounds_up_to_a_mib(self):
        # 33% of 1000 MiB is 330 MiB; 33% of 1001 MiB is 330.33 -> 331.
        request = alloc.VgpuRequest(compute_pct=10, memory_pct=33)
        self.assertEqual(
            (330, 331), (request.memory_on(1000), request.memory_on(1001))
        )

    def test_mib_does_not_depend_on_the_gpu(self):
        request = alloc.VgpuRequest(compute_pct=10, memory_mib=4096)
        self.assertEqual(4096, request.memory_on(81920))


class TestPlacement(testtools.TestCase):
    def test_gpu_ids_and_hosts_follow_slice_order(self):
        placement = alloc.Grant(
            (
                alloc.SliceAssignment('g2', 'h2', 1, 1),
                alloc.SliceAssignment('g1', 'h1', 1, 1),
            ),
            'binpack',
        )
        self.assertEqual(
            (('g2', 'g1'), ('h2', 'h1')),
            (placement.gpu_ids, placement.hosts),
        )
