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

"""The sandbox: start, use and stop a small real OpenStack.

>>> with Sandbox('/tmp/sbx') as sandbox:  # doctest: +SKIP
...     conn = sandbox.connect()  # openstacksdk
...     sandbox.compute().post('/servers', {...})  # the Nova stand-in

Four processes, started together: Placement; the Nova stand-in
(registers the compute nodes); Cyborg all in one (waits for the compute
nodes, then reports every host's devices), each ready when its log says
READY; and ``orionx-cyborg-attach``, ready when its ``/healthz``
answers, which Nova's DynamicJSON vendordata calls. Each can be stopped
and started again on its own port (:meth:`Sandbox.stop_service`,
:meth:`Sandbox.start_service`), for fault tests.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import pathlib
import secrets
import shutil
import signal
import sys
import time
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from types import TracebackType
from typing import Any

import orionx_cyborg
from orionx_cyborg.attach import leasetokens
from orionx_cyborg.sandbox import attach_server
from orionx_cyborg.sandbox import clients
from orionx_cyborg.sandbox import config
from orionx_cyborg.sandbox import counting
from orionx_cyborg.sandbox import hosts as hosts_mod
from orionx_cyborg.sandbox import identity
from orionx_cyborg.sandbox import layout
from orionx_cyborg.sandbox import lifecycle
from orionx_cyborg.sandbox import mdevs
from orionx_cyborg.sandbox import processes
from orionx_cyborg.sandbox import wsgi

LOG = logging.getLogger(__name__)

START_TIMEOUT = 90.0
SERVICES = (
    ('placement', 'orionx_cyborg.sandbox.placement_server'),
    ('nova', 'orionx_cyborg.sandbox.nova.server'),
    ('cyborg', 'orionx_cyborg.sandbox.cyborg_server'),
    ('attach', 'orionx_cyborg.sandbox.attach_server'),
)
ATTACH = 'attach'
# Files a fresh start removes; logs are kept (appended to) for post-mortem.
_STATE_FILES = ('placement', 'cyborg', 'attach', 'hosts', layout.MANIFEST)


class SandboxError(RuntimeError):
    pass


def child_environment(watch_parent: bool) -> dict[str, str]:
    """The services' environment.

    The services run the same ``orionx_cyborg`` as the caller, installed
    or not, so its directory leads PYTHONPATH.
    """
    env = dict(os.environ)
    package_root = str(pathlib.Path(orionx_cyborg.__file__).parent.parent)
    paths = [package_root] + [
        p for p in env.get('PYTHONPATH', '').split(os.pathsep) if p
    ]
    env['PYTHONPATH'] = os.pathsep.join(dict.fromkeys(paths))
    env['PYTHONUNBUFFERED'] = '1'
    env.pop(lifecycle.PARENT_ENV, None)
    if watch_parent:
        env[lifecycle.PARENT_ENV] = str(os.getpid())
    return env


class Sandbox:
    """Placement, Cyborg (API, conductor, one agent per host), Nova.

    :param state_dir: where configuration, databases, logs and the
        process records go; created if missing, wiped of a previous
        sandbox's state (not its logs) at start.
    :param hosts: the hosts and their drivers; the planned fleet on
        ``orionx_gpu_driver`` by default.
    :param vendordata_targets: ``name@url`` DynamicJSON targets of Nova,
        after the attach service's own.
    :param keep: the services outlive this object's process (``up
        --keep``); otherwise they exit when it does.
    :param attach: run ``orionx-cyborg-attach`` and make it Nova's
        first vendordata target (``orionx``).
    :param attach_options: ``[orionx_attach]`` options of the attach
        service over the sandbox's (e.g. ``reconcile_interval``, 0 by
        default: passes run on ``POST /v1/reconcile`` only;
        ``database_connection``).
    :param strict_admission: Cyborg's conductor admits pooled vGPUs
        through the attach service before binding them
        (:mod:`orionx_cyborg.admission`).
    :param attach_workers: run the attach service under gunicorn with
        this many workers, as in production; 0 (the default): its
        console script, one process.
    """

    def __init__(
        self,
        state_dir: str | os.PathLike[str],
        hosts: Sequence[hosts_mod.HostSpec] | None = None,
        *,
        vendordata_targets: Iterable[str] = (),
        arq_binding_timeout: float = 30.0,
        shelved_offload_time: int = 0,
        debug: bool = False,
        keep: bool = False,
        start_timeout: float = START_TIMEOUT,
        python: str = sys.executable,
        attach: bool = True,
        attach_options: Mapping[str, str] | None = None,
        strict_admission: bool = False,
        attach_workers: int = 0,
    ) -> None:
        if strict_admission and not attach:
            raise SandboxError('strict admission needs the attach service')
        self.state = layout.StateLayout(state_dir)
        self.hosts = tuple(
            hosts if hosts is not None else hosts_mod.default_fleet()
        )
        self.vendordata_targets = tuple(vendordata_targets)
        self.arq_binding_timeout = arq_binding_timeout
        self.shelved_offload_time = shelved_offload_time
        self.debug = debug
        self.keep = keep
        self.start_timeout = start_timeout
        self.python = python
        self.attach_enabled = attach
        self.attach_options = dict(attach_options or {})
        # A key of this sandbox only: lease tokens are signed with keys
        # derived from it.
        self._attach_key = secrets.token_hex(32)
        self.strict_admission = strict_admission
        self.attach_workers = attach_workers
        self.services: list[processes.Service] = []
        self.timings: dict[str, float] = {}
        self._manifest: layout.Manifest | None = None
        self._host_options = {host.name: host.options() for host in self.hosts}

    # -- lifecycle ---------------------------------------------------

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def manifest(self) -> layout.Manifest:
        if self._manifest is None:
            raise SandboxError('the sandbox is not started')
        return self._manifest

    def start(self) -> Sandbox:
        began = time.monotonic()
        if any(processes.is_running(r) for r in self._recorded()):
            raise SandboxError(
                'a sandbox is already running in %s; stop it first'
                % self.state.root
            )
        self._prepare_state_dir()
        self._manifest = self._new_manifest()
        self.state.write_manifest(self._manifest)
        config.write_all(
            self.state,
            self._manifest,
            self._host_options,
            self._attach_conf_options(),
        )
        self._write_topologies()
        self.timings['prepare'] = time.monotonic() - began
        try:
            self._start_services()
            ready = processes.wait_ready(self.services, self.start_timeout)
        except BaseException:
            self.stop()
            raise
        self.timings['ready'] = time.monotonic() - began
        for line in ready.values():
            LOG.info('%s', line)
        LOG.info('Sandbox ready in %.2fs', self.timings['ready'])
        return self

    def stop(self) -> None:
        """Stop what this sandbox started, newest first."""
        stop_recorded(self.state.root, self.services)
        self.services = []

    def _recorded(self) -> list[processes.ProcessRecord]:
        return processes.load_records(self.state.processes)

    def _prepare_state_dir(self) -> None:
        self.state.root.mkdir(parents=True, exist_ok=True)
        for name in _STATE_FILES:
            path = self.state.root / name
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)
        self.state.logs_dir.mkdir(exist_ok=True)

    def _new_manifest(self) -> layout.Manifest:
        entries = []
        for host in self.hosts:
            host_dir = self.state.host_dir(host.name)
            entries.append(
                layout.HostEntry(
                    name=host.name,
                    rp_uuid=layout.compute_node_uuid(host.name),
                    vcpus=host.vcpus,
                    memory_mb=host.memory_mb,
                    disk_gb=host.disk_gb,
                    drivers=tuple(spec.name for spec in host.drivers),
                    host_dir=str(host_dir),
                    conf_file=str(host_dir / 'agent.conf'),
                    sysfs_root=host.sysfs_root_in(host_dir),
                    description=host.description,
                    topology_file=(
                        str(host_dir / hosts_mod.TOPOLOGY_NAME)
                        if host.topology
                        else None
                    ),
                )
            )
        placement_port, cyborg_port, nova_port, attach_port = wsgi.free_ports(
            4
        )
        if not self.attach_enabled:
            attach_port = 0
        manifest = layout.Manifest(
            state_dir=str(self.state.root),
            placement_port=placement_port,
            cyborg_port=cyborg_port,
            nova_port=nova_port,
            hosts=tuple(entries),
            vendordata_targets=self.vendordata_targets,
            arq_binding_timeout=self.arq_binding_timeout,
            shelved_offload_time=self.shelved_offload_time,
            debug=self.debug,
            attach_port=attach_port,
            strict_admission=self.strict_admission,
        )
        target = manifest.attach_target()
        if target is None:
            return manifest
        return dataclasses.replace(
            manifest,
            vendordata_targets=(target, *self.vendordata_targets),
        )

    def _write_topologies(self) -> None:
        for host in self.hosts:
            if host.topology:
                # The simulation is imported only for fleets that use it.
                from orionx_cyborg.gpu.fake import topology

                topology.dump(
                    topology.load(host.topology, host.name),
                    str(self.topology_file(host.name)),
                )

    def topology_file(self, host: str) -> pathlib.Path:
        """The simulated topology of *host*.

        Edit it, then run :meth:`update_resources` for the driver to see
        the change.
        """
        return self.state.host_dir(host) / hosts_mod.TOPOLOGY_NAME

    def _start_services(self) -> None:
        for name, _module in SERVICES:
            if name == ATTACH and not self.manifest.attach_port:
                continue
            self.services.append(self._spawn(name))
            # Recorded as each starts, so a failure part-way still leaves
            # a complete list for stop() and `down`.
            self._save_records()

    def _spawn(
        self, name: str, env: Mapping[str, str] | None = None
    ) -> processes.Service:
        modules = dict(SERVICES)
        args = {
            'placement': [
                str(self.state.placement_dir),
                str(self.manifest.placement_port),
            ],
        }.get(name, [str(self.state.root)])
        environment = child_environment(watch_parent=not self.keep)
        environment.update(env or {})
        ready_url = None
        if name == ATTACH:
            ready_url = '%s/healthz' % self.manifest.attach_url
            if self.attach_workers:
                environment[attach_server.WORKERS_ENV] = str(
                    self.attach_workers
                )
        return processes.Service(
            name,
            modules[name],
            args,
            self.state.log(name),
            environment,
            python=self.python,
            ready_url=ready_url,
        )

    def _attach_conf_options(self) -> dict[str, str]:
        return dict({'secret_key': self._attach_key}, **self.attach_options)

    def reconfigure_attach(
        self,
        options: Mapping[str, str],
        env: Mapping[str, str] | None = None,
    ) -> processes.Service:
        """Change ``[orionx_attach]`` options and restart the service.

        *options* are merged into the current ones (e.g. another
        ``database_connection``: the start migrates it first). Its lease
        secrets keep their key.
        """
        self.attach_options.update(options)
        config.write_attach_conf(
            self.state, self.manifest, self._attach_conf_options()
        )
        return self.restart_service(ATTACH, env)

    def _save_records(self) -> None:
        processes.save_records(
            self.state.processes, [s.record for s in self.services]
        )

    # -- one service at a time (fault tests) ---------------------------

    def service(self, name: str) -> processes.Service:
        """The started service *name* (placement, nova, cyborg, attach)."""
        for service in self.services:
            if service.name == name:
                return service
        raise SandboxError('the sandbox runs no service %s' % name)

    def stop_service(self, name: str, signum: int = signal.SIGTERM) -> None:
        """Stop one service; SIGKILL kills it without a chance to clean.

        Its port stays reserved in the manifest: :meth:`start_service`
        starts it there again. The Nova stand-in keeps its servers in
        memory, so a restarted one knows none.
        """
        service = self.service(name)
        if signum == signal.SIGTERM:
            processes.terminate(service.record, service.popen)
        elif not processes.kill(service.record, service.popen, signum):
            raise SandboxError('%s outlived signal %d' % (name, signum))

    def start_service(
        self,
        name: str,
        env: Mapping[str, str] | None = None,
        wait: bool = True,
    ) -> processes.Service:
        """Start a stopped service again, with its configuration and data.

        *env* adds environment variables (e.g. the attach service's
        crash hook, :mod:`orionx_cyborg.attach.faults`). With *wait*,
        returns when it is ready (raises ``ServiceFailed`` if it exits
        first).
        """
        old = self.service(name)
        if processes.is_running(old.record):
            raise SandboxError('%s is still running' % name)
        old.popen.poll()  # reap it if it ended by itself (a crash)
        started = self._spawn(name, env)
        self.services[self.services.index(old)] = started
        self._save_records()
        if wait:
            processes.wait_ready([started], self.start_timeout)
        return started

    def restart_service(
        self,
        name: str,
        env: Mapping[str, str] | None = None,
        signum: int = signal.SIGTERM,
    ) -> processes.Service:
        self.stop_service(name, signum)
        return self.start_service(name, env)

    # -- using it ----------------------------------------------------

    def connect(self, token: str = identity.ADMIN_TOKEN) -> Any:
        """An openstacksdk connection as *token*."""
        return clients.connect(self.manifest, token)

    def placement(
        self, token: str = identity.ADMIN_TOKEN
    ) -> clients.JsonClient:
        return clients.placement(self.manifest.placement_url, token)

    def cyborg(
        self,
        token: str = identity.ADMIN_TOKEN,
        service_token: str | None = None,
    ) -> clients.JsonClient:
        return clients.cyborg(
            self.manifest.cyborg_url + '/v2', token, service_token
        )

    def compute(self, token: str = identity.ADMIN_TOKEN) -> clients.JsonClient:
        return clients.compute(self.manifest.nova_url, token)

    def nova_sandbox(self) -> clients.JsonClient:
        return clients.sandbox_nova(self.manifest)

    def attach(
        self,
        token: str = identity.ADMIN_TOKEN,
        timeout: float = clients.DEFAULT_TIMEOUT,
    ) -> clients.JsonClient:
        """A client of the attach service's API as *token*."""
        url = self.manifest.attach_url
        if url is None:
            raise SandboxError('this sandbox runs no attach service')
        return clients.attach(url, token, timeout)

    def gpu_server_key(self, host: str) -> bytes:
        """The lease-token key of GPU server *host*.

        What its data plane holds (``orionx-cyborg-attach-server-key
        HOST``).
        """
        return leasetokens.server_key(
            self._attach_conf_options()['secret_key'], host
        )

    def reconcile(
        self, timeout: float = clients.DEFAULT_TIMEOUT
    ) -> dict[str, Any]:
        """One reconcile pass of the attach service now; its report."""
        report: dict[str, Any] = self.attach(timeout=timeout).post(
            '/v1/reconcile'
        )
        return report

    def update_resources(
        self,
        hosts: Iterable[str] = (),
        timeout: float = clients.DEFAULT_TIMEOUT,
    ) -> list[str]:
        """Run an agent cycle on *hosts* (all by default).

        It returns when the conductor has written the report to Cyborg's
        database and Placement. A first report of hundreds of GPUs needs
        a *timeout* longer than the default.
        """
        answer = clients.sandbox_cyborg(self.manifest, timeout).post(
            '/_sandbox/update_resources', params={'host': list(hosts)}
        )
        updated: list[str] = answer['updated']
        return updated

    def host_options(self, host: str) -> dict[str, dict[str, str]]:
        """The options of *host*'s drivers now (a copy)."""
        return {
            group: dict(values)
            for group, values in self._host_options[host].items()
        }

    def reconfigure_host(
        self, host: str, options: hosts_mod.Options, replace: bool = False
    ) -> list[str]:
        """Change *host*'s driver options, restart its agent, one cycle.

        *options* are merged into the current ones key by key (group ->
        option -> value; ``{host_dir}`` allowed), or replace them all.
        The agent is rebuilt, because drivers read their configuration
        when they are built, as a real ``cyborg-agent`` does at start,
        and runs its first cycle at once. Answers the hosts restarted.
        """
        merged = {} if replace else self.host_options(host)
        for group, values in options.items():
            merged.setdefault(group, {}).update(values)
        config.write_host_conf(self.manifest.host(host), merged)
        self._host_options[host] = merged
        answer = clients.sandbox_cyborg(self.manifest).post(
            '/_sandbox/restart', params={'host': [host]}
        )
        restarted: list[str] = answer['updated']
        return restarted

    def edit_topology(self, host: str, change: mdevs.TopologyChange) -> None:
        """Change *host*'s simulated hardware (under the topology lock).

        The driver sees it at the next agent cycle.
        """
        mdevs.edit_topology(str(self.topology_file(host)), host, change)

    def placement_requests(
        self, reset: bool = False
    ) -> counting.RequestCounts:
        """Requests Placement served since the last reset (and reset)."""
        counter = clients.plain(self.manifest.placement_url)
        document = counter.call(
            'DELETE' if reset else 'GET', counting.COUNTER_PATH
        )
        return counting.RequestCounts.from_document(document)

    def environment(self) -> dict[str, str]:
        """``OS_*`` variables for the openstack CLI (see sandbox.rst)."""
        return cli_environment(self.manifest)


def stop_recorded(
    state_dir: str | os.PathLike[str],
    started: Sequence[processes.Service] = (),
) -> list[processes.ProcessRecord]:
    """Stop the processes recorded in *state_dir*, newest first.

    Only recorded processes are signalled, and only while their start
    time still matches (see :mod:`.processes`). *started* lets the
    process that started them reap them too.
    """
    state = layout.StateLayout(state_dir)
    popens = {service.record.pid: service.popen for service in started}
    records = processes.load_records(state.processes)
    stopped = []
    for record in reversed(records):
        if processes.is_running(record):
            stopped.append(record)
        processes.terminate(record, popens.get(record.pid))
    state.processes.unlink(missing_ok=True)
    return stopped


def cli_environment(
    manifest: layout.Manifest, token: str = identity.ADMIN_TOKEN
) -> dict[str, str]:
    return {
        'OS_AUTH_TYPE': 'admin_token',
        'OS_TOKEN': token,
        # admin_token's endpoint serves any service without an override.
        'OS_ENDPOINT': manifest.cyborg_url + '/v2',
        'OS_ACCELERATOR_ENDPOINT_OVERRIDE': manifest.cyborg_url + '/v2',
        # Cyborg's newest: "device profile show <name>" needs 2.2.
        'OS_ACCELERATOR_API_VERSION': '2.3',
        'OS_PLACEMENT_ENDPOINT_OVERRIDE': manifest.placement_url,
        'OS_COMPUTE_ENDPOINT_OVERRIDE': manifest.nova_url,
    }
