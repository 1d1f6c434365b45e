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

"""The NVML seam, through the real pynvml and the simulated library."""

import ctypes
import dataclasses

import pynvml
import testtools

from orionx_cyborg import exception
from orionx_cyborg.gpu import models
from orionx_cyborg.gpu import nvml
from orionx_cyborg.gpu.fake import catalogue
from orionx_cyborg.gpu.fake import library
from orionx_cyborg.gpu.fake import topology

H200 = catalogue.H200_SXM5_141GB


def host(*gpus, **kwargs):
    return topology.host_from_mapping('gpu1', dict(kwargs, gpus=list(gpus)))


class TestDiscovery(testtools.TestCase):
    def discover(self, simulated, **kwargs):
        self.lib = library.FakeNvmlLibrary(simulated)
        self.backend = nvml.NvmlBackend(library=self.lib, **kwargs)
        self.addCleanup(self.backend.close)
        return self.backend.discover()

    def test_every_catalogue_model_reads_back(self):
        for model in catalogue.MODELS.values():
            inventory = self.discover(host({'model': model.key}))
            gpu = inventory.gpus[0]
            self.assertEqual(model.name, gpu.name)
            self.assertEqual('%04x' % model.pci_device_id, gpu.pci_device_id)
            self.assertEqual(model.memory_mib, gpu.memory_mib)
            self.assertEqual(
                models.ComputeCapability(*model.compute_capability),
                gpu.compute_capability,
            )
            self.assertEqual('10de', gpu.vendor_id)
            self.assertTrue(gpu.uuid.startswith('GPU-'))

    def test_pci_address_is_normalised_from_nvml_bus_id(self):
        inventory = self.discover(
            host({'model': 'T4', 'pci_address': '0000:af:00.0'})
        )
        # NVML reports "00000000:AF:00.0"; the model keeps 4 lower digits.
        self.assertEqual('0000:af:00.0', str(inventory.gpus[0].pci_address))

    def test_indexes_follow_pci_order(self):
        inventory = self.discover(
            host(
                {'model': 'T4', 'pci_address': '0000:3b:00.0'},
                {'model': 'T4', 'pci_address': '0000:1a:00.0'},
            )
        )
        self.assertEqual(
            [(0, '0000:1a:00.0'), (1, '0000:3b:00.0')],
            [(g.index, str(g.pci_address)) for g in inventory.gpus],
        )

    def test_driver_version_and_call_count(self):
        inventory = self.discover(
            host({'model': 'T4'}, driver_version='570.1.2')
        )
        self.assertEqual('570.1.2', inventory.driver_version)
        # One C call per pynvml call here (no two-call size protocol).
        self.assertEqual(sum(self.lib.calls.values()), inventory.calls)

    def test_mig_devices(self):
        inventory = self.discover(
            host(
                {
                    'model': H200.key,
                    'mig_devices': ['3g.71gb', '1g.18gb'],
                }
            )
        )
        gpu = inventory.gpus[0]
        self.assertTrue(gpu.mig_enabled)
        self.assertEqual(
            ['3g.71gb', '1g.18gb'], [m.profile for m in gpu.mig_devices]
        )
        self.assertEqual(
            H200.mig_profile('3g.71gb').memory_mib,
            gpu.mig_devices[0].memory_mib,
        )
        self.assertEqual([1, 2], [m.gpu_instance_id for m in gpu.mig_devices])
        self.assertTrue(
            all(m.uuid.startswith('MIG-') for m in gpu.mig_devices)
        )

    def test_mig_not_supported_is_not_an_error(self):
        gpu = self.discover(host({'model': 'L40S'})).gpus[0]
        self.assertFalse(gpu.mig_enabled)
        self.assertEqual((), gpu.mig_devices)

    def test_no_vgpu_manager_means_no_vgpu_facts(self):
        gpu = self.discover(host({'model': H200.key})).gpus[0]
        self.assertEqual(
            models.VirtualizationMode.NONE, gpu.virtualization_mode
        )
        self.assertEqual(models.HostVgpuMode.NONE, gpu.host_vgpu_mode)
        self.assertEqual((), gpu.vgpu_types)

    def test_vgpu_types_on_sriov_host(self):
        gpu = self.discover(
            host(
                {'model': H200.key, 'vf_vgpu_types': ['NVIDIA H200X-35C'] * 2},
                vgpu_manager=True,
            )
        ).gpus[0]
        self.assertEqual(
            models.VirtualizationMode.HOST_VGPU, gpu.virtualization_mode
        )
        self.assertEqual(models.HostVgpuMode.SRIOV, gpu.host_vgpu_mode)
        by_name = {t.name: t for t in gpu.vgpu_types}
        # Not in MIG mode: time-sliced types only.
        self.assertNotIn('NVIDIA H200X-1-18C', by_name)
        h35 = by_name['NVIDIA H200X-35C']
        self.assertEqual(35 * 1024, h35.framebuffer_mib)
        self.assertEqual(4, h35.max_instances)
        self.assertIsNone(h35.gpu_instance_profile_id)
        # Homogeneous: only the type in use is still creatable.
        self.assertEqual(
            {'NVIDIA H200X-35C'},
            {t.name for t in gpu.vgpu_types if t.creatable},
        )

    def test_mig_backed_vgpu_types(self):
        gpu = self.discover(
            host(
                {'model': H200.key, 'mig_enabled': True},
                vgpu_manager=True,
            )
        ).gpus[0]
        profiles = {t.name: t.gpu_instance_profile_id for t in gpu.vgpu_types}
        self.assertEqual(19, profiles['NVIDIA H200X-1-18C'])
        self.assertNotIn('NVIDIA H200X-35C', profiles)

    def test_mdev_host_mode_on_turing(self):
        gpu = self.discover(host({'model': 'T4'}, vgpu_manager=True)).gpus[0]
        self.assertEqual(models.HostVgpuMode.MDEV, gpu.host_vgpu_mode)
        self.assertIn('NVIDIA T4-2Q', [t.name for t in gpu.vgpu_types])

    def test_host_vgpu_mode_missing_from_old_driver_means_mdev(self):
        simulated = host({'model': H200.key}, vgpu_manager=True)
        lib = library.FakeNvmlLibrary(simulated)
        backend = nvml.NvmlBackend(
            library=_Without(lib, 'nvmlDeviceGetHostVgpuMode')
        )
        self.addCleanup(backend.close)
        gpu = backend.discover().gpus[0]
        self.assertEqual(models.HostVgpuMode.MDEV, gpu.host_vgpu_mode)

    def test_ecc_and_row_remapping_make_a_gpu_unhealthy(self):
        inventory = self.discover(
            host(
                {'model': H200.key, 'ecc_uncorrected': 3},
                {'model': H200.key, 'remap_failure': True},
                {'model': H200.key},
            )
        )
        health = [g.health for g in inventory.gpus]
        self.assertEqual(('3 uncorrectable ECC errors',), health[0].reasons)
        self.assertFalse(health[0].healthy)
        self.assertEqual(('row remapping failed',), health[1].reasons)
        self.assertTrue(health[2].healthy)

    def test_lost_gpu_is_unreachable_and_others_are_described(self):
        inventory = self.discover(
            host(
                {'model': H200.key, 'count': 2},
                {'model': H200.key, 'lost': True},
            )
        )
        self.assertEqual(2, len(inventory.gpus))
        self.assertEqual(1, len(inventory.unreachable))
        self.assertEqual(2, inventory.unreachable[0].index)
        self.assertEqual('GPU is lost', inventory.unreachable[0].error)

    def test_injected_error_on_one_call_of_one_gpu(self):
        simulated = host({'model': H200.key, 'count': 2})
        self.lib = library.FakeNvmlLibrary(simulated)
        self.lib.fail(
            'nvmlDeviceGetMemoryInfo',
            'UNKNOWN',
            pci_address='0000:2a:00.0',
            times=1,
        )
        backend = nvml.NvmlBackend(library=self.lib)
        self.addCleanup(backend.close)
        first = backend.discover()
        self.assertEqual(
            ['0000:18:00.0'], [str(g.pci_address) for g in first.gpus]
        )
        self.assertEqual('Unknown Error', first.unreachable[0].error)
        second = backend.discover()
        self.assertEqual(2, len(second.gpus))

    def test_missing_symbol_of_optional_fact(self):
        simulated = host({'model': H200.key})
        backend = nvml.NvmlBackend(
            library=_Without(
                library.FakeNvmlLibrary(simulated), 'nvmlDeviceGetNumaNodeId'
            )
        )
        self.addCleanup(backend.close)
        self.assertIsNone(backend.discover().gpus[0].numa_node)

    def test_missing_symbol_of_required_fact_makes_gpu_unreachable(self):
        simulated = host({'model': H200.key})
        backend = nvml.NvmlBackend(
            library=_Without(
                library.FakeNvmlLibrary(simulated), 'nvmlDeviceGetUUID'
            )
        )
        self.addCleanup(backend.close)
        inventory = backend.discover()
        self.assertEqual((), inventory.gpus)
        self.assertIn('Function Not Found', inventory.unreachable[0].error)

    def test_gpu_bound_to_vfio_is_not_enumerated(self):
        inventory = self.discover(
            host(
                {'model': 'T4'},
                {'model': 'T4', 'driver': 'vfio-pci'},
            )
        )
        self.assertEqual(1, len(inventory.gpus))

    def test_pynvml_globals_are_restored(self):
        self.discover(host({'model': 'T4'}))
        self.assertIsNone(pynvml.nvmlLib)
        self.assertEqual({}, pynvml._nvmlGetFunctionPointer_cache)


class TestWholeFailures(testtools.TestCase):
    def backend_for(self, simulated):
        self.lib = library.FakeNvmlLibrary(simulated)
        backend = nvml.NvmlBackend(library=self.lib)
        self.addCleanup(backend.close)
        return backend

    def test_library_not_found(self):
        backend = self.backend_for(host(nvml='library-missing'))
        err = self.assertRaises(exception.NvmlUnavailable, backend.discover)
        self.assertIn('NVML Shared Library Not Found', str(err))
        self.assertIn('[orionx_gpu] nvml_library', str(err))

    def test_driver_not_loaded(self):
        backend = self.backend_for(host(nvml='driver-not-loaded'))
        err = self.assertRaises(exception.NvmlUnavailable, backend.discover)
        self.assertIn('kernel driver is not loaded', str(err))

    def test_real_loader_failure_is_converted(self):
        backend = nvml.NvmlBackend(library_path='/nonexistent/libnvml.so')
        err = self.assertRaises(exception.NvmlUnavailable, backend.discover)
        self.assertIn('/nonexistent/libnvml.so', str(err))

    def test_default_library_absent_on_this_machine(self):
        # CI machines have no NVIDIA driver: pynvml's own loader fails.
        try:
            ctypes.CDLL('libnvidia-ml.so.1')
        except OSError:
            pass
        else:
            self.skipTest('this machine has a real NVML')
        backend = nvml.NvmlBackend()
        err = self.assertRaises(exception.NvmlUnavailable, backend.discover)
        self.assertIn('NVML error 12', str(err))

    def test_failure_after_success_names_the_new_cause(self):
        simulated = host({'model': 'T4'})
        backend = self.backend_for(simulated)
        self.assertEqual(1, len(backend.discover().gpus))
        self.lib.load(dataclasses.replace(simulated, nvml='driver-not-loaded'))
        err = self.assertRaises(exception.NvmlUnavailable, backend.discover)
        self.assertIn('Driver Not Loaded', str(err))
        self.lib.load(simulated)
        self.assertEqual(1, len(backend.discover().gpus))

    def test_enumeration_failure(self):
        backend = self.backend_for(host({'model': 'T4'}, nvml='failing'))
        err = self.assertRaises(exception.NvmlUnavailable, backend.discover)
        self.assertIn('Unknown Error', str(err))

    def test_nvml_stays_initialised_between_passes(self):
        backend = self.backend_for(host({'model': 'T4'}))
        backend.discover()
        backend.discover()
        self.assertEqual(1, self.lib.calls['nvmlInitWithFlags'])
        backend.close()
        self.assertEqual(1, self.lib.calls['nvmlShutdown'])


class TestHealthEvents(testtools.TestCase):
    def test_critical_xid_is_reported_once(self):
        simulated = host(
            {'model': H200.key}, {'model': H200.key, 'xid_events': [79, 13]}
        )
        backend = nvml.NvmlBackend(library=library.FakeNvmlLibrary(simulated))
        self.addCleanup(backend.close)
        first = backend.discover()
        self.assertEqual(
            [
                models.HealthEvent(
                    models.PciAddress.parse('0000:2a:00.0'), 'xid 79'
                )
            ],
            list(first.health_events),
        )
        self.assertEqual((), backend.discover().health_events)

    def test_ignored_xids_are_configurable(self):
        simulated = host({'model': H200.key, 'xid_events': [79, 48]})
        backend = nvml.NvmlBackend(
            library=library.FakeNvmlLibrary(simulated),
            ignored_xids=frozenset({79}),
        )
        self.addCleanup(backend.close)
        self.assertEqual(
            ['xid 48'], [e.reason for e in backend.discover().health_events]
        )


class _Without:
    """A library that lacks one symbol, like an older driver."""

    def __init__(self, lib, symbol):
        self._lib = lib
        self._symbol = symbol

    def __getattr__(self, name):
        if name == self._symbol:
            raise AttributeError(name)
        return getattr(self._lib, name)


# Queries that do not identify a GPU, with the simulated host on which each
# is asked: a failure of any of them must leave the GPU described.
_MIG_HOST = {'model': H200.key, 'mig_devices': ['3g.71gb', '1g.18gb']}
_H200_TYPE = next(t.name for t in H200.vgpu_types if t.mig_profile_id is None)
_VGPU_HOST = {'model': H200.key, 'vf_vgpu_types': [_H200_TYPE]}
_IN_SECTION = {
    # Asked only once the GPU said it has MIG or vGPU: a failure is a
    # fault, reported as a warning.
    'nvmlDeviceGetMaxMigDeviceCount': _MIG_HOST,
    'nvmlDeviceGetMigDeviceHandleByIndex': _MIG_HOST,
    'nvmlDeviceGetAttributes_v2': _MIG_HOST,
    'nvmlDeviceGetGpuInstanceId': _MIG_HOST,
    'nvmlDeviceGetComputeInstanceId': _MIG_HOST,
    'nvmlDeviceGetSupportedVgpus': _VGPU_HOST,
    'nvmlDeviceGetCreatableVgpus': _VGPU_HOST,
    'nvmlVgpuTypeGetName': _VGPU_HOST,
    'nvmlVgpuTypeGetFramebufferSize': _VGPU_HOST,
    'nvmlVgpuTypeGetMaxInstances': _VGPU_HOST,
}
_PROBES = {
    # Capability questions: "not supported" is an answer; other errors
    # are reported as warnings.
    'nvmlDeviceGetMigMode': _MIG_HOST,
    'nvmlDeviceGetVirtualizationMode': _VGPU_HOST,
    'nvmlDeviceGetHostVgpuMode': _VGPU_HOST,
    'nvmlVgpuTypeGetClass': _VGPU_HOST,
    'nvmlVgpuTypeGetGpuInstanceProfileId': _VGPU_HOST,
    'nvmlDeviceGetCudaComputeCapability': _MIG_HOST,
    'nvmlDeviceGetNumaNodeId': _MIG_HOST,
    'nvmlDeviceGetTotalEccErrors': _MIG_HOST,
    'nvmlDeviceGetRemappedRows': _MIG_HOST,
}
_MESSAGES = {
    'NOT_SUPPORTED': 'Not Supported',
    'FUNCTION_NOT_FOUND': 'Function Not Found',
    'UNKNOWN': 'Unknown Error',
}
_HOST_WIDE = (
    'nvmlSystemGetDriverVersion',
    'nvmlEventSetCreate',
    'nvmlDeviceGetSupportedEventTypes',
    'nvmlDeviceRegisterEvents',
    'nvmlEventSetWait_v2',
)


class TestOptionalQueriesNeverDropAGpu(testtools.TestCase):
    def discover(self, gpu, symbol, error):
        simulated = host(gpu, {'model': 'L40S'}, vgpu_manager=True)
        lib = library.FakeNvmlLibrary(simulated)
        lib.fail(symbol, error)
        backend = nvml.NvmlBackend(library=lib)
        self.addCleanup(backend.close)
        inventory = backend.discover()
        self.assertGreater(lib.calls[symbol], 0, symbol)
        self.assertEqual((), inventory.unreachable, symbol)
        self.assertEqual(
            [H200.name, 'NVIDIA L40S'], [g.name for g in inventory.gpus]
        )
        self.assertEqual(H200.memory_mib, inventory.gpus[0].memory_mib)
        return inventory.gpus[0]

    def test_in_section_failure_is_a_warning(self):
        for symbol, gpu in _IN_SECTION.items():
            for error in ('NOT_SUPPORTED', 'FUNCTION_NOT_FOUND', 'UNKNOWN'):
                described = self.discover(gpu, symbol, error)
                self.assertTrue(described.warnings, (symbol, error))
                text = ' '.join(described.warnings)
                self.assertIn(_MESSAGES[error], text, symbol)

    def test_probe_not_supported_is_quiet_other_errors_warn(self):
        for symbol, gpu in _PROBES.items():
            for error in ('NOT_SUPPORTED', 'FUNCTION_NOT_FOUND'):
                described = self.discover(gpu, symbol, error)
                self.assertEqual((), described.warnings, (symbol, error))
            described = self.discover(gpu, symbol, 'UNKNOWN')
            self.assertTrue(described.warnings, symbol)
            for warning in described.warnings:
                self.assertIn('Unknown Error', warning)

    def test_host_wide_queries(self):
        for symbol in _HOST_WIDE:
            for error in ('NOT_SUPPORTED', 'FUNCTION_NOT_FOUND', 'UNKNOWN'):
                described = self.discover(_MIG_HOST, symbol, error)
                self.assertEqual((), described.warnings, (symbol, error))

    def test_mig_attributes_missing_keeps_the_mig_devices(self):
        # A library without nvmlDeviceGetAttributes_v2: the GPU and its
        # MIG devices stay, only their memory is unknown.
        simulated = host(_MIG_HOST)
        backend = nvml.NvmlBackend(
            library=_Without(
                library.FakeNvmlLibrary(simulated),
                'nvmlDeviceGetAttributes_v2',
            )
        )
        self.addCleanup(backend.close)
        gpu = backend.discover().gpus[0]
        self.assertTrue(gpu.mig_enabled)
        self.assertEqual(
            ['3g.71gb', '1g.18gb'], [m.profile for m in gpu.mig_devices]
        )
        self.assertEqual([None, None], [m.memory_mib for m in gpu.mig_devices])
        self.assertEqual([1, 2], [m.gpu_instance_id for m in gpu.mig_devices])
        self.assertEqual(
            [
                'MIG device 0 attributes: Function Not Found',
                'MIG device 1 attributes: Function Not Found',
            ],
            list(gpu.warnings),
        )

    def test_lost_gpu_during_optional_query_is_unreachable(self):
        simulated = host({'model': H200.key})
        lib = library.FakeNvmlLibrary(simulated)
        lib.fail('nvmlDeviceGetNumaNodeId', 'GPU_IS_LOST')
        backend = nvml.NvmlBackend(library=lib)
        self.addCleanup(backend.close)
        inventory = backend.discover()
        self.assertEqual((), inventory.gpus)
        self.assertEqual('GPU is lost', inventory.unreachable[0].error)
