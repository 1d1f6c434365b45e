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

"""``orionx-cyborg sandbox demo --full``: real Nova boots two GPU kinds.

It starts the full sandbox, creates (openstacksdk, as ``admin``) a
device profile and a flavor for a whole H200 and for a pooled vGPU of
16 GiB and 25 % compute, boots a whole-GPU server as ``demo`` and a
pooled-vGPU server on the host without GPUs (as ``admin``, which may
name the host), asks Nova's metadata API for the pooled one's
``vendor_data2.json`` as Neutron's metadata proxy would, and prints
what each got: status, host, ARQs, and the pooled vGPU's binding.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any
from typing import TextIO

import openstack.config
import openstack.connection
import requests

from orionx_cyborg.sandbox.full import layout
from orionx_cyborg.sandbox.full import stack

BOOT_TIMEOUT = 180
GPU_LESS_HOST = 'cpu-host-1'
#: (name, device profile group, host to ask for)
FLAVORS: tuple[tuple[str, dict[str, str], str | None], ...] = (
    (
        'gpu-h200',
        {'resources:PGPU': '1', 'trait:CUSTOM_GPU_MODEL_H200': 'required'},
        None,
    ),
    (
        'pool-16g-25pct',
        {
            'resources:CUSTOM_ORIONX_VGPU': '1',
            'trait:CUSTOM_ORIONX_POOL_DEFAULT': 'required',
            'accel:orionx_gmem_mib': '16384',
            'accel:orionx_compute_pct': '25',
        },
        GPU_LESS_HOST,
    ),
)


class DemoFailed(RuntimeError):
    pass


def connect(sandbox: stack.FullSandbox, cloud: str) -> Any:
    config = openstack.config.OpenStackConfig(
        config_files=[str(sandbox.state.clouds_yaml)]
    )
    return openstack.connection.Connection(config=config.get_one(cloud=cloud))


def create_flavor(admin: Any, name: str, group: dict[str, str]) -> Any:
    admin.accelerator.create_device_profile(name=name, groups=[group])
    flavor = admin.compute.create_flavor(
        name=name, vcpus=1, ram=512, disk=1, is_public=True
    )
    admin.compute.create_flavor_extra_specs(
        flavor, {'accel:device_profile': name}
    )
    return flavor


def boot(conn: Any, flavor: Any, image_id: str, host: str | None) -> Any:
    body: dict[str, Any] = {
        'name': 'demo-%s' % flavor.name,
        'imageRef': image_id,
        'flavorRef': flavor.id,
        'networks': 'none',
    }
    if host:
        body['host'] = host
    answer = conn.compute.post(
        '/servers', json={'server': body}, microversion='2.74'
    )
    if answer.status_code != 202:
        raise DemoFailed('boot refused: %s' % answer.text)
    server = conn.compute.get_server(answer.json()['server']['id'])
    return conn.compute.wait_for_server(
        server, status='ACTIVE', interval=0.5, wait=BOOT_TIMEOUT
    )


def vendordata(sandbox: stack.FullSandbox, server: Any) -> dict[str, Any]:
    """``vendor_data2.json`` asked as Neutron's metadata proxy asks."""
    manifest = sandbox.manifest
    signature = hmac.new(
        manifest.metadata_secret.encode(), server.id.encode(), hashlib.sha256
    ).hexdigest()
    answer = requests.get(
        manifest.url('nova-metadata') + '/openstack/latest/vendor_data2.json',
        headers={
            'X-Instance-ID': server.id,
            'X-Tenant-ID': server.project_id,
            'X-Instance-ID-Signature': signature,
            'X-Forwarded-For': '10.0.0.5',
        },
        timeout=30,
    )
    answer.raise_for_status()
    document: dict[str, Any] = answer.json()
    return document


def show(sandbox: stack.FullSandbox, admin: Any, server: Any) -> list[str]:
    lines = []
    host = admin.compute.get_server(server.id).compute_host
    lines.append(
        '%s: %s on %s' % (server.name, server.status, host),
    )
    arqs = admin.accelerator.get(
        '/accelerator_requests?instance=%s' % server.id
    ).json()['arqs']
    for arq in arqs:
        lines.append(
            '  ARQ %s %s on %s (%s)'
            % (
                arq['uuid'],
                arq['state'],
                arq['hostname'],
                arq['attach_handle_type'],
            )
        )
    document = vendordata(sandbox, server).get(layout.ATTACH_TARGET) or {}
    for vgpu in document.get('vgpus') or ():
        lines.append(
            '  pooled vGPU: lease %s %s, %d MiB / %d%% on %s %s'
            % (
                vgpu['lease_id'],
                vgpu['state'],
                vgpu['gmem_mib'],
                vgpu['compute_pct'],
                vgpu.get('gpu_host'),
                (vgpu.get('endpoint') or {}).get('transport'),
            )
        )
    environment = (document.get('client') or {}).get('environment') or {}
    for key, value in sorted(environment.items()):
        lines.append('    %s=%s' % (key, value))
    return lines


def run(state_dir: str, keep: bool, out: TextIO) -> int:
    began = time.monotonic()
    sandbox = stack.FullSandbox(state_dir, keep=keep)
    sandbox.start()
    print('full sandbox ready in %.1fs' % sandbox.timings['ready'], file=out)
    try:
        admin = connect(sandbox, 'admin')
        demo = connect(sandbox, 'demo')
        image = sandbox.manifest.image_id
        for name, group, host in FLAVORS:
            flavor = create_flavor(admin, name, group)
            conn = admin if host else demo
            server = boot(conn, flavor, image, host)
            for line in show(sandbox, admin, server):
                print(line, file=out)
    finally:
        if not keep:
            sandbox.stop()
    print('demo done in %.1fs' % (time.monotonic() - began), file=out)
    if keep:
        print(
            'OS_CLIENT_CONFIG_FILE=%s openstack --os-cloud demo server '
            'list\nstop it with: orionx-cyborg sandbox down --state-dir %s'
            % (sandbox.state.clouds_yaml, sandbox.state.root),
            file=out,
        )
    return 0
