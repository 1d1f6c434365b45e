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

"""The Nova stand-in's state and its server operations.

Server operations follow Nova's conductor and compute manager:

* **boot**: the API reads the flavor's device profile (400 if Cyborg
  does not know it); the scheduler claims allocations for the instance
  (``consumer_type: INSTANCE``); the conductor creates the ARQs, matches
  each to the RP the candidate mapped its group to, and binds them with
  the host's nodename as the Nova service (user token plus service
  token); the compute manager waits for ``accelerator-request-bound``
  events (leaving early for ARQs Cyborg already reports resolved, as
  Nova does), then attaches by handle type. No allocation candidate
  means NoValidHost: status ERROR, fault "No valid host was found".
  A bind or wait failure deletes the ARQs and the allocations.
* **delete**: ``DELETE /accelerator_requests?instance=`` and the
  instance's allocations.
* **shelve**: SHELVED, then offloaded at once (Nova's default
  ``shelved_offload_time = 0``; the manifest can say -1, never) -- and
  **shelveOffload**: ARQs deleted, allocations removed, no host.
* **unshelve**: an offloaded server is scheduled again; new ARQs are
  created and bound on the chosen host.
* **evacuate**: scheduled on another host; only then the old ARQs are
  deleted and new ones created and bound there. The sandbox replaces the
  source allocations with the destination's at once (Nova keeps both
  until the source compute comes back and cleans up).

Operations run in a thread per operation and change the server's status
like Nova's (BUILD, ACTIVE, ERROR, SHELVED_OFFLOADED, REBUILD); deletes
are done before the API answers.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from typing import Any

from orionx_cyborg.sandbox import clients
from orionx_cyborg.sandbox import identity
from orionx_cyborg.sandbox import layout
from orionx_cyborg.sandbox import mdevs
from orionx_cyborg.sandbox.nova import scheduler
from orionx_cyborg.sandbox.nova import vendordata

LOG = logging.getLogger(__name__)

BOUND_EVENT = 'accelerator-request-bound'
DEFAULT_IMAGE = '8a1d4c0e-5b0a-4f7e-9c39-0e6f5c1d2a10'


class NotFound(Exception):
    pass


class BadRequest(Exception):
    pass


class Conflict(Exception):
    pass


class BuildAbort(Exception):
    """The build of a server failed after scheduling."""


class ArqBindingFailed(BuildAbort):
    """Cyborg refused to bind the ARQs (Nova's conductor, at build).

    Nova 34's message: its Cyborg client keeps the status of the failed
    ``PATCH``, none of the body (``nova.accelerator.cyborg``), and the
    conductor leaves the server's allocations until it is deleted.
    """

    def __init__(self, status: int, arq_uuids: Iterable[str]) -> None:
        super().__init__(
            'Failed to bind accelerator requests: Invalid response from '
            'Cyborg: <Response [%d]> Binding failed for ARQ UUIDs: %s'
            % (status, ','.join(arq_uuids))
        )


def now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime('%Y-%m-%dT%H:%M:%SZ')


def sanitize_hostname(name: str) -> str:
    """The guest hostname Nova derives from a display name."""
    hostname = re.sub(r'[^a-z0-9-]+', '-', name.lower()).strip('-')
    return hostname[:63] or 'server'


def pci_address(info: Mapping[str, str]) -> str:
    return '%s:%s:%s.%s' % (
        info['domain'],
        info['bus'],
        info['device'],
        info['function'],
    )


@dataclasses.dataclass
class Flavor:
    id: str
    name: str
    vcpus: int
    ram: int
    disk: int
    ephemeral: int = 0
    swap: int = 0
    description: str | None = None
    is_public: bool = True
    rxtx_factor: float = 1.0
    extra_specs: dict[str, str] = dataclasses.field(default_factory=dict)

    @property
    def device_profile(self) -> str | None:
        return self.extra_specs.get(scheduler.DEVICE_PROFILE_SPEC)

    def resources(self) -> dict[str, int]:
        swap_gb = (self.swap + 1023) // 1024
        return {
            'VCPU': self.vcpus,
            'MEMORY_MB': self.ram,
            'DISK_GB': self.disk + self.ephemeral + swap_gb,
        }


DEFAULT_FLAVORS = (
    Flavor('1', 'm1.tiny', vcpus=1, ram=512, disk=1),
    Flavor('2', 'm1.small', vcpus=1, ram=2048, disk=20),
    Flavor('3', 'm1.medium', vcpus=2, ram=4096, disk=40),
    Flavor('4', 'm1.large', vcpus=4, ram=8192, disk=80),
)


@dataclasses.dataclass
class Server:
    id: str
    name: str
    flavor: Flavor
    project_id: str
    user_id: str
    token: str
    boot_roles: tuple[str, ...]
    image_id: str = DEFAULT_IMAGE
    metadata: dict[str, str] = dataclasses.field(default_factory=dict)
    user_data: str | None = None
    device_profile_groups: list[dict[str, str]] = dataclasses.field(
        default_factory=list
    )
    status: str = 'BUILD'
    vm_state: str = 'building'
    task_state: str | None = 'scheduling'
    host: str | None = None
    compute_node_uuid: str | None = None
    fault: dict[str, Any] | None = None
    arq_uuids: list[str] = dataclasses.field(default_factory=list)
    attachments: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    ignored_accelerators: list[dict[str, Any]] = dataclasses.field(
        default_factory=list
    )
    events: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    actions: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    created: str = dataclasses.field(default_factory=now)
    updated: str = dataclasses.field(default_factory=now)
    lock: threading.RLock = dataclasses.field(
        default_factory=threading.RLock, repr=False, compare=False
    )

    @property
    def hostname(self) -> str:
        return sanitize_hostname(self.name)

    def set_state(
        self, status: str, vm_state: str, task_state: str | None = None
    ) -> None:
        self.status = status
        self.vm_state = vm_state
        self.task_state = task_state
        self.updated = now()

    def instance_document(self) -> dict[str, Any]:
        """The instance fields vendordata and the sandbox API expose."""
        return {
            'id': self.id,
            'project_id': self.project_id,
            'user_id': self.user_id,
            'image_id': self.image_id,
            'user_data': self.user_data,
            'hostname': self.hostname,
            'metadata': dict(self.metadata),
            'boot_roles': list(self.boot_roles),
        }

    def sandbox_view(self) -> dict[str, Any]:
        """Everything the stand-in knows, for tests and operators."""
        return dict(
            self.instance_document(),
            name=self.name,
            status=self.status,
            task_state=self.task_state,
            host=self.host,
            compute_node_uuid=self.compute_node_uuid,
            flavor=self.flavor.name,
            device_profile=self.flavor.device_profile,
            fault=self.fault,
            arq_uuids=list(self.arq_uuids),
            attachments=list(self.attachments),
            ignored_accelerators=list(self.ignored_accelerators),
            events=list(self.events),
            actions=list(self.actions),
        )


class NovaStandIn:
    """Flavors, servers and the operations on them; thread-safe."""

    def __init__(
        self,
        manifest: layout.Manifest,
        placement: clients.JsonClient | None = None,
        cyborg_factory: Callable[[str], clients.JsonClient] | None = None,
        vendordata_caller: vendordata.VendordataCaller | None = None,
        spawn: Callable[[Callable[[], None]], None] | None = None,
    ) -> None:
        self.manifest = manifest
        self.placement = placement or clients.placement(manifest.placement_url)
        self._cyborg_factory = cyborg_factory or self._default_cyborg
        self.vendordata = vendordata_caller or vendordata.VendordataCaller(
            vendordata.parse_targets(manifest.vendordata_targets)
        )
        self._spawn = spawn or _spawn_thread
        self.scheduler = scheduler.Scheduler(
            self.placement, {h.name: h.rp_uuid for h in manifest.hosts}
        )
        self.arq_binding_timeout = manifest.arq_binding_timeout
        self._lock = threading.Condition()
        self.flavors: dict[str, Flavor] = {
            f.id: dataclasses.replace(f, extra_specs={})
            for f in DEFAULT_FLAVORS
        }
        self.servers: dict[str, Server] = {}
        self.events: list[dict[str, Any]] = []

    def _default_cyborg(self, token: str) -> clients.JsonClient:
        # Nova calls Cyborg with the user's token plus its service token.
        return clients.cyborg(
            self.manifest.cyborg_url + '/v2',
            token,
            service_token=identity.SERVICE_TOKEN,
        )

    # -- flavors -----------------------------------------------------

    def create_flavor(self, flavor: Flavor) -> Flavor:
        with self._lock:
            if flavor.id in self.flavors:
                raise Conflict('Flavor with ID %s already exists.' % flavor.id)
            if any(f.name == flavor.name for f in self.flavors.values()):
                raise Conflict(
                    'Flavor with name %s already exists.' % flavor.name
                )
            self.flavors[flavor.id] = flavor
            return flavor

    def get_flavor(self, flavor_id: str) -> Flavor:
        with self._lock:
            try:
                return self.flavors[flavor_id]
            except KeyError:
                raise NotFound(
                    'Flavor %s could not be found.' % flavor_id
                ) from None

    def list_flavors(self) -> list[Flavor]:
        with self._lock:
            return sorted(self.flavors.values(), key=lambda f: f.id)

    def list_events(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.events)

    def delete_flavor(self, flavor_id: str) -> None:
        with self._lock:
            self.get_flavor(flavor_id)
            del self.flavors[flavor_id]

    # -- servers: API side -------------------------------------------

    def get_server(self, server_id: str) -> Server:
        with self._lock:
            try:
                return self.servers[server_id]
            except KeyError:
                raise NotFound(
                    'Instance %s could not be found.' % server_id
                ) from None

    def list_servers(self) -> list[Server]:
        with self._lock:
            return list(self.servers.values())

    def create_server(
        self,
        token: str,
        name: str,
        flavor_id: str,
        image_id: str | None = None,
        metadata: Mapping[str, str] | None = None,
        user_data: str | None = None,
        requested_host: str | None = None,
    ) -> Server:
        who = identity.identity_for(token)
        # The instance keeps its own copy of the flavor, as Nova does.
        original = self.get_flavor(flavor_id)
        flavor = dataclasses.replace(
            original, extra_specs=dict(original.extra_specs)
        )
        if requested_host and requested_host not in self._host_names():
            raise BadRequest(
                'Compute host %s could not be found.' % requested_host
            )
        server = Server(
            id=str(uuid.uuid4()),
            name=name,
            flavor=flavor,
            project_id=who.project_id,
            user_id=who.user_id,
            token=token,
            boot_roles=who.roles,
            image_id=image_id or DEFAULT_IMAGE,
            metadata=dict(metadata or {}),
            user_data=user_data,
        )
        if flavor.device_profile:
            server.device_profile_groups = self._device_profile_groups(
                server, flavor.device_profile
            )
        with self._lock:
            self.servers[server.id] = server
        self._record_action(server, 'create')
        self._spawn(lambda: self._build(server, requested_host))
        return server

    def delete_server(self, server_id: str) -> None:
        server = self.get_server(server_id)
        with server.lock:
            self._release(server)
            with self._lock:
                self.servers.pop(server.id, None)

    def shelve(self, server_id: str) -> None:
        server = self._begin(
            server_id, 'shelve', ('ACTIVE', 'SHUTOFF'), 'shelving'
        )
        self._spawn(lambda: self._shelve(server))

    def shelve_offload(self, server_id: str) -> None:
        server = self._begin(
            server_id, 'shelveOffload', ('SHELVED',), 'shelving_offloading'
        )
        self._spawn(lambda: self._offload(server))

    def unshelve(self, server_id: str, host: str | None = None) -> None:
        if host and host not in self._host_names():
            raise BadRequest('Compute host %s could not be found.' % host)
        server = self._begin(
            server_id,
            'unshelve',
            ('SHELVED', 'SHELVED_OFFLOADED'),
            'unshelving',
        )
        self._spawn(lambda: self._unshelve(server, host))

    def evacuate(self, server_id: str, host: str | None = None) -> None:
        if host and host not in self._host_names():
            raise NotFound('Compute host %s could not be found.' % host)
        if host and host == self.get_server(server_id).host:
            raise BadRequest(
                'The target host can not be the same one as the source.'
            )
        server = self._begin(
            server_id,
            'evacuate',
            ('ACTIVE', 'SHUTOFF', 'ERROR'),
            'rebuilding',
            status='REBUILD',
        )
        self._spawn(lambda: self._evacuate(server, host))

    def vendor_data2(self, server_id: str) -> dict[str, Any]:
        server = self.get_server(server_id)
        return self.vendordata.vendor_data2(server.instance_document())

    def set_vendordata_targets(self, specs: Iterable[str]) -> None:
        self.vendordata.targets = vendordata.parse_targets(specs)

    def _host_names(self) -> set[str]:
        return {host.name for host in self.manifest.hosts}

    def _begin(
        self,
        server_id: str,
        action: str,
        allowed: Iterable[str],
        task_state: str,
        status: str | None = None,
    ) -> Server:
        """Check and set the task state at once, as Nova's API does."""
        with self._lock:
            server = self.get_server(server_id)
            busy = server.task_state is not None and server.status != 'ERROR'
            if server.status not in allowed or busy:
                raise Conflict(
                    "Cannot '%s' instance %s while it is in vm_state %s"
                    % (action, server.id, server.vm_state)
                )
            server.set_state(
                status or server.status, server.vm_state, task_state
            )
            self._record_action(server, action)
            return server

    def _record_action(self, server: Server, action: str) -> None:
        server.actions.append({'action': action, 'start_time': now()})

    # -- external events ---------------------------------------------

    def receive_events(
        self, events: Iterable[Mapping[str, Any]]
    ) -> list[dict[str, Any]]:
        """os-server-external-events: deliver, answer a code per event."""
        answers = []
        with self._lock:
            for event in events:
                answer = dict(event)
                server = self.servers.get(str(event.get('server_uuid')))
                if server is None:
                    answer['code'] = 404
                elif server.host is None:
                    answer['code'] = 422
                else:
                    answer['code'] = 200
                    received = dict(event, received_at=time.time())
                    server.events.append(received)
                    self.events.append(received)
                answers.append(answer)
            self._lock.notify_all()
        return answers

    # -- conductor and compute ---------------------------------------

    def _cyborg(self, server: Server) -> clients.JsonClient:
        return self._cyborg_factory(server.token)

    def _device_profile_groups(
        self, server: Server, name: str
    ) -> list[dict[str, str]]:
        answer = self._cyborg(server).get(
            '/device_profiles', params={'name': name}
        )
        profiles = answer.get('device_profiles', [])
        if len(profiles) != 1:
            raise BadRequest(
                'Expected 1 device profile but got %d for %s.'
                % (len(profiles), name)
            )
        groups: list[dict[str, str]] = profiles[0]['groups']
        return groups

    def _resource_request(self, server: Server) -> scheduler.ResourceRequest:
        return scheduler.resource_request(
            server.flavor.resources(),
            server.flavor.extra_specs,
            server.device_profile_groups,
        )

    def _build(self, server: Server, requested_host: str | None) -> None:
        with server.lock:
            try:
                self._schedule_and_spawn(server, requested_host)
            except scheduler.NoValidHost as err:
                self._fail(server, err, 'ERROR', 'error')
            except ArqBindingFailed as err:
                # The ARQs are deleted; the allocations stay until the
                # server is deleted, as Nova's conductor leaves them.
                self._fail(server, err, 'ERROR', 'error')
            except Exception as err:
                LOG.exception('Build of %s failed', server.id)
                self._release(server)
                self._fail(server, err, 'ERROR', 'error')
            else:
                server.set_state('ACTIVE', 'active')

    def _schedule_and_spawn(
        self,
        server: Server,
        requested_host: str | None = None,
        excluded_hosts: Iterable[str] = (),
        consumer_generation: int | None = None,
        before_bind: Callable[[], None] | None = None,
    ) -> None:
        selection = self.scheduler.select_and_claim(
            server.id,
            self._resource_request(server),
            server.project_id,
            server.user_id,
            requested_host=requested_host,
            excluded_hosts=excluded_hosts,
            consumer_generation=consumer_generation,
        )
        if before_bind is not None:
            before_bind()
        server.host = selection.host
        server.compute_node_uuid = selection.compute_node_uuid
        server.task_state = 'spawning'
        server.attachments = []
        server.ignored_accelerators = []
        if server.flavor.device_profile:
            arq_uuids = self._create_and_bind_arqs(server, selection.mappings)
            self._attach(server, self._wait_for_bound_arqs(server, arq_uuids))

    def _create_and_bind_arqs(
        self, server: Server, mappings: Mapping[str, list[str]]
    ) -> list[str]:
        cyborg = self._cyborg(server)
        arqs = cyborg.post(
            '/accelerator_requests',
            {'device_profile_name': server.flavor.device_profile},
        )['arqs']
        server.arq_uuids = [arq['uuid'] for arq in arqs]
        bindings = {
            arq['uuid']: [
                {'path': '/hostname', 'op': 'add', 'value': server.host},
                {
                    'path': '/device_rp_uuid',
                    'op': 'add',
                    'value': mappings[
                        'device_profile_%d' % arq['device_profile_group_id']
                    ][0],
                },
                {'path': '/instance_uuid', 'op': 'add', 'value': server.id},
            ]
            for arq in arqs
        }
        try:
            cyborg.patch('/accelerator_requests', bindings)
        except clients.ApiError as err:
            cyborg.request(
                'DELETE',
                '/accelerator_requests',
                params={'arqs': ','.join(server.arq_uuids)},
                expect=(204, 404),
            )
            LOG.warning('Cyborg refused to bind %s: %s', server.id, err)
            raise ArqBindingFailed(err.status, server.arq_uuids) from err
        return list(server.arq_uuids)

    def _resolved_arqs(self, server: Server) -> list[dict[str, Any]]:
        answer = self._cyborg(server).get(
            '/accelerator_requests',
            params={'instance': server.id, 'bind_state': 'resolved'},
        )
        arqs: list[dict[str, Any]] = answer['arqs']
        return arqs

    def _wait_for_bound_arqs(
        self, server: Server, arq_uuids: list[str]
    ) -> list[dict[str, Any]]:
        """As nova-compute's _get_bound_arq_resources."""
        expected = set(arq_uuids)
        early = {arq['uuid'] for arq in self._resolved_arqs(server)}
        deadline = time.monotonic() + self.arq_binding_timeout
        with self._lock:
            while True:
                events = {
                    e['tag']: e
                    for e in server.events
                    if e.get('name') == BOUND_EVENT
                    and e.get('tag') in expected
                }
                failed = [
                    t
                    for t, e in events.items()
                    if e.get('status') != 'completed'
                ]
                if failed:
                    raise BuildAbort('ARQ binding failed: %s' % failed)
                if expected <= set(events) | early:
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise BuildAbort(
                        'Timed out waiting for %s events for %s'
                        % (BOUND_EVENT, sorted(expected - set(events)))
                    )
                self._lock.wait(remaining)
        arqs = [
            a for a in self._resolved_arqs(server) if a['uuid'] in expected
        ]
        unbound = [a['uuid'] for a in arqs if a['state'] != 'Bound']
        if unbound or len(arqs) != len(expected):
            raise BuildAbort('ARQs not bound: %s' % (unbound or arqs))
        return arqs

    def _attach(
        self, server: Server, arqs: Iterable[Mapping[str, Any]]
    ) -> None:
        """What nova 34's libvirt driver would put in the domain."""
        for arq in sorted(arqs, key=lambda a: str(a['uuid'])):
            handle_type = arq['attach_handle_type']
            info = arq['attach_handle_info']
            if handle_type == 'PCI':
                server.attachments.append(
                    {
                        'type': 'hostdev',
                        'arq_uuid': arq['uuid'],
                        'address': pci_address(info),
                        'managed': True,
                        'device_rp_uuid': arq['device_rp_uuid'],
                    }
                )
            elif handle_type == 'MDEV':
                server.attachments.append(self._attach_mdev(server, arq))
            else:
                LOG.info(
                    'Ignoring accelerator request %s of type %s',
                    arq['uuid'],
                    handle_type,
                )
                server.ignored_accelerators.append(
                    {
                        'arq_uuid': arq['uuid'],
                        'attach_handle_type': handle_type,
                        'attach_handle_info': info,
                        'device_rp_uuid': arq['device_rp_uuid'],
                    }
                )

    def _attach_mdev(
        self, server: Server, arq: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Nova 34 uses Cyborg's mdev, or creates it if missing.

        The host's hardware is its simulated topology: an mdev created
        here is recorded there too (see :mod:`..mdevs`).
        """
        info = arq['attach_handle_info']
        mdev_uuid = arq['attach_handle_uuid']
        parent = pci_address(info)
        host = self.manifest.host(str(server.host))
        created_by = 'cyborg'
        if not mdevs.exists(host, mdev_uuid):
            created_by = 'nova'
            try:
                mdevs.create(host, parent, info['asked_type'], mdev_uuid)
            except OSError as err:
                raise BuildAbort(
                    'Failed to create mdev %s: %s' % (mdev_uuid, err)
                ) from err
        return {
            'type': 'mdev',
            'arq_uuid': arq['uuid'],
            'uuid': mdev_uuid,
            'parent': parent,
            'mdev_type': info['asked_type'],
            'created_by': created_by,
            'device_rp_uuid': arq['device_rp_uuid'],
        }

    def _delete_arqs(self, server: Server) -> None:
        if not server.flavor.device_profile:
            return
        self._cyborg(server).request(
            'DELETE',
            '/accelerator_requests',
            params={'instance': server.id},
            expect=(204, 404),
        )
        server.arq_uuids = []

    def _release(self, server: Server) -> None:
        """Delete the server's ARQs and allocations (idempotent)."""
        self._delete_arqs(server)
        self.scheduler.remove_allocations(server.id)
        server.attachments = []
        server.ignored_accelerators = []

    def _fail(
        self,
        server: Server,
        err: Exception,
        status: str,
        vm_state: str,
        keep_host: bool = False,
    ) -> None:
        server.fault = {
            'code': 500,
            'message': str(err),
            'created': now(),
        }
        if not keep_host:
            server.host = None
            server.compute_node_uuid = None
        server.set_state(status, vm_state)
        LOG.warning('Server %s: %s', server.id, err)

    def _shelve(self, server: Server) -> None:
        with server.lock:
            server.set_state('SHELVED', 'shelved')
            if self.manifest.shelved_offload_time == 0:
                self._offload(server)

    def _offload(self, server: Server) -> None:
        with server.lock:
            try:
                self._release(server)
            except Exception as err:
                LOG.exception('Shelve-offload of %s failed', server.id)
                self._fail(server, err, 'ERROR', 'error')
                return
            server.host = None
            server.compute_node_uuid = None
            server.set_state('SHELVED_OFFLOADED', 'shelved_offloaded')

    def _unshelve(self, server: Server, host: str | None) -> None:
        with server.lock:
            if server.status == 'SHELVED':
                # Never offloaded: still on its host with its ARQs.
                server.set_state('ACTIVE', 'active')
                return
            try:
                self._schedule_and_spawn(server, requested_host=host)
            except Exception as err:
                if not isinstance(err, scheduler.NoValidHost):
                    LOG.exception('Unshelve of %s failed', server.id)
                self._release(server)
                self._fail(
                    server, err, 'SHELVED_OFFLOADED', 'shelved_offloaded'
                )
            else:
                server.fault = None
                server.set_state('ACTIVE', 'active')

    def _evacuate(self, server: Server, host: str | None) -> None:
        with server.lock:
            source = server.host
            try:
                self._schedule_and_spawn(
                    server,
                    requested_host=host,
                    excluded_hosts=[source] if source else [],
                    consumer_generation=self.scheduler.consumer_generation(
                        server.id
                    ),
                    before_bind=lambda: self._delete_arqs(server),
                )
            except scheduler.NoValidHost as err:
                self._fail(server, err, 'ACTIVE', 'active', keep_host=True)
            except Exception as err:
                LOG.exception('Evacuation of %s failed', server.id)
                self._release(server)
                self._fail(server, err, 'ERROR', 'error')
            else:
                server.fault = None
                server.set_state('ACTIVE', 'active')


def _spawn_thread(work: Callable[[], None]) -> None:
    threading.Thread(target=work, daemon=True).start()
