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

"""Several Cyborg agents in one process: one per sandbox host.

Each host gets what a real ``cyborg-agent`` on that host would have:

* its own :class:`SandboxAgentManager` (Cyborg's ``AgentManager``), whose
  resource provider is the host's compute node, found in Placement by the
  stock start-up check;
* its own resource tracker holding driver instances built for that host
  only, each with the host's own configuration (``agent.conf``) and host
  name, instead of drivers built from the process-wide ``cyborg.conf``;
* its own RPC server on the ``cyborg-agent`` topic with ``server=<host>``,
  so the conductor's ``create_vgpu_mdev``/``remove_vgpu_mdev`` calls (sent
  to ``server=<ARQ hostname>``) reach the right host. The mdev endpoints
  change the host's simulated hardware (:mod:`.mdevs`: its topology and
  its sysfs tree), never the real ``/sys``.

:class:`HostAgent` can also be rebuilt with the host's configuration
as it is now (:meth:`HostAgent.restart`): drivers read their options
when they are built, as a real agent does when it starts.
"""

from __future__ import annotations

import importlib
import logging
import re
from collections.abc import Sequence
from typing import Any

import oslo_messaging
from cyborg.accelerator.drivers import fake
from cyborg.agent import manager as agent_manager
from cyborg.agent import resource_tracker
from cyborg.common import constants
from cyborg.common import exception
from cyborg.common import rpc
from cyborg.objects import base as objects_base
from oslo_config import cfg
from stevedore import driver as stevedore_driver

from orionx_cyborg.sandbox import hosts
from orionx_cyborg.sandbox import layout
from orionx_cyborg.sandbox import mdevs

LOG = logging.getLogger(__name__)

DRIVER_NAMESPACE = 'cyborg.accelerator.driver'


class HostResourceTracker(
    resource_tracker.ResourceTracker  # type: ignore[misc]
):
    """Cyborg's resource tracker with drivers given, not looked up."""

    def __init__(
        self, host: str, cond_api: Any, drivers: Sequence[Any]
    ) -> None:
        self._host_drivers = list(drivers)
        super().__init__(host, cond_api)

    def _initialize_drivers(self, enabled_drivers: Any = None) -> None:
        self.acc_drivers = list(self._host_drivers)


class HostFakeDriver(fake.FakeDriver):  # type: ignore[misc]
    """Cyborg's fake driver, named after its own host, not ``CONF.host``.

    The stock driver prefixes deployable names with the process-wide
    ``CONF.host``; with several agents in one process every host would
    report the same names (the same Placement RP).
    """

    def __init__(self, host: str) -> None:
        super().__init__()
        self.host = host

    def _generate_dep_list(self, pci: dict[str, str]) -> list[Any]:
        deps: list[Any] = super()._generate_dep_list(pci)
        for dep in deps:
            name = '%s_%s' % (self.host, pci.get('device'))
            dep.name = re.sub(r'(?![a-zA-Z0-9_\-]).', '_', name)
        return deps


class SandboxAgentManager(agent_manager.AgentManager):  # type: ignore[misc]
    """The agent of one sandbox host."""

    def __init__(self, host: layout.HostEntry, drivers: Sequence[Any]):
        self.host_entry = host
        super().__init__(constants.AGENT_TOPIC, host=host.name)
        # The stock constructor built a tracker from the process-wide
        # enabled_drivers; this host reports through its own drivers.
        self._rt = HostResourceTracker(
            self.resource_provider_name, self.cond_api, drivers
        )

    def _get_resource_provider_name(self) -> str:
        # Stock Cyborg tries [agent] resource_provider_name, then
        # CONF.host: both process-wide. A sandbox host's compute node is
        # named after the host, as Nova's nodename would be.
        if self._check_resource_provider_exists(self.host):
            return str(self.host)
        raise exception.PlacementResourceProviderNotFound(
            resource_provider=self.host
        )

    def create_vgpu_mdev(
        self, context: Any, pci_addr: str, asked_type: str, ah_uuid: str
    ) -> None:
        LOG.info(
            'Host %s: creating mdev %s of type %s on %s',
            self.host,
            ah_uuid,
            asked_type,
            pci_addr,
        )
        mdevs.create(self.host_entry, pci_addr, asked_type, ah_uuid)

    def remove_vgpu_mdev(
        self, context: Any, pci_addr: str, asked_type: str, ah_uuid: str
    ) -> None:
        LOG.info(
            'Host %s: removing mdev %s of type %s on %s',
            self.host,
            ah_uuid,
            asked_type,
            pci_addr,
        )
        try:
            mdevs.remove(self.host_entry, pci_addr, asked_type, ah_uuid)
        except FileNotFoundError:
            # Failing here would leave the ARQ undeletable, which no real
            # host does for an mdev that is already gone.
            LOG.warning(
                'Host %s: mdev %s was already gone', self.host, ah_uuid
            )


def load_host_conf(path: str) -> cfg.ConfigOpts:
    """A private ConfigOpts read from one host's agent.conf.

    Drivers register their options on it later; oslo.config resolves
    values from the parsed file when they are read.
    """
    conf = cfg.ConfigOpts()
    conf(
        args=[],
        project='orionx-cyborg-sandbox',
        default_config_files=[path],
        default_config_dirs=[],
    )
    return conf


def driver_class(name: str) -> Any:
    """A stevedore driver name, or ``package.module:Class``.

    The second form finds a driver whose package is importable but not
    installed (no entry point yet).
    """
    if ':' in name:
        module, _, attribute = name.partition(':')
        return getattr(importlib.import_module(module), attribute)
    manager: stevedore_driver.DriverManager[Any] = (
        stevedore_driver.DriverManager(
            namespace=DRIVER_NAMESPACE, name=name, invoke_on_load=False
        )
    )
    return manager.driver


def build_driver(name: str, conf: cfg.ConfigOpts, host: str) -> Any:
    """One driver instance for one host.

    Plugin drivers (``orionx_gpu_driver``) are built with the host's conf
    and name, the contract the sandbox relies on; Cyborg's fake driver
    takes neither, so it is built to name its deployables after *host*.
    """
    if name == hosts.FAKE_DRIVER:
        return HostFakeDriver(host)
    return driver_class(name)(conf=conf, host=host)


def build_drivers(host: layout.HostEntry) -> list[Any]:
    conf = load_host_conf(host.conf_file)
    return [build_driver(name, conf, host.name) for name in host.drivers]


def start_rpc_server(topic: str, server: str, endpoint: Any) -> Any:
    """An RPC server on the in-process fake transport.

    Unlike Cyborg's RPCService it starts no periodic-task timer: the
    sandbox triggers resource updates explicitly, so tests are
    deterministic (the stock timer re-runs discovery every 60 s).
    """
    target = oslo_messaging.Target(topic=topic, server=server)
    rpc_server = rpc.get_server(
        target, [endpoint], objects_base.CyborgObjectSerializer()
    )
    rpc_server.start()
    return rpc_server


class HostAgent:
    """A host's agent manager and its RPC server."""

    def __init__(self, host: layout.HostEntry) -> None:
        self.name = host.name
        self.host = host
        self.rpc_server: Any = None
        self._start()

    def _start(self) -> None:
        # Drivers first: one that refuses its configuration leaves the
        # agent stopped, as a real agent that fails to start.
        drivers = build_drivers(self.host)
        self.manager = SandboxAgentManager(self.host, drivers)
        self.rpc_server = start_rpc_server(
            constants.AGENT_TOPIC, self.host.name, self.manager
        )

    def update_resources(self, context: Any) -> None:
        """One agent cycle: discover and report to the conductor."""
        if self.rpc_server is None:
            raise RuntimeError(
                'the agent of %s is not running: its last restart failed'
                % self.name
            )
        self.manager.update_available_resource(context)

    def restart(self, context: Any) -> None:
        """Stop, rebuild from agent.conf as it is now, run one cycle.

        As a restarted ``cyborg-agent``: new driver instances read the
        configuration, and the first cycle runs at once (the stock
        periodic task has ``run_immediately=True``).
        """
        self.stop()
        self._start()
        self.update_resources(context)

    def stop(self) -> None:
        server, self.rpc_server = self.rpc_server, None
        if server is not None:
            server.stop()
            server.wait()
