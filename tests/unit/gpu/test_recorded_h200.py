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

"""The simulated NVML against what a real H200 answered.

``recorded/h200-sxm-580.159.04`` holds the answers of a real H200 SXM to
every query the driver's seam makes (``tools/real_gpu_check.sh``). The
same probe, run against the simulated library for the catalogue's
``H200-SXM5-141GB``, must give the same answers wherever they belong to
the model and the driver rather than to that machine (its UUID, PCI slot,
free memory, the VM it ran in).
"""

import importlib.util
import json
import pathlib

import pynvml
import testtools

from orionx_cyborg.gpu.fake import catalogue

_HERE = pathlib.Path(__file__).parent
_RECORDED = _HERE / 'recorded' / 'h200-sxm-580.159.04'
_PROBE = _HERE.parents[2] / 'tools' / 'nvml_probe.py'

#: Per-GPU answers that describe the model and driver, not the machine.
_MODEL_QUERIES = (
    'nvmlDeviceGetName',
    'nvmlDeviceGetCudaComputeCapability',
    'nvmlDeviceGetMigMode',
    'nvmlDeviceGetMaxMigDeviceCount',
    'nvmlDeviceGetAttributes',
    'nvmlDeviceGetHostVgpuMode',
    'nvmlDeviceGetSupportedVgpus',
    'nvmlDeviceGetCreatableVgpus',
    'nvmlDeviceGetRemappedRows',
    'ecc_uncorrected',
)


def _load_probe():
    spec = importlib.util.spec_from_file_location('nvml_probe', _PROBE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class TestSimulatedH200MatchesRecordedH200(testtools.TestCase):
    def setUp(self):
        super().setUp()
        self.recorded = json.loads((_RECORDED / 'nvml.json').read_text())
        probe = _load_probe()
        saved = (pynvml.nvmlLib, pynvml._nvmlLib_refcount)
        pynvml.nvmlLib = probe._simulated_library('H200-SXM5-141GB')
        pynvml._nvmlGetFunctionPointer_cache.clear()
        try:
            self.simulated = probe.probe()
        finally:
            pynvml.nvmlLib, pynvml._nvmlLib_refcount = saved
            pynvml._nvmlGetFunctionPointer_cache.clear()
        self.real_gpu = self.recorded['gpus'][0]
        self.sim_gpu = self.simulated['gpus'][0]

    def test_model_answers_match(self):
        for query in _MODEL_QUERIES:
            self.assertEqual(self.real_gpu[query], self.sim_gpu[query], query)

    def test_pci_identity_matches(self):
        real = self.real_gpu['nvmlDeviceGetPciInfo']['value']
        sim = self.sim_gpu['nvmlDeviceGetPciInfo']['value']
        for field in ('pciDeviceId', 'pciSubSystemId'):
            self.assertEqual(hex(real[field]), hex(sim[field]), field)

    def test_memory_total_matches(self):
        self.assertEqual(
            self.real_gpu['nvmlDeviceGetMemoryInfo']['value']['total'],
            self.sim_gpu['nvmlDeviceGetMemoryInfo']['value']['total'],
        )

    def test_mig_profiles_match_what_the_driver_offers(self):
        model = catalogue.get_model('H200-SXM5-141GB')
        offered = {
            answer['value']['name'].removeprefix('MIG '): answer['value']
            for answer in self.real_gpu['mig_profiles'].values()
        }
        self.assertEqual(
            sorted(offered), sorted(p.name for p in model.mig_profiles)
        )
        for profile in model.mig_profiles:
            real = offered[profile.name]
            self.assertEqual(
                (
                    real['id'],
                    real['sliceCount'],
                    real['instanceCount'],
                    real['memorySizeMB'],
                    real['multiprocessorCount'],
                ),
                (
                    profile.profile_id,
                    profile.slices,
                    profile.instances,
                    profile.memory_mib,
                    profile.multiprocessors,
                ),
                profile.name,
            )
