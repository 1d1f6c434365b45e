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

"""Packaging: entry points, options and the generated sample config."""

import importlib.metadata
import inspect
import os
import tomllib

import fixtures
import stevedore
import testtools
from oslo_config import cfg
from oslo_config import generator

from orionx_cyborg.conf import opts

ROOT = os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
)


def declared_entry_points():
    with open(os.path.join(ROOT, 'pyproject.toml'), 'rb') as stream:
        project = tomllib.load(stream)['project']
    groups = dict(project.get('entry-points', {}))
    groups['console_scripts'] = project.get('scripts', {})
    return groups


class TestEntryPoints(testtools.TestCase):
    def test_every_declared_entry_point_is_installed_and_loads(self):
        installed = {
            (ep.group, ep.name): ep
            for ep in importlib.metadata.distribution(
                'orionx-cyborg'
            ).entry_points
        }
        declared = declared_entry_points()
        self.assertIn('cyborg.accelerator.driver', declared)
        self.assertIn('oslo.config.opts', declared)
        for group, entries in declared.items():
            for name, target in entries.items():
                ep = installed.get((group, name))
                self.assertIsNotNone(
                    ep,
                    '%s:%s is declared but not installed: reinstall '
                    'the package' % (group, name),
                )
                self.assertEqual(target, ep.value)
                loaded = ep.load()
                if group == 'openstack.cli.extension':
                    # OSC's plugin interface is a module with API_NAME,
                    # make_client and build_option_parser.
                    self.assertTrue(
                        inspect.ismodule(loaded)
                        and callable(loaded.make_client)
                        and callable(loaded.build_option_parser),
                        '%s:%s' % (group, name),
                    )
                else:
                    self.assertTrue(callable(loaded), '%s:%s' % (group, name))

    def test_cyborg_finds_the_driver_by_name(self):
        # What cyborg.agent.resource_tracker does before loading drivers.
        names = stevedore.ExtensionManager(
            namespace='cyborg.accelerator.driver'
        ).names()
        self.assertIn('orionx_gpu_driver', names)
        manager = stevedore.DriverManager(
            namespace='cyborg.accelerator.driver',
            name='orionx_gpu_driver',
            invoke_on_load=False,
        )
        from cyborg.accelerator.drivers import driver

        self.assertTrue(issubclass(manager.driver, driver.GenericDriver))

    def test_config_generator_namespace(self):
        manager = stevedore.NamedExtensionManager(
            'oslo.config.opts', names=['orionx_cyborg']
        )
        groups = {str(group) for group, _ in manager['orionx_cyborg'].plugin()}
        self.assertEqual({'orionx_gpu', 'orionx_pool'}, groups)
        attach = stevedore.NamedExtensionManager(
            'oslo.config.opts', names=['orionx_cyborg.attach']
        )
        groups = {
            str(group) for group, _ in attach['orionx_cyborg.attach'].plugin()
        }
        self.assertEqual(
            {'orionx_attach', 'database', 'cyborg', 'placement'}, groups
        )
        runtimes = stevedore.NamedExtensionManager(
            'oslo.config.opts', names=['orionx_cyborg.attach.runtimes']
        )
        groups = {
            str(group)
            for group, _ in runtimes['orionx_cyborg.attach.runtimes'].plugin()
        }
        self.assertEqual(
            {'orionx_runtime_generic', 'orionx_runtime_orionx'}, groups
        )


class TestOptions(testtools.TestCase):
    def test_every_option_has_help_and_a_type(self):
        for group, group_opts in opts.list_opts():
            self.assertTrue(group.help, group.name)
            for opt in group_opts:
                self.assertGreater(
                    len(opt.help or ''), 30, '%s.%s' % (group.name, opt.name)
                )
                self.assertIsNotNone(opt.type)

    def test_sample_configs_are_current(self):
        for generator_conf in (
            'orionx-cyborg.conf',
            'orionx-cyborg-attach.conf',
        ):
            self.check_sample(
                os.path.join(
                    ROOT, 'etc', 'oslo-config-generator', generator_conf
                )
            )

    def check_sample(self, generator_conf):
        conf = cfg.ConfigOpts()
        generator.register_cli_opts(conf)
        out = os.path.join(self.useFixture(fixtures.TempDir()).path, 'sample')
        conf(['--config-file', generator_conf, '--output-file', out])
        with open(generator_conf) as stream:
            target = [
                line.split('=', 1)[1].strip()
                for line in stream
                if line.startswith('output_file')
            ][0]
        committed = os.path.join(ROOT, target)
        generator.generate(conf)
        with open(committed) as old, open(out) as fresh:
            self.assertEqual(
                fresh.read(),
                old.read(),
                '%s is stale: run "tox -e genconfig" and commit it' % target,
            )

    def test_sample_policy_is_current(self):
        from oslo_policy import generator as policy_generator

        out = os.path.join(self.useFixture(fixtures.TempDir()).path, 'p')
        policy_generator.generate_sample(
            [
                '--config-file',
                os.path.join(
                    ROOT, 'etc', 'oslo-policy-generator', 'orionx-cyborg.conf'
                ),
                '--output-file',
                out,
            ],
            conf=cfg.ConfigOpts(),
        )
        committed = os.path.join(
            ROOT, 'etc', 'orionx-cyborg', 'policy.yaml.sample'
        )
        with open(committed) as old, open(out) as fresh:
            self.assertEqual(
                fresh.read(),
                old.read(),
                'policy.yaml.sample is stale: run "tox -e genpolicy"',
            )

    def test_configurations_do_not_share_overrides(self):
        # The sandbox builds one ConfigOpts per simulated host.
        from tests import base

        first, second = base.make_conf(), base.make_conf()
        first.set_override('entitlement', 8, 'orionx_pool')
        first.set_override('default_mode', 'pool', 'orionx_gpu')
        self.assertEqual(0, second.orionx_pool.entitlement)
        self.assertEqual('passthrough', second.orionx_gpu.default_mode)
