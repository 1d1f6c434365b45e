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

"""Pools of several vendors: constraints, runtimes, the queue.

A mixed pool (one NVIDIA H200, two AMD MI300X, one AMD MI210) over the
stand-ins of :mod:`tests.unit.attach.test_api`; the real services are in
``tests/functional/test_attach_vendors.py``.
"""

import dataclasses
import json
import uuid
from unittest import mock

import fixtures
import testtools

from orionx_cyborg import clients
from orionx_cyborg import constraints
from orionx_cyborg import resources
from orionx_cyborg.attach import binding
from orionx_cyborg.attach import capacity
from orionx_cyborg.attach import ledger as ledger_mod
from orionx_cyborg.attach import service as service_mod
from orionx_cyborg.attach.runtimes import base as runtimes
from orionx_cyborg.attach.runtimes import generic
from orionx_cyborg.clients import pools
from tests.unit.attach import test_api

PROJECT = test_api.PROJECT
POOL = {'OWNER_CYBORG', 'CUSTOM_ORIONX_POOL_DEFAULT'}

#: uuid, vendor, model, memory MiB, model trait.
GPUS = (
    ('GPU-N1', '10de', 'NVIDIA H200', 65536, 'CUSTOM_GPU_MODEL_H200'),
    (
        'GPU-A1',
        '1002',
        'AMD Instinct MI300X',
        65536,
        'CUSTOM_GPU_MODEL_INSTINCT_MI300X',
    ),
    (
        'GPU-A2',
        '1002',
        'AMD Instinct MI300X',
        65536,
        'CUSTOM_GPU_MODEL_INSTINCT_MI300X',
    ),
    (
        'GPU-A3',
        '1002',
        'AMD Instinct MI210',
        65536,
        'CUSTOM_GPU_MODEL_INSTINCT_MI210',
    ),
)


def profile(name, gmem=16384, **keys):
    group = {
        'resources:CUSTOM_ORIONX_VGPU': '1',
        'accel:orionx_gmem_mib': str(gmem),
        'accel:orionx_compute_pct': '25',
    }
    group.update(keys)
    return clients.DeviceProfile(name, (group,))


class MixedCyborg(test_api.FakeCyborg):
    """A pool of four GPUs of two vendors, and several profiles."""

    def __init__(self):
        super().__init__()
        self.gpus = []
        self.deployables_ = [
            d
            for d in self.deployables_
            if d.resource_class == resources.RC_ENTITLEMENT
        ]
        for index, (gpu_uuid, vendor, model, memory, trait) in enumerate(GPUS):
            prefix = 'gpu1_0000_%02x_00_0' % (0x18 + index)
            self.gpus.append(
                clients.Device(
                    uuid=str(uuid.uuid4()),
                    hostname='gpu1',
                    vendor=vendor,
                    model=model,
                    std_board_info={
                        'uuid': gpu_uuid,
                        'pci_address': '0000:%02x:00.0' % (0x18 + index),
                        'deployable_prefix': prefix,
                    },
                )
            )
            traits = POOL | {resources.vendor_trait(vendor), trait}
            self.deployables_ += [
                test_api.deployable(
                    prefix + '_GMEM', resources.RC_POOL_MEMORY, memory, traits
                ),
                test_api.deployable(
                    prefix + '_COMPUTE', resources.RC_POOL_COMPUTE, 100, traits
                ),
            ]
        self.profiles = {
            'any': profile('any'),
            'big': profile('big', gmem=32768),
            'amd': profile(
                'amd', **{constraints.REQUIRED_KEY: 'CUSTOM_GPU_AMD'}
            ),
            'amd-big': profile(
                'amd-big',
                gmem=32768,
                **{constraints.REQUIRED_KEY: 'CUSTOM_GPU_AMD'},
            ),
            'not-mi300x': profile(
                'not-mi300x',
                **{
                    constraints.FORBIDDEN_KEY: (
                        'CUSTOM_GPU_MODEL_INSTINCT_MI300X, CUSTOM_GPU_NVIDIA'
                    )
                },
            ),
            'no-amd': profile(
                'no-amd', **{constraints.FORBIDDEN_KEY: 'CUSTOM_GPU_AMD'}
            ),
            'via-orionx': profile(
                'via-orionx', **{constraints.RUNTIME_KEY: 'orionx'}
            ),
            'nv-big': profile(
                'nv-big', gmem=32768, **{constraints.RUNTIME_KEY: 'orionx'}
            ),
            'bad': profile('bad', **{constraints.REQUIRED_KEY: 'amd'}),
        }

    def devices(self):
        self._check()
        return list(self.gpus)

    def device_profile(self, name):
        self._check()
        return self.profiles.get(name)

    def bind_profile(self, instance, name):
        arq = self.bind(instance)
        bound = dataclasses.replace(arq, device_profile_name=name)
        self.arqs_[self.arqs_.index(arq)] = bound
        return bound


class VendorTestCase(test_api.ApiTestCase):
    #: Runtimes of the service: the default first.
    RUNTIMES = ('orionx', 'generic')

    def setUp(self):
        super().setUp()
        self.cyborg = MixedCyborg()
        self.cyborg.placement = self.placement
        self.service = self.make_service(self.RUNTIMES)
        self.reconciler = test_api.reconciler_mod.LeaseReconciler(self.service)
        self.client = test_api.werkzeug_test.Client(self.application())

    def make_service(self, names):
        return self.lease_service(
            runtime=runtimes.load_set(self.conf, names[0], names[1:])
        )

    def lease(self, profile_name):
        instance = str(uuid.uuid4())
        arq = self.cyborg.bind_profile(instance, profile_name)
        outcome = self.service.ensure_leases([(arq, 'default')])[arq.uuid]
        return instance, outcome


class TestConstraints(VendorTestCase):
    def test_a_lease_requiring_amd_lands_only_on_amd(self):
        amd = {'GPU-A1', 'GPU-A2', 'GPU-A3'}
        for _ in range(6):
            _, lease = self.lease('amd')
            self.assertEqual('active', lease.state.value)
            self.assertIn(lease.gpu_uuid, amd)
            self.assertEqual('generic', lease.runtime)
            self.assertEqual(
                {'required': ['CUSTOM_GPU_AMD'], 'forbidden': []},
                json.loads(lease.gpu_constraint),
            )

    def test_forbidden_traits_are_excluded(self):
        for _ in range(4):
            _, lease = self.lease('not-mi300x')
            self.assertEqual('GPU-A3', lease.gpu_uuid)  # the MI210
        # The MI210 is full (4 x 25%): the next one waits rather than
        # take an MI300X or the NVIDIA GPU.
        _, lease = self.lease('not-mi300x')
        self.assertEqual('pending', lease.state.value)
        for _ in range(3):
            _, lease = self.lease('no-amd')
            self.assertEqual('GPU-N1', lease.gpu_uuid)

    def test_the_binding_names_the_runtime_that_serves_it(self):
        amd_instance, _ = self.lease('amd')
        doc = self.service.document(amd_instance, PROJECT)
        self.assertEqual('generic', doc['runtime'])
        (vgpu,) = doc['vgpus']
        self.assertEqual(
            ('generic', '1002'), (vgpu['runtime'], vgpu['vendor'])
        )
        self.assertEqual(
            '1', doc['client']['environment']['ORIONX_VGPU_COUNT']
        )
        self.assertIn(generic.VGPU_FILE, doc['client']['files'])
        self.assertNotIn('ORION_GMEM', doc['client']['environment'])
        nvidia_instance, _ = self.lease('no-amd')
        doc = self.service.document(nvidia_instance, PROJECT)
        self.assertEqual('orionx', doc['runtime'])
        self.assertEqual('16384', doc['client']['environment']['ORION_GMEM'])
        self.assertEqual(['orionx'], list(doc['clients']))

    def test_the_api_shows_constraint_runtime_and_vendor(self):
        instance, lease = self.lease('not-mi300x')
        _, doc, _ = self.call('GET', '/v1/leases', token='demo:' + PROJECT)
        (shown,) = doc['leases']
        self.assertEqual(
            {
                'required': [],
                'forbidden': [
                    'CUSTOM_GPU_MODEL_INSTINCT_MI300X',
                    'CUSTOM_GPU_NVIDIA',
                ],
                'runtime': None,
            },
            shown['gpu_constraint'],
        )
        self.assertEqual('generic', shown['runtime'])
        status, doc, _ = self.vendordata(
            {'instance-id': instance, 'project-id': PROJECT}
        )
        self.assertEqual(200, status)
        (vgpu,) = doc['vgpus']
        self.assertEqual(
            ('GPU-A3', 'generic', '1002'),
            (vgpu['gpu_uuid'], vgpu['runtime'], vgpu['vendor']),
        )
        self.assertEqual(['generic'], list(doc['clients']))

    def test_a_profile_naming_a_runtime_gets_its_vendors_only(self):
        for _ in range(4):
            _, lease = self.lease('via-orionx')
            self.assertEqual(
                ('GPU-N1', 'orionx'), (lease.gpu_uuid, lease.runtime)
            )
        _, lease = self.lease('via-orionx')
        self.assertEqual('pending', lease.state.value)

    def test_malformed_constraints_are_rejected(self):
        _, outcome = self.lease('bad')
        self.assertIsInstance(outcome, service_mod.Rejected)
        self.assertIn('not a CUSTOM_ trait', outcome.reason)

    def test_a_moved_lease_keeps_its_constraint(self):
        _, lease = self.lease('not-mi300x')
        self.assertEqual('GPU-A3', lease.gpu_uuid)
        self.cyborg.deployables_ = [
            dataclasses.replace(
                d, traits=d.traits | {resources.TRAIT_UNHEALTHY}
            )
            if d.name.startswith('gpu1_0000_1b')
            else d
            for d in self.cyborg.deployables_
        ]
        self.service.view(refresh=True)
        # The MI210 drains; every other GPU has room, but none meets the
        # constraint: the lease stays.
        self.assertIsNone(self.service.move(lease, 'test'))
        _, amd = self.lease('amd')
        self.assertIn(amd.gpu_uuid, {'GPU-A1', 'GPU-A2'})
        moved = self.service.move(amd, 'test')
        self.assertIn(moved.gpu_uuid, {'GPU-A1', 'GPU-A2'})
        self.assertEqual('generic', moved.runtime)


class TestRuntimesServeVendors(VendorTestCase):
    RUNTIMES = ('orionx',)

    def test_a_runtime_is_never_given_another_vendors_gpu(self):
        for _ in range(4):
            _, lease = self.lease('any')
            self.assertEqual('GPU-N1', lease.gpu_uuid)
        # Three AMD GPUs have room, but no runtime serves AMD.
        _, lease = self.lease('any')
        self.assertEqual('pending', lease.state.value)
        self.assertEqual([], self.service.place_pending('default'))

    def test_asking_for_an_unserved_vendor_is_rejected(self):
        _, outcome = self.lease('amd')
        self.assertIsInstance(outcome, service_mod.Rejected)
        self.assertIn('no GPU of pool default meets', outcome.reason)

    def test_a_size_only_an_unserved_gpu_holds_is_rejected(self):
        self.cyborg.profiles['huge'] = profile('huge', gmem=70000)
        self.cyborg.deployables_ = [
            dataclasses.replace(d, num_accelerators=80000)
            if d.name.startswith('gpu1_0000_19') and 'GMEM' in d.name
            else d
            for d in self.cyborg.deployables_
        ]
        _, outcome = self.lease('huge')
        self.assertIsInstance(outcome, service_mod.Rejected)

    def test_the_vendors_option_widens_a_runtime(self):
        self.flags(group='orionx_runtime_orionx', vendors=['10de', '1002'])
        seen = set()
        for _ in range(8):
            _, lease = self.lease('any')
            seen.add(lease.gpu_uuid)
        self.assertTrue(seen - {'GPU-N1'})

    def test_without_constraints_the_queue_is_strict(self):
        self.lease('big')
        self.lease('big')
        _, head = self.lease('big')
        self.assertEqual('pending', head.state.value)
        # A small lease would fit on the H200 after a release, but waits
        # its turn.
        _, small = self.lease('via-orionx')
        self.assertEqual('pending', small.state.value)
        self.assertEqual([], self.service.place_pending('default'))


class TestQueue(VendorTestCase):
    def test_a_constrained_pending_lease_does_not_block_others(self):
        # Fill the AMD GPUs' memory: 32 GiB leases, two per GPU.
        for _ in range(6):
            _, lease = self.lease('amd-big')
            self.assertEqual('active', lease.state.value)
        _, waiting = self.lease('amd-big')
        self.assertEqual('pending', waiting.state.value)
        # An NVIDIA lease competes for none of the AMD GPUs.
        _, lease = self.lease('any')
        self.assertEqual(
            ('active', 'GPU-N1'), (lease.state.value, lease.gpu_uuid)
        )
        # ... but another AMD lease queues behind the first.
        _, behind = self.lease('amd')
        self.assertEqual('pending', behind.state.value)

    def test_place_pending_skips_only_competing_leases(self):
        for _ in range(2):
            _, big = self.lease('nv-big')  # 32 GiB on the H200
            self.assertEqual('GPU-N1', big.gpu_uuid)
        _, head = self.lease('nv-big')  # no room on the H200
        self.assertEqual('pending', head.state.value)
        for _ in range(6):
            self.lease('amd-big')
        _, amd = self.lease('amd-big')
        self.assertEqual('pending', amd.state.value)
        # Room frees on an AMD GPU: the AMD lease is placed though the
        # NVIDIA lease before it still waits.
        first_amd = next(
            lease
            for lease in self.ledger.list()
            if lease.gpu_uuid in {'GPU-A1', 'GPU-A2', 'GPU-A3'}
        )
        self.service.release(first_amd, 'test')
        placed = self.service.place_pending('default')
        self.assertEqual([amd.id], [lease.id for lease in placed])
        self.assertEqual('pending', self.ledger.get(head.id).state.value)


class TestQueueReadInPages(TestQueue):
    """The queue tests again, the queue read one lease at a time."""

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.MockPatchObject(service_mod, 'QUEUE_PAGE', 1))

    def wait_on_both_vendors(self):
        """An NVIDIA lease, then an AMD one waiting; room on an AMD GPU."""
        for _ in range(2):
            self.lease('nv-big')
        _, head = self.lease('nv-big')
        for _ in range(6):
            self.lease('amd-big')
        _, amd = self.lease('amd-big')
        self.assertEqual(
            ['pending', 'pending'], [head.state.value, amd.state.value]
        )
        first_amd = next(
            lease
            for lease in self.ledger.list()
            if lease.gpu_uuid in {'GPU-A1', 'GPU-A2', 'GPU-A3'}
        )
        self.service.release(first_amd, 'test')

    def test_a_lease_queues_behind_one_on_a_later_page(self):
        self.wait_on_both_vendors()
        # The first waiting lease wants the H200 only; the second, on the
        # next page, the AMD GPUs this one could use.
        _, behind = self.lease('amd')
        self.assertEqual('pending', behind.state.value)
        (event,) = self.ledger.events(lease_id=behind.id)
        self.assertEqual(
            'queued behind earlier leases', event.detail_data()['reason']
        )

    def test_a_waiting_lease_released_between_pages_restarts_the_read(self):
        self.wait_on_both_vendors()
        pages = []
        listed = self.ledger.list

        def list_(**kwargs):
            if 'marker' not in kwargs:  # not a page of the queue
                return listed(**kwargs)
            pages.append(kwargs['marker'])
            if kwargs['marker'] and len(pages) == 2:
                raise ledger_mod.MarkerNotFound(marker=kwargs['marker'])
            return listed(**kwargs)

        with mock.patch.object(
            self.ledger, 'list', autospec=True, side_effect=list_
        ):
            _, behind = self.lease('amd')
        self.assertEqual('pending', behind.state.value)
        # Head, a marker gone, the head again, then the AMD lease.
        self.assertIsNone(pages[0])
        self.assertIsNone(pages[2])
        self.assertEqual(4, len(pages))


class TestAllocatorModels(testtools.TestCase):
    def member(self, gpu_uuid, model, traits, vendor='10de'):
        return pools.PoolGpu(
            gpu_uuid=gpu_uuid,
            pool='default',
            host='h',
            model=model,
            pci_address='',
            memory_rp_uuid='m' + gpu_uuid,
            compute_rp_uuid='c' + gpu_uuid,
            memory_mib=1,
            compute_pct=100,
            healthy=True,
            memory_traits=frozenset(traits),
            vendor=vendor,
        )

    def test_a_model_whose_gpus_differ_is_split(self):
        labels = capacity.allocator_models(
            [
                self.member('a', 'H200', {'X'}),
                self.member('b', 'H200', {'X', resources.TRAIT_UNHEALTHY}),
                self.member('c', 'H200', {'X', 'CUSTOM_FAST'}),
                self.member('d', 'MI300X', {'Y'}, vendor='1002'),
            ]
        )
        self.assertEqual(labels['a'], labels['b'])
        self.assertNotEqual(labels['a'], labels['c'])
        self.assertEqual('MI300X', labels['d'])


class TestConstraintVocabulary(testtools.TestCase):
    def test_group_keys_round_trip(self):
        constraint = constraints.GpuConstraint(
            required=frozenset({'CUSTOM_GPU_AMD'}),
            forbidden=frozenset({'CUSTOM_GPU_MODEL_INSTINCT_MI210'}),
            runtime='generic',
        )
        keys = constraints.group_keys(constraint)
        self.assertEqual(constraint, constraints.of_group(keys))
        self.assertEqual(
            constraint,
            constraints.GpuConstraint.from_json(constraint.to_json()),
        )
        self.assertIsNone(constraints.NONE.to_json())

    def test_bad_constraints(self):
        for group in (
            {
                constraints.REQUIRED_KEY: 'CUSTOM_A',
                constraints.FORBIDDEN_KEY: 'CUSTOM_A',
            },
            {constraints.REQUIRED_KEY: 'CUSTOM_ORIONX_POOL_DEFAULT'},
            {constraints.FORBIDDEN_KEY: 'CUSTOM_ORIONX_UNHEALTHY'},
            {constraints.RUNTIME_KEY: 'a b'},
        ):
            self.assertRaises(
                constraints.InvalidConstraint, constraints.of_group, group
            )

    def test_vendor_and_model_traits(self):
        self.assertEqual('CUSTOM_GPU_AMD', constraints.vendor_trait('AMD'))
        self.assertEqual('CUSTOM_NPU_HUAWEI', constraints.vendor_trait('19e5'))
        self.assertEqual(
            'CUSTOM_NPU_MODEL_ASCEND910B3',
            constraints.model_trait('Ascend910B3', 'huawei'),
        )
        self.assertEqual(
            'CUSTOM_GPU_MODEL_INSTINCT_MI300X',
            constraints.model_trait('AMD Instinct MI300X', 'amd'),
        )
        self.assertRaises(
            constraints.InvalidConstraint, constraints.vendor_id, 'intel'
        )


class TestRuntimeSet(test_api.ApiTestCase):
    def test_serving_order_and_names(self):
        runtime_set = runtimes.load_set(self.conf, 'orionx', ['generic'])
        self.assertEqual(('orionx', 'generic'), runtime_set.names)
        self.assertEqual('orionx', runtime_set.serving('10de').name)
        self.assertEqual('generic', runtime_set.serving('1002').name)
        self.assertIsNone(runtime_set.serving('1002', 'orionx'))
        self.assertIsNone(runtime_set.serving('10de', 'missing'))
        self.assertFalse(runtime_set.serves('8086'))
        self.assertRaises(runtimes.UnknownRuntime, runtime_set.get, 'missing')

    def test_generic_rendering(self):
        runtime = runtimes.load(self.conf, 'generic')
        vgpu = binding.VgpuBinding(
            lease_id='l1',
            pool='default',
            state='active',
            gmem_mib=1024,
            compute_pct=10,
            gpu_uuid='GPU-A1',
            endpoint=binding.Endpoint(
                '192.0.2.1', 9960, binding.Transport.TCP
            ),
            runtime='generic',
            vendor='1002',
        )
        settings = runtime.render(binding.InstanceBinding('i', 'p', (vgpu,)))
        self.assertEqual(
            '192.0.2.1:9960', settings.environment['ORIONX_VGPU_ENDPOINTS']
        )
        listing = json.loads(settings.files[generic.VGPU_FILE])
        self.assertEqual('1002', listing['vgpus'][0]['vendor'])
        self.assertTrue(settings.cloud_init.startswith('#cloud-config'))
