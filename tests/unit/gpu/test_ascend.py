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

"""The DCMI seam (our ctypes layer) against the simulated libdcmi.so."""

import ctypes

import testtools

from orionx_cyborg import exception
from orionx_cyborg.gpu import ascend
from orionx_cyborg.gpu.fake import ascend as fake

# Optional queries, and a model on which each is asked (DDR memory is
# asked only of inference chips, which have no HBM).
_OPTIONAL = {
    'dcmi_get_device_hbm_info': 'Ascend910B3',
    'dcmi_get_device_memory_info_v3': 'Ascend310P3',
    'dcmi_get_device_health': 'Ascend910B3',
}
_REQUIRED = ('dcmi_get_device_chip_info', 'dcmi_get_device_pcie_info_v2')


def discover(*cards, **kwargs):
    lib = fake.FakeDcmiLibrary(fake.ascend_host(*cards, **kwargs))
    return lib, ascend.DcmiBackend(library=lib).discover()


class TestStructures(testtools.TestCase):
    def test_sizes_match_the_header(self):
        # The header says dcmi_pcie_info_all is 64 bytes; chip info is
        # 3 x 32 bytes and an unsigned int.
        self.assertEqual(64, ctypes.sizeof(ascend.PcieInfoAll))
        self.assertEqual(100, ctypes.sizeof(ascend.ChipInfo))


class TestDiscovery(testtools.TestCase):
    def test_every_catalogue_model_reads_back(self):
        for model in fake.MODELS.values():
            _, inventory = discover({'model': model.key})
            self.assertEqual(model.chips_per_card, len(inventory.gpus))
            npu = inventory.gpus[0]
            self.assertEqual('19e5', npu.vendor_id)
            self.assertEqual('Ascend' + model.chip_name, npu.name)
            self.assertEqual('%04x' % model.pci_device_id, npu.pci_device_id)
            self.assertEqual(model.memory_mib, npu.memory_mib)
            self.assertEqual((), npu.warnings, model.key)
            self.assertTrue(npu.health.healthy)

    def test_cards_chips_addresses(self):
        _, inventory = discover(
            {'model': 'Ascend910B3', 'count': 2}, {'model': 'Atlas-300I-Duo'}
        )
        self.assertEqual(
            ['0000:c1:00.0', '0000:d1:00.0', '0000:e1:00.0', '0000:e2:00.0'],
            [str(n.pci_address) for n in inventory.gpus],
        )
        self.assertEqual(4, len({n.uuid for n in inventory.gpus}))
        self.assertEqual('24.1.rc3', inventory.driver_version)

    def test_vnpu_templates(self):
        _, inventory = discover(
            {'model': 'Ascend910B3'}, {'model': 'Ascend310P3'}
        )
        self.assertEqual(
            [('vir05_1c_16g', 4, 16384), ('vir10_3c_32g', 2, 32768)],
            [
                (p.name, p.instances, p.memory_mib)
                for p in inventory.gpus[0].partition_profiles
            ],
        )
        self.assertEqual(
            ['vir01', 'vir02', 'vir04'],
            [p.name for p in inventory.gpus[1].partition_profiles],
        )
        self.assertEqual(
            {'vnpu'},
            {p.kind for n in inventory.gpus for p in n.partition_profiles},
        )

    def test_alarms_and_error_codes(self):
        _, inventory = discover(
            {'model': 'Ascend910B3', 'health': 'minor'},
            {
                'model': 'Ascend910B3',
                'health': 'critical',
                'error_codes': (0x80E01801, 0x80CB8009),
            },
        )
        self.assertTrue(inventory.gpus[0].health.healthy)
        self.assertEqual(
            (
                'critical alarm',
                'error code 0x80E01801',
                'error code 0x80CB8009',
            ),
            inventory.gpus[1].health.reasons,
        )

    def test_lost_card_is_unreachable(self):
        _, inventory = discover(
            {'model': 'Ascend910B3'}, {'model': 'Ascend910B3', 'lost': True}
        )
        self.assertEqual(1, len(inventory.gpus))
        self.assertIn('device does not exist', inventory.unreachable[0].error)


class TestOptionalQueries(testtools.TestCase):
    def described(self, lib, symbol=None):
        inventory = ascend.DcmiBackend(library=lib).discover()
        self.assertEqual((), inventory.unreachable)
        self.assertEqual(1, len(inventory.gpus))
        if symbol is not None:
            self.assertGreater(lib.calls[symbol], 0, symbol)
        return inventory.gpus[0]

    def lib(self, model='Ascend910B3'):
        return fake.FakeDcmiLibrary(fake.ascend_host({'model': model}))

    def test_not_supported_is_quiet(self):
        for symbol, model in _OPTIONAL.items():
            lib = self.lib(model)
            lib.fail(symbol, 'NOT_SUPPORT')
            self.assertEqual((), self.described(lib, symbol).warnings)

    def test_function_not_found_and_errors_warn(self):
        for symbol, model in _OPTIONAL.items():
            lib = self.lib(model)
            lib.remove(symbol)
            npu = self.described(lib)
            self.assertIn(
                '%s: function not found' % symbol, ' '.join(npu.warnings)
            )
            lib = self.lib(model)
            lib.fail(symbol, 'INNER_ERR')
            npu = self.described(lib, symbol)
            self.assertIn('inner error', ' '.join(npu.warnings), symbol)

    def test_hbm_missing_falls_back_to_ddr_figure(self):
        lib = self.lib()
        lib.remove('dcmi_get_device_hbm_info')
        npu = self.described(lib, 'dcmi_get_device_memory_info_v3')
        self.assertEqual(65536, npu.memory_mib)

    def test_identifying_queries_make_an_npu_unreachable(self):
        for symbol in _REQUIRED:
            lib = self.lib()
            lib.remove(symbol)
            inventory = ascend.DcmiBackend(library=lib).discover()
            self.assertEqual((), inventory.gpus)
            self.assertIn('function not found', inventory.unreachable[0].error)


class TestWholeFailures(testtools.TestCase):
    def test_no_permission(self):
        err = self.assertRaises(
            exception.AcceleratorLibraryUnavailable,
            discover,
            {'model': 'Ascend910B3'},
            library='no-permission',
        )
        self.assertFalse(err.missing)
        self.assertIn('HwHiAiUser', str(err))

    def test_absent_library_is_missing(self):
        err = self.assertRaises(
            exception.AcceleratorLibraryUnavailable,
            ascend.DcmiBackend(
                library_path='/nonexistent/libdcmi.so'
            ).discover,
        )
        self.assertTrue(err.missing)
