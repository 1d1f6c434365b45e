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

"""Shared test helpers: configuration and simulated hosts."""

from __future__ import annotations

import os

import fixtures
from oslo_config import cfg
from oslo_config import fixture as config_fixture
from oslotest import base

from orionx_cyborg import conf as orionx_conf
from orionx_cyborg.gpu.fake import topology


class TestCase(base.BaseTestCase):
    """oslotest base with a private ConfigOpts shaped like Cyborg's."""

    def setUp(self) -> None:
        super().setUp()
        self.conf = make_conf()
        self.useFixture(config_fixture.Config(self.conf))
        self.tmp = self.useFixture(fixtures.TempDir()).path

    def flags(self, group: str | None = None, **overrides: object) -> None:
        for name, value in overrides.items():
            self.conf.set_override(name, value, group)

    def config_file(self, text: str) -> None:
        """Load *text* as a configuration file, as the agent would.

        Overrides validate their value at once; a file lets a test give
        the driver a bad value to find.
        """
        path = os.path.join(self.tmp, 'cyborg.conf')
        with open(path, 'w', encoding='utf-8') as stream:
            stream.write(text)
        self.conf(
            ['--config-file', path],
            project='orionx-cyborg-tests',
            default_config_files=[],
        )


def make_conf(host: str = 'gpu1') -> cfg.ConfigOpts:
    """A ConfigOpts with Cyborg's [DEFAULT] host/state_path and ours."""
    conf = cfg.ConfigOpts()
    conf.register_opts(
        [
            cfg.StrOpt('host', default=host),
            cfg.StrOpt('state_path', default='/var/lib/cyborg'),
        ]
    )
    orionx_conf.register_opts(conf)
    conf([], project='orionx-cyborg-tests', default_config_files=[])
    return conf


class SimulatedHostFile(fixtures.Fixture):
    """A topology file the driver reads at every discovery."""

    def __init__(
        self, host: topology.SimulatedHost | str, name: str = 'gpu1'
    ) -> None:
        super().__init__()
        if isinstance(host, str):
            host = topology.load(host, name)
        self.host = host

    def _setUp(self) -> None:
        directory = self.useFixture(fixtures.TempDir()).path
        self.path = os.path.join(directory, 'topology.yaml')
        topology.dump(self.host, self.path)

    def update(self, host: topology.SimulatedHost) -> None:
        self.host = host
        topology.dump(host, self.path)

    def change_gpu(self, address: str, **changes: object) -> None:
        self.update(self.host.replace_gpu(address, **changes))
