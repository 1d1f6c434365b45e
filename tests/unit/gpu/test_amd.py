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

"""The AMD SMI seam, through AMD's amdsmi binding and the simulated library."""

import fixtures
import testtools

from orionx_cyborg import exception
from orionx_cyborg.gpu import amd
from orionx_cyborg.gpu import models
from orionx_cyborg.gpu.fake import amd as fake

# Queries that do not identify a GPU, and the fact each one gives.
_OPTIONAL = (
    'amdsmi_get_gpu_compute_partition',
    'amdsmi_get_gpu_memory_partition',
    'amdsmi_topo_get_numa_node_number',
    'amdsmi_get_gpu_driver_info',
    'amdsmi_get_gpu_total_ecc_count',
    'amdsmi_get_gpu_bad_page_info',
)
_REQUIRED = (
    'amdsmi_get_gpu_device_bdf',
    'amdsmi_get_gpu_device_uuid',
    'amdsmi_get_gpu_asic_info',
    'amdsmi_get_gpu_memory_total',
)


class AmdTestCase(testtools.TestCase):
    def discover(self, *gpus, **kwargs):
        self.lib = fake.FakeAmdSmiLibrary(fake.amd_host(*gpus, **kwargs))
        return amd.AmdSmiBackend(library=self.lib).discover()


class TestDiscovery(AmdTestCase):
    def test_every_catalogue_model_reads_back(self):
        for model in fake.MODELS.values():
            gpu = self.discover({'model': model.key}).gpus[0]
            self.assertEqual(model.market_name, gpu.name)
            self.assertEqual('1002', gpu.vendor_id)
            self.assertEqual('%04x' % model.pci_device_id, gpu.pci_device_id)
            self.assertEqual(model.memory_mib, gpu.memory_mib)
            self.assertEqual((), gpu.warnings)
            self.assertTrue(gpu.health.healthy)

    def test_addresses_and_uuids(self):
        inventory = self.discover(
            {'model': 'MI300X', 'pci_address': '0000:9c:00.0'},
            {'model': 'MI300X', 'pci_address': '0001:05:00.0'},
        )
        self.assertEqual(
            ['0000:9c:00.0', '0001:05:00.0'],
            [str(g.pci_address) for g in inventory.gpus],
        )
        self.assertEqual(2, len({g.uuid for g in inventory.gpus}))
        self.assertEqual([1, 0], [g.numa_node for g in inventory.gpus])
        self.assertEqual('6.10.5', inventory.driver_version)
        # One binding call per query (the binding's two-call size
        # protocols make more C calls): init, handles, 2 GPUs x 10.
        self.assertEqual(22, inventory.calls)

    def test_partition_modes(self):
        inventory = self.discover(
            {
                'model': 'MI300X',
                'compute_partition': 'CPX',
                'memory_partition': 'NPS4',
            },
            {'model': 'MI325X'},
            {'model': 'MI210'},
        )
        self.assertEqual(
            ['CPX/NPS4', 'SPX/NPS1', None],
            [g.partition_mode for g in inventory.gpus],
        )
        # MI200 boards do not partition: "not supported" is no warning.
        self.assertEqual((), inventory.gpus[2].warnings)

    def test_catalogue_partition_profiles(self):
        self.assertEqual(
            [('SPX', 1), ('DPX', 2), ('QPX', 4), ('CPX', 8)],
            [(p.name, p.instances) for p in fake.MI300X.compute_partitions],
        )
        self.assertEqual(
            [('NPS1', 196608), ('NPS4', 49152)],
            [(p.name, p.memory_mib) for p in fake.MI300X.memory_partitions],
        )
        self.assertEqual((), fake.MI250X.compute_partitions)

    def test_ecc_and_bad_pages_make_a_gpu_unhealthy(self):
        inventory = self.discover(
            {'model': 'MI300X', 'ecc_uncorrected': 3},
            {'model': 'MI300X', 'bad_pages': ('reserved', 'unreservable')},
            {'model': 'MI300X', 'bad_pages': ('reserved', 'pending')},
        )
        health = [g.health for g in inventory.gpus]
        self.assertEqual(('3 uncorrectable ECC errors',), health[0].reasons)
        self.assertEqual(
            ('1 bad pages could not be retired',), health[1].reasons
        )
        self.assertTrue(health[2].healthy)

    def test_lost_gpu_is_unreachable_and_others_are_described(self):
        inventory = self.discover(
            {'model': 'MI300X'}, {'model': 'MI300X', 'lost': True}
        )
        self.assertEqual(1, len(inventory.gpus))
        self.assertEqual(1, inventory.unreachable[0].index)
        self.assertIn('NOT_FOUND', inventory.unreachable[0].error)

    def test_two_simulated_hosts_in_one_process(self):
        first = amd.AmdSmiBackend(
            library=fake.FakeAmdSmiLibrary(fake.amd_host({'model': 'MI210'}))
        )
        second = amd.AmdSmiBackend(
            library=fake.FakeAmdSmiLibrary(
                fake.amd_host({'model': 'MI300X', 'count': 2})
            )
        )
        self.assertEqual(1, len(first.discover().gpus))
        self.assertEqual(2, len(second.discover().gpus))
        self.assertEqual('AMD Instinct MI210', first.discover().gpus[0].name)


class TestOptionalQueriesNeverDropAGpu(AmdTestCase):
    def described(self, lib):
        inventory = amd.AmdSmiBackend(library=lib).discover()
        self.assertEqual((), inventory.unreachable)
        self.assertEqual(
            ['AMD Instinct MI300X'], [g.name for g in inventory.gpus]
        )
        return inventory.gpus[0]

    def lib(self):
        return fake.FakeAmdSmiLibrary(fake.amd_host({'model': 'MI300X'}))

    def test_not_supported_is_an_answer(self):
        for symbol in _OPTIONAL:
            lib = self.lib()
            lib.fail(symbol, 'NOT_SUPPORTED')
            self.assertEqual((), self.described(lib).warnings, symbol)
            self.assertGreater(lib.calls[symbol], 0)

    def test_function_not_found_is_a_warning(self):
        for symbol in _OPTIONAL:
            lib = self.lib()
            lib.remove(symbol)
            gpu = self.described(lib)
            self.assertEqual(1, len(gpu.warnings), symbol)
            self.assertIn('FAIL_LOAD_SYMBOL', gpu.warnings[0])

    def test_other_errors_are_warnings(self):
        for symbol in _OPTIONAL:
            lib = self.lib()
            lib.fail(symbol, 'UNKNOWN_ERROR')
            gpu = self.described(lib)
            self.assertEqual(1, len(gpu.warnings), symbol)
            self.assertIn('UNKNOWN_ERROR', gpu.warnings[0])

    def test_failed_partition_query_leaves_the_mode_out(self):
        lib = self.lib()
        lib.fail('amdsmi_get_gpu_compute_partition', 'UNKNOWN_ERROR')
        self.assertEqual('NPS1', self.described(lib).partition_mode)

    def test_identifying_queries_make_a_gpu_unreachable(self):
        for symbol in _REQUIRED:
            for status in ('NOT_SUPPORTED', 'UNKNOWN_ERROR'):
                lib = fake.FakeAmdSmiLibrary(
                    fake.amd_host({'model': 'MI300X', 'count': 2})
                )
                lib.fail(symbol, status, pci_address='0000:11:00.0')
                inventory = amd.AmdSmiBackend(library=lib).discover()
                self.assertEqual(
                    ['0000:31:00.0'],
                    [str(g.pci_address) for g in inventory.gpus],
                    symbol,
                )
                self.assertEqual(0, inventory.unreachable[0].index)


class TestWholeFailures(AmdTestCase):
    def test_driver_not_loaded(self):
        err = self.assertRaises(
            exception.AcceleratorLibraryUnavailable,
            self.discover,
            {'model': 'MI300X'},
            library='driver-not-loaded',
        )
        self.assertFalse(err.missing)
        self.assertIn('modprobe amdgpu', str(err))
        self.assertIn('DRIVER_NOT_LOADED', str(err))

    def test_enumeration_failure(self):
        lib = fake.FakeAmdSmiLibrary(fake.amd_host({'model': 'MI300X'}))
        lib.fail('amdsmi_get_socket_handles', 'IO')
        err = self.assertRaises(
            exception.AcceleratorLibraryUnavailable,
            amd.AmdSmiBackend(library=lib).discover,
        )
        self.assertFalse(err.missing)
        # Initialised once, shut down once: nothing leaks.
        self.assertEqual(1, lib.calls['amdsmi_shut_down'])

    def test_absent_system_library_is_missing(self):
        self.useFixture(
            fixtures.EnvironmentVariable('ROCM_PATH', '/nonexistent')
        )
        err = self.assertRaises(
            exception.AcceleratorLibraryUnavailable,
            amd.AmdSmiBackend(library_path='/nonexistent/x.so').discover,
        )
        self.assertTrue(err.missing)
        self.assertIn('/nonexistent/x.so', str(err))

    def test_models_are_vendor_neutral(self):
        gpu = self.discover({'model': 'MI210'}).gpus[0]
        self.assertIsInstance(gpu, models.HardwareGpu)
        self.assertIsNone(gpu.compute_capability)
