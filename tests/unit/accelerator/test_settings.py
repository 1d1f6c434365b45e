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

"""Configuration checks: every mistake names the option and the fix."""

from orionx_cyborg import exception
from orionx_cyborg.accelerator import settings
from orionx_cyborg.gpu import models
from tests import base


def gpu(
    name='NVIDIA H200',
    address='0000:18:00.0',
    uuid='GPU-8c6b4a3e-1111-2222-3333-444455556666',
):
    return models.HardwareGpu(
        vendor_id='10de',
        index=0,
        uuid=uuid,
        name=name,
        pci_address=models.PciAddress.parse(address),
        pci_device_id='2335',
        memory_mib=143771,
    )


class TestSettings(base.TestCase):
    def load(self):
        return settings.register_and_load(self.conf, '/var/lib/cyborg')

    def test_defaults(self):
        loaded = self.load()
        self.assertEqual(settings.Mode.PASSTHROUGH, loaded.default_mode)
        self.assertEqual('default', loaded.pool.name)
        self.assertEqual('CUSTOM_ORIONX_POOL_DEFAULT', loaded.pool.trait)
        self.assertEqual(100, loaded.pool.compute_total)
        self.assertEqual('/var/lib/cyborg/orionx_cyborg', loaded.state_dir)
        self.assertEqual('/sys', loaded.sysfs_root)
        self.assertTrue(loaded.uses_gpus)

    def assertInvalid(self, group, option, *fragments):
        err = self.assertRaises(exception.InvalidOption, self.load)
        self.assertIn('[%s] %s' % (group, option), str(err))
        for fragment in fragments:
            self.assertIn(fragment, str(err))
        return err

    def test_bad_mode_names_the_choices(self):
        self.config_file('[orionx_gpu]\ndefault_mode = shared\n')
        self.assertInvalid(
            'orionx_gpu',
            'default_mode',
            'shared',
            'passthrough, vgpu, pool, off',
        )

    def test_bad_pool_name(self):
        self.config_file('[orionx_pool]\nname = my-pool\n')
        self.assertInvalid('orionx_pool', 'name', 'my-pool', 'regex')

    def test_out_of_range_numbers(self):
        self.config_file('[orionx_pool]\ncompute_oversubscription = 0.5\n')
        self.assertInvalid(
            'orionx_pool',
            'compute_oversubscription',
            "'0.5'",
            'greater than or equal to 1',
        )

    def test_malformed_pci_address(self):
        self.flags('orionx_gpu', pool_devices=['0000:18:00'])
        self.assertInvalid(
            'orionx_gpu',
            'pool_devices',
            '0000:18:00',
            'domain:bus:device.function',
        )

    def test_malformed_uuid(self):
        self.flags(
            'orionx_gpu',
            vgpu_devices=['GPU-1234'],
            enabled_vgpu_types=['H200X-35C'],
        )
        self.assertInvalid('orionx_gpu', 'vgpu_devices', 'nvidia-smi -L')

    def test_same_gpu_in_two_lists(self):
        self.flags(
            'orionx_gpu',
            pool_devices=['0000:18:00.0'],
            disabled_devices=['0000:18:00.0'],
        )
        self.assertInvalid(
            'orionx_gpu',
            'disabled_devices',
            'also listed in [orionx_gpu] pool_devices',
        )

    def test_vgpu_mode_needs_types(self):
        self.flags('orionx_gpu', vgpu_devices=['*L40S*'])
        self.assertInvalid(
            'orionx_gpu', 'enabled_vgpu_types', 'nvidia-smi vgpu -s'
        )

    def test_state_dir_override(self):
        self.flags('orionx_gpu', state_dir='/srv/state')
        self.assertEqual('/srv/state', self.load().state_dir)

    def test_nothing_to_report_means_no_nvml(self):
        self.flags('orionx_gpu', default_mode='off')
        self.assertFalse(self.load().uses_gpus)
        self.flags('orionx_gpu', pool_devices=['*H200*'])
        self.assertTrue(self.load().uses_gpus)


class TestSelectors(base.TestCase):
    def test_address_uuid_and_glob(self):
        address = settings.Selector.parse('0000:18:00.0', 'pool_devices')
        uuid = settings.Selector.parse(
            'GPU-8C6B4A3E-1111-2222-3333-444455556666', 'pool_devices'
        )
        glob = settings.Selector.parse('*h200*', 'pool_devices')
        exact = settings.Selector.parse('NVIDIA H200', 'pool_devices')
        for selector in (address, uuid, glob, exact):
            self.assertTrue(selector.matches(gpu()), selector)
        other = gpu(
            name='NVIDIA L40S',
            address='0000:2a:00.0',
            uuid='GPU-00000000-1111-2222-3333-444455556666',
        )
        for selector in (address, uuid, glob, exact):
            self.assertFalse(selector.matches(other), selector)

    def test_nvml_style_address_is_accepted(self):
        selector = settings.Selector.parse('00000000:18:00.0', 'x')
        self.assertEqual('0000:18:00.0', selector.value)

    def test_vgpu_type_selectors(self):
        vgpu_type = models.VgpuType(
            type_id=1103,
            name='NVIDIA H200X-35C',
            type_class='Compute',
            framebuffer_mib=35840,
            max_instances=4,
            creatable=True,
        )
        for text in ('NVIDIA H200X-35C', 'h200x-35c', '1103', 'nvidia-1103'):
            self.assertTrue(
                settings.VgpuTypeSelector.parse(text).matches(vgpu_type), text
            )
        for text in ('H200X-70C', '1104', 'nvidia-35'):
            self.assertFalse(
                settings.VgpuTypeSelector.parse(text).matches(vgpu_type), text
            )
