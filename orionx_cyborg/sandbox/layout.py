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

"""Where everything of one sandbox lives, and the manifest that says so.

The orchestrator writes ``manifest.json`` before it starts any process;
every sandbox process reads it (ports, hosts, files), so there is one
description of the sandbox and no argument lists to keep in step.
``processes.json`` records what the orchestrator started, for ``down``.

Layout of a state directory::

    manifest.json  processes.json
    placement/placement.conf  placement/placement.sqlite
    cyborg/cyborg.conf  cyborg/api-paste.ini  cyborg/cyborg.sqlite
    attach/attach.conf  attach/attach.sqlite  attach/coordination/
    hosts/<host>/agent.conf  hosts/<host>/sysfs/ ...
    logs/placement.log  logs/cyborg.log  logs/nova.log  logs/attach.log
"""

from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import uuid
from typing import Any

MANIFEST = 'manifest.json'
PROCESSES = 'processes.json'
#: The name of the attach service's DynamicJSON vendordata target.
ATTACH_TARGET = 'orionx'


@dataclasses.dataclass(frozen=True)
class HostEntry:
    name: str
    rp_uuid: str
    vcpus: int
    memory_mb: int
    disk_gb: int
    drivers: tuple[str, ...]
    host_dir: str
    conf_file: str
    sysfs_root: str
    description: str = ''
    topology_file: str | None = None


@dataclasses.dataclass(frozen=True)
class Manifest:
    state_dir: str
    placement_port: int
    cyborg_port: int
    nova_port: int
    hosts: tuple[HostEntry, ...]
    vendordata_targets: tuple[str, ...] = ()
    arq_binding_timeout: float = 30.0
    shelved_offload_time: int = 0
    debug: bool = False
    attach_port: int = 0
    """Port of ``orionx-cyborg-attach``; 0: the sandbox runs none."""
    strict_admission: bool = False
    """Cyborg's conductor asks the attach service before it binds a
    pooled vGPU (``orionx_cyborg.admission``)."""

    @property
    def placement_url(self) -> str:
        return 'http://127.0.0.1:%d' % self.placement_port

    @property
    def cyborg_root_url(self) -> str:
        return 'http://127.0.0.1:%d' % self.cyborg_port

    @property
    def cyborg_url(self) -> str:
        """The accelerator endpoint, mounted as devstack mounts it."""
        return self.cyborg_root_url + '/accelerator'

    @property
    def nova_root_url(self) -> str:
        return 'http://127.0.0.1:%d' % self.nova_port

    @property
    def nova_url(self) -> str:
        return self.nova_root_url + '/v2.1'

    @property
    def attach_url(self) -> str | None:
        """The attach service's API root, None when it does not run."""
        if not self.attach_port:
            return None
        return 'http://127.0.0.1:%d' % self.attach_port

    def attach_target(self) -> str | None:
        """Nova's DynamicJSON target ``orionx@<url>/v1/vendordata``."""
        url = self.attach_url
        return (
            None
            if url is None
            else '%s@%s/v1/vendordata' % (ATTACH_TARGET, url)
        )

    def host(self, name: str) -> HostEntry:
        for entry in self.hosts:
            if entry.name == name:
                return entry
        raise KeyError('no sandbox host %s' % name)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        data: dict[str, Any] = json.loads(text)
        hosts = tuple(
            HostEntry(**dict(h, drivers=tuple(h['drivers'])))
            for h in data.pop('hosts')
        )
        targets = tuple(data.pop('vendordata_targets', ()))
        return cls(hosts=hosts, vendordata_targets=targets, **data)


def compute_node_uuid(host: str) -> str:
    """A stable compute node RP uuid, so a restarted sandbox finds it."""
    return str(uuid.uuid5(uuid.NAMESPACE_DNS, 'sandbox-compute.' + host))


class StateLayout:
    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = pathlib.Path(root).resolve()

    @property
    def manifest(self) -> pathlib.Path:
        return self.root / MANIFEST

    @property
    def processes(self) -> pathlib.Path:
        return self.root / PROCESSES

    @property
    def placement_dir(self) -> pathlib.Path:
        return self.root / 'placement'

    @property
    def cyborg_dir(self) -> pathlib.Path:
        return self.root / 'cyborg'

    @property
    def cyborg_conf(self) -> pathlib.Path:
        return self.cyborg_dir / 'cyborg.conf'

    @property
    def attach_dir(self) -> pathlib.Path:
        return self.root / 'attach'

    @property
    def attach_conf(self) -> pathlib.Path:
        return self.attach_dir / 'attach.conf'

    @property
    def logs_dir(self) -> pathlib.Path:
        return self.root / 'logs'

    def log(self, service: str) -> pathlib.Path:
        return self.logs_dir / ('%s.log' % service)

    def host_dir(self, host: str) -> pathlib.Path:
        return self.root / 'hosts' / host

    def read_manifest(self) -> Manifest:
        return Manifest.from_json(self.manifest.read_text())

    def write_manifest(self, manifest: Manifest) -> None:
        write_atomically(self.manifest, manifest.to_json())


def write_atomically(path: pathlib.Path, text: str) -> None:
    tmp = path.with_name('%s.tmp-%d' % (path.name, os.getpid()))
    tmp.write_text(text)
    os.replace(tmp, path)


def load_manifest(state_dir: str | os.PathLike[str]) -> Manifest:
    return StateLayout(state_dir).read_manifest()
