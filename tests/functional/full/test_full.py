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

"""Real flows through the real Nova, Keystone and Cyborg services.

Servers boot through Nova's API with openstacksdk; Nova's conductor and
compute create and bind the ARQs with the stock Cyborg; Nova's metadata
API asks ``orionx-cyborg-attach`` (keystonemiddleware in front, Nova's
service user calling) for the pooled vGPU's binding, asked the way
Neutron's metadata proxy asks.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import requests

from orionx_cyborg import resources
from orionx_cyborg.sandbox import cli
from orionx_cyborg.sandbox.full import clouds
from orionx_cyborg.sandbox.full import layout
from orionx_cyborg.sandbox.full import stack
from tests.functional import helpers
from tests.functional.full import conftest

GPU_LESS_HOST = 'cpu-host-1'
GPU_SERVERS = ('gpu-server-1', 'gpu-server-2')
POOLED = {
    'resources:%s' % resources.RC_ENTITLEMENT: '1',
    'trait:CUSTOM_ORIONX_POOL_DEFAULT': 'required',
    'accel:orionx_gmem_mib': '16384',
    'accel:orionx_compute_pct': '25',
}
WHOLE_H200 = {
    'resources:PGPU': '1',
    'trait:CUSTOM_GPU_MODEL_H200': 'required',
}
#: Nova's compute API microversion that takes a host at boot (admin).
HOST_MICROVERSION = '2.74'


def boot(
    conn: Any,
    flavor: Any,
    image_id: str,
    servers: list[str],
    host: str | None = None,
    forced_host: str | None = None,
) -> Any:
    """Boot and wait for ACTIVE.

    *host* asks the scheduler for that host (2.74, kept for later moves);
    *forced_host* forces it (``nova:<host>``), which moves such as
    evacuate forget.
    """
    body: dict[str, Any] = {
        'name': helpers.unique('full'),
        'imageRef': image_id,
        'flavorRef': flavor.id,
        'networks': 'none',
    }
    if host is not None:
        body['host'] = host
    if forced_host is not None:
        body['availability_zone'] = 'nova:%s' % forced_host
    answer = conn.compute.post(
        '/servers', json={'server': body}, microversion=HOST_MICROVERSION
    )
    assert answer.status_code == 202, answer.text
    server_id = answer.json()['server']['id']
    servers.append(server_id)
    server = conn.compute.get_server(server_id)
    return conn.compute.wait_for_server(
        server, status='ACTIVE', interval=0.5, wait=conftest.BOOT_TIMEOUT
    )


def arqs_of(admin: Any, server_id: str) -> list[dict[str, Any]]:
    answer = admin.accelerator.get(
        '/accelerator_requests?instance=%s' % server_id
    )
    arqs: list[dict[str, Any]] = answer.json()['arqs']
    return arqs


def allocations_of(admin: Any, consumer: str) -> dict[str, Any]:
    allocations: dict[str, Any] = admin.placement.get(
        '/allocations/%s' % consumer
    ).json()['allocations']
    return allocations


def attach_call(sandbox: stack.FullSandbox, method: str, path: str) -> Any:
    """The attach service's API as its operator (a system-scoped admin)."""
    session = clouds.system_admin_session(sandbox.manifest)
    answer = session.request(
        sandbox.manifest.url('attach') + path, method, raise_exc=False
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def leases_of(sandbox: stack.FullSandbox, server_id: str) -> list[Any]:
    leases: list[Any] = attach_call(
        sandbox, 'GET', '/v1/leases?instance=%s' % server_id
    )['leases']
    return leases


def metadata_vendordata(
    sandbox: stack.FullSandbox,
    server_id: str,
    project_id: str,
    secret: str | None = None,
) -> requests.Response:
    """GET vendor_data2.json as Neutron's metadata proxy would."""
    key = (secret or sandbox.manifest.metadata_secret).encode()
    signature = hmac.new(key, server_id.encode(), hashlib.sha256).hexdigest()
    return requests.get(
        sandbox.manifest.url('nova-metadata')
        + '/openstack/latest/vendor_data2.json',
        headers={
            'X-Instance-ID': server_id,
            'X-Tenant-ID': project_id,
            'X-Instance-ID-Signature': signature,
            'X-Forwarded-For': '10.0.0.5',
        },
        timeout=30,
    )


def test_status_names_every_service_with_pid_and_url(
    full_sandbox: stack.FullSandbox,
) -> None:
    report = {s['name']: s for s in full_sandbox.service_status()}
    hosts = full_sandbox.manifest.hosts
    expected = {
        'rabbitmq',
        'nova-conductor',
        'nova-scheduler',
        'cyborg-conductor',
        *layout.HTTP_SERVICES,
        *('nova-compute-%s' % host for host in hosts),
        *('cyborg-agent-%s' % host for host in hosts),
    }
    two = layout.REGION_TWO
    region_two_http = [
        layout.regional(name, two) for name in layout.REGION_TWO_HTTP
    ]
    if full_sandbox.manifest.region_two_hosts:
        expected |= {
            *region_two_http,
            layout.regional('cyborg-conductor', two),
            *(
                layout.regional('cyborg-agent-%s' % host, two)
                for host in full_sandbox.manifest.region_two_hosts
            ),
        }
    assert set(report) == expected
    assert all(entry['running'] for entry in report.values())
    for name in (*layout.HTTP_SERVICES, *region_two_http):
        if name in report:
            assert report[name]['url'].startswith('http://127.0.0.1:')
    # The CLI's JSON says the same.
    out = _StringOut()
    assert cli.status(str(full_sandbox.state.root), True, out) == 0
    listed = json.loads(out.text)['services']
    assert {(s['name'], s['pid']) for s in listed} == {
        (name, entry['pid']) for name, entry in report.items()
    }


class _StringOut:
    def __init__(self) -> None:
        self.text = ''

    def write(self, text: str) -> int:
        self.text += text
        return len(text)

    def flush(self) -> None:
        pass


def test_every_api_refuses_a_request_without_a_token(
    full_sandbox: stack.FullSandbox,
) -> None:
    paths = {
        'placement': '/resource_providers',
        'glance': '/v2/images',
        'neutron': '/v2.0/networks',
        'nova-api': '/v2.1/servers',
        'cyborg-api': '/v2/device_profiles',
        'attach': '/v1/leases',
    }
    two = layout.REGION_TWO
    if full_sandbox.manifest.region_two_hosts:
        for name in ('placement', 'cyborg-api', 'attach'):
            paths[layout.regional(name, two)] = paths[name]
    for name, path in paths.items():
        answer = requests.get(
            full_sandbox.manifest.url(name) + path, timeout=30
        )
        assert answer.status_code == 401, (name, answer.status_code)


def test_openstack_cli_lists_the_demo_servers(
    full_sandbox: stack.FullSandbox,
) -> None:
    env = dict(
        os.environ, OS_CLIENT_CONFIG_FILE=str(full_sandbox.state.clouds_yaml)
    )
    done = subprocess.run(  # noqa: S603
        [
            os.path.join(os.path.dirname(sys.executable), 'openstack'),
            '--os-cloud',
            'demo',
            'server',
            'list',
            '-f',
            'json',
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert isinstance(json.loads(done.stdout), list)


def test_pooled_vgpu_on_the_gpu_less_host(
    full_sandbox: stack.FullSandbox,
    admin: Any,
    accel_flavor: Callable[[dict[str, str]], Any],
    servers: list[str],
) -> None:
    flavor = accel_flavor(POOLED)
    server = boot(
        admin,
        flavor,
        full_sandbox.manifest.image_id,
        servers,
        host=GPU_LESS_HOST,
    )
    assert admin.compute.get_server(server.id).compute_host == GPU_LESS_HOST
    arqs = arqs_of(admin, server.id)
    assert [(a['state'], a['hostname']) for a in arqs] == [
        ('Bound', GPU_LESS_HOST)
    ]

    # Nova's metadata API, asked as Neutron's metadata proxy asks.
    answer = metadata_vendordata(full_sandbox, server.id, server.project_id)
    assert answer.status_code == 200, answer.text
    document = answer.json()[layout.ATTACH_TARGET]
    assert document['instance_uuid'] == server.id
    [vgpu] = document['vgpus']
    assert (vgpu['gmem_mib'], vgpu['compute_pct']) == (16384, 25)
    assert vgpu['gpu_host'] in GPU_SERVERS
    [lease] = leases_of(full_sandbox, server.id)
    assert lease['id'] == vgpu['lease_id']
    assert lease['state'] == 'active'
    assert lease['vm_host'] == GPU_LESS_HOST
    assert lease['arq_uuid'] == arqs[0]['uuid']
    assert allocations_of(admin, lease['id'])
    # A wrong signature is refused: the secret is what proves the proxy.
    forged = metadata_vendordata(
        full_sandbox, server.id, server.project_id, secret='not-the-secret'
    )
    assert forged.status_code == 403

    admin.compute.delete_server(server)
    admin.compute.wait_for_delete(server, wait=conftest.BOOT_TIMEOUT)
    attach_call(full_sandbox, 'POST', '/v1/reconcile')
    helpers.wait_for(
        lambda: (
            not leases_of(full_sandbox, server.id)
            and not allocations_of(admin, lease['id'])
            and not allocations_of(admin, server.id)
        ),
        timeout=60,
        what='the lease and the allocations of a deleted server to go',
    )
    assert arqs_of(admin, server.id) == []


def test_whole_gpu_server_boots_with_its_arq_bound(
    full_sandbox: stack.FullSandbox,
    demo: Any,
    admin: Any,
    accel_flavor: Callable[[dict[str, str]], Any],
    servers: list[str],
) -> None:
    flavor = accel_flavor(WHOLE_H200)
    server = boot(demo, flavor, full_sandbox.manifest.image_id, servers)
    host = admin.compute.get_server(server.id).compute_host
    assert host == 'gpu-server-1'
    [arq] = arqs_of(admin, server.id)
    assert arq['state'] == 'Bound'
    assert arq['hostname'] == host
    assert arq['attach_handle_type'] == 'PCI'
    allocations = allocations_of(admin, server.id)
    assert {'PGPU': 1} in [a['resources'] for a in allocations.values()]
    demo.compute.delete_server(server)
    demo.compute.wait_for_delete(server, wait=conftest.BOOT_TIMEOUT)
    deadline = time.monotonic() + 60
    while allocations_of(admin, server.id) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert allocations_of(admin, server.id) == {}
