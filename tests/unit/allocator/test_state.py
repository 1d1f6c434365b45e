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

"""The incremental pool state against a from-scratch rebuild."""

import random

import testtools

from orionx_cyborg import allocator as alloc
from orionx_cyborg.allocator import fragmentation
from tests.unit.allocator import base

MODELS = (('T4', 16), ('A10', 24), ('G3', 80))


def pool(rng, hosts=8):
    gpus = []
    for h in range(hosts):
        model, gib = MODELS[h % len(MODELS)]
        for i in range(rng.choice([1, 2, 4])):
            gpus.append(
                alloc.AllocatorGpu.idle(
                    'h%d-g%d' % (h, i),
                    'h%d' % h,
                    model,
                    gib * base.GIB,
                    locality='r%d' % (h % 3),
                )
            )
    return gpus


def random_request(rng):
    compute = rng.choice([5, 10, 25, 50, 100])
    affinity = rng.choice(list(alloc.HostAffinity))
    count = rng.choice([1, 1, 1, 2, 4])
    if rng.random() < 0.5:
        return alloc.VgpuRequest(
            compute_pct=compute,
            memory_pct=rng.choice([compute, 100 - compute or 5]),
            count=count,
            host_affinity=affinity,
            preferred_host=rng.choice([None, 'h1', 'h3']),
        )
    return alloc.VgpuRequest(
        compute_pct=compute,
        memory_mib=rng.choice([1, 4, 12]) * base.GIB,
        count=count,
        host_affinity=affinity,
        models=rng.choice([frozenset(), frozenset({'T4', 'G3'})]),
    )


def rebuilt(allocator):
    fresh = alloc.PoolState(allocator.gpus())
    fresh.set_context_model(allocator._policy.context_model())
    return fresh.index_view()


class TestIncrementalState(testtools.TestCase):
    def check_random_operations(self, policy, seed, steps=400):
        rng = random.Random(seed)
        gpus = pool(rng)
        # A small window so the learned mix (and with it the host
        # context) changes during the run.
        mix = alloc.RequestMix(window=40, refresh_every=10)
        allocator = alloc.Allocator(gpus, policy=policy, mix=mix)
        placements = []
        spare = 100
        for step in range(steps):
            action = rng.random()
            if action < 0.55:
                decision = allocator.allocate(random_request(rng))
                if isinstance(decision, alloc.Grant):
                    placements.append(decision)
            elif action < 0.8 and placements:
                allocator.release(
                    placements.pop(rng.randrange(len(placements)))
                )
            elif action < 0.88:
                gpu = rng.choice(allocator.gpus())
                allocator.set_health(gpu.gpu_id, not gpu.healthy)
            elif action < 0.94:
                # Placements keep their slices elsewhere; releasing them
                # later skips the removed GPU.
                gpu = rng.choice(allocator.gpus())
                allocator.remove_gpu(gpu.gpu_id)
            else:
                spare += 1
                model, gib = rng.choice(MODELS)
                allocator.add_gpu(
                    alloc.AllocatorGpu.idle(
                        'new-%d' % spare,
                        rng.choice(['h0', 'h5', 'h-new']),
                        model,
                        gib * base.GIB,
                    )
                )
            if step % 20 == 0:
                self.assertEqual(
                    rebuilt(allocator), allocator.state.index_view(), step
                )
        self.assertEqual(rebuilt(allocator), allocator.state.index_view())
        return allocator, placements

    def test_plain_policy(self):
        self.check_random_operations('binpack', seed=1)

    def test_policy_with_host_context(self):
        allocator, _ = self.check_random_operations('stranding-aware', seed=2)
        # The run did learn multi-slice shapes, so contexts were in use.
        self.assertTrue(allocator.mix_snapshot.multi_shapes)

    def test_count_aware_policy(self):
        self.check_random_operations('count-aware', seed=10, steps=200)

    def test_other_seeds(self):
        for seed in range(3, 8):
            self.check_random_operations('fragmentation-aware', seed, 200)

    def test_free_room_is_conserved(self):
        # Releasing every live placement gives back exactly what was taken.
        allocator, placements = self.check_random_operations('spread', 9, 200)
        for placement in placements:
            allocator.release(placement)
        self.assertTrue(all(g.is_idle for g in allocator.gpus()))


class TestMemorySizes(testtools.TestCase):
    def test_smallest_memory_follows_adds_and_removes(self):
        state = alloc.PoolState()
        self.assertEqual(0, state.smallest_memory_mib)
        state.add(base.gpu('big', memory_mib=32 * base.GIB))
        state.add(base.gpu('small', memory_mib=16 * base.GIB, healthy=False))
        self.assertEqual(16 * base.GIB, state.smallest_memory_mib)
        state.remove('small')
        self.assertEqual(32 * base.GIB, state.smallest_memory_mib)


class TestIdleCount(testtools.TestCase):
    def test_follows_takes_gives_health_adds_and_removes(self):
        state = alloc.PoolState(
            [base.gpu('a'), base.gpu('b'), base.gpu('c', free_pct=50)]
        )
        self.assertEqual(2, state.idle_count)
        state.take('a', 1024, 10)
        self.assertEqual(1, state.idle_count)
        state.give('c', 8 * base.GIB, 50)
        self.assertEqual(2, state.idle_count)
        state.set_health('b', False)
        self.assertEqual(1, state.idle_count)
        state.set_health('b', True)
        state.give('a', 1024, 10)
        self.assertEqual(3, state.idle_count)
        state.remove('c')
        state.add(base.gpu('d', free_pct=0))
        self.assertEqual(2, state.idle_count)

    def test_a_gpu_with_one_dimension_used_is_not_idle(self):
        state = alloc.PoolState([base.gpu('a', free_mem_pct=90)])
        self.assertEqual(0, state.idle_count)


class TestClasses(testtools.TestCase):
    def test_identical_gpus_share_a_class(self):
        state = alloc.PoolState(
            [base.gpu('a', 'h1'), base.gpu('b', 'h2'), base.gpu('c', 'h3')]
        )
        self.assertEqual(1, state.class_count())

    def test_a_change_moves_one_gpu_to_another_class(self):
        state = alloc.PoolState([base.gpu('a'), base.gpu('b')])
        state.take('a', 1024, 10)
        self.assertEqual(2, state.class_count())
        state.give('a', 1024, 10)
        self.assertEqual(1, state.class_count())

    def test_unhealthy_gpus_are_in_no_class(self):
        state = alloc.PoolState([base.gpu('a'), base.gpu('b', healthy=False)])
        members = [set(c.members) for c in state.classes()]
        self.assertEqual([{'a'}], members)

    def test_classes_filter_by_model(self):
        state = alloc.PoolState(
            [base.gpu('a', model='T4'), base.gpu('b', model='A10')]
        )
        models = [c.model for c in state.classes(frozenset({'A10'}))]
        self.assertEqual(['A10'], models)

    def test_host_context_splits_identical_gpus_by_host(self):
        # Mix with pairs of whole GPUs: the idle GPU alone on h1 and the
        # idle GPUs of h2 (a pair) differ in context, so not in class.
        state = alloc.PoolState(
            [
                base.gpu('h1-a', 'h1'),
                base.gpu('h1-b', 'h1', free_pct=0),
                base.gpu('h2-a', 'h2'),
                base.gpu('h2-b', 'h2'),
            ]
        )
        self.assertEqual(2, state.class_count())
        model = fragmentation.FragmentationModel(
            base.fixed_mix((100, 100, 2, 1)).snapshot()
        )
        state.set_context_model(model)
        self.assertEqual(3, state.class_count())
        state.set_context_model(None)
        self.assertEqual(2, state.class_count())

    def test_take_beyond_free_room_is_refused(self):
        state = alloc.PoolState([base.gpu('a', free_pct=10)])
        self.assertRaises(alloc.CapacityError, state.take, 'a', 1, 11)

    def test_hosts_with_equal_gpus_form_one_group(self):
        state = alloc.PoolState(
            [base.gpu('a', 'h1'), base.gpu('b', 'h2'), base.gpu('c', 'h3')]
        )
        state.take('c', 1024, 10)
        groups = sorted(sorted(g.hosts) for g in state.host_groups())
        self.assertEqual([['h1', 'h2'], ['h3']], groups)


class TestTakeMany(testtools.TestCase):
    def _pair(self):
        # Two pools of four GPUs on two hosts, with a host context.
        model = fragmentation.FragmentationModel(
            base.fixed_mix((100, 100, 2, 1), (50, 50, 1, 1)).snapshot()
        )
        states = []
        for _ in range(2):
            state = alloc.PoolState(
                [base.gpu('a%d' % i, 'h1') for i in range(2)]
                + [base.gpu('b%d' % i, 'h2') for i in range(2)]
            )
            state.set_context_model(model)
            states.append(state)
        return states

    def test_same_state_as_one_take_after_another(self):
        batched, one_by_one = self._pair()
        pieces = [('a0', 1024, 50), ('a1', 2048, 100), ('b0', 512, 10)]
        batched.take_many(pieces)
        for piece in pieces:
            one_by_one.take(*piece)
        self.assertEqual(one_by_one.index_view(), batched.index_view())
        self.assertEqual(one_by_one.gpus(), batched.gpus())

    def _refused(self, error, pieces):
        # take_many raises and leaves the pool as it was.
        state, untouched = self._pair()
        self.assertRaises(error, state.take_many, pieces)
        self.assertEqual(untouched.index_view(), state.index_view())
        self.assertEqual(untouched.gpus(), state.gpus())

    def test_nothing_is_taken_when_one_gpu_has_no_room(self):
        self._refused(
            alloc.CapacityError, [('a0', 1024, 50), ('b0', 1024, 101)]
        )

    def test_nothing_is_taken_for_an_unknown_gpu(self):
        self._refused(
            alloc.UnknownGpuError, [('a0', 1024, 50), ('nope', 1, 1)]
        )

    def test_a_gpu_twice_is_refused(self):
        self._refused(
            alloc.AllocatorError, [('a0', 1024, 50), ('a0', 1024, 50)]
        )
