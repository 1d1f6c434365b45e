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

"""Cyborg all in one process, with one agent per sandbox host.

oslo.messaging's ``fake://`` transport lives in one process, so the API,
the conductor and the agents share this one. Start-up order:

1. parse ``cyborg.conf``, create the SQLite schema from the models
   (Cyborg's alembic migrations fail on SQLite);
2. wait until Nova (the stand-in) has registered every compute node in
   Placement: an agent refuses to start without its host's RP, and the
   conductor needs Placement and Nova as it starts;
3. start the conductor (RPC server and start-up hook), then one agent per
   host, and run one agent cycle per host (discover, report);
4. serve the API under ``/accelerator`` plus the sandbox hooks, print
   ``READY``.

In strict-admission mode (``Sandbox(strict_admission=True)``) the
conductor admits pooled vGPUs through the attach service before binding
them, as under ``orionx-cyborg-conductor``.

No periodic task timer runs: agent cycles happen at start-up and when
``POST /_sandbox/update_resources[?host=H]`` asks for one, so tests are
deterministic. Stock Cyborg runs one about every 60 s.
``POST /_sandbox/restart?host=H`` restarts host H's agent: new drivers
built from its ``agent.conf`` as it is now, then one cycle, as a
restarted ``cyborg-agent`` does. Both hooks run one at a time.
"""

from __future__ import annotations

import enum
import logging
import os
import signal
import threading
import time
import urllib.parse
from collections.abc import Callable
from collections.abc import Iterable
from types import FrameType
from typing import Any

from cyborg import context as cyborg_context
from cyborg.api import app as api_app
from cyborg.common import constants
from cyborg.common import service as cyborg_service
from cyborg.conductor import manager as conductor_manager
from cyborg.conf import CONF
from cyborg.db.sqlalchemy import migration

from orionx_cyborg.sandbox import agents
from orionx_cyborg.sandbox import clients
from orionx_cyborg.sandbox import layout
from orionx_cyborg.sandbox import lifecycle
from orionx_cyborg.sandbox import wsgi

LOG = logging.getLogger(__name__)

API_PREFIX = '/accelerator'
SANDBOX_PREFIX = '/_sandbox/'
COMPUTE_NODE_TIMEOUT = 60.0


def ensure_schema() -> None:
    if migration.version() is None:
        migration.create_schema()


def wait_for_compute_nodes(
    manifest: layout.Manifest, timeout: float = COMPUTE_NODE_TIMEOUT
) -> None:
    placement = clients.placement(manifest.placement_url)
    missing = {host.name for host in manifest.hosts}
    deadline = time.monotonic() + timeout
    while missing:
        for name in sorted(missing):
            try:
                found = placement.get(
                    '/resource_providers', params={'name': name}
                )['resource_providers']
            except (clients.ApiError, OSError) as err:
                LOG.debug('Placement not ready: %s', err)
                found = []
            if found:
                missing.discard(name)
        if missing and time.monotonic() > deadline:
            raise RuntimeError(
                'compute nodes never appeared in Placement: %s'
                % ', '.join(sorted(missing))
            )
        if missing:
            time.sleep(0.05)


class SandboxCyborgApp:
    """Cyborg's WSGI app, mounted under /accelerator, plus sandbox hooks.

    Cyborg builds every link as ``<host>/accelerator/v2/...`` (devstack
    mounts it there) and routes some paths wrongly at ``/``, so requests
    under the prefix move it from PATH_INFO to SCRIPT_NAME. The API still
    answers at ``/`` too.
    """

    def __init__(
        self, app: wsgi.WSGIApp, host_agents: dict[str, agents.HostAgent]
    ) -> None:
        self.app = app
        self.host_agents = host_agents
        # One agent action at a time, as each real agent runs its cycles
        # one after the other; a restart must not meet a cycle half-way.
        self._agent_lock = threading.Lock()

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        path = environ.get('PATH_INFO', '')
        if path.startswith(SANDBOX_PREFIX):
            return self._sandbox(environ, start_response)
        if path == API_PREFIX or path.startswith(API_PREFIX + '/'):
            environ['SCRIPT_NAME'] = (
                environ.get('SCRIPT_NAME', '') + API_PREFIX
            )
            environ['PATH_INFO'] = path[len(API_PREFIX) :] or '/'
        return self.app(environ, start_response)

    def _sandbox(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        route = environ['PATH_INFO'][len(SANDBOX_PREFIX) :]
        method = environ['REQUEST_METHOD']
        query = urllib.parse.parse_qs(environ.get('QUERY_STRING', ''))
        if route == 'update_resources' and method == 'POST':
            return self._run_agents(
                query.get('host'), start_response, HostAction.CYCLE
            )
        if route == 'restart' and method == 'POST':
            return self._run_agents(
                query.get('host'), start_response, HostAction.RESTART
            )
        if route == 'hosts' and method == 'GET':
            return wsgi.json_response(
                start_response, '200 OK', {'hosts': sorted(self.host_agents)}
            )
        return wsgi.json_response(
            start_response, '404 Not Found', {'error': route}
        )

    def _run_agents(
        self,
        names: list[str] | None,
        start_response: Callable[..., Any],
        action: HostAction,
    ) -> Iterable[bytes]:
        names = names or sorted(self.host_agents)
        unknown = [n for n in names if n not in self.host_agents]
        if unknown:
            return wsgi.json_response(
                start_response,
                '404 Not Found',
                {'error': 'unknown hosts: %s' % ', '.join(unknown)},
            )
        context = cyborg_context.get_admin_context()
        try:
            with self._agent_lock:
                for name in names:
                    agent = self.host_agents[name]
                    if action is HostAction.RESTART:
                        agent.restart(context)
                    else:
                        agent.update_resources(context)
        except Exception as err:
            LOG.exception('Agent %s failed', action.value)
            return wsgi.json_response(
                start_response,
                '500 Internal Server Error',
                {'error': '%s: %s' % (type(err).__name__, err)},
            )
        return wsgi.json_response(start_response, '200 OK', {'updated': names})


class HostAction(enum.Enum):
    CYCLE = 'cycle'
    RESTART = 'restart'


def start_conductor() -> Any:
    conductor = conductor_manager.ConductorManager(
        constants.CONDUCTOR_TOPIC, CONF.host
    )
    agents.start_rpc_server(constants.CONDUCTOR_TOPIC, CONF.host, conductor)
    return conductor


def start_agents(manifest: layout.Manifest) -> dict[str, agents.HostAgent]:
    host_agents = {
        host.name: agents.HostAgent(host) for host in manifest.hosts
    }
    context = cyborg_context.get_admin_context()
    for agent in host_agents.values():
        agent.update_resources(context)
    return host_agents


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    # Nothing here needs a graceful stop (SQLite transactions are atomic),
    # and a normal exit waits about a second for oslo.messaging's executor
    # threads: leave at once, logs flushed.
    logging.shutdown()
    os._exit(0)


def install_admission() -> None:
    """Strict admission, as ``orionx-cyborg-conductor`` installs it.

    Its options are in cyborg.conf (``[orionx_admission]``, pointing at
    the sandbox's attach service); the conductor of this process then
    binds pooled vGPUs through the registered ``ExtARQ`` subclass.
    """
    from orionx_cyborg.admission import ext_arq
    from orionx_cyborg.conf import admission as admission_conf

    admission_conf.register_opts(CONF)
    ext_arq.install(CONF)


def run(state_dir: str, started: float) -> int:
    state = layout.StateLayout(state_dir)
    manifest = state.read_manifest()
    cyborg_service.prepare_service(
        ['cyborg-sandbox', '--config-file', str(state.cyborg_conf)]
    )
    if manifest.strict_admission:
        install_admission()
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    lifecycle.exit_with_parent()
    ensure_schema()
    # Compute nodes in Placement mean Placement answers and Nova listens:
    # the conductor discovers Placement's version as it is built, and its
    # start-up hook heals ARQs through Nova.
    wait_for_compute_nodes(manifest)
    conductor = start_conductor()
    conductor.init_host()
    host_agents = start_agents(manifest)
    server = wsgi.make_server(
        '127.0.0.1',
        manifest.cyborg_port,
        SandboxCyborgApp(api_app.load_app(), host_agents),
    )
    wsgi.announce_ready('cyborg', manifest.cyborg_port, started)
    server.serve_forever()
    return 0
