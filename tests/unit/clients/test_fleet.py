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

"""The fleet of GPUs from Cyborg's records and Placement's numbers."""

from orionx_cyborg import resources
from orionx_cyborg.clients import cyborg
from orionx_cyborg.clients import fleet
from tests import base


def _device(uuid, host, address, prefix, model='NVIDIA H200'):
    return cyborg.Device(
        uuid='dev-' + uuid,
        hostname=host,
        vendor='10de',
        model=model,
        std_board_info={
            resources.BOARD_UUID: uuid,
            resources.BOARD_PCI_ADDRESS: address,
            resources.BOARD_DEPLOYABLE_PREFIX: prefix,
            resources.BOARD_MEMORY_MIB: 143771,
        },
    )


def _deployable(name, rc, total, *traits):
    return cyborg.Deployable(
        uuid='d-' + name,
        name=name,
        rp_uuid='rp-' + name,
        num_accelerators=total,
        driver_name=resources.DRIVER_NAME,
        resource_class=rc,
        traits=frozenset(traits),
    )


class TestBuild(base.TestCase):
    def setUp(self):
        super().setUp()
        self.devices = [
            _device('GPU-P', 'gpu1', '0000:1b:00.0', 'gpu1_0000_1b_00_0'),
            _device('GPU-V', 'gpu1', '0000:1a:00.0', 'gpu1_0000_1a_00_0'),
            _device('GPU-X', 'gpu0', '0000:3b:00.0', 'gpu0_0000_3b_00_0'),
            _device('GPU-S', 'gpu0', '0000:4b:00.0', 'gpu0_0000_4b_00_0'),
            cyborg.Device('dev-other', 'gpu0', '8086', 'FPGA', {}),
        ]
        self.deployables = [
            _deployable(
                'gpu1_0000_1b_00_0_GMEM',
                resources.RC_POOL_MEMORY,
                143771,
                resources.pool_trait('default'),
            ),
            _deployable(
                'gpu1_0000_1b_00_0_COMPUTE',
                resources.RC_POOL_COMPUTE,
                100,
                resources.pool_trait('default'),
                resources.TRAIT_UNHEALTHY,
            ),
            _deployable(
                'gpu1_0000_1a_00_0_VGPU_H200_35C', resources.RC_VGPU, 4
            ),
            _deployable('gpu0_0000_3b_00_0_PGPU', resources.RC_PGPU, 1),
            _deployable(
                'gpu1_ORIONX_VGPU_default', resources.RC_ENTITLEMENT, 64
            ),
        ]

    def test_modes_health_pool_and_numbers(self):
        numbers = {
            'rp-gpu1_0000_1b_00_0_GMEM': (143771, 8192),
            'rp-gpu1_0000_1b_00_0_COMPUTE': (100, 25),
            'rp-gpu1_0000_1a_00_0_VGPU_H200_35C': (4, 1),
            # Placement lost the passthrough provider: Cyborg's total.
        }
        gpus = fleet.build(self.devices, self.deployables, numbers)
        self.assertEqual(
            [
                ('gpu0', 'GPU-X', 'passthrough', None, 'healthy'),
                ('gpu0', 'GPU-S', 'off', None, 'healthy'),
                ('gpu1', 'GPU-V', 'vgpu', None, 'healthy'),
                ('gpu1', 'GPU-P', 'pool', 'default', 'unhealthy'),
            ],
            [(g.host, g.gpu_uuid, g.mode, g.pool, g.health) for g in gpus],
        )
        by_uuid = {g.gpu_uuid: g for g in gpus}
        self.assertEqual(
            {
                resources.RC_POOL_MEMORY: 143771,
                resources.RC_POOL_COMPUTE: 100,
            },
            by_uuid['GPU-P'].capacity,
        )
        self.assertEqual(
            {resources.RC_POOL_MEMORY: 8192, resources.RC_POOL_COMPUTE: 25},
            by_uuid['GPU-P'].used,
        )
        self.assertEqual({resources.RC_PGPU: 1}, by_uuid['GPU-X'].capacity)
        self.assertEqual({resources.RC_PGPU: 0}, by_uuid['GPU-X'].used)
        self.assertEqual({}, by_uuid['GPU-S'].capacity)
        self.assertEqual(143771, by_uuid['GPU-V'].memory_mib)

    def test_deployables_of_two_modes_are_mixed(self):
        deployables = self.deployables + [
            _deployable(
                'gpu0_0000_3b_00_0_VGPU_H200_35C', resources.RC_VGPU, 4
            )
        ]
        gpus = fleet.build(self.devices, deployables, {})
        self.assertEqual(
            'mixed', [g.mode for g in gpus if g.gpu_uuid == 'GPU-X'][0]
        )
