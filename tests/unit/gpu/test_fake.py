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

"""The simulated NVML library, topologies and sysfs trees themselves."""

import ctypes
import os

import fixtures
import pynvml
import testtools
import yaml

from orionx_cyborg.gpu import models
from orionx_cyborg.gpu import sysfs
from orionx_cyborg.gpu.fake import catalogue
from orionx_cyborg.gpu.fake import library
from orionx_cyborg.gpu.fake import sysfs as fake_sysfs
from orionx_cyborg.gpu.fake import topology


class TestFakeLibrary(testtools.TestCase):
    """C-level behaviour pynvml relies on, called as pynvml calls it."""

    def setUp(self):
        super().setUp()
        self.lib = library.FakeNvmlLibrary(topology.load('t4-box'))

    def test_calls_before_init_are_uninitialized(self):
        count = ctypes.c_uint()
        ret = self.lib.nvmlDeviceGetCount_v2(ctypes.byref(count))
        self.assertEqual(library.ERROR_CODES['UNINITIALIZED'], ret)

    def test_bad_index_and_bad_handle(self):
        self.assertEqual(0, self.lib.nvmlInitWithFlags(0))
        handle = pynvml.c_nvmlDevice_t()
        ret = self.lib.nvmlDeviceGetHandleByIndex_v2(
            ctypes.c_uint(5), ctypes.byref(handle)
        )
        self.assertEqual(library.ERROR_CODES['INVALID_ARGUMENT'], ret)
        bogus = ctypes.cast(ctypes.c_void_p(0x1234), pynvml.c_nvmlDevice_t)
        memory = pynvml.c_nvmlMemory_t()
        ret = self.lib.nvmlDeviceGetMemoryInfo(bogus, ctypes.byref(memory))
        self.assertEqual(library.ERROR_CODES['INVALID_ARGUMENT'], ret)

    def test_size_protocol_for_vgpu_lists(self):
        self.lib.load(
            topology.host_from_mapping('h', {'gpus': [{'model': 'T4'}]})
        )
        self.assertEqual(0, self.lib.nvmlInitWithFlags(0))
        handle = pynvml.c_nvmlDevice_t()
        self.lib.nvmlDeviceGetHandleByIndex_v2(
            ctypes.c_uint(0), ctypes.byref(handle)
        )
        count = ctypes.c_uint(0)
        ret = self.lib.nvmlDeviceGetSupportedVgpus(
            handle, ctypes.byref(count), None
        )
        self.assertEqual(library.ERROR_CODES['NOT_SUPPORTED'], ret)
        vgpu_host = topology.host_from_mapping(
            'h', {'vgpu_manager': True, 'gpus': [{'model': 'T4'}]}
        )
        self.lib.load(vgpu_host)
        self.lib.nvmlInitWithFlags(0)
        ret = self.lib.nvmlDeviceGetSupportedVgpus(
            handle, ctypes.byref(count), None
        )
        self.assertEqual(library.ERROR_CODES['INSUFFICIENT_SIZE'], ret)
        self.assertEqual(len(catalogue.T4.vgpu_types), count.value)

    def test_string_buffer_too_small(self):
        self.lib.nvmlInitWithFlags(0)
        buffer = ctypes.create_string_buffer(4)
        ret = self.lib.nvmlSystemGetDriverVersion(buffer, ctypes.c_uint(4))
        self.assertEqual(library.ERROR_CODES['INSUFFICIENT_SIZE'], ret)

    def test_unknown_symbol_is_function_not_found_in_pynvml(self):
        self.assertRaises(
            AttributeError, getattr, self.lib, 'nvmlDeviceGetPowerUsage'
        )

    def test_error_string_before_init(self):
        self.assertEqual(b'Gpu is lost', self.lib.nvmlErrorString(15))

    def test_failure_injection_counts_down(self):
        self.lib.fail('nvmlInitWithFlags', 'NO_PERMISSION', times=1)
        self.assertEqual(
            library.ERROR_CODES['NO_PERMISSION'], self.lib.nvmlInitWithFlags(0)
        )
        self.assertEqual(0, self.lib.nvmlInitWithFlags(0))
        self.assertEqual(2, self.lib.calls['nvmlInitWithFlags'])


class TestTopology(testtools.TestCase):
    def test_builtin_hosts_load(self):
        for name in topology.BUILTIN_HOSTS:
            simulated = topology.load(name, 'h1')
            addresses = [g.pci_address for g in simulated.gpus]
            self.assertEqual(len(addresses), len(set(addresses)), name)

    def test_yaml_round_trip(self):
        directory = self.useFixture(fixtures.TempDir()).path
        path = os.path.join(directory, 'host.yaml')
        original = topology.load('hgx-h200', 'gpu1').replace_gpu(
            '0000:2a:00.0',
            lost=True,
            xid_events=(79,),
            errors={'nvmlDeviceGetUUID': 'GPU_IS_LOST'},
        )
        topology.dump(original, path)
        self.assertEqual(original, topology.load(path, 'gpu1'))

    def test_uuids_are_stable_per_host_and_address(self):
        first = topology.load('t4-box', 'a')
        again = topology.load('t4-box', 'a')
        other = topology.load('t4-box', 'b')
        self.assertEqual(first.gpus[0].uuid, again.gpus[0].uuid)
        self.assertNotEqual(first.gpus[0].uuid, other.gpus[0].uuid)

    def test_explicit_addresses_are_skipped_by_counted_gpus(self):
        simulated = topology.host_from_mapping(
            'h',
            {
                'gpus': [
                    {'model': 'T4', 'pci_address': '0000:2a:00.0'},
                    {'model': 'T4', 'count': 2},
                ]
            },
        )
        self.assertEqual(
            ['0000:2a:00.0', '0000:18:00.0', '0000:3a:00.0'],
            [g.pci_address for g in simulated.gpus],
        )

    def test_errors(self):
        cases = [
            ({'gpus': [{'model': 'B300'}]}, 'unknown GPU model'),
            (
                {'gpus': [{'model': 'T4', 'pci_address': 1800}]},
                'quote addresses',
            ),
            (
                {
                    'gpus': [
                        {'model': 'T4', 'pci_address': '0000:18:00.0'},
                        {'model': 'T4', 'pci_address': '0000:18:00.0'},
                    ]
                },
                'duplicate',
            ),
            (
                {'gpus': [{'model': 'T4', 'mig_devices': ['1g.5gb']}]},
                'no MIG profile',
            ),
            (
                {
                    'gpus': [
                        {
                            'model': 'L40S',
                            'vf_vgpu_types': ['NVIDIA L40S-4C'] * 33,
                        }
                    ]
                },
                'at most 32 virtual functions',
            ),
            ({'nvml': 'maybe'}, 'nvml must be one of'),
            ({'colour': 'green'}, 'unknown keys'),
            ({'gpus': [{'model': 'T4', 'speed': 1}]}, 'unknown GPU keys'),
        ]
        for data, message in cases:
            err = self.assertRaises(
                topology.TopologyError, topology.host_from_mapping, 'h', data
            )
            self.assertIn(message, str(err))

    def test_unquoted_yaml_address_is_explained(self):
        directory = self.useFixture(fixtures.TempDir()).path
        path = os.path.join(directory, 'host.yaml')
        with open(path, 'w') as f:
            f.write('gpus:\n- model: T4\n  pci_address: 0000:18:00.0\n')
        # YAML 1.1 reads the unquoted address as a base-60 number.
        with open(path) as f:
            self.assertIsInstance(
                yaml.safe_load(f)['gpus'][0]['pci_address'], float
            )
        err = self.assertRaises(topology.TopologyError, topology.load, path)
        self.assertIn('quote addresses', str(err))

    def test_missing_file_lists_builtin_hosts(self):
        err = self.assertRaises(
            topology.TopologyError, topology.load, '/nonexistent/topology.yaml'
        )
        self.assertIn('hgx-h200', str(err))


class TestSysfs(testtools.TestCase):
    def render(self, simulated):
        root = os.path.join(self.useFixture(fixtures.TempDir()).path, 'sys')
        fake_sysfs.write_tree(simulated, root)
        return sysfs.SysfsReader(root)

    def test_sriov_virtual_functions(self):
        reader = self.render(topology.load('hgx-h200'))
        state = reader.describe(models.PciAddress.parse('0000:3a:00.0'))
        self.assertTrue(state.present)
        self.assertEqual('nvidia', state.driver)
        self.assertEqual((), state.mdev_parents)
        vfs = state.virtual_functions
        self.assertEqual(4 + fake_sysfs.SPARE_VF_COUNT, len(vfs))
        h35 = catalogue.H200_SXM5_141GB.vgpu_type('NVIDIA H200X-35C')
        self.assertEqual(
            [h35.type_id] * 4 + [None] * 2, [vf.current_type_id for vf in vfs]
        )
        self.assertEqual('0000:3a:00.4', str(vfs[0].address))
        self.assertEqual((), vfs[0].creatable)
        self.assertIn((h35.type_id, h35.name), vfs[4].creatable)

    def test_mdev_on_the_gpu(self):
        simulated = topology.load('t4-box').replace_gpu(
            '0000:18:00.0', mdev_instances={'NVIDIA T4-2Q': 3}
        )
        reader = self.render(simulated)
        state = reader.describe(models.PciAddress.parse('0000:18:00.0'))
        (parent,) = state.mdev_parents
        types = {t.name: t for t in parent.types}
        self.assertEqual(3, len(types['NVIDIA T4-2Q'].created))
        self.assertEqual(8, types['NVIDIA T4-2Q'].capacity)
        # Homogeneous: other types have no room while T4-2Q is in use.
        self.assertEqual(0, types['NVIDIA T4-1Q'].capacity)

    def test_mdev_on_virtual_functions(self):
        reader = self.render(topology.load('hgx-a100-l40s'))
        state = reader.describe(models.PciAddress.parse('0000:18:00.0'))
        self.assertEqual(8, len(state.mdev_parents))
        per_vf = [
            {t.name: t.available_instances for t in p.types}[
                'NVIDIA A100DX-40C'
            ]
            for p in state.mdev_parents
        ]
        # Two 40C instances fit an A100 80GB: two VFs offer one each.
        self.assertEqual([1, 1, 0, 0, 0, 0, 0, 0], per_vf)

    def test_named_mdevs_on_a_gpu_and_on_virtual_functions(self):
        t4 = topology.with_mdev(
            topology.load('t4-box'),
            '0000:18:00.0',
            '11111111-2222-3333-4444-555555555555',
            'nvidia-223',
            '0000:18:00.0',
        )
        (parent,) = (
            self.render(t4)
            .describe(models.PciAddress.parse('0000:18:00.0'))
            .mdev_parents
        )
        types = {t.type_id: t for t in parent.types}
        self.assertEqual(
            ('11111111-2222-3333-4444-555555555555',),
            types['nvidia-223'].created,
        )
        self.assertEqual(8, types['nvidia-223'].capacity)
        a100 = topology.load('hgx-a100-l40s')
        vf = topology.vf_address('0000:18:00.0', 3)
        self.assertEqual('0000:18:00.0', topology.gpu_of_function(a100, vf))
        a100 = topology.with_mdev(
            a100, '0000:18:00.0', 'aaaa', 'NVIDIA A100DX-40C', vf
        )
        state = self.render(a100).describe(
            models.PciAddress.parse('0000:18:00.0')
        )
        by_vf = {
            str(p.address): {
                t.name: (t.available_instances, t.created) for t in p.types
            }
            for p in state.mdev_parents
        }
        self.assertEqual((0, ('aaaa',)), by_vf[vf]['NVIDIA A100DX-40C'])
        # The other 40C instance is offered by the first free VF only.
        offers = [v['NVIDIA A100DX-40C'][0] for k, v in sorted(by_vf.items())]
        self.assertEqual(1, sum(offers))
        back = topology.without_mdev(a100, 'aaaa')
        self.assertEqual({}, back.gpus[0].mdevs)

    def test_a_tree_rendered_again_keeps_the_kernels_mdev_devices(self):
        # A created mdev is in bus/mdev/devices as the kernel lists it,
        # also after the tree is rendered again from the topology.
        mdev = '11111111-2222-3333-4444-555555555555'
        vf = topology.vf_address('0000:18:00.0', 3)
        a100 = topology.with_mdev(
            topology.load('hgx-a100-l40s'),
            '0000:18:00.0',
            mdev,
            'NVIDIA A100DX-40C',
            vf,
        )
        root = os.path.join(self.useFixture(fixtures.TempDir()).path, 'sys')
        for _ in range(2):
            fake_sysfs.write_tree(a100, root)
            device = os.path.join(root, 'bus', 'mdev', 'devices', mdev)
            with open(os.path.join(device, 'parent')) as f:
                self.assertEqual(vf, f.read().strip())
            with open(os.path.join(device, 'mdev_type')) as f:
                spec = catalogue.A100_SXM4_80GB.vgpu_type('NVIDIA A100DX-40C')
                self.assertEqual('nvidia-%d' % spec.type_id, f.read().strip())
        fake_sysfs.write_tree(topology.without_mdev(a100, mdev), root)
        self.assertFalse(os.path.exists(device))

    def test_mdevs_round_trip_through_yaml(self):
        directory = self.useFixture(fixtures.TempDir()).path
        path = os.path.join(directory, 'host.yaml')
        host = topology.with_mdev(
            topology.load('t4-box', 'h'),
            '0000:2a:00.0',
            'bbbb',
            'NVIDIA T4-2Q',
            '0000:2a:00.0',
        )
        topology.dump(host, path)
        self.assertEqual(host, topology.load(path, 'h'))

    def test_absent_and_vfio_bound_gpus(self):
        simulated = topology.load('t4-box').replace_gpu(
            '0000:2a:00.0', driver='vfio-pci'
        )
        reader = self.render(simulated)
        self.assertFalse(
            reader.describe(models.PciAddress.parse('0000:99:00.0')).present
        )
        bound = reader.describe(models.PciAddress.parse('0000:2a:00.0'))
        self.assertEqual('vfio-pci', bound.driver)

    def test_hand_written_vendor_vf_files(self):
        # The layout NVIDIA documents for vGPU 17 on Hopper, written by
        # hand rather than by our renderer.
        root = self.useFixture(fixtures.TempDir()).path
        devices = os.path.join(root, 'bus', 'pci', 'devices')
        pf = os.path.join(devices, '0000:41:00.0')
        vf = os.path.join(devices, '0000:41:00.4')
        os.makedirs(os.path.join(vf, 'nvidia'))
        os.makedirs(pf)
        os.symlink('../0000:41:00.4', os.path.join(pf, 'virtfn0'))
        with open(
            os.path.join(vf, 'nvidia', 'creatable_vgpu_types'), 'w'
        ) as f:
            f.write(
                'ID    : vGPU Name\n557   : NVIDIA L40S-1Q\n'
                '558   : NVIDIA L40S-2Q\n'
            )
        with open(os.path.join(vf, 'nvidia', 'current_vgpu_type'), 'w') as f:
            f.write('0\n')
        state = sysfs.SysfsReader(root).describe(
            models.PciAddress.parse('0000:41:00.0')
        )
        (function,) = state.virtual_functions
        self.assertIsNone(function.current_type_id)
        self.assertEqual(
            ((557, 'NVIDIA L40S-1Q'), (558, 'NVIDIA L40S-2Q')),
            function.creatable,
        )
        self.assertIsNone(state.driver)

    def test_rewrite_replaces_the_tree(self):
        root = os.path.join(self.useFixture(fixtures.TempDir()).path, 'sys')
        simulated = topology.load('t4-box')
        fake_sysfs.write_tree(simulated, root)
        fake_sysfs.write_tree(
            topology.host_from_mapping('h', {'gpus': []}), root
        )
        self.assertFalse(
            sysfs.SysfsReader(root)
            .describe(models.PciAddress.parse('0000:18:00.0'))
            .present
        )
