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

"""The NVIDIA catalogue against rows of NVIDIA's published vGPU tables.

The expected values are copied from "NVIDIA AI Enterprise and NVIDIA vGPU
(C-Series)" (NVIDIA AI Enterprise 6), the document the catalogue cites.
"""

import testtools

from orionx_cyborg.gpu.fake import catalogue


def _time_sliced(model):
    return {
        t.name: (t.framebuffer_mib, t.max_instances)
        for t in model.vgpu_types
        if t.mig_profile_id is None and t.type_class == 'Compute'
    }


def _mig_backed(model):
    return {
        t.name: (t.framebuffer_mib, t.max_instances)
        for t in model.vgpu_types
        if t.mig_profile_id is not None
    }


class TestNvidiaTables(testtools.TestCase):
    def test_h200_sxm5_time_sliced_table_90(self):
        self.assertEqual(
            {
                'NVIDIA H200X-141C': (144384, 1),
                'NVIDIA H200X-70C': (71680, 2),
                'NVIDIA H200X-35C': (35840, 4),
                'NVIDIA H200X-28C': (28672, 5),
                'NVIDIA H200X-17C': (17408, 8),
                'NVIDIA H200X-14C': (14336, 10),
                'NVIDIA H200X-8C': (8192, 16),
                'NVIDIA H200X-7C': (7168, 20),
                'NVIDIA H200X-4C': (4096, 32),
            },
            _time_sliced(catalogue.H200_SXM5_141GB),
        )

    def test_h200_sxm5_mig_backed_table_89(self):
        self.assertEqual(
            {
                'NVIDIA H200X-7-141C': (144384, 1),
                'NVIDIA H200X-4-71C': (72704, 1),
                'NVIDIA H200X-3-71C': (72704, 2),
                'NVIDIA H200X-2-35C': (35840, 3),
                'NVIDIA H200X-1-35C': (35840, 4),
                'NVIDIA H200X-1-18C': (18432, 7),
                'NVIDIA H200X-1-18CME': (18432, 1),
            },
            _mig_backed(catalogue.H200_SXM5_141GB),
        )

    def test_h200_nvl_uses_the_plain_prefix(self):
        names = set(_time_sliced(catalogue.H200_NVL_141GB))
        self.assertIn('NVIDIA H200-35C', names)
        self.assertNotIn('NVIDIA H200-16C', names)
        self.assertFalse([n for n in names if 'H200X' in n])

    def test_h100_sxm5_80gb_tables_97_98(self):
        self.assertEqual(
            {
                'NVIDIA H100XM-80C': (81920, 1),
                'NVIDIA H100XM-40C': (40960, 2),
                'NVIDIA H100XM-20C': (20480, 4),
                'NVIDIA H100XM-16C': (16384, 6),
                'NVIDIA H100XM-10C': (10240, 8),
                'NVIDIA H100XM-8C': (8192, 10),
                'NVIDIA H100XM-5C': (5120, 16),
                'NVIDIA H100XM-4C': (4096, 20),
            },
            _time_sliced(catalogue.H100_SXM5_80GB),
        )
        self.assertEqual(
            (10240, 1),
            _mig_backed(catalogue.H100_SXM5_80GB)['NVIDIA H100XM-1-10CME'],
        )

    def test_a100_hgx_tables_70_and_74(self):
        self.assertEqual(
            {
                'NVIDIA A100DX-80C': (81920, 1),
                'NVIDIA A100DX-40C': (40960, 2),
                'NVIDIA A100DX-20C': (20480, 4),
                'NVIDIA A100DX-16C': (16384, 5),
                'NVIDIA A100DX-10C': (10240, 8),
                'NVIDIA A100DX-8C': (8192, 10),
                'NVIDIA A100DX-4C': (4096, 20),
            },
            _time_sliced(catalogue.A100_SXM4_80GB),
        )
        self.assertEqual(
            {
                'NVIDIA A100X-40C': (40960, 1),
                'NVIDIA A100X-20C': (20480, 2),
                'NVIDIA A100X-10C': (10240, 4),
                'NVIDIA A100X-8C': (8192, 5),
                'NVIDIA A100X-5C': (5120, 8),
                'NVIDIA A100X-4C': (4096, 10),
            },
            _time_sliced(catalogue.A100_SXM4_40GB),
        )

    def test_l40s_and_t4_c_series_tables_39_and_105(self):
        self.assertEqual(
            {
                'NVIDIA L40S-48C': (49152, 1),
                'NVIDIA L40S-24C': (24576, 2),
                'NVIDIA L40S-16C': (16384, 3),
                'NVIDIA L40S-12C': (12288, 4),
                'NVIDIA L40S-8C': (8192, 6),
                'NVIDIA L40S-6C': (6144, 8),
                'NVIDIA L40S-4C': (4096, 12),
            },
            _time_sliced(catalogue.L40S),
        )
        self.assertEqual(
            {
                'NVIDIA T4-16C': (16384, 1),
                'NVIDIA T4-8C': (8192, 2),
                'NVIDIA T4-4C': (4096, 4),
            },
            _time_sliced(catalogue.T4),
        )

    def test_every_mig_profile_has_its_mig_backed_type(self):
        for model in catalogue.MODELS.values():
            backed = {
                t.mig_profile_id: t.max_instances
                for t in model.vgpu_types
                if t.mig_profile_id is not None
            }
            for profile in model.mig_profiles:
                self.assertEqual(
                    profile.instances,
                    backed.get(profile.profile_id),
                    '%s %s' % (model.key, profile.name),
                )

    def test_type_names_and_ids_are_unique(self):
        seen = {}
        for model in catalogue.MODELS.values():
            for spec in model.vgpu_types:
                other = seen.setdefault(spec.type_id, spec.name)
                self.assertEqual(other, spec.name, spec.type_id)
