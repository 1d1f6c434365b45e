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

"""The profiles file: parsing, checks and the request groups it gives."""

import os

import yaml

from orionx_cyborg.profiles import model
from tests import base

REPO = os.path.dirname(
    os.path.dirname(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    )
)
EXAMPLE = os.path.join(REPO, 'etc', 'orionx-cyborg', 'profiles.yaml')
DEVSTACK_SAMPLE = os.path.join(REPO, 'devstack', 'files', 'profiles.yaml')
UNHEALTHY = {'trait:CUSTOM_ORIONX_UNHEALTHY': 'forbidden'}


def parse(text):
    return model.parse(yaml.safe_load(text), 'test.yaml')


class TestGroups(base.TestCase):
    def test_whole_gpu_by_model_one_group_per_gpu(self):
        profiles = parse("""
profiles:
  - name: h200-2x
    whole_gpu: {model: NVIDIA H200, count: 2}
    flavors: [{name: g.h200.2x, vcpus: 4, ram: 1024}]
""")
        profile = profiles.profile('h200-2x')
        group = dict(
            {'resources:PGPU': '1', 'trait:CUSTOM_GPU_MODEL_H200': 'required'},
            **UNHEALTHY,
        )
        self.assertEqual([group, group], profile.groups())
        # Two groups must not share a provider.
        self.assertEqual(
            {'group_policy': 'isolate'}, profile.flavor_extra_specs()
        )

    def test_whole_gpu_by_product_id(self):
        profile = parse("""
profiles:
  - {name: l40s, whole_gpu: {product_id: 26b9}}
""").profile('l40s')
        group = profile.groups()[0]
        self.assertEqual('required', group['trait:CUSTOM_GPU_PRODUCT_ID_26B9'])

    def test_vgpu_type_trait_follows_the_driver(self):
        profile = parse("""
profiles:
  - {name: a100-20c, vgpu: {type: NVIDIA A100DX-20C}}
""").profile('a100-20c')
        self.assertEqual(
            [
                dict(
                    {
                        'resources:VGPU': '1',
                        'trait:CUSTOM_NVIDIA_VGPU_A100DX_20C': 'required',
                    },
                    **UNHEALTHY,
                )
            ],
            profile.groups(),
        )
        self.assertEqual({}, profile.flavor_extra_specs())

    def test_pooled_size_in_one_group_per_request(self):
        profile = parse("""
profiles:
  - name: p
    pooled: {size: 16g-25pct, pool: gold, count: 3}
""").profile('p')
        self.assertEqual(
            [
                dict(
                    {
                        'resources:CUSTOM_ORIONX_VGPU': '3',
                        'trait:CUSTOM_ORIONX_POOL_GOLD': 'required',
                        'accel:orionx_gmem_mib': '16384',
                        'accel:orionx_compute_pct': '25',
                    },
                    **UNHEALTHY,
                )
            ],
            profile.groups(),
        )

    def test_extra_traits(self):
        profile = parse("""
profiles:
  - name: p
    pooled: {gmem_mib: 512, compute_pct: 5}
    traits: {CUSTOM_RACK_A: required, CUSTOM_SLOW: forbidden}
""").profile('p')
        group = profile.groups()[0]
        self.assertEqual('required', group['trait:CUSTOM_RACK_A'])
        self.assertEqual('forbidden', group['trait:CUSTOM_SLOW'])
        self.assertEqual('required', group['trait:CUSTOM_ORIONX_POOL_DEFAULT'])
        self.assertEqual('512', group['accel:orionx_gmem_mib'])

    def test_pooled_vendor_model_traits_and_runtime(self):
        profile = parse("""
profiles:
  - name: p
    pooled:
      size: 16g-25pct
      vendor: amd
      model: AMD Instinct MI300X
      gpu_traits: {CUSTOM_GPU_MEMORY_192GB: required, CUSTOM_SLOW: forbidden}
      runtime: generic
""").profile('p')
        (group,) = profile.groups()
        self.assertEqual(
            'CUSTOM_GPU_AMD,CUSTOM_GPU_MEMORY_192GB,'
            'CUSTOM_GPU_MODEL_INSTINCT_MI300X',
            group['accel:orionx_gpu_traits_required'],
        )
        self.assertEqual(
            'CUSTOM_SLOW', group['accel:orionx_gpu_traits_forbidden']
        )
        self.assertEqual('generic', group['accel:orionx_runtime'])
        # Placement sees only the entitlement and the pool.
        self.assertNotIn('trait:CUSTOM_GPU_AMD', group)

    def test_pooled_npu_model_and_unconstrained_groups(self):
        profile = parse("""
profiles:
  - {name: p, pooled: {size: 8g-10pct, vendor: huawei, model: Ascend910B3}}
  - {name: q, pooled: {size: 8g-10pct}}
""")
        (group,) = profile.profile('p').groups()
        self.assertEqual(
            'CUSTOM_NPU_HUAWEI,CUSTOM_NPU_MODEL_ASCEND910B3',
            group['accel:orionx_gpu_traits_required'],
        )
        (plain,) = profile.profile('q').groups()
        self.assertFalse([k for k in plain if 'orionx_gpu' in k])


class TestSizes(base.TestCase):
    def test_sizes(self):
        for text, expected in (
            ('16g-25pct', (16384, 25)),
            ('512m-10pct', (512, 10)),
            ('1GiB-100%', (1024, 100)),
        ):
            size = model.parse_size(text)
            self.assertEqual(expected, (size.gmem_mib, size.compute_pct))

    def test_bad_size(self):
        self.assertRaises(ValueError, model.parse_size, '16-25')


class TestFlavors(base.TestCase):
    def test_defaults_fill_flavors(self):
        profile = parse("""
defaults:
  flavor: {vcpus: 8, ram: 4096, disk: 20}
profiles:
  - name: p
    pooled: {size: 8g-10pct}
    flavors:
      - name: small
      - name: big
        vcpus: 16
        extra_specs: {hw:cpu_policy: dedicated, hw:mem_secure: true}
""").profile('p')
        small, big = profile.flavors
        self.assertEqual((8, 4096, 20, 0, 0, True), small.shape())
        self.assertEqual(16, big.vcpus)
        self.assertEqual(
            {'hw:cpu_policy': 'dedicated', 'hw:mem_secure': 'true'},
            dict(big.extra_specs),
        )


class TestProblems(base.TestCase):
    def problems(self, text):
        err = self.assertRaises(model.InvalidProfileFile, parse, text)
        return str(err)

    def test_every_problem_is_reported_with_its_place(self):
        message = self.problems("""
profiles:
  - name: bad name
    vgpu: {type: X}
  - name: two
    vgpu: {type: X}
    pooled: {size: 1g-1pct}
  - name: p
    pooled: {size: big, colour: red}
    flavors:
      - {name: f, vcpus: 0}
""")
        self.assertIn(
            'profiles[0] (bad name).name: use 1-200 letters', message
        )
        self.assertIn('profiles[1] (two): give exactly one of', message)
        self.assertIn("unknown key 'colour'", message)
        self.assertIn('.size: \'big\' is not a size', message)
        self.assertIn('flavors[0].vcpus: must be at least 1, got 0', message)
        self.assertIn('flavors[0].ram: required', message)

    def test_reserved_names_and_keys(self):
        message = self.problems("""
profiles:
  - name: p--r2
    pooled: {size: 1g-1pct}
    traits: {OWNER_CYBORG: required, CUSTOM_ORIONX_UNHEALTHY: required}
    flavors:
      - name: f
        vcpus: 1
        ram: 1
        extra_specs: {accel:device_profile: other, orionx:managed: 'no'}
""")
        self.assertIn('without "--r"', message)
        self.assertIn('Cyborg accepts only CUSTOM_ traits', message)
        self.assertIn('CUSTOM_ORIONX_UNHEALTHY is always forbidden', message)
        self.assertIn('accel:device_profile: accel: and orionx: keys', message)
        self.assertIn('orionx:managed: accel: and orionx: keys', message)

    def test_bad_gpu_constraints(self):
        message = self.problems("""
profiles:
  - {name: a, pooled: {size: 1g-1pct, vendor: intel}}
  - name: b
    pooled:
      size: 1g-1pct
      vendor: amd
      gpu_traits: {CUSTOM_GPU_AMD: forbidden}
  - {name: c, pooled: {size: 1g-1pct, runtime: 'two words'}}
  - {name: d, whole_gpu: {model: H200, runtime: generic}}
""")
        self.assertIn("unknown vendor 'intel'", message)
        self.assertIn('both required and forbidden: CUSTOM_GPU_AMD', message)
        self.assertIn('is not a runtime name', message)
        self.assertIn("unknown key 'runtime'", message)

    def test_duplicates(self):
        message = self.problems("""
profiles:
  - {name: p, pooled: {size: 1g-1pct}, flavors: [{name: f, vcpus: 1, ram: 1}]}
  - {name: p, pooled: {size: 2g-1pct}, flavors: [{name: f, vcpus: 1, ram: 1}]}
""")
        self.assertIn('profile p: defined twice', message)
        self.assertIn('flavor f: defined twice', message)

    def test_not_a_document(self):
        self.assertIn(
            'profiles: expected a non-empty list',
            self.problems('profiles: []'),
        )
        self.assertIn('file: expected a mapping', self.problems('- 1'))

    def test_unreadable_file(self):
        err = self.assertRaises(
            model.InvalidProfileFile,
            model.load,
            os.path.join(self.tmp, 'missing.yaml'),
        )
        self.assertIn('No such file', str(err))


class TestShippedFiles(base.TestCase):
    def test_example_file(self):
        profiles = model.load(EXAMPLE)
        kinds = {p.kind for p in profiles.profiles}
        self.assertEqual(set(model.Kind), kinds)
        self.assertIn('g1.h200.8x', profiles.flavor_names)

    def test_devstack_sample(self):
        profiles = model.load(DEVSTACK_SAMPLE)
        self.assertTrue(profiles.profiles)
