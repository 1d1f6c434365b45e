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

"""The shared vocabulary: the driver's report, read back by the attach
service, finds the same pool."""

import json
import uuid

import testtools

from orionx_cyborg import resources
from orionx_cyborg.clients import cyborg as cyborg_client
from orionx_cyborg.clients import pools as pool_mod
from orionx_cyborg.gpu.fake import topology
from tests.unit.accelerator import test_planner


def cyborg_api_view(host, devices):
    """*devices* as Cyborg's API lists them once its agent reported them.

    The items carry what Cyborg stores from the driver objects
    (:mod:`orionx_cyborg.accelerator.objects`): every attribute as a
    one-key dict, the driver name and a resource provider per deployable;
    they are parsed by the attach service's own Cyborg client.
    """
    device_items = []
    deployable_items = []
    for device in devices:
        device_items.append(
            {
                'uuid': str(uuid.uuid4()),
                'hostname': host,
                'vendor': device.vendor,
                'model': device.model,
                'std_board_info': device.std_board_info,
            }
        )
        for deployable in device.deployables:
            attributes = [{'rc': deployable.resource_class}]
            attributes += [{key: trait} for key, trait in deployable.traits]
            deployable_items.append(
                {
                    'uuid': str(uuid.uuid4()),
                    'name': deployable.name,
                    'rp_uuid': str(uuid.uuid4()),
                    'num_accelerators': deployable.total,
                    'driver_name': resources.DRIVER_NAME,
                    'attributes_list': json.dumps(attributes),
                }
            )
    return (
        [cyborg_client._device(item) for item in device_items],
        [cyborg_client._deployable(item) for item in deployable_items],
    )


class TestPlannerToPoolView(test_planner.PlannerTestCase):
    def configure_pool(self):
        self.flags('orionx_gpu', default_mode='pool')
        self.flags(
            'orionx_pool',
            name='gold',
            entitlement=3,
            memory_reserved_mib=2048,
            compute_oversubscription=1.5,
        )

    def view(self, result, pools=('gold',)):
        # The plan holds the GPUs and the host's entitlement.
        listed_devices, listed_deployables = cyborg_api_view(
            self.host_name, result.devices
        )
        return pool_mod.build_view(listed_devices, listed_deployables, pools)

    def test_every_pooled_gpu_is_a_member(self):
        self.configure_pool()
        result = self.plan()
        view = self.view(result)
        members = view.members('gold')
        self.assertEqual(8, len(members))
        boards = [
            json.loads(d.std_board_info)
            for d in result.devices
            if d.pci_address is not None
        ]
        self.assertEqual(
            sorted(b[resources.BOARD_UUID] for b in boards),
            sorted(m.gpu_uuid for m in members),
        )
        for member in members:
            self.assertEqual(self.host_name, member.host)
            self.assertEqual('NVIDIA H200', member.model)
            self.assertEqual(143771 - 2048, member.memory_mib)
            self.assertEqual(150, member.compute_pct)
            self.assertTrue(member.healthy)
            self.assertIn(resources.pool_trait('gold'), member.memory_traits)
        self.assertEqual(
            [('gold', 3)],
            [(e.pool, e.total) for e in view.entitlements.values()],
        )

    def test_unhealthy_gpu_is_seen_unhealthy(self):
        self.configure_pool()
        simulated = topology.load('hgx-h200', self.host_name).replace_gpu(
            '0000:2a:00.0', ecc_uncorrected=1
        )
        view = self.view(self.plan(gpus=self.simulate(simulated)))
        unhealthy = [
            m.pci_address for m in view.members('gold') if not m.healthy
        ]
        self.assertEqual(['0000:2a:00.0'], unhealthy)

    def test_other_pool_sees_nothing(self):
        self.configure_pool()
        view = self.view(self.plan(), pools=('silver',))
        self.assertEqual([], view.members('gold'))
        self.assertEqual({}, view.entitlements)

    def test_passthrough_gpus_are_not_members(self):
        self.flags('orionx_pool', name='gold', entitlement=1)
        view = self.view(self.plan())
        self.assertEqual([], view.members('gold'))
        self.assertEqual(1, len(view.entitlements))


class TestVendorVocabulary(testtools.TestCase):
    def test_vendor_traits_and_kinds(self):
        self.assertEqual(
            ['CUSTOM_GPU_NVIDIA', 'CUSTOM_GPU_AMD', 'CUSTOM_NPU_HUAWEI'],
            [resources.vendor_trait(v) for v in ('10de', '1002', '19e5')],
        )
        self.assertEqual(
            'CUSTOM_GPU_VENDOR_1D94', resources.vendor_trait('1d94')
        )
        self.assertEqual(
            ('GPU', 'NPU'),
            (resources.device_kind('1002'), resources.device_kind('19e5')),
        )
        self.assertEqual(
            ('GPU', 'AICHIP'),
            (resources.device_type('10de'), resources.device_type('19e5')),
        )

    def test_kind_aware_builders_keep_the_gpu_names(self):
        self.assertEqual(
            resources.MODEL_TRAIT_PREFIX + 'H200',
            resources.model_trait('NVIDIA H200'),
        )
        self.assertEqual(
            'CUSTOM_GPU_MODEL_INSTINCT_MI300X',
            resources.model_trait('AMD Instinct MI300X'),
        )
        self.assertEqual(
            'CUSTOM_NPU_PRODUCT_ID_D802',
            resources.product_trait('d802', 'NPU'),
        )
        self.assertEqual(
            'CUSTOM_NPU_MEMORY_64GB', resources.memory_trait(65536, 'NPU')
        )
