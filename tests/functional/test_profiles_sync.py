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

"""``orionx-cyborg profiles sync`` against the sandbox's real Cyborg.

The command runs as an operator runs it: the ``OS_*`` variables of the
sandbox (``admin_token`` with endpoint overrides) feed openstacksdk's
cloud configuration, device profiles go to the real Cyborg API and
flavors to the Nova stand-in, and what it makes boots servers.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any

import pytest

from orionx_cyborg.cmd import cli
from orionx_cyborg.cmd import operator
from orionx_cyborg.profiles import state
from orionx_cyborg.sandbox import stack
from tests.functional import helpers

FILE = """
defaults:
  flavor: {{vcpus: 2, ram: 2048, disk: 10}}
profiles:
  - name: {prefix}-h200
    description: one whole H200
    whole_gpu: {{model: H200}}
    flavors: [{{name: {prefix}.h200}}]
  - name: {prefix}-35c
    vgpu: {{type: NVIDIA H200X-35C}}
    flavors: [{{name: {prefix}.35c}}]
  - name: {prefix}-pool
    pooled: {{size: {size}, pool: default}}
    flavors: [{{name: {prefix}.pool}}]
"""
UNSATISFIABLE = """
  - name: {prefix}-h200x8
    whole_gpu: {{model: H200, count: 8}}
    flavors: [{{name: {prefix}.h200x8}}]
  - name: {prefix}-huge
    pooled: {{size: 300g-25pct}}
"""


class Operator:
    """Runs ``orionx-cyborg profiles sync`` with a profiles file."""

    def __init__(self, tmp_path: Any, prefix: str) -> None:
        self.path = tmp_path / 'profiles.yaml'
        self.prefix = prefix

    def sync(
        self,
        *extra: str,
        size: str = '16g-25pct',
        more: str = '',
        template: str = FILE,
    ) -> tuple[int, str]:
        self.path.write_text(
            template.format(prefix=self.prefix, size=size)
            + more.format(prefix=self.prefix)
        )
        parser = cli.build_parser(extra=operator.register)
        args = parser.parse_args(
            ['profiles', 'sync', '--file', str(self.path), *extra]
        )
        out = io.StringIO()
        code = args.handler(args, out)
        # Tables align with spaces: one space is enough for the tests.
        return code, re.sub(' +', ' ', out.getvalue())


@pytest.fixture
def ops(
    sandbox: stack.Sandbox,
    admin_conn: Any,
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> Iterator[Operator]:
    """The operator's shell; what the test made is deleted after it."""
    for name, value in sandbox.environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv('OS_CLOUD', raising=False)
    prefix = helpers.unique(request.node.name[5:20])
    yield Operator(tmp_path, prefix)
    compute = sandbox.compute()
    for flavor in compute.get('/flavors/detail')['flavors']:
        if flavor['name'].startswith(prefix):
            compute.request(
                'DELETE', '/flavors/%s' % flavor['id'], expect=(202, 404)
            )
    for profile in admin_conn.accelerator.device_profiles():
        if profile.name.startswith(prefix):
            admin_conn.accelerator.delete_device_profile(profile.uuid)
    # The sync's trait keeper is a root provider other tests do not expect.
    placement = sandbox.placement()
    for rp in placement.get(
        '/resource_providers', params={'name': state.TRAIT_KEEPER}
    )['resource_providers']:
        placement.delete('/resource_providers/%s' % rp['uuid'])


def profiles_of(conn: Any, prefix: str) -> dict[str, Any]:
    return {
        p.name: p
        for p in conn.accelerator.device_profiles()
        if p.name.startswith(prefix)
    }


def flavor_named(sandbox: stack.Sandbox, name: str) -> dict[str, Any]:
    for flavor in sandbox.compute().get('/flavors/detail')['flavors']:
        if flavor['name'] == name:
            return dict(flavor)
    raise AssertionError('no flavor %s' % name)


def test_sync_creates_then_changes_nothing(
    ops: Operator, admin_conn: Any, sandbox: stack.Sandbox
) -> None:
    code, out = ops.sync('--dry-run', '-f', 'json')
    assert code == 0, out
    planned = [
        (a['object'], a['action'], a['name'])
        for a in json.loads(out)['actions']
        if a['object'] != 'placement_provider'
    ]
    assert planned == [
        ('device_profile', 'create', '%s-h200' % ops.prefix),
        ('device_profile', 'create', '%s-35c' % ops.prefix),
        ('device_profile', 'create', '%s-pool' % ops.prefix),
        ('flavor', 'create', '%s.h200' % ops.prefix),
        ('flavor', 'create', '%s.35c' % ops.prefix),
        ('flavor', 'create', '%s.pool' % ops.prefix),
    ]
    assert profiles_of(admin_conn, ops.prefix) == {}

    code, out = ops.sync()
    assert code == 0, out
    profiles = profiles_of(admin_conn, ops.prefix)
    assert sorted(profiles) == sorted(
        '%s-%s' % (ops.prefix, kind) for kind in ('h200', '35c', 'pool')
    )
    pool = profiles['%s-pool' % ops.prefix]
    assert pool.groups == [
        {
            'resources:CUSTOM_ORIONX_VGPU': '1',
            'trait:CUSTOM_ORIONX_POOL_DEFAULT': 'required',
            'trait:CUSTOM_ORIONX_UNHEALTHY': 'forbidden',
            'accel:orionx_gmem_mib': '16384',
            'accel:orionx_compute_pct': '25',
        }
    ]
    assert state.owner_of(pool.description) == state.Owner(
        '%s-pool' % ops.prefix, 1
    )
    whole = profiles['%s-h200' % ops.prefix]
    assert whole.description.startswith('one whole H200 [orionx:managed')
    assert whole.groups[0]['trait:CUSTOM_ORIONX_UNHEALTHY'] == 'forbidden'
    flavor = flavor_named(sandbox, '%s.35c' % ops.prefix)
    assert flavor['extra_specs'] == {
        'accel:device_profile': '%s-35c' % ops.prefix,
        'orionx:managed': 'true',
        'orionx:profile': '%s-35c' % ops.prefix,
    }

    code, out = ops.sync()
    assert (code, out) == (
        0,
        '\nNothing to change: 3 device profile(s) '
        'and 3 flavor(s) up to date.\n',
    )

    # Placement knows the trait the profiles forbid, through the keeper.
    keepers = sandbox.placement().get(
        '/resource_providers', params={'name': state.TRAIT_KEEPER}
    )
    (keeper,) = keepers['resource_providers']
    traits = sandbox.placement().get(
        '/resource_providers/%s/traits' % keeper['uuid']
    )['traits']
    assert traits == ['CUSTOM_ORIONX_UNHEALTHY']


def test_flavors_boot_and_a_used_profile_is_revised(
    ops: Operator,
    admin_conn: Any,
    sandbox: stack.Sandbox,
    boot: Callable[..., dict[str, Any]],
) -> None:
    ops.sync()
    name = '%s-pool' % ops.prefix
    flavor_id = flavor_named(sandbox, '%s.pool' % ops.prefix)['id']
    first = boot(flavor_id)
    assert first['status'] == 'ACTIVE', json.dumps(first)
    (arq,) = helpers.arqs_of(sandbox, first['id'])
    assert arq['device_profile_name'] == name

    # The size changes while a server uses the profile: a new revision.
    code, out = ops.sync(size='16g-50pct')
    assert code == 0, out
    assert 'device profile create %s--r2' % name in out
    assert (
        '%s: superseded by %s--r2 but still used by 1 accelerator '
        'request(s) and 1 server(s)' % (name, name)
    ) in out
    assert (
        flavor_named(sandbox, '%s.pool' % ops.prefix)['extra_specs'][
            'accel:device_profile'
        ]
        == name + '--r2'
    )
    second = boot(flavor_id)
    assert second['status'] == 'ACTIVE'
    (arq,) = helpers.arqs_of(sandbox, second['id'])
    assert arq['device_profile_name'] == name + '--r2'
    revised = profiles_of(admin_conn, name + '--r2')[name + '--r2']
    assert revised.groups[0]['accel:orionx_compute_pct'] == '50'

    # Once the first server is gone, the old revision goes too.
    sandbox.compute().request(
        'DELETE', '/servers/%s' % first['id'], expect=(204,)
    )
    helpers.wait_for(
        lambda: not helpers.arqs_of(sandbox, first['id']),
        what='the ARQs of the deleted server',
    )
    code, out = ops.sync(size='16g-50pct')
    assert code == 0, out
    assert 'device profile delete %s ' % name in out
    assert sorted(profiles_of(admin_conn, name)) == [name + '--r2']


def test_unsatisfiable_profiles_and_prune(
    ops: Operator, admin_conn: Any, sandbox: stack.Sandbox
) -> None:
    code, out = ops.sync('-f', 'json', more=UNSATISFIABLE)
    document = json.loads(out)
    assert code == 1
    errors = {e['subject']: e['message'] for e in document['errors']}
    assert errors == {
        'device profile %s-h200x8' % ops.prefix: (
            'no reported inventory can ever satisfy it: it needs 8 PGPU '
            'providers with CUSTOM_GPU_MODEL_H200 on one host; the most on '
            'one host is 3 (gpu-server-1)'
        ),
        'device profile %s-huge' % ops.prefix: (
            'no reported inventory can ever satisfy it: no member GPU of '
            'pool default holds 307200 MiB and 25% (the largest have '
            '142747 MiB and 100%)'
        ),
    }
    assert [d for d in document['done'] if 'placement provider' not in d] == [
        'create device profile %s-%s' % (ops.prefix, kind)
        for kind in ('h200', '35c', 'pool')
    ] + [
        'create flavor %s.%s' % (ops.prefix, kind)
        for kind in ('h200', '35c', 'pool')
    ]
    assert sorted(profiles_of(admin_conn, ops.prefix)) == sorted(
        '%s-%s' % (ops.prefix, kind) for kind in ('h200', '35c', 'pool')
    )

    # Drop the vGPU profile from the file: kept without --prune...
    smaller = FILE.replace(
        '  - name: {prefix}-35c\n'
        '    vgpu: {{type: NVIDIA H200X-35C}}\n'
        '    flavors: [{{name: {prefix}.35c}}]\n',
        '',
    )
    assert smaller != FILE
    code, out = ops.sync(template=smaller)
    assert code == 0, out
    assert (
        'flavor %s.35c: not in the file; --prune deletes it' % (ops.prefix)
        in out
    )
    # ... and deleted with it, the flavor first.
    code, out = ops.sync('--prune', template=smaller)
    assert code == 0, out
    assert 'flavor delete %s.35c' % ops.prefix in out
    assert 'device profile delete %s-35c' % ops.prefix in out
    assert sorted(profiles_of(admin_conn, ops.prefix)) == sorted(
        '%s-%s' % (ops.prefix, kind) for kind in ('h200', 'pool')
    )
