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

"""``orionx-cyborg sandbox demo``: the fleet, one instance of each kind.

It starts the sandbox with the simulated fleet, creates (through
openstacksdk, as an operator would) a device profile and a flavor for a
whole GPU, two NVIDIA vGPU types (SR-IOV on H200, mdev on A100) and a
pooled vGPU, boots one instance of each as a project member through the
Nova stand-in (the pooled one on the host without GPUs), asks Nova's
vendordata for each (so the attach service leases the pooled vGPU), and
prints what the cloud looks like: hosts, GPUs and their modes, Placement
inventories and usage per resource class, and what each instance got,
the pooled one's binding included (GPU, host, transport, ``ORION_*``).

With ``--mixed`` the fleet also has ``gpu-server-3`` (four vendors, see
:func:`hosts.mixed_host`), and the demo boots two more instances: one on
a whole AMD Instinct MI300X, and one pooled vGPU whose device profile
requires an AMD GPU, which the attach service places on the MI300X pool
member and serves through the ``generic`` runtime.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any
from typing import TextIO

from orionx_cyborg.sandbox import clients
from orionx_cyborg.sandbox import hosts
from orionx_cyborg.sandbox import identity
from orionx_cyborg.sandbox import layout
from orionx_cyborg.sandbox import stack

BOOT_TIMEOUT = 60.0
POLL_INTERVAL = 0.1
# Any UUID: the stand-in has no Glance.
IMAGE_ID = '9f1a2b3c-0000-4000-8000-000000000001'
INSTANCE_PREFIX = 'demo-'


@dataclasses.dataclass(frozen=True)
class DemoFlavor:
    """A device profile and a flavor of the same name."""

    name: str
    kind: str
    group: Mapping[str, str]
    host: str | None = None
    """Where to boot its instance (``nova:<host>``); anywhere if None."""
    vcpus: int = 4
    ram: int = 16384
    disk: int = 40


FLAVORS = (
    DemoFlavor(
        'gpu-h200',
        'whole GPU',
        {
            'resources:PGPU': '1',
            'trait:CUSTOM_GPU_MODEL_H200': 'required',
        },
    ),
    DemoFlavor(
        'vgpu-h200x-35c',
        'NVIDIA vGPU, SR-IOV',
        {
            'resources:VGPU': '1',
            'trait:CUSTOM_NVIDIA_VGPU_H200X_35C': 'required',
        },
    ),
    DemoFlavor(
        'vgpu-a100d-20c',
        'NVIDIA vGPU, mdev',
        {
            'resources:VGPU': '1',
            'trait:CUSTOM_NVIDIA_VGPU_A100DX_20C': 'required',
        },
    ),
    DemoFlavor(
        'pool-16g-25pct',
        'pooled vGPU',
        {
            'resources:CUSTOM_ORIONX_VGPU': '1',
            'trait:CUSTOM_ORIONX_POOL_DEFAULT': 'required',
            'accel:orionx_gmem_mib': '16384',
            'accel:orionx_compute_pct': '25',
        },
        host='cpu-host-1',
        vcpus=2,
        ram=8192,
        disk=20,
    ),
)


#: The mixed host's flavors: a whole non-NVIDIA GPU and a pooled vGPU on
#: one.
MIXED_FLAVORS = (
    DemoFlavor(
        'gpu-mi300x',
        'whole GPU, AMD',
        {
            'resources:PGPU': '1',
            'trait:CUSTOM_GPU_AMD': 'required',
            'trait:CUSTOM_GPU_MODEL_INSTINCT_MI300X': 'required',
        },
    ),
    DemoFlavor(
        'pool-amd-16g-25pct',
        'pooled vGPU, AMD',
        {
            'resources:CUSTOM_ORIONX_VGPU': '1',
            'trait:CUSTOM_ORIONX_POOL_DEFAULT': 'required',
            'accel:orionx_gmem_mib': '16384',
            'accel:orionx_compute_pct': '25',
            'accel:orionx_gpu_traits_required': 'CUSTOM_GPU_AMD',
        },
        host='cpu-host-1',
        vcpus=2,
        ram=8192,
        disk=20,
    ),
)


def demo_flavors(mixed: bool) -> tuple[DemoFlavor, ...]:
    return FLAVORS + MIXED_FLAVORS if mixed else FLAVORS


class DemoFailed(RuntimeError):
    pass


#: Reconcile passes of a kept demo sandbox (seconds).
KEPT_RECONCILE_INTERVAL = 10


@dataclasses.dataclass
class DemoGpu:
    address: str
    model: str
    mode: str
    health: str


@dataclasses.dataclass
class HostView:
    name: str
    description: str
    gpus: list[DemoGpu]
    other_devices: list[str]
    classes: dict[str, tuple[int, int, int]]
    """resource class -> (providers, total, used)."""


@dataclasses.dataclass
class InstanceView:
    name: str
    flavor: str
    kind: str
    status: str
    host: str | None
    handle_types: list[str]
    libvirt: list[str]
    fault: str | None = None
    vendordata: dict[str, Any] | None = None
    binding: list[str] = dataclasses.field(default_factory=list)
    """The pooled vGPUs' bindings, as lines."""


@dataclasses.dataclass
class DemoSummary:
    state_dir: str
    ready_s: float
    hosts: list[HostView]
    instances: list[InstanceView]
    total_s: float = 0.0
    vendordata_targets: tuple[str, ...] = ()


# -- running it --------------------------------------------------------


def run(
    state_dir: str | os.PathLike[str],
    keep: bool = False,
    vendordata_targets: Sequence[str] = (),
    out: TextIO | None = None,
    mixed: bool = False,
) -> DemoSummary:
    """Start the sandbox, create the flavors, boot, summarise.

    Without *keep* the sandbox is stopped before returning, whatever
    happens. Prints the summary to *out* when given.

    :param mixed: add the mixed host and its two instances.
    """
    began = time.monotonic()
    flavors = demo_flavors(mixed)
    sandbox = stack.Sandbox(
        state_dir,
        hosts.mixed_fleet() if mixed else hosts.orionx_fleet(),
        vendordata_targets=vendordata_targets,
        keep=keep,
        # A kept sandbox keeps reconciling (a deleted instance's lease is
        # released); this run asks vendordata, which places the lease.
        attach_options={
            'reconcile_interval': str(KEPT_RECONCILE_INTERVAL if keep else 0)
        },
    )
    sandbox.start()
    try:
        create_flavors(sandbox, flavors)
        instances = [boot(sandbox, flavor) for flavor in flavors]
        # Vendordata first: the pooled vGPU's lease is then in Placement.
        views = [
            instance_view(sandbox, flavor, record)
            for flavor, record in zip(flavors, instances, strict=True)
        ]
        summary = DemoSummary(
            state_dir=str(sandbox.state.root),
            ready_s=sandbox.timings['ready'],
            hosts=host_views(sandbox),
            instances=views,
            vendordata_targets=sandbox.manifest.vendordata_targets,
        )
    finally:
        if not keep:
            sandbox.stop()
    summary.total_s = time.monotonic() - began
    if out is not None:
        print_summary(summary, out)
        if keep:
            print_access(sandbox.manifest, out)
    return summary


def create_flavors(
    sandbox: stack.Sandbox, flavors: Iterable[DemoFlavor]
) -> None:
    """Device profiles and flavors, through openstacksdk as the admin."""
    conn = sandbox.connect(identity.ADMIN_TOKEN)
    for flavor in flavors:
        conn.accelerator.create_device_profile(
            name=flavor.name,
            groups=[dict(flavor.group)],
            description='%s (orionx-cyborg sandbox demo)' % flavor.kind,
        )
        created = conn.compute.create_flavor(
            name=flavor.name,
            vcpus=flavor.vcpus,
            ram=flavor.ram,
            disk=flavor.disk,
        )
        conn.compute.create_flavor_extra_specs(
            created, {'accel:device_profile': flavor.name}
        )


def boot(sandbox: stack.Sandbox, flavor: DemoFlavor) -> dict[str, Any]:
    """Boot one instance of *flavor* as the member; its final record.

    One at a time: the sandbox's SQLite Placement may refuse concurrent
    claims ("database is locked").
    """
    compute = sandbox.compute(identity.MEMBER_TOKEN)
    flavor_id = next(
        f['id']
        for f in compute.get('/flavors')['flavors']
        if f['name'] == flavor.name
    )
    server: dict[str, Any] = {
        'name': INSTANCE_PREFIX + flavor.name,
        'flavorRef': flavor_id,
        'imageRef': IMAGE_ID,
        'networks': 'none',
    }
    if flavor.host:
        server['availability_zone'] = 'nova:%s' % flavor.host
    server_id = compute.post('/servers', {'server': server})['server']['id']
    return wait_for_server(sandbox, server_id)


def wait_for_server(
    sandbox: stack.Sandbox, server_id: str, timeout: float = BOOT_TIMEOUT
) -> dict[str, Any]:
    """The stand-in's record once the build is over (ACTIVE or ERROR)."""
    nova = sandbox.nova_sandbox()
    deadline = time.monotonic() + timeout
    while True:
        record: dict[str, Any] = nova.get('/sandbox/servers/%s' % server_id)[
            'server'
        ]
        if record['task_state'] is None and record['status'] != 'BUILD':
            return record
        if time.monotonic() > deadline:
            raise DemoFailed('server %s is still building' % server_id)
        time.sleep(POLL_INTERVAL)


# -- what the cloud looks like ---------------------------------------


def host_views(sandbox: stack.Sandbox) -> list[HostView]:
    devices = sandbox.cyborg().get('/devices')['devices']
    placement = sandbox.placement()
    return [
        HostView(
            name=host.name,
            description=host.description,
            gpus=sorted(
                (
                    _gpu(device)
                    for device in devices
                    if device['hostname'] == host.name and _is_gpu(device)
                ),
                key=lambda gpu: gpu.address,
            ),
            other_devices=sorted(
                '%s: %s (vendor %s)' % (d['type'], d['model'], d['vendor'])
                for d in devices
                if d['hostname'] == host.name and not _is_gpu(d)
            ),
            classes=resource_classes(placement, host),
        )
        for host in sandbox.manifest.hosts
    ]


def _is_gpu(device: Mapping[str, Any]) -> bool:
    """A physical GPU (not the entitlement, not another driver's)."""
    board = json.loads(device['std_board_info'] or '{}')
    return device['type'] == 'GPU' and 'pci_address' in board


def _gpu(device: Mapping[str, Any]) -> DemoGpu:
    board = json.loads(device['std_board_info'] or '{}')
    vendor = json.loads(device['vendor_board_info'] or '{}')
    return DemoGpu(
        address=str(board.get('pci_address', '?')),
        model=str(device['model']),
        mode=str(vendor.get('mode', '?')),
        health=str(vendor.get('health', '?')),
    )


def resource_classes(
    placement: clients.JsonClient, host: layout.HostEntry
) -> dict[str, tuple[int, int, int]]:
    """Providers, total and used per resource class under *host*.

    The compute node's own classes (VCPU, MEMORY_MB, DISK_GB) are left
    out: the demo is about accelerators.
    """
    tree = placement.get(
        '/resource_providers', params={'in_tree': host.rp_uuid}
    )['resource_providers']
    classes: dict[str, tuple[int, int, int]] = {}
    for provider in tree:
        if provider['uuid'] == host.rp_uuid:
            continue
        path = '/resource_providers/%s' % provider['uuid']
        inventories = placement.get(path + '/inventories')['inventories']
        usages = placement.get(path + '/usages')['usages']
        for rc, inventory in inventories.items():
            count, total, used = classes.get(rc, (0, 0, 0))
            classes[rc] = (
                count + 1,
                total + int(inventory['total']),
                used + int(usages.get(rc, 0)),
            )
    return dict(sorted(classes.items()))


def instance_view(
    sandbox: stack.Sandbox,
    flavor: DemoFlavor,
    record: Mapping[str, Any],
) -> InstanceView:
    arqs = (
        sandbox.cyborg()
        .get('/accelerator_requests', params={'instance': record['id']})
        .get('arqs', [])
        if record['status'] == 'ACTIVE'
        else []
    )
    view = InstanceView(
        name=str(record['name']),
        flavor=flavor.name,
        kind=flavor.kind,
        status=str(record['status']),
        host=record['host'],
        handle_types=sorted(str(a['attach_handle_type']) for a in arqs),
        libvirt=[_libvirt(a) for a in record['attachments']]
        + [_ignored(flavor, i) for i in record['ignored_accelerators']],
        fault=(record.get('fault') or {}).get('message'),
    )
    if sandbox.manifest.vendordata_targets and record['status'] == 'ACTIVE':
        # As the guest would: Nova asks every target, the attach service
        # first (and leases the pooled vGPU on this first call).
        view.vendordata = sandbox.nova_sandbox().get(
            '/sandbox/servers/%s/vendor_data2.json' % record['id']
        )
        document = view.vendordata.get(layout.ATTACH_TARGET) or {}
        if document.get('vgpus'):
            view.binding = binding_lines(sandbox, document)
    return view


def binding_lines(
    sandbox: stack.Sandbox, document: Mapping[str, Any]
) -> list[str]:
    """A binding document in words (its secrets left out)."""
    lines = []
    for vgpu in document['vgpus']:
        if vgpu['state'] != 'active':
            lines.append(
                'pooled vGPU: %s %d MiB, %d%%: %s (ask again in %ss)'
                % (
                    vgpu['state'],
                    vgpu['gmem_mib'],
                    vgpu['compute_pct'],
                    vgpu['reason'],
                    document['retry_after'],
                )
            )
            continue
        lease = sandbox.attach().get('/v1/leases/%s' % vgpu['lease_id'])
        endpoint = vgpu['endpoint']
        lines.append(
            'pooled vGPU: lease %s active: %d MiB, %d%% of %s (%s) on %s, '
            '%s to %s:%d'
            % (
                vgpu['lease_id'],
                vgpu['gmem_mib'],
                vgpu['compute_pct'],
                vgpu['gpu_uuid'],
                lease['gpu_pci_address'],
                vgpu['gpu_host'],
                endpoint['transport'],
                endpoint['address'],
                endpoint['port'],
            )
        )
    environment = document.get('client', {}).get('environment', {})
    if environment:
        lines.append(
            'client: %s'
            % ' '.join('%s=%s' % item for item in sorted(environment.items()))
        )
    return lines


def _libvirt(attachment: Mapping[str, Any]) -> str:
    if attachment['type'] == 'mdev':
        return "<hostdev type='mdev'> %s (%s on %s, created by %s)" % (
            attachment['uuid'],
            attachment['mdev_type'],
            attachment['parent'],
            attachment['created_by'],
        )
    return "<hostdev type='pci' managed='yes'> %s" % attachment['address']


def _ignored(flavor: DemoFlavor, ignored: Mapping[str, Any]) -> str:
    size = ', '.join(
        '%s=%s' % (key.split(':', 1)[1], value)
        for key, value in flavor.group.items()
        if key.startswith('accel:')
    )
    return (
        'nothing: %s ignored by Nova; the pool serves it over the network '
        '(%s)' % (ignored['attach_handle_type'], size or 'no size')
    )


# -- printing ------------------------------------------------------------


def print_summary(summary: DemoSummary, out: TextIO) -> None:
    print(
        'OrionX sandbox demo: %d hosts, ready in %.1fs, demo done in %.1fs'
        % (len(summary.hosts), summary.ready_s, summary.total_s),
        file=out,
    )
    _print_hosts(summary.hosts, out)
    _print_placement(summary.hosts, out)
    _print_instances(summary.instances, out)
    _print_vendordata(summary, out)


def _print_hosts(views: Sequence[HostView], out: TextIO) -> None:
    print('\nHosts and GPUs (Cyborg devices)', file=out)
    for view in views:
        print('  %s: %s' % (view.name, view.description), file=out)
        for gpu in view.gpus:
            print(
                '    %-13s %-22s %-12s %s'
                % (gpu.address, gpu.model, gpu.mode, gpu.health),
                file=out,
            )
        for other in view.other_devices:
            print('    %s' % other, file=out)
        if not view.gpus and not view.other_devices:
            print('    (no device)', file=out)


def _print_placement(views: Sequence[HostView], out: TextIO) -> None:
    print('\nPlacement, accelerator providers per host', file=out)
    rows = [('host', 'resource class', 'providers', 'total', 'used')]
    for view in views:
        for rc, (count, total, used) in view.classes.items():
            rows.append((view.name, rc, str(count), str(total), str(used)))
    _print_rows(rows, out)


def _print_instances(instances: Sequence[InstanceView], out: TextIO) -> None:
    print('\nInstances (booted through the Nova stand-in)', file=out)
    for view in instances:
        print(
            '  %s  flavor %s (%s): %s on %s, attach handle %s'
            % (
                view.name,
                view.flavor,
                view.kind,
                view.status,
                view.host or '-',
                ', '.join(view.handle_types) or '-',
            ),
            file=out,
        )
        if view.fault:
            print('    fault: %s' % view.fault, file=out)
        for line in view.libvirt:
            print('    libvirt: %s' % line, file=out)
        for line in view.binding:
            print('    %s' % line, file=out)


def _print_vendordata(summary: DemoSummary, out: TextIO) -> None:
    if not summary.vendordata_targets:
        print('\nVendordata: no target.', file=out)
        return
    print(
        '\nVendordata (%s)' % ', '.join(summary.vendordata_targets), file=out
    )
    for view in summary.instances:
        answers = dict(view.vendordata or {})
        document = answers.pop(layout.ATTACH_TARGET, None)
        parts = []
        if document is not None:
            parts.append('%s: %s' % (layout.ATTACH_TARGET, _status(document)))
        parts += [
            '%s: %s' % (name, json.dumps(answer))
            for name, answer in sorted(answers.items())
        ]
        print('  %s: %s' % (view.name, '; '.join(parts)), file=out)


def _status(document: Mapping[str, Any]) -> str:
    """The attach service's answer in a few words."""
    status = str(document.get('status', 'no answer'))
    vgpus = document.get('vgpus') or []
    if not vgpus:
        return status
    return '%s, %d pooled vGPU(s), %s runtime settings' % (
        status,
        len(vgpus),
        document.get('runtime'),
    )


def _print_rows(rows: Sequence[Sequence[str]], out: TextIO) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print(
            '  '
            + '  '.join(
                cell.ljust(width)
                for cell, width in zip(row, widths, strict=True)
            ).rstrip(),
            file=out,
        )


def sdk_snippet(manifest: layout.Manifest) -> str:
    """Python that connects openstacksdk to the sandbox."""
    return '\n'.join(
        [
            'import openstack',
            'conn = openstack.connect(',
            "    auth_type='admin_token',",
            "    auth={'endpoint': '%s', 'token': 'admin'},"
            % manifest.cyborg_url,
            "    accelerator_endpoint_override='%s/v2'," % manifest.cyborg_url,
            "    placement_endpoint_override='%s'," % manifest.placement_url,
            "    compute_endpoint_override='%s'," % manifest.nova_url,
            '    load_yaml_config=False, load_envvars=False)',
            'for profile in conn.accelerator.device_profiles():',
            '    print(profile.name, profile.groups)',
        ]
    )


def print_access(manifest: layout.Manifest, out: TextIO) -> None:
    print('\nThe sandbox keeps running. openstacksdk:\n', file=out)
    print(sdk_snippet(manifest), file=out)
    print('\nThe openstack CLI:\n', file=out)
    for key, value in stack.cli_environment(manifest).items():
        print('export %s=%s' % (key, value), file=out)
    print('openstack accelerator deployable list', file=out)
    print(
        '\nStop it with: orionx-cyborg sandbox down --state-dir %s'
        % manifest.state_dir,
        file=out,
    )
