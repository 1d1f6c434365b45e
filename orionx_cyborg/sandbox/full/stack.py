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

"""Start, watch and stop the full sandbox.

:class:`FullSandbox` prepares the state directory, writes every
configuration file, then brings the services up in the order their
dependencies need (see :meth:`FullSandbox.start`), each a process of
its own recorded in ``processes.json`` with its start time, so ``down``
stops only what this sandbox started.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import importlib.metadata
import logging
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from collections.abc import Sequence
from types import TracebackType
from typing import Any

from orionx_cyborg.sandbox import hosts as hosts_mod
from orionx_cyborg.sandbox import layout as light_layout
from orionx_cyborg.sandbox import processes
from orionx_cyborg.sandbox import stack as light_stack
from orionx_cyborg.sandbox.full import agent
from orionx_cyborg.sandbox.full import clouds
from orionx_cyborg.sandbox.full import config
from orionx_cyborg.sandbox.full import dbinit
from orionx_cyborg.sandbox.full import launch
from orionx_cyborg.sandbox.full import layout
from orionx_cyborg.sandbox.full import rabbit
from orionx_cyborg.sandbox.full import virt

LOG = logging.getLogger(__name__)

START_TIMEOUT = 300.0
STOP_TIMEOUT = 15.0
LAUNCH = 'orionx_cyborg.sandbox.full.launch'
APPS = 'orionx_cyborg.sandbox.full.apps'
COMPUTE_ENTRY = '%s:compute_main' % virt.__name__
AGENT_ENTRY = '%s:agent_main' % agent.__name__
#: Files a fresh start removes; logs are kept (appended to).
_STATE_FILES = (
    'etc',
    'data',
    'keystone',
    'rabbitmq',
    'hosts',
    'clouds.yaml',
    'tempest.conf',
    layout.MANIFEST,
)
#: gunicorn workers of each HTTP service. One thread each: SQLite.
#: Cyborg's API two: with strict admission the attach service reads an
#: ARQ from it while Nova's PATCH of that ARQ holds a worker.
WORKERS = {'attach': 2, 'cyborg-api': 2}
#: The databases that get WAL mode once their schema exists.
DATABASES = (
    'keystone',
    'placement',
    'glance',
    'neutron',
    'nova_api',
    'nova_cell0',
    'nova_cell1',
    'cyborg',
)


class FullSandboxError(RuntimeError):
    pass


def console_entry(script: str) -> str:
    """``module:function`` of an installed console script."""
    found = importlib.metadata.entry_points(
        group='console_scripts', name=script
    )
    for entry in found:
        return str(entry.value)
    raise FullSandboxError(
        '%s is not installed: pip install -r requirements.txt '
        '-r test-requirements.txt' % script
    )


def http_answers(url: str) -> bool:
    """Any HTTP answer but a server error: the application is loaded."""
    try:
        with urllib.request.urlopen(url, timeout=5):  # noqa: S310
            return True
    except urllib.error.HTTPError as err:
        return err.code < 500
    except (urllib.error.URLError, OSError):
        return False


class DevicesSettled:
    """True once Cyborg's reports have been the same for a while.

    An agent's report is one RPC call; the conductor then writes each
    device's deployable and resource provider in turn, about a second
    apart, and logs nothing at the end.
    """

    QUIET = 5.0

    def __init__(
        self,
        session: Any,
        hosts: Sequence[str],
        region: str = layout.REGION,
    ) -> None:
        self.session = session
        self.hosts = hosts
        self.region = region
        self.last: dict[str, int] | None = None
        self.since = 0.0

    def __call__(self) -> bool:
        snapshot = clouds.devices_snapshot(
            self.session, self.hosts, self.region
        )
        now = time.monotonic()
        if snapshot is None or snapshot != self.last:
            self.last, self.since = snapshot, now
            return False
        return now - self.since >= self.QUIET


@dataclasses.dataclass
class Started:
    """A service process and the URL it answers on (if any)."""

    service: processes.Service
    url: str | None = None


class FullSandbox:
    """The full profile (see :mod:`orionx_cyborg.sandbox.full`).

    :param state_dir: where configuration, databases, logs and process
        records go; wiped of a previous sandbox's state (not its logs).
    :param hosts: the sandbox hosts (a ``nova-compute`` and a
        ``cyborg-agent`` each); the planned fleet by default.
    :param keep: the services outlive this object's process.
    :param regions: 2 adds region ``RegionTwo`` (see
        :meth:`_start_region_two`); 1 by default.
    """

    def __init__(
        self,
        state_dir: str | os.PathLike[str],
        hosts: Sequence[hosts_mod.HostSpec] | None = None,
        *,
        keep: bool = False,
        regions: int = 1,
        start_timeout: float = START_TIMEOUT,
        python: str = sys.executable,
    ) -> None:
        self.state = layout.FullLayout(state_dir)
        self.hosts = tuple(
            hosts if hosts is not None else hosts_mod.orionx_fleet()
        )
        self.keep = keep
        if regions not in (1, 2):
            raise FullSandboxError('the sandbox has one or two regions')
        self.region_two_hosts = (
            hosts_mod.region_two_fleet() if regions == 2 else ()
        )
        self.start_timeout = start_timeout
        self.python = python
        self.started: list[Started] = []
        self.timings: dict[str, float] = {}
        self._manifest: layout.FullManifest | None = None
        self._began = 0.0
        self._deadline = 0.0

    # -- lifecycle ---------------------------------------------------

    def __enter__(self) -> FullSandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def manifest(self) -> layout.FullManifest:
        if self._manifest is None:
            raise FullSandboxError('the sandbox is not started')
        return self._manifest

    def start(self) -> FullSandbox:
        """Start everything; return once every service is ready.

        RabbitMQ and the database schemas (Keystone's with its
        identities and catalog) first, in parallel; then Keystone; then
        every API, Nova's conductor and scheduler, Cyborg's conductor,
        the attach service and one ``nova-compute`` per host; once the
        compute nodes are in Placement, one ``cyborg-agent`` per host and
        ``nova-manage cell_v2 discover_hosts``; ready when every host's
        devices are in Placement, settled, and every compute is up.
        """
        rabbit.check_installed()
        self._began = time.monotonic()
        self._deadline = self._began + self.start_timeout
        if any(processes.is_running(r) for r in self._recorded()):
            raise FullSandboxError(
                'a sandbox is already running in %s; stop it first'
                % self.state.root
            )
        try:
            self._prepare()
            self._start_all()
        except BaseException:
            self.stop()
            raise
        self.timings['ready'] = time.monotonic() - self._began
        LOG.info('Full sandbox ready in %.1fs', self.timings['ready'])
        return self

    def stop(self) -> list[processes.ProcessRecord]:
        """Stop what this sandbox started (see :func:`stop_recorded`)."""
        stopped = stop_recorded(
            self.state.root, [s.service for s in self.started]
        )
        self.started = []
        return stopped

    def _recorded(self) -> list[processes.ProcessRecord]:
        return processes.load_records(self.state.processes)

    def _mark(self, step: str) -> None:
        self.timings[step] = time.monotonic() - self._began
        LOG.info('[%6.1fs] %s', self.timings[step], step)

    # -- preparing ---------------------------------------------------

    def _prepare(self) -> None:
        root = self.state.root
        root.mkdir(parents=True, exist_ok=True)
        for name in _STATE_FILES:
            path = root / name
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)
        self.state.logs.mkdir(exist_ok=True)
        self._manifest = layout.FullManifest.new(
            str(root),
            tuple(host.name for host in self.hosts),
            tuple(host.name for host in self.region_two_hosts),
        )
        self.state.write_manifest(self._manifest)
        config.write_all(self.state, self._manifest, self.hosts)
        if self.region_two_hosts:
            config.write_region_two(
                self.state, self._manifest, self.region_two_hosts
            )
        rabbit.write_config(self.state, self._manifest)
        data = self.state.data
        for sub in (
            'glance/images',
            'glance/staging',
            'glance/tasks',
            'nova/common',
            'nova/locks',
            'neutron/locks',
            'cyborg/locks',
            'attach',
        ):
            (data / sub).mkdir(parents=True, exist_ok=True)
        if self.region_two_hosts:
            two = layout.REGION_TWO
            (data / layout.regional('cyborg', two) / 'locks').mkdir(
                parents=True, exist_ok=True
            )
            (data / layout.regional('attach', two)).mkdir(exist_ok=True)
        for host in self.region_two_hosts:
            self._write_topology(host)
        for host in self.hosts:
            nova_dir = self.state.nova_host_dir(host.name)
            (nova_dir / 'instances').mkdir(parents=True, exist_ok=True)
            # FakeDriverWithoutFakeNodes reads its node UUID from here;
            # the light sandbox's rule, so both name a host's RP alike.
            (nova_dir / 'compute_id').write_text(
                light_layout.compute_node_uuid(host.name)
            )
            self._write_topology(host)
        self._mark('configuration written')

    def _write_topology(self, host: hosts_mod.HostSpec) -> None:
        if not host.topology:
            return
        from orionx_cyborg.gpu.fake import topology

        topology.dump(
            topology.load(host.topology, host.name),
            str(self.state.host_dir(host.name) / hosts_mod.TOPOLOGY_NAME),
        )

    # -- processes ---------------------------------------------------

    def _spawn(
        self,
        name: str,
        args: Sequence[str],
        url: str | None = None,
        env: dict[str, str] | None = None,
    ) -> Started:
        environment = light_stack.child_environment(watch_parent=not self.keep)
        environment.update(env or {})
        service = processes.Service(
            name,
            LAUNCH,
            args,
            self.state.log(name),
            environment,
            python=self.python,
        )
        started = Started(service, url)
        self.started.append(started)
        processes.save_records(
            self.state.processes, [s.service.record for s in self.started]
        )
        return started

    def _gunicorn(self, name: str, factory: str, argument: str) -> Started:
        port = self.manifest.ports[name]
        args = [
            console_entry('gunicorn'),
            '--no-control-socket',
            '--workers',
            str(WORKERS.get(name, 1)),
            '--threads',
            '1',
            '--bind',
            '127.0.0.1:%d' % port,
            '--timeout',
            '300',
            '--graceful-timeout',
            '5',
            '%s:%s(%r)' % (APPS, factory, argument),
        ]
        return self._spawn(name, args, url=self.manifest.url(name))

    def _run_steps(self, name: str, steps: Sequence[Sequence[str]]) -> None:
        """Run one-shot commands in order; raise if one fails."""
        log = self.state.log(name)
        env = light_stack.child_environment(watch_parent=True)
        began = time.monotonic()
        for step in steps:
            with open(log, 'ab') as stream:
                done = subprocess.run(  # noqa: S603 - our own modules
                    [self.python, '-m', *step],
                    stdin=subprocess.DEVNULL,
                    stdout=stream,
                    stderr=subprocess.STDOUT,
                    env=env,
                    timeout=max(1.0, self._deadline - time.monotonic()),
                    check=False,
                )
            if done.returncode:
                raise FullSandboxError(
                    '%s failed (%s, exit status %d); last lines of %s:\n%s'
                    % (
                        name,
                        ' '.join(step),
                        done.returncode,
                        log,
                        processes.tail(log),
                    )
                )
        LOG.info(
            '%s done in %.1fs (at %.1fs)',
            name,
            time.monotonic() - began,
            time.monotonic() - self._began,
        )

    def _wait(self, what: str, check: Callable[[], bool]) -> None:
        while not check():
            for started in self.started:
                popen = started.service.popen
                if popen.poll() is not None:
                    raise started.service.failure(
                        'exited with status %d' % popen.returncode
                    )
            if time.monotonic() > self._deadline:
                raise FullSandboxError(
                    'timed out after %.0fs waiting for %s'
                    % (self.start_timeout, what)
                )
            time.sleep(0.2)

    # -- the order of things -----------------------------------------

    def _schema_steps(self) -> dict[str, list[list[str]]]:
        etc = self.state.etc
        root = str(self.state.root)
        nova_conf = str(etc('nova') / 'nova.conf')
        nova_manage = [LAUNCH, console_entry('nova-manage')]
        nova_manage += ['--config-file', nova_conf]
        return {
            'keystone-setup': [
                ['orionx_cyborg.sandbox.full.keystone_setup', root]
            ],
            'placement-db': [
                [
                    LAUNCH,
                    console_entry('placement-manage'),
                    '--config-file',
                    str(etc('placement') / 'placement.conf'),
                    'db',
                    'sync',
                ]
            ],
            'glance-db': [
                [
                    LAUNCH,
                    console_entry('glance-manage'),
                    '--config-file',
                    str(etc('glance') / 'glance-api.conf'),
                    'db_sync',
                ]
            ],
            # The API database and the cell mappings, while the two cell
            # databases are built beside them (the longest chain).
            'nova-db': [
                nova_manage + ['api_db', 'sync'],
                nova_manage
                + [
                    'cell_v2',
                    'map_cell0',
                    '--database_connection',
                    self.state.sqlite_url('nova_cell0'),
                ],
                nova_manage + ['cell_v2', 'create_cell', '--name', 'cell1'],
            ],
            'nova-cell1-db': [nova_manage + ['db', 'sync', '--local_cell']],
            'nova-cell0-db': [
                nova_manage
                + [
                    '--config-file',
                    str(etc('nova') / 'cell0-db.conf'),
                    'db',
                    'sync',
                    '--local_cell',
                ]
            ],
            'neutron-db': [
                ['orionx_cyborg.sandbox.full.dbinit', 'neutron', root]
            ],
            'cyborg-db': [
                ['orionx_cyborg.sandbox.full.dbinit', 'cyborg', root]
            ],
            'attach-db': [
                [
                    LAUNCH,
                    console_entry('orionx-cyborg-attach-dbsync'),
                    '--config-file',
                    str(etc('attach') / 'attach.conf'),
                    'upgrade',
                ]
            ],
        } | (self._region_two_schema_steps() if self.region_two_hosts else {})

    def _region_two_schema_steps(self) -> dict[str, list[list[str]]]:
        two = layout.REGION_TWO
        etc = self.state.etc
        placement = etc(layout.regional('placement', two))
        attach = etc(layout.regional('attach', two))
        return {
            layout.regional('placement-db', two): [
                [
                    LAUNCH,
                    console_entry('placement-manage'),
                    '--config-file',
                    str(placement / 'placement.conf'),
                    'db',
                    'sync',
                ]
            ],
            layout.regional('cyborg-db', two): [
                [
                    'orionx_cyborg.sandbox.full.dbinit',
                    'cyborg',
                    str(self.state.root),
                    two,
                ]
            ],
            layout.regional('attach-db', two): [
                [
                    LAUNCH,
                    console_entry('orionx-cyborg-attach-dbsync'),
                    '--config-file',
                    str(attach / 'attach.conf'),
                    'upgrade',
                ]
            ],
        }

    def _databases(self) -> list[str]:
        names = list(DATABASES)
        if self.region_two_hosts:
            two = layout.REGION_TWO
            names += [layout.regional(n, two) for n in ('placement', 'cyborg')]
        return names

    def _start_all(self) -> None:
        manifest = self.manifest
        self._spawn(
            'rabbitmq',
            ['--exec', str(rabbit.SERVER)],
            env=rabbit.environment(self.state, manifest),
        )
        steps = self._schema_steps()
        with concurrent.futures.ThreadPoolExecutor(len(steps)) as pool:
            futures = {
                name: pool.submit(self._run_steps, name, chain)
                for name, chain in steps.items()
            }
            futures.pop('keystone-setup').result()
            self._mark('keystone database, identities and catalog')
            keystone = self._gunicorn(
                'keystone', 'keystone', str(self.state.etc('keystone'))
            )
            for future in futures.values():
                future.result()
        for name in self._databases():
            dbinit.use_wal(dbinit.sqlite_path(self.state.sqlite_url(name)))
        self._mark('every database schema')
        self._wait('RabbitMQ', lambda: rabbit.accepts(manifest))
        self._mark('RabbitMQ')
        self._start_services()
        self._wait_http([keystone] + self._http_services())
        self._mark('every API answers')
        admin = clouds.admin_session(manifest)
        self._upload_image(admin)
        self._wait(
            'the compute nodes in Placement',
            lambda: clouds.compute_nodes_registered(admin, manifest.hosts),
        )
        # Each agent needs its compute node's provider, not the mapping.
        self._start_agents()
        self._start_region_two_agents(admin)
        # The host mapping while the agents report (both take seconds).
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            mapped = pool.submit(
                self._run_steps,
                'nova-discover-hosts',
                [
                    [
                        LAUNCH,
                        console_entry('nova-manage'),
                        '--config-file',
                        str(self.state.etc('nova') / 'nova.conf'),
                        'cell_v2',
                        'discover_hosts',
                    ]
                ],
            )
            settled = [DevicesSettled(admin, manifest.hosts)]
            if self.region_two_hosts:
                settled.append(
                    DevicesSettled(
                        admin, manifest.region_two_hosts, layout.REGION_TWO
                    )
                )
            # Every region asked at every poll, each quiet on its own.
            self._wait(
                "every host's devices in its region's Placement",
                lambda: all([check() for check in settled]),
            )
            mapped.result()
        self._mark('compute nodes mapped, devices reported')
        self._wait(
            'every nova-compute up',
            lambda: clouds.computes_up(admin, manifest.hosts),
        )
        self._mark('every nova-compute up')
        # self.manifest, not manifest: it has the image and flavor now.
        clouds.write_clouds_yaml(self.state, self.manifest)
        gpu_less = [h.name for h in self.hosts if h.topology == 'no-gpu']
        clouds.write_tempest_conf(
            self.state, self.manifest, gpu_less[0] if gpu_less else ''
        )

    def _http_services(self) -> list[Started]:
        return [
            s for s in self.started if s.url and s.service.name != 'keystone'
        ]

    def _start_services(self) -> None:
        etc = self.state.etc
        conf = ['--config-file', str(etc('nova') / 'nova.conf')]
        cyborg_conf = ['--config-file', str(etc('cyborg') / 'cyborg.conf')]
        self._gunicorn('placement', 'placement', str(etc('placement')))
        self._gunicorn('glance', 'glance', str(etc('glance')))
        self._gunicorn('neutron', 'neutron', str(etc('neutron')))
        no_fork = launch.NO_FORK
        self._spawn(
            'nova-conductor', [no_fork, console_entry('nova-conductor'), *conf]
        )
        self._spawn(
            'nova-scheduler', [no_fork, console_entry('nova-scheduler'), *conf]
        )
        self._gunicorn('nova-api', 'nova_api', str(etc('nova')))
        self._gunicorn('nova-metadata', 'nova_metadata', str(etc('nova')))
        self._gunicorn('cyborg-api', 'cyborg', str(etc('cyborg')))
        self._spawn(
            'cyborg-conductor',
            [no_fork, console_entry('cyborg-conductor'), *cyborg_conf],
        )
        self._gunicorn('attach', 'attach', str(etc('attach') / 'attach.conf'))
        if self.region_two_hosts:
            self._start_region_two()
        for host in self.manifest.hosts:
            self._spawn(
                'nova-compute-%s' % host,
                [
                    # nova-compute with the recording fake driver.
                    COMPUTE_ENTRY,
                    *conf,
                    '--config-file',
                    str(etc('nova') / ('compute-%s.conf' % host)),
                ],
            )

    def _start_region_two(self) -> None:
        """Region two's Placement, Cyborg API and conductor, attach.

        One worker each (region two is opt-in and kept lean); they share
        Keystone and RabbitMQ's node (a virtual host of their own) with
        RegionOne. Region two has no Nova.
        """
        two = layout.REGION_TWO
        etc = self.state.etc
        placement = layout.regional('placement', two)
        cyborg = layout.regional('cyborg', two)
        attach = layout.regional('attach', two)
        self._gunicorn(placement, 'placement', str(etc(placement)))
        self._gunicorn(
            layout.regional('cyborg-api', two), 'cyborg', str(etc(cyborg))
        )
        self._spawn(
            layout.regional('cyborg-conductor', two),
            [
                launch.NO_FORK,
                console_entry('cyborg-conductor'),
                '--config-file',
                str(etc(cyborg) / 'cyborg.conf'),
            ],
        )
        self._gunicorn(attach, 'attach', str(etc(attach) / 'attach.conf'))

    def _start_region_two_agents(self, admin: Any) -> None:
        """Each region-two host's provider, then its agent.

        No ``nova-compute`` makes the provider in region two.
        """
        two = layout.REGION_TWO
        for host in self.region_two_hosts:
            clouds.register_compute_node(admin, host, two)
        self._start_agents(self.region_two_hosts, two)

    def _start_agents(
        self,
        hosts: Sequence[hosts_mod.HostSpec] | None = None,
        region: str = layout.REGION,
    ) -> None:
        cyborg_conf = str(
            self.state.etc(layout.regional('cyborg', region)) / 'cyborg.conf'
        )
        for host in self.hosts if hosts is None else hosts:
            self._spawn(
                layout.regional('cyborg-agent-%s' % host.name, region),
                [
                    # The stock agent, its mdevs simulated.
                    AGENT_ENTRY,
                    '--config-file',
                    cyborg_conf,
                    '--config-file',
                    str(self.state.host_dir(host.name) / 'agent.conf'),
                ],
                env=agent.host_environment(self.host_entry(host)),
            )

    def host_entry(self, host: hosts_mod.HostSpec) -> light_layout.HostEntry:
        """*host* as the light sandbox's mdev helpers know a host."""
        host_dir = self.state.host_dir(host.name)
        return light_layout.HostEntry(
            name=host.name,
            rp_uuid=light_layout.compute_node_uuid(host.name),
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

    def _wait_http(self, services: Sequence[Started]) -> None:
        pending = list(services)

        def all_answer() -> bool:
            pending[:] = [
                s for s in pending if s.url is None or not http_answers(s.url)
            ]
            return not pending

        self._wait('the APIs to answer', all_answer)

    def _upload_image(self, admin: Any) -> None:
        """The tiny image and flavor that Tempest and the tests boot."""
        self._manifest = dataclasses.replace(
            self.manifest,
            image_id=clouds.upload_tiny_image(admin),
            flavor_id=clouds.create_tiny_flavor(admin),
        )
        self.state.write_manifest(self.manifest)

    def attach_running(self) -> FullSandbox:
        """Use the sandbox already running in the state directory."""
        records = self._recorded()
        if not records or not all(processes.is_running(r) for r in records):
            raise FullSandboxError(
                'no full sandbox runs in %s' % self.state.root
            )
        self._manifest = self.state.read_manifest()
        return self

    # -- one service at a time (fault and evacuate tests) --------------

    def find(self, name: str) -> Started:
        for started in self.started:
            if started.service.name == name:
                return started
        raise FullSandboxError('the sandbox runs no service %s' % name)

    def stop_service(self, name: str) -> None:
        """Stop one service (SIGTERM, then SIGKILL); it stays listed."""
        if name == 'rabbitmq':
            raise FullSandboxError('RabbitMQ is stopped with the sandbox')
        started = self.find(name)
        processes.terminate(
            started.service.record, started.service.popen, STOP_TIMEOUT
        )

    def start_service(self, name: str) -> None:
        """Start a stopped service again, with the same arguments."""
        old = self.find(name)
        if processes.is_running(old.service.record):
            raise FullSandboxError('%s is still running' % name)
        old.service.popen.poll()
        # argv: python -m LAUNCH ARG...
        args = old.service.record.argv[3:]
        self.started.remove(old)
        self._spawn(name, args, url=old.url)

    def set_strict_admission(self, strict: bool) -> None:
        """Run Cyborg's conductor with strict admission, or without.

        With it, ``orionx-cyborg-conductor`` (:mod:`orionx_cyborg.admission`,
        ``[orionx_admission]`` of cyborg.conf) replaces the stock
        ``cyborg-conductor``: a pooled vGPU's ARQ is bound only once the
        attach service has placed its lease.
        """
        name = 'cyborg-conductor'
        self.stop_service(name)
        old = self.find(name)
        old.service.popen.poll()
        self.started.remove(old)
        script = 'orionx-cyborg-conductor' if strict else 'cyborg-conductor'
        self._spawn(
            name,
            [
                console_entry(script),
                '--config-file',
                str(self.state.etc('cyborg') / 'cyborg.conf'),
            ],
        )

    # -- using it ----------------------------------------------------

    def service_status(self) -> list[dict[str, Any]]:
        return service_status(self.state.root)


def service_status(
    state_dir: str | os.PathLike[str],
) -> list[dict[str, Any]]:
    """Every recorded service: name, pid, running, url, log."""
    state = layout.FullLayout(state_dir)
    try:
        urls = state.read_manifest().endpoints()
    except FileNotFoundError:
        urls = {}
    children = _children()
    return [
        {
            'name': record.name,
            'pid': record.pid,
            'running': processes.is_running(record),
            'url': urls.get(record.name),
            'log': record.log,
            'rss_mib': (
                _tree_mib(record.pid, children, 'VmRSS:', 'status')
                if processes.is_running(record)
                else 0.0
            ),
            # Proportional: shared pages split among their users, so the
            # sum over services is the memory the sandbox really takes.
            'pss_mib': (
                _tree_mib(record.pid, children, 'Pss:', 'smaps_rollup')
                if processes.is_running(record)
                else 0.0
            ),
        }
        for record in processes.load_records(state.processes)
    ]


def _children() -> dict[int, list[int]]:
    """Parent PID -> child PIDs, from /proc."""
    tree: dict[int, list[int]] = {}
    for proc in pathlib.Path('/proc').iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / 'stat').read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(')', 1)[1].split()[1])
        tree.setdefault(parent, []).append(int(proc.name))
    return tree


def _kib(pid: int, field: str, source: str) -> int:
    try:
        text = pathlib.Path('/proc/%d/%s' % (pid, source)).read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith(field):
            return int(line.split()[1])
    return 0


def _tree(pid: int, children: dict[int, list[int]]) -> list[int]:
    found = [pid]
    for child in children.get(pid, ()):
        found += _tree(child, children)
    return found


def _tree_mib(
    pid: int, children: dict[int, list[int]], field: str, source: str
) -> float:
    """*field* of *pid* and its descendants (forked workers), in MiB."""
    kib = sum(_kib(p, field, source) for p in _tree(pid, children))
    return round(kib / 1024.0, 1)


def stop_recorded(
    state_dir: str | os.PathLike[str],
    started: Sequence[processes.Service] = (),
    timeout: float = STOP_TIMEOUT,
) -> list[processes.ProcessRecord]:
    """Stop the recorded processes: SIGTERM to all, then SIGKILL.

    All at once: stopping twenty services one after another would take
    minutes (``nova-compute`` alone needs ~25 s to shut down politely).
    RabbitMQ's own ``epmd`` is stopped last.
    """
    state = layout.FullLayout(state_dir)
    popens = {service.record.pid: service.popen for service in started}
    records = processes.load_records(state.processes)
    running = [r for r in records if processes.is_running(r)]
    for record in running:
        processes.kill(record, None, signal.SIGTERM, timeout=0)
    deadline = time.monotonic() + timeout
    for record in running:
        left = max(0.0, deadline - time.monotonic())
        if not processes.kill(record, popens.get(record.pid), 0, left):
            LOG.warning('%s did not stop: killing it', record.name)
            processes.kill(record, popens.get(record.pid))
    for popen in popens.values():
        popen.poll()
    try:
        rabbit.stop_epmd(state.read_manifest())
    except FileNotFoundError:
        pass
    state.processes.unlink(missing_ok=True)
    return running


def is_full(state_dir: str | os.PathLike[str]) -> bool:
    return layout.is_full(state_dir)


def log_dir(state_dir: str | os.PathLike[str]) -> pathlib.Path:
    return layout.FullLayout(state_dir).logs
