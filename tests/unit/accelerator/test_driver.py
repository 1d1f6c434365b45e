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

"""The Cyborg driver end to end on simulated hosts: every failure path."""

import dataclasses
import json
import os

import fixtures
from cyborg.objects import base as cyborg_base
from oslo_log import fixture as log_fixture  # noqa: F401

from orionx_cyborg import exception
from orionx_cyborg import resources
from orionx_cyborg.accelerator import driver
from orionx_cyborg.accelerator import state
from orionx_cyborg.gpu.fake import topology as fake_topology
from tests import base

GPU0 = '0000:18:00.0'
GPU1 = '0000:2a:00.0'


class Usage:
    """Placement usages by deployable name, as the driver asks them."""

    def __init__(self):
        self.used = {}
        self.reachable = True
        self.asked = []

    def __call__(self, names):
        self.asked.append(list(names))
        if not self.reachable:
            return None
        return {name: self.used.get(name, 0) for name in names}


class DriverTestCase(base.TestCase):
    topology_name = 'hgx-h200'

    def setUp(self):
        super().setUp()
        self.topology = self.useFixture(
            base.SimulatedHostFile(self.topology_name, 'gpu1')
        )
        self.usage = Usage()
        self.flags(
            'orionx_gpu',
            fake_topology=self.topology.path,
            state_dir=os.path.join(self.tmp, 'state'),
        )
        self.logs = self.useFixture(fixtures.FakeLogger(level='DEBUG'))

    def new_driver(self):
        return driver.OrionXGPUDriver(conf=self.conf, usage=self.usage)

    def report(self, drv=None):
        drv = drv or self.driver
        return drv.discover()

    @staticmethod
    def by_key(devices):
        result = {}
        for device in devices:
            info = json.loads(device.controlpath_id.cpid_info)
            if 'bus' in info:
                key = '%s:%s:%s.%s' % (
                    info['domain'],
                    info['bus'],
                    info['device'],
                    info['function'],
                )
            else:
                key = 'entitlement'
            result[key] = device
        return result

    @staticmethod
    def traits(device):
        return {
            a.value
            for d in device.deployable_list
            for a in d.attribute_list
            if a.key.startswith('trait')
        }


class TestReport(DriverTestCase):
    def test_stevedore_style_construction_uses_cyborgs_conf(self):
        from cyborg.conf import CONF

        from orionx_cyborg import conf

        conf.register_opts(CONF)
        self.useFixture(
            fixtures.MonkeyPatch(
                'orionx_cyborg.accelerator.usage.PlacementUsage',
                lambda: self.usage,
            )
        )
        CONF.set_override('fake_topology', self.topology.path, 'orionx_gpu')
        self.addCleanup(CONF.clear_override, 'fake_topology', 'orionx_gpu')
        CONF.set_override(
            'state_dir', os.path.join(self.tmp, 'cyborg'), 'orionx_gpu'
        )
        self.addCleanup(CONF.clear_override, 'state_dir', 'orionx_gpu')
        drv = driver.OrionXGPUDriver()
        self.assertEqual(CONF.host, drv.host)
        self.assertEqual(8, len(drv.discover()))

    def test_objects_are_cyborgs_and_every_field_is_set(self):
        self.flags(
            'orionx_gpu', default_mode='pool', passthrough_devices=[GPU0]
        )
        self.flags('orionx_pool', entitlement=2)
        self.driver = self.new_driver()
        devices = self.report()
        self.assertEqual(9, len(devices))
        serializer = cyborg_base.CyborgObjectSerializer()
        for device in devices:
            self.assertEqual('DriverDevice', device.obj_name())
            for field in (
                'vendor',
                'model',
                'type',
                'std_board_info',
                'vendor_board_info',
                'controlpath_id',
                'deployable_list',
                'stub',
            ):
                self.assertTrue(device.obj_attr_is_set(field), field)
            for deployable in device.deployable_list:
                for field in (
                    'name',
                    'num_accelerators',
                    'attribute_list',
                    'attach_handle_list',
                    'driver_name',
                ):
                    self.assertTrue(deployable.obj_attr_is_set(field), field)
                rcs = [
                    a.value for a in deployable.attribute_list if a.key == 'rc'
                ]
                self.assertEqual(1, len(rcs))
            # What travels over RPC to the conductor round-trips.
            primitive = serializer.serialize_entity(None, device)
            again = serializer.deserialize_entity(None, primitive)
            self.assertEqual(
                device.deployable_list[0].name, again.deployable_list[0].name
            )

    def test_state_is_written_only_when_it_changes(self):
        self.driver = self.new_driver()
        self.report()
        path = self.driver._reporter.store.path
        first = os.stat(path).st_mtime_ns
        os.utime(path, ns=(1, 1))
        self.report()
        self.assertEqual(1, os.stat(path).st_mtime_ns)
        self.assertNotEqual(1, first)

    def test_steady_state_report_is_identical(self):
        self.flags('orionx_gpu', default_mode='pool')
        self.flags('orionx_pool', entitlement=4)
        self.driver = self.new_driver()
        first = [d.obj_to_primitive() for d in self.report()]
        second = [d.obj_to_primitive() for d in self.report()]
        restarted = [
            d.obj_to_primitive() for d in self.report(self.new_driver())
        ]
        self.assertEqual(first, second)
        self.assertEqual(first, restarted)

    def test_bad_configuration_stops_the_driver_load(self):
        self.config_file('[orionx_gpu]\ndefault_mode = everything\n')
        err = self.assertRaises(exception.InvalidOption, self.new_driver)
        self.assertIn('[orionx_gpu] default_mode', str(err))
        self.assertIn('orionx_gpu_driver cannot start', self.logs.output)

    def test_update_and_get_stats(self):
        self.driver = self.new_driver()
        self.assertEqual({}, self.driver.get_stats())
        self.report()
        stats = self.driver.get_stats()
        self.assertEqual(8, stats['devices'])
        self.assertIsNone(stats['nvml_failure'])
        self.assertFalse(self.driver.update('ctl', '/tmp/image'))


class TestLostGpus(DriverTestCase):
    def test_lost_gpu_is_kept_unhealthy_across_agent_restarts(self):
        self.driver = self.new_driver()
        before = self.by_key(self.report())
        self.topology.change_gpu(GPU1, lost=True)
        after = self.by_key(self.report())
        self.assertEqual(set(before), set(after))
        self.assertIn(resources.TRAIT_UNHEALTHY, self.traits(after[GPU1]))
        self.assertNotIn(resources.TRAIT_UNHEALTHY, self.traits(after[GPU0]))
        board = json.loads(after[GPU1].vendor_board_info)
        self.assertEqual('lost', board['state'])
        self.assertFalse(after[GPU1].stub)
        self.assertIn('is lost', self.logs.output)
        # An agent restart must not forget it.
        restarted = self.by_key(self.report(self.new_driver()))
        self.assertIn(resources.TRAIT_UNHEALTHY, self.traits(restarted[GPU1]))

    def test_gpu_that_falls_off_the_bus(self):
        self.driver = self.new_driver()
        self.report()
        host = self.topology.host
        self.topology.update(
            host.__class__(
                name=host.name,
                driver_version=host.driver_version,
                vgpu_manager=host.vgpu_manager,
                gpus=tuple(g for g in host.gpus if g.pci_address != GPU1),
            )
        )
        after = self.by_key(self.report())
        self.assertIn(resources.TRAIT_UNHEALTHY, self.traits(after[GPU1]))

    def test_gpu_given_to_a_vm_stays_healthy(self):
        self.driver = self.new_driver()
        before = self.by_key(self.report())
        self.topology.change_gpu(GPU1, driver='vfio-pci')
        after = self.by_key(self.report())
        self.assertNotIn(resources.TRAIT_UNHEALTHY, self.traits(after[GPU1]))
        self.assertEqual(
            [d.name for d in before[GPU1].deployable_list],
            [d.name for d in after[GPU1].deployable_list],
        )

    def test_forget_waits_for_allocations(self):
        self.driver = self.new_driver()
        self.report()
        self.topology.change_gpu(GPU1, lost=True)
        self.report()
        name = 'gpu1_0000_2a_00_0_PGPU'
        self.usage.used[name] = 1
        store = self.driver._reporter.store
        with store.locked():
            current = store.load()
            store.save(
                state.DriverState(
                    current.devices,
                    current.sticky_health,
                    current.forget | {GPU1},
                )
            )
        self.assertIn(GPU1, self.by_key(self.report()))
        self.assertIn('cannot be forgotten yet', self.logs.output)
        self.usage.used[name] = 0
        self.assertNotIn(GPU1, self.by_key(self.report()))
        self.assertEqual(frozenset(), store.load().forget)
        self.assertNotIn('gpu:%s' % GPU1, store.load().devices)

    def test_lost_gpu_comes_back(self):
        self.driver = self.new_driver()
        self.report()
        self.topology.change_gpu(GPU1, lost=True)
        self.report()
        self.topology.change_gpu(GPU1, lost=False)
        after = self.by_key(self.report())
        self.assertNotIn(resources.TRAIT_UNHEALTHY, self.traits(after[GPU1]))
        self.assertIn('resolved', self.logs.output)


class TestNvmlFailures(DriverTestCase):
    def set_nvml(self, value):
        import dataclasses

        self.topology.update(
            dataclasses.replace(self.topology.host, nvml=value)
        )

    def test_nvml_missing_from_the_start_reports_only_the_entitlement(self):
        self.set_nvml('library-missing')
        self.flags('orionx_pool', entitlement=2)
        self.driver = self.new_driver()
        devices = self.by_key(self.report())
        self.assertEqual(['entitlement'], list(devices))
        self.report()
        errors = [
            line
            for line in self.logs.output.splitlines()
            if 'NVML Shared Library Not Found' in line
        ]
        # One error naming the cause; repeats go to debug only.
        self.assertEqual(2, len(errors))
        self.assertEqual(
            1, self.logs.output.count('orionx_gpu_driver: NVML is not usable')
        )

    def test_failure_after_a_good_report_freezes_it_as_stubs(self):
        self.flags('orionx_pool', entitlement=2)
        self.driver = self.new_driver()
        good = self.by_key(self.report())
        self.set_nvml('failing')
        frozen = self.by_key(self.report())
        self.assertEqual(set(good), set(frozen))
        for key, device in frozen.items():
            self.assertEqual(key != 'entitlement', device.stub, key)
        self.set_nvml('ok')
        self.assertFalse(any(d.stub for d in self.report()))

    def test_stubs_survive_a_restart_with_nvml_gone(self):
        self.driver = self.new_driver()
        good = self.by_key(self.report())
        self.set_nvml('driver-not-loaded')
        frozen = self.by_key(self.report(self.new_driver()))
        self.assertEqual(set(good), set(frozen))
        self.assertTrue(all(d.stub for d in frozen.values()))

    def test_broken_topology_is_an_nvml_failure_not_an_exception(self):
        self.driver = self.new_driver()
        self.report()
        with open(self.topology.path, 'w') as stream:
            stream.write('gpus: [{model: Voodoo5}]\n')
        devices = self.report()
        self.assertTrue(devices and all(d.stub for d in devices))
        self.assertIn('Voodoo5', self.logs.output)

    def test_nothing_configured_never_touches_nvml(self):
        self.set_nvml('library-missing')
        self.flags('orionx_gpu', default_mode='off')
        self.flags('orionx_pool', entitlement=1)
        self.driver = self.new_driver()
        self.assertEqual(1, len(self.report()))
        self.assertNotIn('NVML', self.logs.output)

    def test_unexpected_error_never_reaches_the_agent(self):
        self.driver = self.new_driver()
        good = self.report()

        def explode():
            raise RuntimeError('boom')

        self.useFixture(
            fixtures.MonkeyPatch(
                'orionx_cyborg.accelerator.discovery.HostReporter.run',
                lambda _self: explode(),
            )
        )
        devices = self.report()
        self.assertEqual(len(good), len(devices))
        self.assertTrue(all(d.stub for d in devices))
        self.assertIn('boom', self.logs.output)

    def test_corrupt_state_file_does_not_lose_the_report(self):
        self.driver = self.new_driver()
        self.report()
        with open(self.driver._reporter.store.path, 'w') as stream:
            stream.write('{not json')
        self.topology.change_gpu(GPU1, lost=True)
        devices = self.by_key(self.report())
        self.assertIn(resources.TRAIT_UNHEALTHY, self.traits(devices[GPU1]))
        self.assertIn('is unusable', self.logs.output)
        # ... and the file is whole again.
        self.assertIn(
            'gpu:%s' % GPU1, self.driver._reporter.store.load().devices
        )


class TestChangesWithAllocations(DriverTestCase):
    def test_mode_change_waits_for_allocations(self):
        self.driver = self.new_driver()
        self.report()
        self.usage.used['gpu1_0000_18_00_0_PGPU'] = 1
        self.flags('orionx_gpu', pool_devices=[GPU0])
        self.driver = self.new_driver()
        devices = self.by_key(self.report())
        names = [d.name for d in devices[GPU0].deployable_list]
        self.assertEqual(['gpu1_0000_18_00_0_PGPU'], names)
        self.assertIn(resources.TRAIT_UNHEALTHY, self.traits(devices[GPU0]))
        self.assertIn('still hold allocations', self.logs.output)
        # Other GPUs' changes still go through.
        self.usage.used.clear()
        devices = self.by_key(self.report())
        self.assertEqual(
            ['gpu1_0000_18_00_0_COMPUTE', 'gpu1_0000_18_00_0_GMEM'],
            [d.name for d in devices[GPU0].deployable_list],
        )
        self.assertNotIn(resources.TRAIT_UNHEALTHY, self.traits(devices[GPU0]))

    def test_unknown_usage_counts_as_in_use(self):
        self.driver = self.new_driver()
        self.report()
        self.usage.reachable = False
        self.flags('orionx_gpu', disabled_devices=[GPU0])
        self.driver = self.new_driver()
        self.assertIn(GPU0, self.by_key(self.report()))

    def test_disabling_an_idle_gpu_drops_it(self):
        self.driver = self.new_driver()
        self.report()
        self.flags('orionx_gpu', disabled_devices=[GPU0])
        self.driver = self.new_driver()
        self.assertNotIn(GPU0, self.by_key(self.report()))

    def test_entitlement_shrink_waits_for_use(self):
        self.flags('orionx_pool', entitlement=4)
        self.driver = self.new_driver()
        self.report()
        self.usage.used['gpu1_ORIONX_VGPU_default'] = 3
        self.flags('orionx_pool', entitlement=2)
        self.driver = self.new_driver()
        entitlement = self.by_key(self.report())['entitlement']
        self.assertEqual(4, entitlement.deployable_list[0].num_accelerators)
        self.assertEqual(
            4, len(entitlement.deployable_list[0].attach_handle_list)
        )
        self.usage.used['gpu1_ORIONX_VGPU_default'] = 1
        entitlement = self.by_key(self.report())['entitlement']
        self.assertEqual(2, entitlement.deployable_list[0].num_accelerators)

    def test_renamed_pool_keeps_the_old_entitlement_while_used(self):
        self.flags('orionx_pool', entitlement=2)
        self.driver = self.new_driver()
        self.report()
        self.usage.used['gpu1_ORIONX_VGPU_default'] = 1
        self.flags('orionx_pool', name='gold')
        self.driver = self.new_driver()
        names = sorted(
            d.deployable_list[0].name
            for d in self.report()
            if d.vendor == 'orionx'
        )
        self.assertEqual(
            ['gpu1_ORIONX_VGPU_default', 'gpu1_ORIONX_VGPU_gold'], names
        )


class TestHealthEvents(DriverTestCase):
    def test_xid_is_sticky_until_reset(self):
        from orionx_cyborg.cmd import cli

        self.driver = self.new_driver()
        self.report()
        self.topology.change_gpu(GPU1, xid_events=(79,))
        self.assertIn(
            resources.TRAIT_UNHEALTHY,
            self.traits(self.by_key(self.report())[GPU1]),
        )
        # The event is gone from NVML but the mark stays...
        self.assertIn(
            resources.TRAIT_UNHEALTHY,
            self.traits(self.by_key(self.report(self.new_driver()))[GPU1]),
        )
        # ... until an operator clears it.
        store = self.driver._reporter.store
        with store.locked():
            current = store.load()
            store.save(state.DriverState(current.devices, {}, current.forget))
        self.assertNotIn(
            resources.TRAIT_UNHEALTHY,
            self.traits(self.by_key(self.report())[GPU1]),
        )
        self.assertTrue(callable(cli.cmd_gpu_reset_health))


class TestSeveralVendors(DriverTestCase):
    topology_name = 'mixed'

    def test_every_vendor_is_reported(self):
        self.driver = self.new_driver()
        devices = self.report()
        self.assertEqual(
            {'10de': 2, '1002': 2, '19e5': 2, '1ed5': 2},
            {
                vendor: sum(1 for d in devices if d.vendor == vendor)
                for vendor in ('10de', '1002', '19e5', '1ed5')
            },
        )
        self.assertEqual(
            {'AICHIP'}, {d.type for d in devices if d.vendor == '19e5'}
        )

    def test_failing_vendor_keeps_its_last_report(self):
        self.driver = self.new_driver()
        before = self.by_key(self.report())
        ascend = sorted(k for k, d in before.items() if d.vendor == '19e5')
        self.assertEqual(2, len(ascend))
        self.topology.update(
            dataclasses.replace(
                self.topology.host,
                vendor_library_states={'dcmi': 'no-permission'},
            )
        )
        after = self.by_key(self.report())
        self.assertEqual(set(before), set(after))
        for key in ascend:
            self.assertEqual(
                [d.name for d in before[key].deployable_list],
                [d.name for d in after[key].deployable_list],
            )
            self.assertNotIn(
                resources.TRAIT_UNHEALTHY, self.traits(after[key])
            )
        self.assertIn('HwHiAiUser', self.logs.output)

    def test_lost_npu_is_kept_unhealthy(self):
        self.driver = self.new_driver()
        self.report()
        host = self.topology.host
        cards = list(host.ascend_cards)
        cards[0] = dict(cards[0], count=1)
        cards.append({'model': 'Ascend910B3', 'lost': True})
        self.topology.update(
            dataclasses.replace(host, ascend_cards=tuple(cards))
        )
        after = [d for d in self.report() if d.vendor == '19e5']
        self.assertEqual(2, len(after))
        self.assertEqual(
            1,
            sum(
                1 for d in after if resources.TRAIT_UNHEALTHY in self.traits(d)
            ),
        )


class TestAmdSriovVfs(DriverTestCase):
    """AMD MxGPU: GIM's VFs as their own deployables, from sysfs."""

    topology_name = 'mxgpu'
    GIM8 = '0000:11:00.0'
    GIM1 = '0000:31:00.0'
    ROCM = '0000:51:00.0'

    def test_each_vf_is_a_deployable_of_its_own(self):
        self.driver = self.new_driver()
        devices = self.by_key(self.report())
        self.assertEqual({self.GIM8, self.GIM1, self.ROCM}, set(devices))
        gim8 = devices[self.GIM8]
        self.assertEqual(('1002', 'GPU'), (gim8.vendor, gim8.type))
        self.assertEqual(8, len(gim8.deployable_list))
        for number, dep in enumerate(
            sorted(gim8.deployable_list, key=lambda d: d.name)
        ):
            vf = fake_topology.vf_address(self.GIM8, number)
            self.assertEqual(
                'gpu1_%s_VF' % vf.replace(':', '_').replace('.', '_'), dep.name
            )
            self.assertEqual(resources.RC_GPU_VF, rc_of(dep))
            self.assertEqual(1, dep.num_accelerators)
            [handle] = dep.attach_handle_list
            self.assertEqual(resources.AH_PCI, handle.attach_type)
            info = json.loads(handle.attach_info)
            self.assertEqual(
                vf,
                '%s:%s:%s.%s'
                % (
                    info['domain'],
                    info['bus'],
                    info['device'],
                    info['function'],
                ),
            )
            traits = {a.value for a in dep.attribute_list}
            self.assertLessEqual(
                {
                    resources.TRAIT_SRIOV_VF,
                    'CUSTOM_GPU_AMD',
                    'CUSTOM_GPU_PRODUCT_ID_74B5',
                    'CUSTOM_GPU_MODEL_INSTINCT_MI300X',
                    'CUSTOM_GPU_MEMORY_24GB',
                },
                traits,
            )
        [whole_vf] = devices[self.GIM1].deployable_list
        self.assertIn(
            'CUSTOM_GPU_MEMORY_192GB',
            {a.value for a in whole_vf.attribute_list},
        )
        # The GPU ROCm drives is passed through whole, as before.
        [pgpu] = devices[self.ROCM].deployable_list
        self.assertEqual(resources.RC_PGPU, rc_of(pgpu))

    def test_a_vf_in_use_by_a_vm_stays_reported(self):
        self.driver = self.new_driver()
        before = self.by_key(self.report())
        name = sorted(d.name for d in before[self.GIM8].deployable_list)[0]
        self.usage.used[name] = 1
        after = self.by_key(self.report())
        self.assertEqual(
            sorted(d.name for d in before[self.GIM8].deployable_list),
            sorted(d.name for d in after[self.GIM8].deployable_list),
        )

    def test_unreadable_numvfs_keeps_the_gpu_and_its_vfs(self):
        self.driver = self.new_driver()
        self.report()
        numvfs = os.path.join(
            self.tmp,
            'state',
            'simulated-sysfs-gpu1',
            'bus',
            'pci',
            'devices',
            self.GIM8,
            'sriov_numvfs',
        )
        os.unlink(numvfs)
        os.mkdir(numvfs)
        devices = self.by_key(self.report())
        self.assertEqual(8, len(devices[self.GIM8].deployable_list))
        self.assertIn('SR-IOV state partly unreadable', self.logs.output)

    def test_a_gim_gpu_in_pool_mode_is_not_offered(self):
        self.flags('orionx_gpu', pool_devices=[self.GIM1])
        self.flags('orionx_pool', vendors=['10de', '1002'])
        self.driver = self.new_driver()
        devices = self.by_key(self.report())
        self.assertNotIn(self.GIM1, devices)
        self.assertIn('the pool cannot use it', self.logs.output)


def rc_of(deployable):
    [rc] = [a.value for a in deployable.attribute_list if a.key == 'rc']
    return rc


class _NoLibrary:
    """A host without any vendor library installed."""

    name = 'none'

    def discover(self):
        raise exception.NvmlUnavailable(
            error='no library', hint='', missing=True
        )

    def close(self):
        pass


class TestGimOnlyHost(DriverTestCase):
    """An MxGPU host has GIM and no ROCm: sysfs alone reports it."""

    def test_gim_gpus_are_reported_without_any_library(self):
        from orionx_cyborg.gpu import sysfs
        from orionx_cyborg.gpu.fake import sysfs as fake_sysfs
        from orionx_cyborg.gpu.fake import topology

        host = topology.host_from_mapping(
            'gpu1',
            {
                'amd_gpus': [
                    {'model': 'MI300X', 'driver': 'gim', 'sriov_vfs': 8}
                ]
            },
        )
        root = os.path.join(self.tmp, 'sys')
        fake_sysfs.write_tree(host, root)
        self.driver = driver.OrionXGPUDriver(
            conf=self.conf,
            usage=self.usage,
            backend=_NoLibrary(),
            sysfs_reader=sysfs.SysfsReader(root),
        )
        [device] = self.report()
        self.assertEqual('1002', device.vendor)
        self.assertEqual(8, len(device.deployable_list))
        self.flags(
            'orionx_gpu',
            vendor_libraries=['nvml'],
            state_dir=os.path.join(self.tmp, 'state-nvml-only'),
        )
        self.driver = driver.OrionXGPUDriver(
            conf=self.conf,
            usage=self.usage,
            backend=_NoLibrary(),
            sysfs_reader=sysfs.SysfsReader(root),
        )
        # Without amdsmi among the vendor libraries, nothing reads AMD:
        # discovery fails as a host without any library does.
        self.assertEqual([], self.report())
        self.assertIn('no library', self.logs.output)
