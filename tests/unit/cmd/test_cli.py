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

"""The orionx-cyborg command line."""

import io
import json
import os

import fixtures

from orionx_cyborg.accelerator import driver
from orionx_cyborg.accelerator import state
from orionx_cyborg.cmd import cli
from tests import base


class CliTestCase(base.TestCase):
    def run_cli(self, *argv):
        out = io.StringIO()
        err = self.useFixture(fixtures.StringStream('stderr'))
        self.useFixture(fixtures.MonkeyPatch('sys.stderr', err.stream))
        code = cli.main(list(argv), out=out)
        err.stream.flush()
        return code, out.getvalue(), err.getDetails()['stderr'].as_text()

    def write_conf(self, text):
        path = os.path.join(self.tmp, 'cyborg.conf')
        with open(path, 'w') as stream:
            stream.write(text)
        return path


class TestDiscover(CliTestCase):
    def test_table_on_a_simulated_host(self):
        path = self.write_conf(
            '[orionx_gpu]\ndefault_mode = pool\n'
            'passthrough_devices = 0000:18:00.0\n'
            '[orionx_pool]\nentitlement = 2\n'
        )
        code, out, _ = self.run_cli(
            'discover',
            '--simulate',
            'hgx-h200',
            '--host',
            'gpu9',
            '--config-file',
            path,
        )
        self.assertEqual(0, code)
        self.assertIn('Host gpu9: 8 GPU(s) via nvml (simulated), driver', out)
        self.assertIn('gpu9_0000_18_00_0_PGPU', out)
        self.assertIn('gpu9_0000_2a_00_0_GMEM', out)
        self.assertIn('CUSTOM_ORIONX_GMEM_MIB', out)
        self.assertIn('gpu9_ORIONX_VGPU_default', out)
        self.assertIn('2 TEST_PCI', out)
        self.assertIn('-mig 0', out)

    def test_every_vendor_on_a_mixed_host(self):
        path = self.write_conf('[orionx_gpu]\ndefault_mode = passthrough\n')
        code, out, _ = self.run_cli(
            'discover', '--simulate', 'mixed', '--json', '--config-file', path
        )
        self.assertEqual(0, code)
        document = json.loads(out)
        self.assertEqual(
            ['10de'] * 2 + ['1002'] * 2 + ['19e5'] * 2 + ['1ed5'] * 2,
            [g['vendor_id'] for g in document['gpus']],
        )
        self.assertEqual(
            'nvml+amdsmi+dcmi+mtml (simulated)', document['backend']
        )
        by_vendor = {d['vendor']: d for d in document['devices']}
        self.assertEqual('AICHIP', by_vendor['19e5']['type'])
        self.assertEqual(
            'CUSTOM_PNPU',
            by_vendor['19e5']['deployables'][0]['resource_class'],
        )
        self.assertIn(
            'CUSTOM_GPU_AMD', by_vendor['1002']['deployables'][0]['traits']
        )
        self.assertIn(
            'CUSTOM_GPU_MTHREADS',
            by_vendor['1ed5']['deployables'][0]['traits'],
        )
        self.assertEqual([], document['warnings'])

    def test_json_is_complete(self):
        path = self.write_conf(
            '[orionx_gpu]\ndefault_mode = vgpu\nenabled_vgpu_types = T4-8Q\n'
        )
        code, out, _ = self.run_cli(
            'discover', '--simulate', 't4-box', '--json', '--config-file', path
        )
        self.assertEqual(0, code)
        document = json.loads(out)
        self.assertEqual(2, len(document['gpus']))
        self.assertEqual('vgpu', document['gpus'][0]['mode'])
        self.assertEqual('Tesla T4', document['gpus'][0]['name'])
        (deployable,) = document['devices'][0]['deployables']
        self.assertEqual('VGPU', deployable['resource_class'])
        self.assertEqual(2, deployable['total'])
        self.assertEqual(
            'nvidia-225', deployable['attach_handles'][0]['info']['asked_type']
        )
        self.assertEqual([], document['warnings'])

    def test_does_not_write_the_agents_state(self):
        state_dir = os.path.join(self.tmp, 'agent-state')
        path = self.write_conf('[orionx_gpu]\nstate_dir = %s\n' % state_dir)
        code, _, _ = self.run_cli(
            'discover', '--simulate', 't4-box', '--config-file', path
        )
        self.assertEqual(0, code)
        self.assertFalse(os.path.exists(state_dir))

    def test_no_nvml_on_this_machine(self):
        path = self.write_conf('[orionx_pool]\nentitlement = 1\n')
        code, out, _ = self.run_cli(
            'discover', '--config-file', path, '--state-dir', self.tmp
        )
        self.assertEqual(0, code)
        self.assertIn('NVML unavailable', out)
        self.assertIn('ORIONX_VGPU_default', out)

    def test_bad_configuration_exits_2_with_the_option(self):
        path = self.write_conf('[orionx_gpu]\ndefault_mode = all\n')
        code, out, err = self.run_cli(
            'discover', '--simulate', 't4-box', '--config-file', path
        )
        self.assertEqual(2, code)
        self.assertIn('[orionx_gpu] default_mode', err)
        self.assertEqual('', out)


class TestGpuCommands(CliTestCase):
    def setUp(self):
        super().setUp()
        self.topology = self.useFixture(
            base.SimulatedHostFile('hgx-h200', 'gpu1')
        )
        self.state_dir = os.path.join(self.tmp, 'state')
        self.conf_path = self.write_conf(
            '[DEFAULT]\nhost = gpu1\n[orionx_gpu]\nfake_topology = %s\n'
            'state_dir = %s\n' % (self.topology.path, self.state_dir)
        )
        self.flags(
            'orionx_gpu',
            fake_topology=self.topology.path,
            state_dir=self.state_dir,
        )
        self.driver = driver.OrionXGPUDriver(
            conf=self.conf, usage=lambda names: {n: 0 for n in names}
        )
        self.driver.discover()
        self.store = state.StateStore(self.state_dir, 'gpu1')

    def test_forget_by_uuid(self):
        self.topology.change_gpu('0000:2a:00.0', lost=True)
        self.driver.discover()
        uuid = self.topology.host.gpus[1].uuid
        code, out, _ = self.run_cli(
            'gpu', 'forget', uuid, '--config-file', self.conf_path
        )
        self.assertEqual(0, code)
        self.assertIn('0000:2a:00.0', out)
        self.assertEqual(frozenset({'0000:2a:00.0'}), self.store.load().forget)
        self.assertEqual(7, len(self.driver.discover()))

    def test_reset_health(self):
        self.topology.change_gpu('0000:2a:00.0', xid_events=(48,))
        self.driver.discover()
        self.assertEqual(
            {'0000:2a:00.0': ('xid 48',)}, self.store.load().sticky_health
        )
        code, out, _ = self.run_cli(
            'gpu',
            'reset-health',
            '0000:2a:00.0',
            '--config-file',
            self.conf_path,
        )
        self.assertEqual(0, code)
        self.assertIn('Cleared xid 48', out)
        self.assertEqual({}, self.store.load().sticky_health)

    def test_unknown_gpu(self):
        code, _, err = self.run_cli(
            'gpu', 'forget', 'GPU-nope', '--config-file', self.conf_path
        )
        self.assertEqual(2, code)
        self.assertIn('No reported GPU matches', err)


class TestCatalogue(CliTestCase):
    def test_lists_models_and_hosts(self):
        code, out, _ = self.run_cli('catalogue')
        self.assertEqual(0, code)
        for text in (
            'H200-SXM5-141GB',
            'NVIDIA H200',
            '2335',
            'A100-SXM4-40GB',
            'A100-SXM4-80GB',
            'H100-SXM5-80GB',
            'L40S',
            'Tesla T4',
            'hgx-h200',
            'no-gpu',
            'AMD Instinct MI300X',
            '1002:74a1',
            'SPX/DPX/QPX/CPX',
            'Ascend910B3',
            'vir05_1c_16g',
            'MTT S4000',
            'mixed',
        ):
            self.assertIn(text, out)


def command_names(parser):
    for action in parser._subparsers._group_actions:
        return set(action.choices)
    return set()


class TestCommandPlugins(base.TestCase):
    def test_sandbox_commands_come_from_the_entry_point(self):
        parser = cli.build_parser(extra=cli._extra_commands)
        self.assertIn('sandbox', command_names(parser))
        args = parser.parse_args(['sandbox', 'status'])
        self.assertEqual('orionx_cyborg.sandbox.cli', args.handler.__module__)

    def test_without_plugins_there_is_no_sandbox_command(self):
        from stevedore import extension

        empty = extension.ExtensionManager.make_test_instance([])
        self.useFixture(
            fixtures.MockPatch(
                'stevedore.ExtensionManager', return_value=empty
            )
        )
        names = command_names(cli.build_parser(extra=cli._extra_commands))
        self.assertNotIn('sandbox', names)
        self.assertIn('leases', names)
