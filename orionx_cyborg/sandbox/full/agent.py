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

"""``cyborg-agent`` of a full sandbox host, whose GPUs are simulated.

At the bind of an ``MDEV`` attach handle Cyborg's conductor asks the
agent of the ARQ's host (RPC ``create_vgpu_mdev``, ``server=<host>``) to
create the mdev, and at unbind to remove it; the stock agent writes
``/sys/class/mdev_bus/...`` through privsep. A sandbox host's GPUs exist
only in its topology file and the sysfs tree ``orionx_gpu_driver``
renders from it, so :func:`agent_main` runs Cyborg's own agent service
(``cyborg.cmd.agent``'s steps) with an ``AgentManager`` whose two mdev
endpoints change the host's simulated hardware instead (:mod:`.mdevs`
of the light sandbox, whose agents do the same). Everything else --
discovery, reports, the RPC server -- is the stock agent's.

The host comes from :data:`HOST_ENV` (a JSON :class:`HostEntry`).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shlex
import sys
from typing import Any

from orionx_cyborg.sandbox import layout as light_layout
from orionx_cyborg.sandbox import mdevs

LOG = logging.getLogger(__name__)

HOST_ENV = 'ORIONX_SANDBOX_HOST'
MANAGER_CLASS = 'SimulatedHostAgentManager'


def host_environment(entry: light_layout.HostEntry) -> dict[str, str]:
    """The environment that tells :func:`agent_main` its host."""
    return {HOST_ENV: json.dumps(dataclasses.asdict(entry))}


def host_from_environment() -> light_layout.HostEntry:
    values = json.loads(os.environ[HOST_ENV])
    values['drivers'] = tuple(values['drivers'])
    return light_layout.HostEntry(**values)


def manager_class(host: light_layout.HostEntry) -> type:
    """Cyborg's ``AgentManager`` with simulated mdev endpoints."""
    from cyborg.agent import manager

    class SimulatedHostAgentManager(manager.AgentManager):  # type: ignore[misc]
        def create_vgpu_mdev(
            self, context: Any, pci_addr: str, asked_type: str, ah_uuid: str
        ) -> None:
            LOG.info(
                'Host %s: creating mdev %s of type %s on %s',
                host.name,
                ah_uuid,
                asked_type,
                pci_addr,
            )
            mdevs.create(host, pci_addr, asked_type, ah_uuid)

        def remove_vgpu_mdev(
            self, context: Any, pci_addr: str, asked_type: str, ah_uuid: str
        ) -> None:
            LOG.info(
                'Host %s: removing mdev %s of type %s on %s',
                host.name,
                ah_uuid,
                asked_type,
                pci_addr,
            )
            try:
                mdevs.remove(host, pci_addr, asked_type, ah_uuid)
            except FileNotFoundError:
                # Failing would leave the ARQ undeletable, which no real
                # host does for an mdev that is already gone.
                LOG.warning('Host %s: mdev %s was gone', host.name, ah_uuid)

    return SimulatedHostAgentManager


def agent_main() -> None:
    """``cyborg.cmd.agent.main`` with :func:`manager_class`'s manager."""
    # cyborg.cmd first: it selects oslo.service's threading backend.
    from cyborg.cmd import agent as cyborg_agent
    from cyborg.common import constants
    from cyborg.common import service as cyborg_service
    from oslo_privsep import priv_context
    from oslo_service import service  # type: ignore[import-untyped]

    # RPCService imports its manager by module and class name.
    setattr(
        sys.modules[__name__],
        MANAGER_CLASS,
        manager_class(host_from_environment()),
    )
    cyborg_service.prepare_service(sys.argv)
    priv_context.init(root_helper=shlex.split('sudo'))
    rpc_service = cyborg_service.RPCService(
        __name__, MANAGER_CLASS, constants.AGENT_TOPIC
    )
    # In this process: a forked child would double the agent's RSS.
    launcher = service.launch(
        cyborg_agent.CONF, rpc_service, restart_method='mutate', no_fork=True
    )
    launcher.wait()
