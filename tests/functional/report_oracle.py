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

"""The oracle of the report tests: our own planner, on the same inputs.

What a sandbox host should show is what ``orionx-cyborg discover --json
--config-file <agent.conf> --simulate <topology> --host <host>`` computes
from the host's own files (in a fresh state directory: nothing in use,
nothing reported before), plus what the host's other drivers report
(Cyborg's fake driver: its constants). The views below put that, and
what Cyborg and Placement actually hold for the host, in one shape, so a
test compares plain dicts and pytest shows the difference:

* :func:`placement_view`: the compute node's children: name -> uuid,
  parent, resource class, total, max_unit, reserved, traits;
* :func:`cyborg_view`: devices (by control path: vendor, model, type,
  board infos, deployable names) and deployables (by name: resource
  class, total, traits, driver, RP uuid, attach handles). Cyborg's API
  lists devices and deployables but neither attach handles nor control
  paths, so those two come from its database, read-only.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import pathlib
import sqlite3
import uuid
from collections.abc import Iterable
from collections.abc import Mapping
from typing import Any

from orionx_cyborg import resources
from orionx_cyborg.cmd import cli as orionx_cli
from orionx_cyborg.sandbox import layout
from orionx_cyborg.sandbox import stack

View = dict[str, dict[str, Any]]

FAKE_DRIVER = 'fake_driver'
# Cyborg 17's FakeDriver reports one device with these values.
_FAKE_SLOT = {'domain': '0000', 'bus': '0c', 'device': '00', 'function': '0'}
_FAKE_UNITS = 16


def canonical(text: str | None) -> str | None:
    """JSON text with sorted keys; other text unchanged."""
    if text is None:
        return None
    try:
        return json.dumps(json.loads(text), sort_keys=True)
    except ValueError:
        return text


def canonical_value(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def rp_uuid(name: str) -> str:
    """The RP uuid Cyborg's conductor derives from a deployable name."""
    return str(uuid.uuid3(uuid.NAMESPACE_DNS, name))


@dataclasses.dataclass(frozen=True)
class Expected:
    placement: View
    cyborg: dict[str, View]
    discovery: dict[str, Any]
    """The discover document itself (GPUs, modes, warnings)."""

    def without_gpu(self, host: str, address: str) -> Expected:
        return Expected(
            placement=drop_gpu(self.placement, host, address),
            cyborg=drop_gpu_cyborg(self.cyborg, host, address),
            discovery=self.discovery,
        )


def discover(
    host: layout.HostEntry, state_dir: pathlib.Path
) -> dict[str, Any]:
    """``orionx-cyborg discover --json`` for a sandbox host, in-process."""
    assert host.topology_file, host.name
    out = io.StringIO()
    argv = [
        'discover',
        '--json',
        '--config-file',
        host.conf_file,
        '--simulate',
        host.topology_file,
        '--host',
        host.name,
        '--state-dir',
        str(state_dir),
    ]
    # The driver logs its warnings (unmatched selectors) to stderr.
    with contextlib.redirect_stderr(io.StringIO()):
        assert orionx_cli.main(argv, out) == 0
    document: dict[str, Any] = json.loads(out.getvalue())
    return document


def expected(
    sandbox: stack.Sandbox, host_name: str, state_dir: pathlib.Path
) -> Expected:
    host = sandbox.manifest.host(host_name)
    document = discover(host, state_dir)
    devices = [_device_from_discovery(d) for d in document['devices']]
    if FAKE_DRIVER in host.drivers:
        devices.append(_fake_device(host.name))
    placement: View = {}
    deployables: View = {}
    by_cpid: View = {}
    for device, deps in devices:
        by_cpid[device['cpid']] = dict(device, deployables=sorted(deps))
        for name, dep in deps.items():
            deployables[name] = dep
            placement[name] = {
                'uuid': rp_uuid(name),
                'parent': host.rp_uuid,
                'resource_class': dep['resource_class'],
                'total': dep['total'],
                'max_unit': dep['total'],
                'reserved': 0,
                'traits': dep['traits'],
            }
    return Expected(
        placement=placement,
        cyborg={'devices': by_cpid, 'deployables': deployables},
        discovery=document,
    )


def _device_from_discovery(
    device: Mapping[str, Any],
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    deployables = {
        d['name']: {
            'resource_class': d['resource_class'],
            'total': d['total'],
            'traits': sorted(d['traits']),
            'driver': 'ORIONX',
            'rp_uuid': rp_uuid(d['name']),
            'handles': sorted(
                (h['type'], canonical_value(h['info']))
                for h in d['attach_handles']
            ),
        }
        for d in device['deployables']
    }
    return (
        {
            'cpid': canonical(device['controlpath']['info']),
            'vendor': device['vendor'],
            'model': device['model'],
            'type': device['type'],
            'std_board_info': canonical_value(device['std_board_info']),
            'vendor_board_info': canonical_value(device['vendor_board_info']),
        },
        deployables,
    )


def _fake_device(
    host: str,
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    name = '%s_FakeDevice' % host
    handles = sorted(
        (
            'TEST_PCI',
            canonical_value(
                dict(_FAKE_SLOT, device=str(fn // 8), function=str(fn % 8))
            ),
        )
        for fn in range(1, _FAKE_UNITS + 1)
    )
    return (
        {
            'cpid': canonical_value(_FAKE_SLOT),
            'vendor': '0xABCD',
            'model': 'miss model info',
            'type': 'FPGA',
            'std_board_info': canonical_value(
                {'device_id': '0xabcd', 'class': 'Fake class'}
            ),
            'vendor_board_info': 'fake_vendor_info',
        },
        {
            name: {
                'resource_class': 'FPGA',
                'total': _FAKE_UNITS,
                'traits': ['CUSTOM_FAKE_DEVICE'],
                'driver': 'fake',
                'rp_uuid': rp_uuid(name),
                'handles': handles,
            }
        },
    )


# -- what the services hold ------------------------------------------


def placement_view(sandbox: stack.Sandbox, host_name: str) -> View:
    host = sandbox.manifest.host(host_name)
    placement = sandbox.placement()
    tree = placement.get(
        '/resource_providers', params={'in_tree': host.rp_uuid}
    )['resource_providers']
    view: View = {}
    for provider in tree:
        if provider['uuid'] == host.rp_uuid:
            continue
        path = '/resource_providers/%s' % provider['uuid']
        inventories = placement.get(path + '/inventories')['inventories']
        assert len(inventories) == 1, (provider['name'], inventories)
        [(rc, inventory)] = inventories.items()
        view[provider['name']] = {
            'uuid': provider['uuid'],
            'parent': provider['parent_provider_uuid'],
            'resource_class': rc,
            'total': inventory['total'],
            'max_unit': inventory['max_unit'],
            'reserved': inventory['reserved'],
            'traits': sorted(placement.get(path + '/traits')['traits']),
        }
    return view


def cyborg_view(sandbox: stack.Sandbox, host_name: str) -> dict[str, View]:
    cyborg = sandbox.cyborg()
    db = _CyborgDatabase(sandbox.state.cyborg_dir / 'cyborg.sqlite')
    devices: View = {}
    device_ids = {}
    for device in cyborg.get('/devices')['devices']:
        if device['hostname'] != host_name:
            continue
        row_id, cpid = db.device(device['uuid'])
        device_ids[row_id] = canonical(cpid)
        devices[canonical(cpid) or ''] = {
            'cpid': canonical(cpid),
            'vendor': device['vendor'],
            'model': device['model'],
            'type': device['type'],
            'std_board_info': canonical(device['std_board_info']),
            'vendor_board_info': canonical(device['vendor_board_info']),
            'deployables': [],
        }
    deployables: View = {}
    for dep in cyborg.get('/deployables')['deployables']:
        if dep['device_id'] not in device_ids:
            continue
        attributes = json.loads(dep['attributes_list'])
        rcs = [a['rc'] for a in attributes if 'rc' in a]
        deployables[dep['name']] = {
            'resource_class': rcs[0] if len(rcs) == 1 else rcs,
            'total': dep['num_accelerators'],
            'traits': sorted(
                value
                for item in attributes
                for key, value in item.items()
                if key.startswith('trait')
            ),
            'driver': dep['driver_name'],
            'rp_uuid': dep['rp_uuid'],
            'handles': db.handles(dep['uuid']),
        }
        devices[device_ids[dep['device_id']] or '']['deployables'].append(
            dep['name']
        )
    for device in devices.values():
        device['deployables'].sort()
    return {'devices': devices, 'deployables': deployables}


class _CyborgDatabase:
    """Read-only queries of the sandbox's Cyborg database."""

    def __init__(self, path: pathlib.Path) -> None:
        self.uri = 'file:%s?mode=ro' % path

    def _rows(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        with contextlib.closing(
            sqlite3.connect(self.uri, uri=True, timeout=10)
        ) as conn:
            return list(conn.execute(sql, args))

    def device(self, device_uuid: str) -> tuple[int, str]:
        [(row_id, cpid)] = self._rows(
            'SELECT d.id, c.cpid_info FROM devices d '
            'JOIN controlpath_ids c ON c.device_id = d.id '
            'WHERE d.uuid = ?',
            device_uuid,
        )
        return int(row_id), str(cpid)

    def handles(self, deployable_uuid: str) -> list[tuple[str, str]]:
        return sorted(
            (str(kind), canonical(info) or '')
            for kind, info in self._rows(
                'SELECT a.attach_type, a.attach_info FROM attach_handles a '
                'JOIN deployables d ON a.deployable_id = d.id '
                'WHERE d.uuid = ?',
                deployable_uuid,
            )
        )


# -- comparing parts ----------------------------------------------------


def gpu_prefix(host: str, address: str) -> str:
    """What the names of a GPU's deployables start with."""
    return resources.deployable_name(host, address) + '_'


def drop_gpu(view: View, host: str, address: str) -> View:
    prefix = gpu_prefix(host, address)
    return {k: v for k, v in view.items() if not k.startswith(prefix)}


def drop_gpu_cyborg(
    view: Mapping[str, View], host: str, address: str
) -> dict[str, View]:
    devices = {
        cpid: device
        for cpid, device in view['devices'].items()
        if json.loads(device['std_board_info'] or '{}').get('pci_address')
        != address
    }
    return {
        'devices': devices,
        'deployables': drop_gpu(view['deployables'], host, address),
    }


def names_of_gpu(view: Iterable[str], host: str, address: str) -> list[str]:
    prefix = gpu_prefix(host, address)
    return sorted(name for name in view if name.startswith(prefix))


def assert_host_matches(
    sandbox: stack.Sandbox,
    host: str,
    state_dir: pathlib.Path,
    *,
    except_gpu: str | None = None,
) -> Expected:
    """Placement and Cyborg hold exactly the oracle's report of *host*.

    *except_gpu* leaves one GPU out of both sides (a GPU whose old report
    is kept while it drains).
    """
    want = expected(sandbox, host, state_dir)
    placement = placement_view(sandbox, host)
    cyborg = cyborg_view(sandbox, host)
    if except_gpu is not None:
        want = want.without_gpu(host, except_gpu)
        placement = drop_gpu(placement, host, except_gpu)
        cyborg = drop_gpu_cyborg(cyborg, host, except_gpu)
    assert placement == want.placement
    assert cyborg == want.cyborg
    return want
