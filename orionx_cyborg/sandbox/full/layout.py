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

"""Where the full sandbox keeps everything, and its manifest.

``full.json`` (owner-only: it holds the passwords) is written before any
process starts; the orchestrator, ``status`` and ``down`` read it.
Layout of a state directory::

    full.json  processes.json  clouds.yaml  tempest.conf
    etc/<service>/...          configuration files
    data/                      SQLite databases, Glance's store, Nova state
    keystone/                  fernet and credential keys
    rabbitmq/                  the private RabbitMQ node
    hosts/<host>/              agent.conf, topology, simulated sysfs
    logs/<service>.log
"""

from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import secrets
from typing import Any

from orionx_cyborg.sandbox import layout as light_layout
from orionx_cyborg.sandbox import wsgi

MANIFEST = 'full.json'
REGION = 'RegionOne'
#: The opt-in second region (``up --full --regions 2``): its own
#: Placement, Cyborg and attach service, no Nova; Keystone is shared.
REGION_TWO = 'RegionTwo'
#: The HTTP services that region two runs, named :func:`regional`.
REGION_TWO_HTTP = ('placement', 'cyborg-api', 'attach')
ATTACH_TARGET = light_layout.ATTACH_TARGET

#: Users of project ``service`` (roles service and admin).
SERVICE_USERS = ('nova', 'cyborg', 'placement', 'glance', 'neutron', 'orionx')
#: (user, project, role) of the tenants.
TENANT_USERS = (
    ('demo', 'demo', 'member'),
    ('demo-reader', 'demo', 'reader'),
    ('alt', 'alt', 'member'),
    # An admin of a project that owns nothing of the others: an
    # operator only under the deprecated legacy policy.
    ('alt-admin', 'alt', 'admin'),
)
#: (user, role) on domain ``Default``: a domain-scoped token's users.
DOMAIN_USERS = (('domain-member', 'member'),)
#: (user, role) on the system: system-scoped tokens without ``admin``.
SYSTEM_USERS = (('system-reader', 'reader'),)
#: The HTTP services and their ports' names in the manifest.
HTTP_SERVICES = (
    'keystone',
    'placement',
    'glance',
    'neutron',
    'nova-api',
    'nova-metadata',
    'cyborg-api',
    'attach',
)


def regional(name: str, region: str = REGION) -> str:
    """A service's (or database's) name in *region*.

    RegionOne's keep their plain names; region two's end in
    ``-RegionTwo`` (``placement-RegionTwo``).
    """
    return name if region == REGION else '%s-%s' % (name, region)


@dataclasses.dataclass(frozen=True)
class FullManifest:
    state_dir: str
    ports: dict[str, int]
    passwords: dict[str, str]
    hosts: tuple[str, ...]
    metadata_secret: str
    attach_secret_key: str
    image_id: str = ''
    flavor_id: str = ''
    #: The hosts of region two; none when the sandbox has one region.
    region_two_hosts: tuple[str, ...] = ()

    @property
    def regions(self) -> tuple[str, ...]:
        if self.region_two_hosts:
            return (REGION, REGION_TWO)
        return (REGION,)

    def url(self, service: str) -> str:
        return 'http://127.0.0.1:%d' % self.ports[service]

    @property
    def auth_url(self) -> str:
        return self.url('keystone') + '/v3'

    @property
    def transport_url(self) -> str:
        return self.transport_url_of(REGION)

    def transport_url_of(self, region: str) -> str:
        """RabbitMQ of *region*, a virtual host of the sandbox's node.

        RegionOne has the node's default one, region two its own:
        Cyborg's RPC topics are fixed names, so two conductors on one
        virtual host would take each other's agents' reports.
        """
        return 'rabbit://openstack:%s@127.0.0.1:%d/%s' % (
            self.passwords['rabbitmq'],
            self.ports['amqp'],
            '' if region == REGION else region,
        )

    def endpoints(self) -> dict[str, str]:
        """The catalog's URL of each HTTP service."""
        return {
            'keystone': self.auth_url,
            'placement': self.url('placement'),
            'glance': self.url('glance'),
            'neutron': self.url('neutron'),
            'nova-api': self.url('nova-api') + '/v2.1',
            'nova-metadata': self.url('nova-metadata'),
            'cyborg-api': self.url('cyborg-api') + '/v2',
            'attach': self.url('attach'),
        } | {
            regional(name, REGION_TWO): self.url(regional(name, REGION_TWO))
            + ('/v2' if name == 'cyborg-api' else '')
            for name in REGION_TWO_HTTP
            if self.region_two_hosts
        }

    def attach_target(self) -> str:
        return '%s@%s/v1/vendordata' % (ATTACH_TARGET, self.url('attach'))

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> FullManifest:
        data: dict[str, Any] = json.loads(text)
        data['hosts'] = tuple(data['hosts'])
        data['region_two_hosts'] = tuple(data.get('region_two_hosts', ()))
        return cls(**data)

    @classmethod
    def new(
        cls,
        state_dir: str,
        hosts: tuple[str, ...],
        region_two_hosts: tuple[str, ...] = (),
    ) -> FullManifest:
        names: tuple[str, ...] = (
            *HTTP_SERVICES,
            'amqp',
            'rabbit-dist',
            'epmd',
        )
        if region_two_hosts:
            names += tuple(
                regional(name, REGION_TWO) for name in REGION_TWO_HTTP
            )
        users = (
            ('admin', 'rabbitmq', *SERVICE_USERS)
            + tuple(user for user, _project, _role in TENANT_USERS)
            + tuple(user for user, _role in DOMAIN_USERS + SYSTEM_USERS)
        )
        return cls(
            state_dir=state_dir,
            ports=dict(zip(names, wsgi.free_ports(len(names)), strict=True)),
            passwords={user: secrets.token_hex(12) for user in users},
            hosts=hosts,
            region_two_hosts=region_two_hosts,
            metadata_secret=secrets.token_hex(16),
            attach_secret_key=secrets.token_hex(32),
        )


class FullLayout:
    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = pathlib.Path(root).resolve()

    @property
    def manifest(self) -> pathlib.Path:
        return self.root / MANIFEST

    @property
    def processes(self) -> pathlib.Path:
        return self.root / light_layout.PROCESSES

    def etc(self, service: str) -> pathlib.Path:
        return self.root / 'etc' / service

    @property
    def data(self) -> pathlib.Path:
        return self.root / 'data'

    @property
    def logs(self) -> pathlib.Path:
        return self.root / 'logs'

    def log(self, name: str) -> pathlib.Path:
        return self.logs / ('%s.log' % name)

    @property
    def rabbitmq(self) -> pathlib.Path:
        return self.root / 'rabbitmq'

    @property
    def keystone(self) -> pathlib.Path:
        return self.root / 'keystone'

    def host_dir(self, host: str) -> pathlib.Path:
        return self.root / 'hosts' / host

    def nova_host_dir(self, host: str) -> pathlib.Path:
        return self.data / 'nova' / host

    def sqlite_url(self, name: str) -> str:
        # timeout: seconds a writer waits for another's lock (pysqlite).
        return 'sqlite:///%s?timeout=30' % (self.data / ('%s.sqlite' % name))

    @property
    def clouds_yaml(self) -> pathlib.Path:
        return self.root / 'clouds.yaml'

    @property
    def tempest_conf(self) -> pathlib.Path:
        return self.root / 'tempest.conf'

    def read_manifest(self) -> FullManifest:
        return FullManifest.from_json(self.manifest.read_text())

    def write_manifest(self, manifest: FullManifest) -> None:
        """Replace ``full.json`` atomically, readable by its owner only."""
        tmp = self.manifest.with_name(
            '%s.tmp-%d' % (self.manifest.name, os.getpid())
        )
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, 'w') as stream:
            stream.write(manifest.to_json())
        os.replace(tmp, self.manifest)


def is_full(state_dir: str | os.PathLike[str]) -> bool:
    """Whether *state_dir* holds a full-profile sandbox."""
    return FullLayout(state_dir).manifest.exists()
