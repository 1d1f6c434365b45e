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

"""The report planned for each mode, its names, traits and stability."""

import json
import os
import random

from orionx_cyborg import resources
from orionx_cyborg.accelerator import planner
from orionx_cyborg.accelerator import settings
from orionx_cyborg.accelerator import spec
from orionx_cyborg.gpu import nvml
from orionx_cyborg.gpu import sysfs
from orionx_cyborg.gpu.fake import library
from orionx_cyborg.gpu.fake import sysfs as fake_sysfs
from orionx_cyborg.gpu.fake import topology
from tests import base


class PlannerTestCase(base.TestCase):
    host_name = 'gpu-1.example.org'
    topology_name = 'hgx-h200'

    def simulate(self, simulated=None):
        simulated = simulated or topology.load(
            self.topology_name, self.host_name
        )
        root = os.path.join(self.tmp, 'sys')
        fake_sysfs.write_tree(simulated, root)
        backend = nvml.NvmlBackend(library=library.FakeNvmlLibrary(simulated))
        self.addCleanup(backend.close)
        self.reader = sysfs.SysfsReader(root)
        return backend.discover().gpus

    def plan(self, gpus=None, **kwargs):
        loaded = settings.register_and_load(self.conf, self.tmp)
        gpus = self.simulate() if gpus is None else gpus
        self.planner = planner.Planner(
            self.host_name, loaded, self.reader.describe
        )
        return self.planner.plan(gpus, **kwargs)

    def deployables(self, result):
        return {d.name: d for dev in result.devices for d in dev.deployables}


class TestPassthrough(PlannerTestCase):
    def test_one_pgpu_per_gpu(self):
        result = self.plan()
        self.assertEqual(8, len(result.devices))
        device = result.devices[0]
        self.assertEqual('gpu:0000:18:00.0', device.key)
        self.assertEqual('10de', device.vendor)
        self.assertEqual('NVIDIA H200', device.model)
        self.assertEqual(
            {'domain': '0000', 'bus': '18', 'device': '00', 'function': '0'},
            json.loads(device.cpid_info),
        )
        board = json.loads(device.std_board_info)
        self.assertEqual('2335', board['product_id'])
        self.assertEqual('0000:18:00.0', board['pci_address'])
        self.assertEqual(
            'gpu-1_example_org_0000_18_00_0', board['deployable_prefix']
        )
        self.assertEqual(143771, board['memory_mib'])
        self.assertEqual('9.0', board['compute_capability'])
        self.assertTrue(board['uuid'].startswith('GPU-'))
        (deployable,) = device.deployables
        self.assertEqual(
            'gpu-1_example_org_0000_18_00_0_PGPU', deployable.name
        )
        self.assertEqual('PGPU', deployable.resource_class)
        self.assertEqual(1, deployable.total)
        self.assertEqual(
            [
                spec.AttachHandleSpec(
                    'PCI',
                    '{"bus": "18", "device": "00", "domain": "0000", '
                    '"function": "0"}',
                )
            ],
            list(deployable.attach_handles),
        )
        self.assertEqual(
            {
                'OWNER_CYBORG',
                'CUSTOM_GPU_NVIDIA',
                'CUSTOM_GPU_PRODUCT_ID_2335',
                'CUSTOM_GPU_MODEL_H200',
                'CUSTOM_GPU_MEMORY_140GB',
                'CUSTOM_GPU_COMPUTE_CAPABILITY_9_0',
            },
            set(deployable.trait_names),
        )

    def test_cpid_matches_cyborgs_own_pci_json(self):
        from cyborg.accelerator.common import utils

        device = self.plan().devices[0]
        self.assertEqual(
            utils.pci_str_to_json('0000:18:00.0'), device.cpid_info
        )
        self.assertEqual(
            utils.pci_str_to_json('0000:18:00.0'),
            device.deployables[0].attach_handles[0].attach_info,
        )

    def test_mig_gpu_carries_the_mig_trait(self):
        deployable = self.deployables(self.plan())[
            'gpu-1_example_org_0000_db_00_0_PGPU'
        ]
        self.assertIn('CUSTOM_GPU_MIG_ENABLED', deployable.trait_names)

    def test_off_and_disabled(self):
        self.flags(
            'orionx_gpu',
            default_mode='off',
            passthrough_devices=['0000:2a:00.0'],
        )
        result = self.plan()
        self.assertEqual(['gpu:0000:2a:00.0'], [d.key for d in result.devices])
        self.assertEqual(settings.Mode.OFF, result.modes['0000:18:00.0'])


class TestVgpu(PlannerTestCase):
    def test_sriov_vfs_become_pci_handles(self):
        self.flags(
            'orionx_gpu',
            default_mode='vgpu',
            enabled_vgpu_types=['NVIDIA H200X-35C', 'H200X-70C'],
        )
        result = self.plan()
        found = self.deployables(result)
        h35 = found['gpu-1_example_org_0000_3a_00_0_VGPU_H200X_35C']
        self.assertEqual('VGPU', h35.resource_class)
        self.assertEqual(4, h35.total)
        self.assertIn('CUSTOM_NVIDIA_VGPU_H200X_35C', h35.trait_names)
        self.assertEqual(
            ['4', '5', '6', '7'],
            [
                json.loads(h.attach_info)['function']
                for h in h35.attach_handles
            ],
        )
        self.assertEqual({'PCI'}, {h.attach_type for h in h35.attach_handles})
        h70 = found['gpu-1_example_org_0000_5d_00_0_VGPU_H200X_70C']
        self.assertEqual(2, h70.total)
        # GPUs without configured VFs offer nothing and say how to fix it.
        self.assertEqual(2, len(found))
        self.assertTrue(any('current_vgpu_type' in w for w in result.warnings))

    def test_mdev_handles_in_cyborg_format(self):
        self.topology_name = 't4-box'
        self.flags(
            'orionx_gpu', default_mode='vgpu', enabled_vgpu_types=['T4-4Q']
        )
        result = self.plan()
        deployable = self.deployables(result)[
            'gpu-1_example_org_0000_18_00_0_VGPU_T4_4Q'
        ]
        self.assertEqual(4, deployable.total)
        self.assertEqual(
            {'MDEV'}, {h.attach_type for h in deployable.attach_handles}
        )
        info = json.loads(deployable.attach_handles[0].attach_info)
        self.assertEqual(
            {
                'asked_type': 'nvidia-224',
                'bus': '18',
                'device': '00',
                'domain': '0000',
                'function': '0',
                'vgpu_mark': 'nvidia-224_0',
            },
            info,
        )
        from cyborg.accelerator.common import utils

        self.assertEqual(
            utils.mdev_str_to_json(
                '0000:18:00.0', 'nvidia-224', 'nvidia-224_0'
            ),
            deployable.attach_handles[0].attach_info,
        )

    def test_mdev_on_ampere_virtual_functions(self):
        self.topology_name = 'hgx-a100-l40s'
        self.flags(
            'orionx_gpu',
            default_mode='off',
            vgpu_devices=['*A100*'],
            enabled_vgpu_types=['NVIDIA A100DX-20C'],
        )
        deployable = self.deployables(self.plan())[
            'gpu-1_example_org_0000_18_00_0_VGPU_A100DX_20C'
        ]
        self.assertEqual(4, deployable.total)
        functions = {
            json.loads(h.attach_info)['function']
            for h in deployable.attach_handles
        }
        self.assertEqual({'4', '5', '6', '7'}, functions)

    def test_no_vgpu_manager(self):
        self.topology_name = 'dgx-h100'
        self.flags(
            'orionx_gpu',
            default_mode='vgpu',
            enabled_vgpu_types=['H100XM-10C'],
        )
        result = self.plan()
        self.assertEqual((), result.devices)
        self.assertIn('no NVIDIA vGPU manager', result.warnings[0])

    def test_unsupported_type_lists_what_is_supported(self):
        self.topology_name = 't4-box'
        self.flags(
            'orionx_gpu', default_mode='vgpu', enabled_vgpu_types=['H200X-35C']
        )
        result = self.plan()
        self.assertEqual((), result.devices)
        self.assertIn('NVIDIA T4-1Q', result.warnings[0])

    def test_two_types_on_one_gpu_warn(self):
        self.topology_name = 't4-box'
        self.flags(
            'orionx_gpu',
            default_mode='vgpu',
            enabled_vgpu_types=['T4-4Q', 'T4-8Q'],
        )
        result = self.plan()
        self.assertEqual(4, len(self.deployables(result)))
        self.assertTrue(
            any('one type at a time' in w for w in result.warnings)
        )


class TestPool(PlannerTestCase):
    def test_member_and_entitlement(self):
        self.flags('orionx_gpu', default_mode='pool')
        self.flags(
            'orionx_pool',
            name='gold',
            entitlement=3,
            memory_reserved_mib=2048,
            compute_oversubscription=1.5,
        )
        result = self.plan()
        found = self.deployables(result)
        memory = found['gpu-1_example_org_0000_18_00_0_GMEM']
        compute = found['gpu-1_example_org_0000_18_00_0_COMPUTE']
        self.assertEqual(
            ('CUSTOM_ORIONX_GMEM_MIB', 143771 - 2048),
            (memory.resource_class, memory.total),
        )
        self.assertEqual(
            ('CUSTOM_ORIONX_COMPUTE_PCT', 150),
            (compute.resource_class, compute.total),
        )
        for deployable in (memory, compute):
            self.assertEqual((), deployable.attach_handles)
            self.assertIn('CUSTOM_ORIONX_POOL_GOLD', deployable.trait_names)
        entitlement = found['gpu-1_example_org_ORIONX_VGPU_gold']
        self.assertEqual(
            ('CUSTOM_ORIONX_VGPU', 3),
            (entitlement.resource_class, entitlement.total),
        )
        self.assertEqual(
            {resources.AH_REMOTE},
            {h.attach_type for h in entitlement.attach_handles},
        )
        self.assertEqual(
            ['0', '1', '2'],
            sorted(
                json.loads(h.attach_info)['slot']
                for h in entitlement.attach_handles
            ),
        )
        self.assertIn('CUSTOM_ORIONX_POOL_GOLD', entitlement.trait_names)

    def test_remote_handle_type_is_the_one_nova_ignores(self):
        from cyborg.common import constants

        self.assertEqual(constants.AH_TYPE_TEST_PCI, resources.AH_REMOTE)

    def test_entitlement_without_gpus(self):
        self.flags('orionx_gpu', default_mode='off')
        self.flags('orionx_pool', entitlement=2)
        self.reader = sysfs.SysfsReader(self.tmp)
        result = self.plan(gpus=[])
        self.assertEqual(
            ['entitlement:default'], [d.key for d in result.devices]
        )

    def test_memory_smaller_than_reserve(self):
        self.topology_name = 't4-box'
        self.flags('orionx_gpu', default_mode='pool')
        self.flags('orionx_pool', memory_reserved_mib=16384)
        result = self.plan()
        self.assertEqual((), result.devices)
        self.assertIn('memory_reserved_mib', result.warnings[0])

    def test_mig_gpu_in_pool_warns(self):
        self.flags('orionx_gpu', default_mode='pool')
        result = self.plan()
        self.assertTrue(any('-mig 0' in w for w in result.warnings))


class TestHealthAndConflicts(PlannerTestCase):
    def test_unhealthy_gpu_is_marked(self):
        simulated = topology.load('hgx-h200', self.host_name).replace_gpu(
            '0000:2a:00.0', ecc_uncorrected=1
        )
        self.flags('orionx_gpu', default_mode='pool')
        result = self.plan(
            gpus=self.simulate(simulated),
            unhealthy={'0000:18:00.0': ('xid 79',)},
        )
        by_key = {d.key: d for d in result.devices}
        for address, reason in (
            ('0000:2a:00.0', '1 uncorrectable'),
            ('0000:18:00.0', 'xid 79'),
        ):
            device = by_key['gpu:%s' % address]
            for deployable in device.deployables:
                self.assertIn(
                    resources.TRAIT_UNHEALTHY, deployable.trait_names
                )
            board = device.board_info()
            self.assertEqual('unhealthy', board['health'])
            self.assertIn(reason, ' '.join(board['health_reasons']))
        healthy = by_key['gpu:0000:3a:00.0'].deployables[0]
        self.assertNotIn(resources.TRAIT_UNHEALTHY, healthy.trait_names)

    def test_mig_gpu_without_attributes_v2_is_still_reported(self):
        # An older library answers "Function Not Found" for
        # nvmlDeviceGetAttributes_v2 on MIG devices: the GPU stays.
        simulated = topology.load('hgx-h200', self.host_name).replace_gpu(
            '0000:db:00.0',
            errors={'nvmlDeviceGetAttributes_v2': 'FUNCTION_NOT_FOUND'},
        )
        result = self.plan(gpus=self.simulate(simulated))
        by_key = {d.key: d for d in result.devices}
        self.assertIn('gpu:0000:db:00.0', by_key)
        self.assertEqual(
            ['3g.71gb', '2g.35gb', '1g.18gb'],
            by_key['gpu:0000:db:00.0'].board_info()['mig_devices'],
        )
        self.assertEqual(
            1, len([w for w in result.warnings if 'Function Not Found' in w])
        )
        self.assertIn('0000:db:00.0', result.warnings[0])

    def test_glob_conflict_is_reported_not_raised(self):
        self.flags(
            'orionx_gpu',
            pool_devices=['*H200*'],
            passthrough_devices=['0000:18:00.0'],
        )
        result = self.plan()
        self.assertEqual(frozenset({'0000:18:00.0'}), result.conflicts)
        self.assertEqual(7, len(result.devices))
        self.assertIn('is matched by', result.warnings[0])

    def test_unmatched_selector_warns(self):
        self.flags('orionx_gpu', disabled_devices=['*A100*'])
        result = self.plan()
        self.assertIn("'*A100*'", result.warnings[-1])


class TestStability(PlannerTestCase):
    def configure_every_mode(self):
        self.flags(
            'orionx_gpu',
            default_mode='pool',
            passthrough_devices=['0000:18:00.0'],
            vgpu_devices=['0000:3a:00.0', '0000:5d:00.0'],
            enabled_vgpu_types=['H200X-35C', 'H200X-70C'],
        )
        self.flags('orionx_pool', entitlement=8)

    def test_same_inputs_same_report_in_any_order(self):
        self.configure_every_mode()
        gpus = self.simulate()
        first = self.plan(gpus=gpus)
        shuffled = list(gpus)
        random.Random(7).shuffle(shuffled)
        self.assertEqual(first.devices, self.plan(gpus=shuffled).devices)

    def test_names_and_infos_fit_cyborg(self):
        self.configure_every_mode()
        for name, host in topology.BUILTIN_HOSTS.items():
            # Hosts without NVML (no-gpu, mxgpu) are planned elsewhere.
            if host.get('nvml', 'ok') != 'ok':
                continue
            result = self.plan(
                gpus=self.simulate(topology.load(name, self.host_name))
            )
            for device in result.devices:
                self.assertLessEqual(
                    len(device.cpid_info), spec.MAX_INFO_LENGTH
                )
                for deployable in device.deployables:
                    self.assertRegex(deployable.name, r'^[A-Za-z0-9_-]+$')
                    self.assertEqual(
                        deployable.total,
                        len(deployable.attach_handles) or deployable.total,
                    )
                    for handle in deployable.attach_handles:
                        self.assertLessEqual(
                            len(handle.attach_info), spec.MAX_INFO_LENGTH
                        )
                        info = json.loads(handle.attach_info)
                        self.assertTrue(
                            all(isinstance(v, str) for v in info.values())
                        )
                    for _, trait in deployable.traits:
                        self.assertRegex(trait, r'^[A-Z0-9_]{1,255}$')

    def test_names_are_unique_across_hosts(self):
        self.configure_every_mode()
        names = set()
        for host_name in ('gpu1', 'gpu2'):
            self.host_name = host_name
            result = self.plan()
            here = {d.name for dev in result.devices for d in dev.deployables}
            self.assertFalse(names & here)
            names |= here


class TestOtherVendors(PlannerTestCase):
    def amd_gpus(self, *gpus):
        from orionx_cyborg.gpu import amd
        from orionx_cyborg.gpu.fake import amd as fake_amd

        self.simulate(topology.host_from_mapping(self.host_name, {}))
        lib = fake_amd.FakeAmdSmiLibrary(fake_amd.amd_host(*gpus))
        return amd.AmdSmiBackend(library=lib).discover().gpus

    def test_amd_gpu_passthrough(self):
        gpus = self.amd_gpus({'model': 'MI300X', 'compute_partition': 'CPX'})
        result = self.plan(gpus=gpus)
        device = next(d for d in result.devices if d.pci_address)
        self.assertEqual(('1002', 'GPU'), (device.vendor, device.device_type))
        self.assertEqual('AMD Instinct MI300X', device.model)
        self.assertEqual('CPX/NPS1', device.board_info()['partition_mode'])
        (deployable,) = device.deployables
        self.assertEqual('PGPU', deployable.resource_class)
        self.assertEqual(
            {
                'OWNER_CYBORG',
                'CUSTOM_GPU_AMD',
                'CUSTOM_GPU_PRODUCT_ID_74A1',
                'CUSTOM_GPU_MODEL_INSTINCT_MI300X',
                'CUSTOM_GPU_MEMORY_192GB',
            },
            set(deployable.trait_names),
        )
        self.assertEqual(1, len(deployable.attach_handles))

    def test_amd_gpu_in_the_pool_when_its_vendor_is_listed(self):
        self.flags('orionx_gpu', default_mode='pool')
        self.flags('orionx_pool', vendors=['10de', '1002'])
        result = self.plan(gpus=self.amd_gpus({'model': 'MI210'}))
        found = self.deployables(result)
        memory = next(d for n, d in found.items() if n.endswith('_GMEM'))
        reserved = self.planner.settings.pool.memory_reserved_mib
        self.assertEqual(65536 - reserved, memory.total)
        self.assertIn('CUSTOM_GPU_AMD', memory.trait_names)

    def test_pool_takes_only_vendors_its_runtime_serves(self):
        self.flags('orionx_gpu', default_mode='pool')
        result = self.plan(gpus=self.amd_gpus({'model': 'MI210'}))
        self.assertEqual(
            [], [d for d in result.devices if d.pci_address is not None]
        )
        self.assertIn('[orionx_pool] vendors', ' '.join(result.warnings))
        self.assertIn('1002', ' '.join(result.warnings))

    def test_ascend_npu_is_an_aichip_with_its_own_classes(self):
        from orionx_cyborg.gpu import ascend
        from orionx_cyborg.gpu.fake import ascend as fake_ascend

        self.simulate(topology.host_from_mapping(self.host_name, {}))
        lib = fake_ascend.FakeDcmiLibrary(
            fake_ascend.ascend_host({'model': 'Ascend910B3'})
        )
        npus = ascend.DcmiBackend(library=lib).discover().gpus
        result = self.plan(gpus=npus)
        device = next(d for d in result.devices if d.pci_address)
        self.assertEqual(
            ('19e5', 'AICHIP'), (device.vendor, device.device_type)
        )
        self.assertEqual(
            ['vir05_1c_16g', 'vir10_3c_32g'],
            device.board_info()['partition_profiles'],
        )
        (deployable,) = device.deployables
        self.assertEqual('CUSTOM_PNPU', deployable.resource_class)
        self.assertTrue(deployable.name.endswith('_PNPU'))
        self.assertEqual(
            {
                'OWNER_CYBORG',
                'CUSTOM_NPU_HUAWEI',
                'CUSTOM_NPU_PRODUCT_ID_D802',
                'CUSTOM_NPU_MODEL_ASCEND910B3',
                'CUSTOM_NPU_MEMORY_64GB',
            },
            set(deployable.trait_names),
        )
