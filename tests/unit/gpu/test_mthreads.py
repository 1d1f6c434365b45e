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

"""The MTML seam, through Moore Threads' pymtml and the simulated library."""

import pymtml
import testtools

from orionx_cyborg import exception
from orionx_cyborg.gpu import mthreads
from orionx_cyborg.gpu.fake import mthreads as fake


def discover(*gpus, **kwargs):
    lib = fake.FakeMtmlLibrary(fake.mthreads_host(*gpus, **kwargs))
    return lib, mthreads.MtmlBackend(library=lib).discover()


class TestDiscovery(testtools.TestCase):
    def test_every_catalogue_model_reads_back(self):
        for model in fake.MODELS.values():
            _, inventory = discover({'model': model.key})
            gpu = inventory.gpus[0]
            self.assertEqual(model.name, gpu.name)
            self.assertEqual('1ed5', gpu.vendor_id)
            self.assertEqual('%04x' % model.pci_device_id, gpu.pci_device_id)
            self.assertEqual(model.memory_mib, gpu.memory_mib)
            self.assertEqual((), gpu.warnings)
        self.assertEqual('2.7.0', inventory.driver_version)

    def test_addresses_and_pymtml_globals_are_restored(self):
        _, inventory = discover({'model': 'MTT-S4000', 'count': 2})
        self.assertEqual(
            ['0000:3b:00.0', '0000:4b:00.0'],
            [str(g.pci_address) for g in inventory.gpus],
        )
        self.assertIsNone(pymtml.mtmlLib)
        self.assertEqual({}, pymtml._mtmlGetFunctionPointer_cache)
        self.assertEqual([], pymtml._mtmlLib_handles)

    def test_lost_gpu_is_unreachable(self):
        _, inventory = discover(
            {'model': 'MTT-S4000'}, {'model': 'MTT-S4000', 'lost': True}
        )
        self.assertEqual(1, len(inventory.gpus))
        self.assertEqual(1, inventory.unreachable[0].index)


class TestOptionalQueries(testtools.TestCase):
    def test_failing_memory_release_is_a_warning(self):
        for failure in ('NOT_SUPPORTED', 'UNKNOWN'):
            lib = fake.FakeMtmlLibrary(
                fake.mthreads_host({'model': 'MTT-S4000'})
            )
            lib.fail('mtmlDeviceFreeMemory', failure)
            gpu = mthreads.MtmlBackend(library=lib).discover().gpus[0]
            self.assertEqual(1, len(gpu.warnings))
            self.assertEqual(49152, gpu.memory_mib)

    def test_missing_functions_that_do_not_identify(self):
        for symbol in (
            'mtmlDeviceFreeMemory',
            'mtmlLibraryInitSystem',
            'mtmlSystemGetDriverVersion',
        ):
            lib = fake.FakeMtmlLibrary(
                fake.mthreads_host({'model': 'MTT-S4000'})
            )
            lib.remove(symbol)
            inventory = mthreads.MtmlBackend(library=lib).discover()
            self.assertEqual(['MTT S4000'], [g.name for g in inventory.gpus])
            self.assertEqual((), inventory.unreachable, symbol)

    def test_identifying_query_makes_a_gpu_unreachable(self):
        lib = fake.FakeMtmlLibrary(fake.mthreads_host({'model': 'MTT-S4000'}))
        lib.remove('mtmlDeviceGetUUID')
        inventory = mthreads.MtmlBackend(library=lib).discover()
        self.assertEqual((), inventory.gpus)
        self.assertIn('Function Not Found', inventory.unreachable[0].error)


class TestWholeFailures(testtools.TestCase):
    def test_driver_not_loaded(self):
        err = self.assertRaises(
            exception.AcceleratorLibraryUnavailable,
            discover,
            {'model': 'MTT-S4000'},
            library='driver-not-loaded',
        )
        self.assertFalse(err.missing)
        self.assertIn('mtgpu', str(err))

    def test_absent_library_is_missing(self):
        err = self.assertRaises(
            exception.AcceleratorLibraryUnavailable,
            mthreads.MtmlBackend(
                library_path='/nonexistent/libmtml.so'
            ).discover,
        )
        self.assertTrue(err.missing)


class TestCalls(testtools.TestCase):
    def test_every_binding_call_is_counted(self):
        lib, inventory = discover({'model': 'MTT-S4000', 'count': 2})
        # One C call per pymtml call; the shutdown ends the pass uncounted.
        self.assertEqual(
            sum(lib.calls.values()) - lib.calls['mtmlLibraryShutDown'],
            inventory.calls,
        )
