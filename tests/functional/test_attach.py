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

"""The attach service in the sandbox: leases of pooled vGPUs, for real.

Instances boot through the Nova stand-in, which binds their ARQs in the
real Cyborg; Nova's DynamicJSON vendordata path asks the real
``orionx-cyborg-attach`` process, which claims the slices in the real
Placement. Every check reads Cyborg, the service's API and Placement
directly (:mod:`tests.functional.attach_checks`).
"""

from __future__ import annotations

import configparser
import datetime
from collections.abc import Callable
from typing import Any

import pytest
import requests

from orionx_cyborg import resources
from orionx_cyborg.sandbox import identity
from orionx_cyborg.sandbox import stack
from tests.functional import attach_checks
from tests.functional import helpers
from tests.functional import report_oracle

GPU_SERVERS = ('gpu-server-1', 'gpu-server-2')
PORT = 9960  # [orionx_attach] server_port, the default


def _action(
    sandbox: stack.Sandbox,
    server_id: str,
    body: dict[str, Any],
    token: str = identity.MEMBER_TOKEN,
) -> dict[str, Any]:
    sandbox.compute(token).post('/servers/%s/action' % server_id, body)
    return helpers.wait_for_server(sandbox, server_id)


def _only_vgpu(document: dict[str, Any]) -> dict[str, Any]:
    assert document['status'] == 'active', document
    [vgpu] = document['vgpus']
    assert vgpu['state'] == 'active'
    return vgpu


def _lease_of(sandbox: stack.Sandbox, server_id: str) -> dict[str, Any]:
    [lease] = attach_checks.leases(sandbox, instance=server_id)
    return lease


def _assert_allocation(sandbox: stack.Sandbox, lease: dict[str, Any]) -> None:
    """The lease's allocation, read from Placement: its GPU's two RPs."""
    gpu = attach_checks.read_stores(sandbox).gpu_of(lease)
    assert gpu is not None
    allocation = helpers.allocations_of(sandbox, lease['id'])
    assert allocation['consumer_type'] == attach_checks.CONSUMER_TYPE
    assert allocation['project_id'] == lease['project_id']
    assert {
        rp: entry['resources']
        for rp, entry in allocation['allocations'].items()
    } == {
        gpu.memory_rp: {resources.RC_POOL_MEMORY: lease['gmem_mib']},
        gpu.compute_rp: {resources.RC_POOL_COMPUTE: lease['compute_pct']},
    }


def test_gpu_less_host_gets_a_remote_vgpu_through_vendordata(
    sandbox: stack.Sandbox,
    pooled_flavor: Callable[[int, int], str],
    leased_boot: Callable[..., dict[str, Any]],
) -> None:
    record = leased_boot(
        pooled_flavor(16384, 25), availability_zone='nova:cpu-host-1'
    )
    assert record['status'] == 'ACTIVE', record['fault']
    document = attach_checks.vendordata(sandbox, record['id'])
    assert document['instance_uuid'] == record['id']
    assert document['project_id'] == identity.MEMBER_PROJECT_ID
    assert document['retry_after'] is None
    assert document['runtime'] == 'orionx'
    vgpu = _only_vgpu(document)
    lease = _lease_of(sandbox, record['id'])
    assert vgpu['lease_id'] == lease['id']
    assert (vgpu['gmem_mib'], vgpu['compute_pct']) == (16384, 25)
    assert vgpu['pool'] == 'default'
    # Another host's GPU, over the network.
    assert vgpu['gpu_host'] in GPU_SERVERS
    assert vgpu['gpu_uuid'] == lease['gpu_uuid']
    assert vgpu['endpoint'] == {
        'address': vgpu['gpu_host'],
        'port': PORT,
        'transport': 'tcp',
    }
    assert vgpu['secret']
    expires = datetime.datetime.fromisoformat(vgpu['expires_at'])
    assert expires > datetime.datetime.now(datetime.UTC)
    client = document['client']
    controller = '%s:%d' % (vgpu['gpu_host'], PORT)
    assert client['environment'] == {
        'ORION_CONTROLLER': controller,
        'ORION_VGPU': '1',
        'ORION_GMEM': '16384',
        'ORION_RATIO': '25',
    }
    conf = client['files']['/etc/orion/client.conf']
    assert 'controller_addr = %s' % controller in conf
    assert 'enable_net = true' in conf
    assert lease['vm_host'] == 'cpu-host-1'
    assert lease['arq_uuid'] == record['arq_uuids'][0]
    _assert_allocation(sandbox, lease)
    # Asked again, and through the metadata service's own path: the same
    # lease, not a second one.
    again = sandbox.nova_sandbox().get(
        '/openstack/latest/vendor_data2.json',
        headers={'X-Instance-ID': record['id']},
    )['orionx']
    attach_checks.remember_secrets(again)
    assert _only_vgpu(again)['lease_id'] == lease['id']
    assert len(attach_checks.leases(sandbox, instance=record['id'])) == 1


@pytest.mark.parametrize('host', GPU_SERVERS)
def test_local_vm_gets_shared_memory_on_its_own_hosts_gpu(
    sandbox: stack.Sandbox,
    pooled_flavor: Callable[[int, int], str],
    leased_boot: Callable[..., dict[str, Any]],
    host: str,
) -> None:
    record = leased_boot(
        pooled_flavor(4096, 10), availability_zone='nova:%s' % host
    )
    assert record['status'] == 'ACTIVE', record['fault']
    vgpu = _only_vgpu(attach_checks.vendordata(sandbox, record['id']))
    assert vgpu['gpu_host'] == host
    assert vgpu['endpoint']['transport'] == 'shm'
    lease = _lease_of(sandbox, record['id'])
    # A pool member of this very host, as Placement holds it.
    assert attach_checks.read_stores(sandbox).gpu_of(lease) is not None
    assert lease['gpu_host'] == lease['vm_host'] == host
    _assert_allocation(sandbox, lease)
    conf = attach_checks.vendordata(sandbox, record['id'])['client']['files'][
        '/etc/orion/client.conf'
    ]
    assert 'enable_net = false' in conf


def test_placement_usage_per_pool_provider_is_the_sum_of_leases(
    sandbox: stack.Sandbox,
    pooled_flavor: Callable[[int, int], str],
    leased_boot: Callable[..., dict[str, Any]],
) -> None:
    small, large = pooled_flavor(2048, 5), pooled_flavor(20000, 30)
    records = [
        leased_boot(small, availability_zone='nova:gpu-server-1'),
        leased_boot(large, availability_zone='nova:gpu-server-1'),
        leased_boot(small, availability_zone='nova:gpu-server-2'),
        leased_boot(large, availability_zone='nova:cpu-host-1'),
    ]
    assert {r['status'] for r in records} == {'ACTIVE'}
    # Two get their lease from vendordata, two from a reconcile pass.
    for record in records[:2]:
        _only_vgpu(attach_checks.vendordata(sandbox, record['id']))
    report = attach_checks.reconcile_and_check(sandbox)
    assert report['created'] == 2
    stores = attach_checks.assert_consistent(sandbox)
    mine = attach_checks.instance_leases(stores, [r['id'] for r in records])
    assert sorted(
        (lease['gmem_mib'], lease['compute_pct']) for lease in mine
    ) == [(2048, 5), (2048, 5), (20000, 30), (20000, 30)]
    assert {lease['state'] for lease in mine} == {'active'}
    used = {rp: sum(usage.values()) for rp, usage in stores.usages.items()}
    assert sum(used.values()) == 2 * (2048 + 5 + 20000 + 30)
    # The service's own pool view agrees with Placement.
    pool = sandbox.attach().get('/v1/pools/default')
    assert pool['name'] == 'default'


def test_leases_follow_evacuate_shelve_unshelve_and_delete(
    sandbox: stack.Sandbox,
    pooled_flavor: Callable[[int, int], str],
    leased_boot: Callable[..., dict[str, Any]],
) -> None:
    record = leased_boot(
        pooled_flavor(8192, 10), availability_zone='nova:gpu-server-1'
    )
    server = record['id']
    first = _only_vgpu(attach_checks.vendordata(sandbox, server))
    assert first['endpoint']['transport'] == 'shm'

    # Evacuate: new ARQs on the new host. The guest asks before any
    # pass: its known lease's ARQ is gone from Cyborg, so vendordata
    # reads the instance's ARQs again and leases the new one, now
    # remote; the pass then releases the old lease.
    moved = _action(
        sandbox,
        server,
        {'evacuate': {'host': 'cpu-host-1'}},
        identity.ADMIN_TOKEN,
    )
    assert moved['host'] == 'cpu-host-1', moved['fault']
    early = _only_vgpu(attach_checks.vendordata(sandbox, server))
    assert early['lease_id'] != first['lease_id']
    assert early['endpoint']['transport'] == 'tcp'
    report = attach_checks.reconcile_and_check(sandbox)
    assert (report['released'], report['created']) == (1, 0)
    second = _lease_of(sandbox, server)
    assert second['id'] == early['lease_id']
    assert second['arq_uuid'] == moved['arq_uuids'][0]
    assert second['vm_host'] == 'cpu-host-1'
    assert (
        helpers.allocations_of(sandbox, first['lease_id'])['allocations'] == {}
    )
    vgpu = _only_vgpu(attach_checks.vendordata(sandbox, server))
    assert vgpu['lease_id'] == second['id']
    assert vgpu['endpoint']['transport'] == 'tcp'

    # Shelve (offloaded at once): the ARQ is deleted, so is the lease.
    shelved = _action(sandbox, server, {'shelve': None})
    assert shelved['status'] == 'SHELVED_OFFLOADED'
    _assert_released_by_a_pass(sandbox, server, second['id'])
    assert attach_checks.vendordata(sandbox, server)['status'] == 'none'

    # Unshelve elsewhere: a new ARQ there, a new lease, local again.
    back = _action(sandbox, server, {'unshelve': {'host': 'gpu-server-2'}})
    assert back['status'] == 'ACTIVE', back['fault']
    report = attach_checks.reconcile_and_check(sandbox)
    assert report['created'] == 1
    third = _lease_of(sandbox, server)
    assert third['id'] not in (first['lease_id'], second['id'])
    assert (third['vm_host'], third['gpu_host']) == ('gpu-server-2',) * 2
    assert (
        _only_vgpu(attach_checks.vendordata(sandbox, server))['endpoint'][
            'transport'
        ]
        == 'shm'
    )

    # Delete: released at the next pass, nothing left in Placement.
    sandbox.compute(identity.MEMBER_TOKEN).delete('/servers/%s' % server)
    _assert_released_by_a_pass(sandbox, server, third['id'])


def _assert_released_by_a_pass(
    sandbox: stack.Sandbox, server: str, lease_id: str
) -> None:
    report = attach_checks.reconcile_and_check(sandbox)
    assert report['released'] == 1
    assert attach_checks.leases(sandbox, instance=server) == []
    assert helpers.allocations_of(sandbox, lease_id)['allocations'] == {}


def test_full_pool_is_pending_then_placed_when_room_frees(
    sandbox: stack.Sandbox,
    pooled_flavor: Callable[[int, int], str],
    leased_boot: Callable[..., dict[str, Any]],
) -> None:
    # A whole GPU's compute each: as many as the pool has GPUs fit.
    gpus = len(attach_checks.pool_gpus(sandbox))
    whole = pooled_flavor(8192, 100)
    records = [leased_boot(whole) for _ in range(gpus + 1)]
    assert {r['status'] for r in records} == {'ACTIVE'}
    for record in records[:-1]:
        _only_vgpu(attach_checks.vendordata(sandbox, record['id']))
    waiting = records[-1]['id']
    document = attach_checks.vendordata(sandbox, waiting)
    assert document['status'] == 'pending'
    assert document['retry_after'] == 15
    [vgpu] = document['vgpus']
    assert vgpu['state'] == 'pending'
    assert vgpu['secret'] is None and vgpu['endpoint'] is None
    assert 'waiting for room' in vgpu['reason']
    lease = _lease_of(sandbox, waiting)
    assert lease['state'] == 'pending'
    assert helpers.allocations_of(sandbox, lease['id'])['allocations'] == {}
    assert document['client']['environment'] == {}
    # Still pending after a pass: nothing freed.
    assert attach_checks.reconcile_and_check(sandbox)['placed'] == 0
    sandbox.compute(identity.MEMBER_TOKEN).delete(
        '/servers/%s' % records[0]['id']
    )
    report = attach_checks.reconcile_and_check(sandbox)
    assert (report['released'], report['placed']) == (1, 1)
    vgpu = _only_vgpu(attach_checks.vendordata(sandbox, waiting))
    assert vgpu['lease_id'] == lease['id']
    _assert_allocation(sandbox, _lease_of(sandbox, waiting))


@pytest.mark.parametrize(
    'fault', [{'lost': True}, {'ecc_uncorrected': 3}], ids=['lost', 'ecc']
)
def test_unhealthy_gpu_moves_its_leases_and_says_so(
    sandbox: stack.Sandbox,
    pooled_flavor: Callable[[int, int], str],
    leased_boot: Callable[..., dict[str, Any]],
    fault: dict[str, Any],
) -> None:
    host = 'gpu-server-1'
    flavor = pooled_flavor(8192, 10)
    records = [
        leased_boot(flavor, availability_zone='nova:%s' % host)
        for _ in range(2)
    ]
    for record in records:
        _only_vgpu(attach_checks.vendordata(sandbox, record['id']))
    before = {r['id']: _lease_of(sandbox, r['id']) for r in records}
    address = before[records[0]['id']]['gpu_pci_address']
    sick = [
        lease
        for lease in before.values()
        if lease['gpu_pci_address'] == address
    ]
    healthy = dict.fromkeys(fault, False if 'lost' in fault else 0)
    try:
        sandbox.edit_topology(host, lambda h: h.replace_gpu(address, **fault))
        sandbox.update_resources([host])
        assert _health(sandbox, host, address) == {resources.TRAIT_UNHEALTHY}
        report = attach_checks.reconcile_and_check(sandbox)
        assert report['moved'] == len(sick)
        moves = {move['lease']: move for move in report['moves']}
        assert set(moves) == {lease['id'] for lease in sick}
        for lease in sick:
            move = moves[lease['id']]
            assert move['from'] == lease['gpu_uuid']
            assert move['to'] != lease['gpu_uuid']
            assert move['instance'] == lease['instance_uuid']
            assert 'unhealthy' in move['reason']
            shown = sandbox.attach().get('/v1/leases/%s' % lease['id'])
            assert shown['state'] == 'active'
            assert shown['gpu_uuid'] == move['to']
            assert shown['gpu_pci_address'] != address
            # Strict locality: another GPU of the same host.
            assert shown['gpu_host'] == host
            events = {e['event']: e['detail'] for e in shown['events']}
            assert events['moved']['from'] == lease['gpu_uuid']
            assert events['moved']['to'] == move['to']
            assert 'moving' in events
            _assert_allocation(sandbox, shown)
        # What Nova's vendordata says now: the new GPU.
        for lease in sick:
            vgpu = _only_vgpu(
                attach_checks.vendordata(sandbox, lease['instance_uuid'])
            )
            assert vgpu['gpu_uuid'] == moves[lease['id']]['to']
        # A second pass has nothing left to move.
        assert attach_checks.reconcile_and_check(sandbox)['moved'] == 0
    finally:
        sandbox.edit_topology(
            host, lambda h: h.replace_gpu(address, **healthy)
        )
        sandbox.update_resources([host])
    # Healthy again for the tests after this one.
    assert resources.TRAIT_UNHEALTHY not in _health(sandbox, host, address)


def _health(sandbox: stack.Sandbox, host: str, address: str) -> set[str]:
    """The health traits of a GPU's deployables in Cyborg."""
    prefix = report_oracle.gpu_prefix(host, address)
    return {
        dep['attributes'].get('trait_health', '')
        for dep in helpers.deployables(sandbox)
        if dep['name'].startswith(prefix)
    }


def _raw(
    sandbox: stack.Sandbox,
    method: str,
    path: str,
    token: str | None = identity.SERVICE_TOKEN,
    **kwargs: Any,
) -> requests.Response:
    """A request to the attach service as it comes, nothing checked."""
    headers = {'X-Auth-Token': token} if token else {}
    headers.update(kwargs.pop('headers', {}))
    return requests.request(
        method,
        str(sandbox.manifest.attach_url) + path,
        headers=headers,
        timeout=30,
        **kwargs,
    )


NEW_UUID = '0f6a5a36-56b4-4dd4-9b8a-3f3c1e2a7c11'
BAD_REQUESTS = [
    # (method, path, token, body or raw data, status, message part)
    ('POST', '/v1/vendordata', 'nova', b'{not json', 400, 'JSON object'),
    ('POST', '/v1/vendordata', 'nova', [1, 2], 400, 'JSON object'),
    ('POST', '/v1/vendordata', 'nova', {}, 400, 'instance-id is required'),
    (
        'POST',
        '/v1/vendordata',
        'nova',
        {'instance-id': 'nope'},
        400,
        'must be a UUID',
    ),
    (
        'POST',
        '/v1/vendordata',
        'nova',
        {'instance-id': NEW_UUID, 'project-id': 7},
        400,
        'must be a string',
    ),
    (
        'POST',
        '/v1/vendordata',
        None,
        {'instance-id': NEW_UUID},
        401,
        'Authentication required',
    ),
    (
        'POST',
        '/v1/vendordata',
        'demo',
        {'instance-id': NEW_UUID},
        403,
        'orionx_attach:vendordata:show',
    ),
    # Nova's user is no Cyborg: admissions only to Cyborg's user.
    (
        'POST',
        '/v1/admissions',
        'nova',
        {'arq_uuid': NEW_UUID},
        403,
        'orionx_attach:admissions:create',
    ),
    # Deeply nested JSON and over-long fields.
    (
        'POST',
        '/v1/vendordata',
        'nova',
        b'{"instance-id": ' + b'[' * 5000 + b']' * 5000 + b'}',
        400,
        'JSON object',
    ),
    (
        'POST',
        '/v1/admissions',
        'cyborg',
        {
            'arq_uuid': NEW_UUID,
            'device_profile_name': 'p',
            'device_profile_group_id': 0,
            'hostname': 'h' * 300,
        },
        400,
        'hostname is longer than 255',
    ),
    ('GET', '/v1/vendordata', 'nova', None, 405, ''),
    (
        'POST',
        '/v1/admissions',
        'cyborg',
        {'arq_uuid': NEW_UUID},
        400,
        'required',
    ),
    ('POST', '/v1/admissions', 'demo', {}, 403, 'admissions:create'),
    ('POST', '/v1/reconcile', 'demo', None, 403, 'reconcile'),
    # An admin of a project is no operator (a system-scoped admin is).
    ('POST', '/v1/reconcile', 'admin:p1', None, 403, 'reconcile'),
    ('GET', '/v1/leases?state=bogus', 'admin', None, 400, 'state must be'),
    ('GET', '/v1/leases?limit=0', 'admin', None, 400, 'limit must be'),
    ('GET', '/v1/leases?limit=many', 'admin', None, 400, 'integer'),
    ('GET', '/v1/leases/not-a-lease', 'admin', None, 404, 'No lease'),
    ('GET', '/v1/leases/%s' % NEW_UUID, 'admin', None, 404, 'No lease'),
    ('GET', '/v1/pools', 'demo', None, 403, 'pools:list'),
    ('GET', '/v1/pools/nope', 'admin', None, 404, 'no pool nope'),
]


def test_bad_requests_are_4xx_with_a_reason_and_leak_nothing(
    sandbox: stack.Sandbox,
) -> None:
    before = attach_checks.leases(sandbox)
    for method, path, token, body, status, message in BAD_REQUESTS:
        kwargs: dict[str, Any] = {}
        if isinstance(body, bytes):
            kwargs = {
                'data': body,
                'headers': {'Content-Type': 'application/json'},
            }
        elif body is not None:
            kwargs = {'json': body}
        answer = _raw(sandbox, method, path, token, **kwargs)
        case = '%s %s as %s' % (method, path, token)
        assert answer.status_code == status, (case, answer.text)
        error = answer.json()['error']
        assert error['code'] == status, case
        assert message in error['message'], (case, error)
    # An instance the service never heard of is no error for Nova (it
    # would log a warning for every instance without pooled vGPUs): a
    # document that says so, and no lease.
    unknown = _raw(
        sandbox, 'POST', '/v1/vendordata', json={'instance-id': NEW_UUID}
    )
    assert unknown.status_code == 200
    assert unknown.json()['status'] == 'none'
    assert unknown.json()['vgpus'] == []
    assert attach_checks.leases(sandbox) == before
    attach_checks.reconcile_and_check(sandbox)


def test_another_projects_instance_and_lease_are_not_found(
    sandbox: stack.Sandbox,
    pooled_flavor: Callable[[int, int], str],
    leased_boot: Callable[..., dict[str, Any]],
) -> None:
    record = leased_boot(pooled_flavor(4096, 10))
    _only_vgpu(attach_checks.vendordata(sandbox, record['id']))
    lease = _lease_of(sandbox, record['id'])
    other = 'mallory:%s' % identity.project_of('mallory')
    # Nova asking for the instance in the name of another project.
    answer = _raw(
        sandbox,
        'POST',
        '/v1/vendordata',
        json={
            'instance-id': record['id'],
            'project-id': identity.project_of('mallory'),
        },
    )
    assert answer.status_code == 404, answer.text
    assert 'secret' not in answer.text
    # The lease, to a member of another project: as if it did not exist.
    answer = _raw(sandbox, 'GET', '/v1/leases/%s' % lease['id'], other)
    assert answer.status_code == 404
    listed = _raw(
        sandbox,
        'GET',
        '/v1/leases?project=%s' % identity.MEMBER_PROJECT_ID,
        other,
    )
    assert listed.status_code == 200 and listed.json()['leases'] == []
    # Its own project sees it.
    own = _raw(
        sandbox, 'GET', '/v1/leases/%s' % lease['id'], identity.MEMBER_TOKEN
    )
    assert own.status_code == 200 and own.json()['id'] == lease['id']
    assert attach_checks.leases(sandbox, instance=record['id']) == [lease]


def test_admission_of_an_arq_cyborg_does_not_bind_is_refused(
    sandbox: stack.Sandbox,
) -> None:
    entitlement = sorted(attach_checks.entitlement_rps(sandbox))[0]
    before = attach_checks.leases(sandbox)
    body = {
        'arq_uuid': NEW_UUID,
        'instance_uuid': '3b0e3a53-7a9e-4bd6-8f4e-0bd3f6f3e2a1',
        'hostname': 'cpu-host-1',
        'project_id': identity.MEMBER_PROJECT_ID,
        'device_profile_name': 'no-such-profile',
        'device_profile_group_id': 0,
        'device_rp_uuid': entitlement,
    }
    # A made-up ARQ: the real Cyborg has none, so no lease and no
    # allocation (a caller cannot fill the pool with them).
    refused = _raw(sandbox, 'POST', '/v1/admissions', 'cyborg', json=body)
    assert refused.status_code == 409, refused.text
    assert 'Cyborg has no such ARQ' in refused.json()['error']['message']
    assert attach_checks.leases(sandbox) == before
    report = attach_checks.reconcile_and_check(sandbox)
    assert report['released'] == 0


def test_no_secret_reaches_the_service_log(
    sandbox: stack.Sandbox,
    pooled_flavor: Callable[[int, int], str],
    leased_boot: Callable[..., dict[str, Any]],
) -> None:
    # Runs last in this module: the secrets of every test above count.
    record = leased_boot(pooled_flavor(4096, 10))
    _only_vgpu(attach_checks.vendordata(sandbox, record['id']))
    attach_checks.reconcile_and_check(sandbox)
    conf = configparser.RawConfigParser()
    conf.read(sandbox.state.attach_conf)
    key = conf.get('orionx_attach', 'secret_key')
    secrets = attach_checks.seen_secrets | {key}
    assert len(secrets) > 2
    log = sandbox.state.log('attach').read_text()
    assert 'Reconcile pass' in log  # the log has what the service did
    assert [s for s in secrets if s in log] == []
