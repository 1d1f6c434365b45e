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

"""Several vendor seams on one host, each over its simulated library."""

import fixtures
import testtools

from orionx_cyborg import exception
from orionx_cyborg.gpu import amd
from orionx_cyborg.gpu import backends
from orionx_cyborg.gpu import nvml
from orionx_cyborg.gpu.fake import amd as fake_amd
from orionx_cyborg.gpu.fake import library
from orionx_cyborg.gpu.fake import topology


def nvidia(state='ok', *gpus):
    simulated = topology.host_from_mapping(
        'mixed', {'nvml': state, 'gpus': list(gpus)}
    )
    return nvml.NvmlBackend(library=library.FakeNvmlLibrary(simulated))


def amd_backend(*gpus, **kwargs):
    return amd.AmdSmiBackend(
        library=fake_amd.FakeAmdSmiLibrary(fake_amd.amd_host(*gpus, **kwargs))
    )


class TestMultiVendorBackend(testtools.TestCase):
    def discover(self, *seams):
        backend = backends.MultiVendorBackend(seams)
        self.addCleanup(backend.close)
        return backend.discover()

    def test_one_inventory_of_every_vendor(self):
        inventory = self.discover(
            nvidia('ok', {'model': 'H200-SXM5-141GB', 'count': 2}),
            amd_backend({'model': 'MI300X', 'count': 2}),
        )
        self.assertEqual('nvml+amdsmi', inventory.backend)
        self.assertEqual(
            ['10de', '10de', '1002', '1002'],
            [g.vendor_id for g in inventory.gpus],
        )
        self.assertEqual((), inventory.failures)

    def test_missing_library_is_normal(self):
        inventory = self.discover(
            nvidia('library-missing'), amd_backend({'model': 'MI210'})
        )
        self.assertEqual(
            ['AMD Instinct MI210'], [g.name for g in inventory.gpus]
        )
        self.assertEqual((), inventory.failures)

    def test_failing_library_beside_a_working_one(self):
        inventory = self.discover(
            nvidia('ok', {'model': 'T4'}),
            amd_backend({'model': 'MI300X'}, library='driver-not-loaded'),
        )
        self.assertEqual(['Tesla T4'], [g.name for g in inventory.gpus])
        self.assertEqual(('1002',), inventory.failed_vendors)
        self.assertIn('DRIVER_NOT_LOADED', inventory.failures[0])

    def test_every_library_missing_raises_the_first(self):
        err = self.assertRaises(
            exception.AcceleratorLibraryUnavailable,
            self.discover,
            nvidia('library-missing'),
            amd.AmdSmiBackend(library_path='/nonexistent/libamd_smi.so'),
        )
        self.assertTrue(err.missing)
        self.assertIsInstance(err, exception.NvmlUnavailable)

    def test_a_real_failure_wins_over_missing_libraries(self):
        err = self.assertRaises(
            exception.AcceleratorLibraryUnavailable,
            self.discover,
            nvidia('library-missing'),
            amd_backend({'model': 'MI300X'}, library='no-permission'),
        )
        self.assertFalse(err.missing)
        self.assertIn('/dev/kfd', str(err))


class TestFactory(testtools.TestCase):
    def test_one_seam_is_returned_as_is(self):
        backend, root = backends.make_backend(
            'h', '/tmp', vendor_libraries=('nvml',)
        )
        self.assertIsInstance(backend, nvml.NvmlBackend)
        self.assertIsNone(root)

    def test_several_seams_are_merged(self):
        backend, _ = backends.make_backend(
            'h', '/tmp', vendor_libraries=backends.VENDOR_LIBRARIES
        )
        self.assertEqual('nvml+amdsmi+dcmi+mtml', backend.name)


class TestMissingLibraryLogging(testtools.TestCase):
    def test_said_once_at_info_then_at_debug(self):
        logs = self.useFixture(
            fixtures.FakeLogger(
                name='orionx_cyborg.gpu.backends',
                level='DEBUG',
                format='%(levelname)s %(message)s',
            )
        )
        backend = backends.MultiVendorBackend(
            [
                nvidia('ok', {'model': 'T4'}),
                amd.AmdSmiBackend(library_path='/nonexistent/libamd_smi.so'),
            ]
        )
        self.addCleanup(backend.close)
        backend.discover()
        backend.discover()
        lines = [
            line for line in logs.output.splitlines() if 'No amdsmi' in line
        ]
        self.assertEqual(
            ['INFO', 'DEBUG'], [line.split()[0] for line in lines]
        )
