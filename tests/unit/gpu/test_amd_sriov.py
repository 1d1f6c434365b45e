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

"""AMD SR-IOV VFs through the sysfs seam, on the simulated MxGPU host."""

import dataclasses
import os
import shutil

from orionx_cyborg.gpu import amd_sriov
from orionx_cyborg.gpu import models
from orionx_cyborg.gpu import sysfs
from orionx_cyborg.gpu.fake import amd as fake_amd
from orionx_cyborg.gpu.fake import sysfs as fake_sysfs
from orionx_cyborg.gpu.fake import topology
from tests import base

GIM8 = models.PciAddress.parse('0000:11:00.0')
GIM1 = models.PciAddress.parse('0000:31:00.0')
ROCM = models.PciAddress.parse('0000:51:00.0')


class SriovTestCase(base.TestCase):
    def setUp(self):
        super().setUp()
        self.host = topology.load('mxgpu', 'h1')
        self.root = os.path.join(self.tmp, 'sys')
        fake_sysfs.write_tree(self.host, self.root)
        self.reader = sysfs.SysfsReader(self.root)

    def device(self, address, *names):
        return os.path.join(
            self.root, 'bus', 'pci', 'devices', str(address), *names
        )


class TestSeam(SriovTestCase):
    def test_scan_finds_physical_functions_of_one_vendor(self):
        functions, warnings = self.reader.pci_functions('1002')
        self.assertEqual([], warnings)
        self.assertEqual(
            [(GIM8, 'gim'), (GIM1, 'gim'), (ROCM, 'amdgpu')],
            [(f.address, f.driver) for f in functions],
        )
        self.assertEqual({'74a1'}, {f.device_id for f in functions})
        self.assertEqual({'120000'}, {f.class_code for f in functions})
        self.assertEqual(([], []), self.reader.pci_functions('10de'))

    def test_sriov_state_of_a_gim_gpu(self):
        state = self.reader.sriov(GIM8)
        self.assertEqual((8, 8), (state.total_vfs, state.num_vfs))
        self.assertEqual((), state.warnings)
        self.assertEqual(
            [topology.vf_address(str(GIM8), n) for n in range(8)],
            [str(vf.address) for vf in state.virtual_functions],
        )
        self.assertEqual(
            {('1002', '74b5', 'vfio-pci')},
            {
                (vf.vendor_id, vf.device_id, vf.driver)
                for vf in state.virtual_functions
            },
        )

    def test_a_gpu_without_sriov_files_has_no_vfs_and_no_warning(self):
        state = self.reader.sriov(ROCM)
        self.assertEqual(sysfs.SriovState(total_vfs=None, num_vfs=None), state)

    def test_an_unreadable_sriov_file_is_a_warning_not_a_failure(self):
        path = self.device(GIM8, 'sriov_numvfs')
        os.unlink(path)
        os.mkdir(path)  # reading it fails with EISDIR
        state = self.reader.sriov(GIM8)
        self.assertIsNone(state.num_vfs)
        self.assertEqual(8, len(state.virtual_functions))
        [warning] = state.warnings
        self.assertIn('sriov_numvfs', warning)


class TestAugment(SriovTestCase):
    def amdsmi_gpu(self):
        return models.HardwareGpu(
            vendor_id='1002',
            index=0,
            uuid='amd-uuid',
            name='AMD Instinct MI300X',
            pci_address=ROCM,
            pci_device_id='74a1',
            memory_mib=192 * 1024,
        )

    def test_gim_gpus_are_added_with_their_vfs(self):
        inventory = models.HostInventory(
            backend='amdsmi', gpus=(self.amdsmi_gpu(),)
        )
        gpus = amd_sriov.augment(inventory, self.reader).gpus
        self.assertEqual([ROCM, GIM8, GIM1], [g.pci_address for g in gpus])
        rocm, gim8, gim1 = gpus
        self.assertEqual(self.amdsmi_gpu(), rocm)
        self.assertEqual(
            ('gim', 'AMD Instinct MI300X', 196608),
            (gim8.pf_driver, gim8.name, gim8.memory_mib),
        )
        self.assertEqual(8, len(gim8.sriov_vfs))
        # 8 VFs (CPX/NPS4): 24 GB each; one VF: the whole GPU.
        self.assertEqual({24 * 1024}, {v.memory_mib for v in gim8.sriov_vfs})
        self.assertEqual([192 * 1024], [v.memory_mib for v in gim1.sriov_vfs])
        self.assertEqual((), gim8.warnings)

    def test_vfs_of_a_gpu_amd_smi_lists_are_added(self):
        gpu = dataclasses.replace(self.amdsmi_gpu(), pci_address=GIM1)
        inventory = models.HostInventory(backend='amdsmi', gpus=(gpu,))
        [first, gim8] = amd_sriov.augment(inventory, self.reader).gpus
        self.assertEqual(GIM1, first.pci_address)
        self.assertIsNone(first.pf_driver)
        self.assertEqual(1, len(first.sriov_vfs))
        self.assertEqual(GIM8, gim8.pci_address)

    def test_unreadable_numvfs_degrades_with_a_warning(self):
        path = self.device(GIM8, 'sriov_numvfs')
        os.unlink(path)
        os.mkdir(path)
        gpus = amd_sriov.augment(
            models.HostInventory(backend='none'), self.reader
        ).gpus
        gim8 = gpus[0]
        self.assertEqual(8, len(gim8.sriov_vfs))
        [warning] = gim8.warnings
        self.assertIn('SR-IOV state partly unreadable', warning)

    def test_unknown_device_id_keeps_the_gpu_with_a_warning(self):
        with open(self.device(GIM1, 'device'), 'w') as stream:
            stream.write('0x7fff\n')
        gpus = amd_sriov.augment(
            models.HostInventory(backend='none'), self.reader
        ).gpus
        unknown = gpus[1]
        self.assertEqual('AMD GPU 7fff', unknown.name)
        self.assertIn('not in the catalogue', unknown.warnings[0])
        self.assertEqual([None], [v.memory_mib for v in unknown.sriov_vfs])

    def test_a_host_without_amd_gpus_is_unchanged(self):
        shutil.rmtree(self.root)
        inventory = models.HostInventory(backend='nvml')
        self.assertIs(inventory, amd_sriov.augment(inventory, self.reader))


class TestFake(base.TestCase):
    def test_amd_smi_does_not_see_gim_gpus(self):
        host = fake_amd.amd_host(
            {'model': 'MI300X', 'driver': 'gim', 'sriov_vfs': 8},
            {'model': 'MI300X'},
        )
        library = fake_amd.FakeAmdSmiLibrary(host)
        self.assertEqual(['amdgpu'], [g.driver for g in library.host.gpus])

    def test_vf_counts_follow_gim_release_notes(self):
        self.assertRaises(
            ValueError,
            fake_amd.amd_host,
            {'model': 'MI300X', 'driver': 'gim', 'sriov_vfs': 4},
        )
        self.assertRaises(
            topology.TopologyError,
            topology.host_from_mapping,
            'h',
            {
                'amd_gpus': [
                    {'model': 'MI250X', 'driver': 'gim', 'sriov_vfs': 1}
                ]
            },
        )
