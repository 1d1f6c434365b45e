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

"""Whether Cyborg's report can ever serve a profile, and why not."""

import yaml

from orionx_cyborg.profiles import model
from tests import base
from tests.unit.profiles import fakes


def profile(body):
    document = {'profiles': [dict(body, name='p')]}
    return model.parse(yaml.safe_load(yaml.safe_dump(document))).profile('p')


class TestWholeGpusAndVgpus(base.TestCase):
    def setUp(self):
        super().setUp()
        self.inventory = fakes.fleet().inventory()

    def check(self, body):
        return self.inventory.check(profile(body))

    def test_satisfiable(self):
        for body in (
            {'whole_gpu': {'model': 'H200', 'count': 2}},
            {'whole_gpu': {'product_id': '20b2'}},
            {'vgpu': {'type': 'NVIDIA H200X-35C'}},
            {'whole_gpu': {}},
        ):
            verdict = self.check(body)
            self.assertEqual(
                ((), ()), (verdict.errors, verdict.warnings), body
            )

    def test_unknown_model_lists_what_is_reported(self):
        (error,) = self.check({'whole_gpu': {'model': 'H100'}}).errors
        self.assertEqual(
            'no PGPU provider has CUSTOM_GPU_MODEL_H100 (reported: '
            'CUSTOM_GPU_MODEL_A100_SXM4_80GB x1, CUSTOM_GPU_MODEL_H200 x2)',
            error,
        )

    def test_more_gpus_than_any_host_has(self):
        (error,) = self.check(
            {'whole_gpu': {'model': 'H200', 'count': 3}}
        ).errors
        self.assertEqual(
            'it needs 3 PGPU providers with CUSTOM_GPU_MODEL_H200 on one '
            'host; the most on one host is 2 (gpu1)',
            error,
        )

    def test_vgpu_type_not_offered(self):
        (error,) = self.check({'vgpu': {'type': 'NVIDIA H200X-70C'}}).errors
        self.assertIn(
            'no VGPU provider has CUSTOM_NVIDIA_VGPU_H200X_70C '
            '(reported: CUSTOM_NVIDIA_VGPU_H200X_35C x1)',
            error,
        )

    def test_no_gpu_in_the_mode(self):
        report = fakes.Report().entitlement('cpu1', 2)
        (error,) = (
            report.inventory()
            .check(profile({'vgpu': {'type': 'NVIDIA H200X-35C'}}))
            .errors
        )
        self.assertEqual(
            'no resource provider has resource class VGPU (no '
            'GPU in vgpu mode offers a vGPU type)',
            error,
        )

    def test_unhealthy_is_a_warning_only(self):
        report = fakes.Report().whole('gpu1', '0000:18:00.0', unhealthy=True)
        verdict = report.inventory().check(profile({'whole_gpu': {}}))
        self.assertEqual((), verdict.errors)
        self.assertIn('unhealthy', verdict.warnings[0])

    def test_nothing_reported(self):
        (error,) = (
            fakes.Report().inventory().check(profile({'whole_gpu': {}})).errors
        )
        self.assertIn('Cyborg reports no deployable at all', error)


class TestPooled(base.TestCase):
    def check(self, body, report=None):
        report = report or fakes.fleet()
        return report.inventory(('default', 'gold')).check(profile(body))

    def test_fits_a_member(self):
        verdict = self.check({'pooled': {'size': '100g-100pct'}})
        self.assertEqual(((), ()), (verdict.errors, verdict.warnings))

    def test_larger_than_every_member(self):
        (error,) = self.check({'pooled': {'size': '200g-25pct'}}).errors
        self.assertEqual(
            'no member GPU of pool default holds 204800 MiB '
            'and 25% (the largest have 142000 MiB and 100%)',
            error,
        )

    def test_memory_and_compute_must_fit_the_same_gpu(self):
        report = fakes.Report().entitlement('cpu1', 4)
        report.member('gpu1', '0000:18:00.0', 80000, compute=100)
        report.member('gpu1', '0000:2a:00.0', 20000, compute=400)
        (error,) = self.check(
            {'pooled': {'size': '50g-200pct'}}, report
        ).errors
        self.assertIn('holds 51200 MiB and 200%', error)
        self.assertEqual(
            (), self.check({'pooled': {'size': '50g-100pct'}}, report).errors
        )

    def test_pool_without_members_or_entitlement(self):
        (error,) = self.check(
            {'pooled': {'size': '1g-1pct', 'pool': 'gold'}}
        ).errors
        self.assertEqual(
            'no CUSTOM_ORIONX_VGPU provider has '
            'CUSTOM_ORIONX_POOL_GOLD (reported: '
            'CUSTOM_ORIONX_POOL_DEFAULT x3)',
            error,
        )
        report = fakes.fleet().entitlement('cpu2', 2, pool='gold')
        (error,) = self.check(
            {'pooled': {'size': '1g-1pct', 'pool': 'gold'}}, report
        ).errors
        self.assertEqual(
            'pool gold has no member GPU (no GPU in pool mode '
            'with [orionx_pool] name = gold)',
            error,
        )

    def test_more_vgpus_than_an_entitlement_holds(self):
        (error,) = self.check(
            {'pooled': {'size': '1g-1pct', 'count': 5}}
        ).errors
        self.assertIn(
            'it needs 5 CUSTOM_ORIONX_VGPU from one provider; the largest',
            error,
        )

    def test_gpu_constraints_narrow_the_members(self):
        verdict = self.check({'pooled': {'size': '8g-10pct', 'model': 'L40S'}})
        self.assertEqual(((), ()), (verdict.errors, verdict.warnings))
        (error,) = self.check(
            {'pooled': {'size': '100g-10pct', 'model': 'L40S'}}
        ).errors
        self.assertIn('the largest have 45000 MiB', error)
        (error,) = self.check(
            {'pooled': {'size': '8g-10pct', 'vendor': 'amd'}}
        ).errors
        self.assertEqual(
            'no member GPU of pool default meets +CUSTOM_GPU_AMD', error
        )

    def test_all_fitting_members_unhealthy(self):
        report = fakes.Report().entitlement('cpu1', 4)
        report.member('gpu1', '0000:18:00.0', 80000, unhealthy=True)
        verdict = self.check({'pooled': {'size': '8g-10pct'}}, report)
        self.assertEqual((), verdict.errors)
        self.assertEqual(
            ('every pool GPU that holds it is unhealthy now',),
            verdict.warnings,
        )

    def test_hosts_of_providers(self):
        inventory = fakes.fleet().inventory()
        hosts = {p.name: p.host for p in inventory.providers}
        self.assertEqual('gpu2', hosts['gpu2_0000_ab_00_0_GMEM'])
        self.assertEqual('cpu1', hosts['cpu1_ORIONX_VGPU_default'])
