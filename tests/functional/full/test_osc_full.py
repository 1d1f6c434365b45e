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

"""``openstack orionx ...`` against the full sandbox, with real Keystone.

The real ``openstack`` command (python-openstackclient with this
package's plugin) runs as a subprocess with the sandbox's
``clouds.yaml``: ``--os-cloud demo`` and ``alt`` (project members),
``admin`` (the admin role in project admin) and ``system-admin`` (the
attach service's operator: admin on a system-scoped token). A server
with a pooled vGPU is booted in demo and one in alt; each project sees
only its own lease, with or without ``--all-projects``; the operator
sees both. ``-f json`` keys are asserted exactly, for scripts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

from orionx_cyborg import resources
from orionx_cyborg.sandbox.full import layout
from orionx_cyborg.sandbox.full import stack
from tests.functional import helpers
from tests.functional.full import conftest
from tests.functional.full import test_full

LEASE_LIST_KEYS = {
    'ID',
    'Instance',
    'Project',
    'State',
    'Pool',
    'GPU Memory MiB',
    'Compute Pct',
    'VM Host',
    'GPU Host',
    'Endpoint',
}
LEASE_LONG_KEYS = LEASE_LIST_KEYS | {
    'GPU',
    'GPU PCI Address',
    'ARQ',
    'Created At',
    'Placed At',
}
LEASE_SHOW_KEYS = {
    'id',
    'state',
    'instance_uuid',
    'project_id',
    'vm_host',
    'arq_uuid',
    'pool',
    'gmem_mib',
    'compute_pct',
    'gpu_uuid',
    'gpu_host',
    'gpu_pci_address',
    'endpoint',
    'created_at',
    'placed_at',
    'events',
}
POOL_LIST_KEYS = {
    'Name',
    'GPUs',
    'Unhealthy',
    'Pending',
    'GPU Memory MiB',
    'Compute Pct',
    'Leases',
    'Fragmentation',
}
POOL_SHOW_KEYS = {
    'name',
    'gpus_total',
    'unhealthy',
    'pending',
    'gmem_mib',
    'compute_pct',
    'leases',
    'fragmentation',
    'gpus',
}
GPU_LIST_KEYS = {
    'ID',
    'Host',
    'PCI Address',
    'Model',
    'Mode',
    'Pool',
    'Health',
    'Capacity',
    'Used',
}
GPU_SHOW_KEYS = {
    'id',
    'device_uuid',
    'host',
    'vendor',
    'model',
    'pci_address',
    'memory_mib',
    'mode',
    'pool',
    'health',
    'capacity',
    'used',
    'resource_providers',
}
USAGE_KEYS = {'capacity', 'used', 'free'}


def openstack(
    sandbox: stack.FullSandbox, cloud: str, *argv: str
) -> subprocess.CompletedProcess[str]:
    """The ``openstack`` command of this environment, as *cloud*."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith('OS_')
    }
    env['OS_CLIENT_CONFIG_FILE'] = str(sandbox.state.clouds_yaml)
    return subprocess.run(  # noqa: S603
        [
            os.path.join(os.path.dirname(sys.executable), 'openstack'),
            '--os-cloud',
            cloud,
            *argv,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def openstack_json(sandbox: stack.FullSandbox, cloud: str, *argv: str) -> Any:
    done = openstack(sandbox, cloud, *argv, '-f', 'json')
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope='module')
def two_projects(
    full_sandbox: stack.FullSandbox,
) -> Iterator[dict[str, Any]]:
    """A pooled-vGPU server in demo and one in alt, with their leases."""
    admin = conftest.connect(full_sandbox, 'admin')
    name = helpers.unique('osc')
    admin.accelerator.create_device_profile(
        name=name,
        groups=[
            {
                'resources:%s' % resources.RC_ENTITLEMENT: '1',
                'trait:CUSTOM_ORIONX_POOL_DEFAULT': 'required',
                'accel:orionx_gmem_mib': '8192',
                'accel:orionx_compute_pct': '10',
            }
        ],
    )
    flavor = admin.compute.create_flavor(
        name=name, vcpus=1, ram=512, disk=1, is_public=True
    )
    admin.compute.create_flavor_extra_specs(
        flavor, {'accel:device_profile': name}
    )
    booted: list[str] = []
    servers = {}
    try:
        for cloud in ('demo', 'alt'):
            conn = conftest.connect(full_sandbox, cloud)
            servers[cloud] = test_full.boot(
                conn, flavor, full_sandbox.manifest.image_id, booted
            )
        test_full.attach_call(full_sandbox, 'POST', '/v1/reconcile')
        for server in servers.values():

            def active(server_id: str = server.id) -> bool:
                leases = test_full.leases_of(full_sandbox, server_id)
                return [lease['state'] for lease in leases] == ['active']

            helpers.wait_for(
                active, timeout=60, what='an active lease of %s' % server.id
            )
        yield servers
    finally:
        for server_id in booted:
            admin.compute.delete_server(server_id, ignore_missing=True)
        for server_id in booted:
            server = admin.compute.find_server(
                server_id, ignore_missing=True, all_projects=True
            )
            if server is not None:
                admin.compute.wait_for_delete(
                    server, wait=conftest.BOOT_TIMEOUT
                )
        test_full.attach_call(full_sandbox, 'POST', '/v1/reconcile')
        admin.compute.delete_flavor(flavor, ignore_missing=True)
        admin.accelerator.delete_device_profile(name)


def instances(leases: list[dict[str, Any]]) -> set[str]:
    return {lease['Instance'] for lease in leases}


def test_a_project_sees_only_its_own_leases(
    full_sandbox: stack.FullSandbox, two_projects: dict[str, Any]
) -> None:
    demo, alt = two_projects['demo'], two_projects['alt']
    for cloud, mine, theirs in (('demo', demo, alt), ('alt', alt, demo)):
        for extra in ((), ('--all-projects',)):
            leases = openstack_json(
                full_sandbox, cloud, 'orionx', 'lease', 'list', *extra
            )
            assert mine.id in instances(leases), (cloud, extra)
            assert theirs.id not in instances(leases), (cloud, extra)
            assert {lease['Project'] for lease in leases} == {mine.project_id}
        # Naming the other project does not show its leases either.
        leases = openstack_json(
            full_sandbox,
            cloud,
            'orionx',
            'lease',
            'list',
            '--project',
            theirs.project_id,
        )
        assert leases == []


def test_an_operator_sees_every_project_with_all_projects(
    full_sandbox: stack.FullSandbox, two_projects: dict[str, Any]
) -> None:
    demo, alt = two_projects['demo'], two_projects['alt']
    leases = openstack_json(
        full_sandbox,
        'system-admin',
        'orionx',
        'lease',
        'list',
        '--all-projects',
    )
    assert {demo.id, alt.id} <= instances(leases)
    # --project narrows it to one project (by name, through Keystone).
    leases = openstack_json(
        full_sandbox,
        'system-admin',
        'orionx',
        'lease',
        'list',
        '--all-projects',
        '--project',
        'alt',
    )
    assert alt.id in instances(leases)
    assert demo.id not in instances(leases)
    # A project's admin is not the attach service's operator: its own
    # project only (no lease here), --all-projects or not.
    for extra in ((), ('--all-projects',)):
        leases = openstack_json(
            full_sandbox, 'admin', 'orionx', 'lease', 'list', *extra
        )
        assert not {demo.id, alt.id} & instances(leases), extra


def test_json_output_has_stable_keys(
    full_sandbox: stack.FullSandbox, two_projects: dict[str, Any]
) -> None:
    demo = two_projects['demo']
    (lease,) = openstack_json(
        full_sandbox,
        'demo',
        'orionx',
        'lease',
        'list',
        '--instance',
        demo.id,
    )
    assert set(lease) == LEASE_LIST_KEYS
    assert (lease['State'], lease['Pool']) == ('active', 'default')
    assert (lease['GPU Memory MiB'], lease['Compute Pct']) == (8192, 10)
    (long_lease,) = openstack_json(
        full_sandbox,
        'demo',
        'orionx',
        'lease',
        'list',
        '--instance',
        demo.id,
        '--long',
    )
    assert set(long_lease) == LEASE_LONG_KEYS
    shown = openstack_json(
        full_sandbox, 'demo', 'orionx', 'lease', 'show', lease['ID']
    )
    assert set(shown) == LEASE_SHOW_KEYS
    assert shown['instance_uuid'] == demo.id
    assert {'at', 'event', 'detail'} == set(shown['events'][0])

    (pool,) = openstack_json(
        full_sandbox, 'system-admin', 'orionx', 'pool', 'list'
    )
    assert set(pool) == POOL_LIST_KEYS
    assert set(pool['GPU Memory MiB']) == USAGE_KEYS
    assert pool['GPU Memory MiB']['used'] >= 2 * 8192
    assert pool['Leases']['active'] >= 2
    shown_pool = openstack_json(
        full_sandbox, 'system-admin', 'orionx', 'pool', 'show', 'default'
    )
    assert set(shown_pool) == POOL_SHOW_KEYS
    assert len(shown_pool['gpus']) == shown_pool['gpus_total'] == pool['GPUs']


def test_another_projects_lease_and_the_pools_are_hidden(
    full_sandbox: stack.FullSandbox, two_projects: dict[str, Any]
) -> None:
    (theirs,) = openstack_json(
        full_sandbox,
        'system-admin',
        'orionx',
        'lease',
        'list',
        '--instance',
        two_projects['alt'].id,
    )
    done = openstack(
        full_sandbox, 'demo', 'orionx', 'lease', 'show', theirs['ID']
    )
    assert done.returncode == 1
    assert 'No lease %s' % theirs['ID'] in done.stderr
    done = openstack(full_sandbox, 'demo', 'orionx', 'pool', 'list')
    assert done.returncode == 1
    assert 'Policy does not allow orionx_attach:pools:list' in done.stderr


def test_gpus_of_every_mode_across_hosts(
    full_sandbox: stack.FullSandbox, two_projects: dict[str, Any]
) -> None:
    gpus = openstack_json(full_sandbox, 'admin', 'orionx', 'gpu', 'list')
    assert gpus
    assert set(gpus[0]) == GPU_LIST_KEYS
    assert {gpu['Host'] for gpu in gpus} == set(test_full.GPU_SERVERS)
    assert {'passthrough', 'vgpu', 'pool'} <= {gpu['Mode'] for gpu in gpus}
    assert {gpu['Health'] for gpu in gpus} == {'healthy'}
    by_id = {gpu['ID']: gpu for gpu in gpus}
    # Each lease's GPU shows the lease's share as used (Placement).
    for server in two_projects.values():
        (lease,) = test_full.leases_of(full_sandbox, server.id)
        gpu = by_id[lease['gpu_uuid']]
        assert gpu['Mode'] == 'pool'
        assert gpu['Pool'] == 'default'
        assert gpu['Used'][resources.RC_POOL_MEMORY] >= 8192
        assert gpu['Capacity'][resources.RC_POOL_MEMORY] > 0
    pooled = openstack_json(
        full_sandbox, 'admin', 'orionx', 'gpu', 'list', '--mode', 'pool'
    )
    assert pooled and {gpu['Mode'] for gpu in pooled} == {'pool'}
    first = gpus[0]
    shown = openstack_json(
        full_sandbox, 'admin', 'orionx', 'gpu', 'show', first['ID']
    )
    assert set(shown) == GPU_SHOW_KEYS
    assert (shown['host'], shown['mode']) == (first['Host'], first['Mode'])
    assert shown['resource_providers']
    # A PCI address alone is ambiguous across the two hosts.
    done = openstack(
        full_sandbox, 'admin', 'orionx', 'gpu', 'show', first['PCI Address']
    )
    assert done.returncode == 1
    assert 'name its host with --host' in done.stderr


def test_os_region_name_reaches_region_twos_attach_service(
    full_sandbox: stack.FullSandbox,
) -> None:
    two = layout.REGION_TWO
    assert full_sandbox.manifest.region_two_hosts, 'the sandbox has one region'
    mine = openstack_json(
        full_sandbox, 'admin', 'orionx', 'gpu', 'list', '--os-region-name', two
    )
    # Region two's Cyborg and Placement only: its one host's two T4s.
    assert {gpu['Host'] for gpu in mine} == set(
        full_sandbox.manifest.region_two_hosts
    )
    assert [gpu['Mode'] for gpu in mine] == ['pool', 'pool']
    assert {gpu['Model'] for gpu in mine} == {'Tesla T4'}

    def region_two_pools() -> list[dict[str, Any]]:
        return openstack_json(
            full_sandbox,
            'system-admin',
            'orionx',
            'pool',
            'list',
            '--os-region-name',
            two,
        )

    (pool,) = region_two_pools()
    assert pool['Name'] == 'default'
    # The attach service's pool view may be older than the agent's
    # report (pool_view_max_age, 5 s); one more look after that.
    if pool['GPUs'] != len(mine):
        time.sleep(6)
        (pool,) = region_two_pools()
    assert pool['GPUs'] == len(mine)
    assert pool['GPU Memory MiB']['capacity'] == sum(
        gpu['Capacity'][resources.RC_POOL_MEMORY] for gpu in mine
    )
    # RegionOne's hosts are not region two's.
    ones = openstack_json(full_sandbox, 'admin', 'orionx', 'gpu', 'list')
    assert not {gpu['Host'] for gpu in ones} & {gpu['Host'] for gpu in mine}


def test_table_output_reads_as_a_table(
    full_sandbox: stack.FullSandbox,
    two_projects: dict[str, Any],
) -> None:
    done = openstack(full_sandbox, 'system-admin', 'orionx', 'pool', 'list')
    assert done.returncode == 0, done.stderr
    header = done.stdout.splitlines()[1]
    assert [cell.strip() for cell in header.strip('|').split('|')] == [
        'Name',
        'GPUs',
        'Unhealthy',
        'Pending',
        'GPU Memory MiB',
        'Compute Pct',
        'Leases',
        'Fragmentation',
    ]
    done = openstack(
        full_sandbox,
        'demo',
        'orionx',
        'lease',
        'list',
        '-f',
        'value',
        '-c',
        'Instance',
    )
    assert done.stdout.split() == [two_projects['demo'].id]
