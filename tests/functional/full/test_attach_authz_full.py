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

"""Every rule of the attach service's policy, with real Keystone tokens.

The attach service of the full sandbox runs behind keystonemiddleware
with the policy's defaults; each identity below gets a real token from
the sandbox's Keystone, of the kind its name says (checked first), and
each rule of ``doc/source/configuration/policy.rst`` is called with each
token. The expected status is the one that page documents: the callers
it names get the answer, every other caller 403 (a lease of another
project: 404, as a missing one), no token 401; ``/metrics`` and
``/healthz`` are public.

One server of project ``demo`` with a pooled vGPU gives the leases and
the binding document that other callers must not read. Before the policy
work, the admin of an unrelated project (``alt-admin``) and any service
user (``glance``) read that document, lease secret included, and tokens
without a project listed every project's leases; the cases marked
``REGRESSION`` below are those.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from keystoneauth1 import session as ks_session

from orionx_cyborg import resources
from orionx_cyborg.sandbox.full import clouds
from orionx_cyborg.sandbox.full import layout
from orionx_cyborg.sandbox.full import stack
from tests.functional import helpers
from tests.functional.full import conftest

POOLED = {
    'resources:%s' % resources.RC_ENTITLEMENT: '1',
    'trait:CUSTOM_ORIONX_POOL_DEFAULT': 'required',
    'accel:orionx_gmem_mib': '4096',
    'accel:orionx_compute_pct': '10',
}

#: Every identity, by what its token is (see :func:`token_session`).
ANONYMOUS = 'no-token'
UNSCOPED = 'unscoped'
SYSTEM_ADMIN = 'system-admin'
IDENTITIES = (
    ANONYMOUS,
    UNSCOPED,
    'domain-member',
    'system-reader',
    SYSTEM_ADMIN,
    'alt-admin',
    'glance',
    'nova',
    'cyborg',
    'demo',
    'demo-reader',
    'alt',
)
#: Project-scoped tokens of project ``demo``, the server's owner.
DEMO_PROJECT = ('demo', 'demo-reader')
#: Project-scoped tokens of other projects.
OTHER_PROJECTS = ('alt-admin', 'glance', 'nova', 'cyborg', 'alt')
#: Tokens without a project (and no token).
NO_PROJECT = (ANONYMOUS, UNSCOPED, 'domain-member', 'system-reader')


@dataclasses.dataclass(frozen=True)
class Binding:
    """demo's server with its pooled vGPU's lease."""

    server_id: str
    project_id: str
    lease_id: str
    secret: str


def token_session(
    sandbox: stack.FullSandbox, identity: str
) -> ks_session.Session | None:
    """A keystoneauth session with *identity*'s token (None: no token)."""
    manifest = sandbox.manifest
    if identity == ANONYMOUS:
        return None
    if identity == UNSCOPED:
        # demo has a default project: Keystone scopes to it unless the
        # request asks for an unscoped token.
        return clouds.unscoped_session(manifest, 'demo')
    user, scope = clouds.CLOUDS[identity]
    return clouds.session(manifest, user, scope)


@pytest.fixture(scope='module')
def sessions(
    full_sandbox: stack.FullSandbox,
) -> dict[str, ks_session.Session | None]:
    return {name: token_session(full_sandbox, name) for name in IDENTITIES}


def call(
    sandbox: stack.FullSandbox,
    sessions: dict[str, ks_session.Session | None],
    identity: str,
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
) -> requests.Response:
    url = sandbox.manifest.url('attach') + path
    session = sessions[identity]
    if session is None:
        return requests.request(method, url, json=body, timeout=30)
    answer: requests.Response = session.request(
        url, method, json=body, raise_exc=False
    )
    return answer


@pytest.fixture(scope='module')
def binding(
    full_sandbox: stack.FullSandbox,
    sessions: dict[str, ks_session.Session | None],
) -> Iterator[Binding]:
    """demo's server with a pooled vGPU, its lease active."""
    admin = conftest.connect(full_sandbox, 'admin')
    demo = conftest.connect(full_sandbox, 'demo')
    name = helpers.unique('authz')
    admin.accelerator.create_device_profile(name=name, groups=[POOLED])
    flavor = admin.compute.create_flavor(
        name=name, vcpus=1, ram=64, disk=1, is_public=True
    )
    admin.compute.create_flavor_extra_specs(
        flavor, {'accel:device_profile': name}
    )
    server = None
    try:
        server = demo.compute.create_server(
            name=name,
            image_id=full_sandbox.manifest.image_id,
            flavor_id=flavor.id,
            networks='none',
        )
        server = demo.compute.wait_for_server(
            server,
            status='ACTIVE',
            interval=0.5,
            wait=conftest.BOOT_TIMEOUT,
        )
        answer = call(
            full_sandbox,
            sessions,
            'nova',
            'POST',
            '/v1/vendordata',
            {'instance-id': server.id, 'project-id': server.project_id},
        )
        assert answer.status_code == 200, answer.text
        [vgpu] = answer.json()['vgpus']
        yield Binding(
            server_id=server.id,
            project_id=server.project_id,
            lease_id=vgpu['lease_id'],
            secret=vgpu['secret'],
        )
    finally:
        if server is not None:
            admin.compute.delete_server(server, ignore_missing=True)
            admin.compute.wait_for_delete(server, wait=conftest.BOOT_TIMEOUT)
        admin.compute.delete_flavor(flavor, ignore_missing=True)
        admin.accelerator.delete_device_profile(name)
        call(full_sandbox, sessions, SYSTEM_ADMIN, 'POST', '/v1/reconcile')


def expected(
    allowed: dict[str, int], denied: int = 403
) -> list[tuple[str, int]]:
    """(identity, status) of every identity.

    *allowed*'s status, else *denied* (401 without a token).
    """
    return [
        (
            name,
            allowed.get(name, 401 if name == ANONYMOUS else denied),
        )
        for name in IDENTITIES
    ]


def ids(value: Any) -> str:
    return str(value)


# The identities are what their names say.


@pytest.mark.parametrize('identity', IDENTITIES[1:])
def test_each_token_has_the_scope_its_name_says(
    full_sandbox: stack.FullSandbox,
    sessions: dict[str, ks_session.Session | None],
    identity: str,
) -> None:
    session = sessions[identity]
    assert session is not None
    access = session.auth.get_access(session)
    scope = (
        'system'
        if access.system_scoped
        else 'domain'
        if access.domain_scoped
        else 'project'
        if access.project_scoped
        else 'unscoped'
    )
    want = {
        UNSCOPED: 'unscoped',
        'domain-member': 'domain',
        'system-reader': 'system',
        SYSTEM_ADMIN: 'system',
    }.get(identity, 'project')
    assert scope == want
    roles = set(access.role_names)
    if identity in ('system-reader', 'demo-reader'):
        assert 'member' not in roles and 'reader' in roles
    if identity == 'alt-admin':
        assert access.project_name == 'alt' and 'admin' in roles
    if identity in ('glance', 'nova', 'cyborg'):
        assert {'service', 'admin'} <= roles
        assert access.project_name == 'service'


# GET /v1/leases: a project's reader lists its own; an operator all.

LIST_ALLOWED = dict.fromkeys(
    (SYSTEM_ADMIN, *DEMO_PROJECT, *OTHER_PROJECTS), 200
)


@pytest.mark.parametrize(
    ('identity', 'status'), expected(LIST_ALLOWED), ids=ids
)
def test_list_leases(
    full_sandbox: stack.FullSandbox,
    sessions: dict[str, ks_session.Session | None],
    binding: Binding,
    identity: str,
    status: int,
) -> None:
    answer = call(full_sandbox, sessions, identity, 'GET', '/v1/leases')
    assert answer.status_code == status, answer.text
    if status != 200:
        # REGRESSION: unscoped, domain and system reader tokens listed
        # every project's leases.
        assert binding.lease_id not in answer.text
        return
    listed = {lease['id'] for lease in answer.json()['leases']}
    projects = {lease['project_id'] for lease in answer.json()['leases']}
    if identity in (SYSTEM_ADMIN, *DEMO_PROJECT):
        assert binding.lease_id in listed
    else:
        assert binding.lease_id not in listed
    if identity != SYSTEM_ADMIN:
        assert projects <= {sessions_project(sessions, identity)}


def sessions_project(
    sessions: dict[str, ks_session.Session | None], identity: str
) -> str:
    session = sessions[identity]
    assert session is not None
    return str(session.get_project_id())


@pytest.mark.parametrize(
    ('identity', 'status'),
    expected(
        dict.fromkeys((SYSTEM_ADMIN, *DEMO_PROJECT, *OTHER_PROJECTS), 200)
    ),
    ids=ids,
)
def test_list_another_projects_leases(
    full_sandbox: stack.FullSandbox,
    sessions: dict[str, ks_session.Session | None],
    binding: Binding,
    identity: str,
    status: int,
) -> None:
    """``?project=<demo>``: all_projects is the operator's alone."""
    answer = call(
        full_sandbox,
        sessions,
        identity,
        'GET',
        '/v1/leases?project=%s' % binding.project_id,
    )
    assert answer.status_code == status, answer.text
    if status != 200:
        return
    listed = [lease['id'] for lease in answer.json()['leases']]
    if identity in (SYSTEM_ADMIN, *DEMO_PROJECT):
        assert listed == [binding.lease_id]
    else:
        # REGRESSION: an admin of any project listed any project's.
        assert listed == []


# GET /v1/leases/{id}: another project's lease is as unknown as none.

SHOW_STATUS = {
    SYSTEM_ADMIN: 200,
    **dict.fromkeys(DEMO_PROJECT, 200),
    **dict.fromkeys(OTHER_PROJECTS, 404),
}


@pytest.mark.parametrize(
    ('identity', 'status'), expected(SHOW_STATUS), ids=ids
)
def test_show_lease(
    full_sandbox: stack.FullSandbox,
    sessions: dict[str, ks_session.Session | None],
    binding: Binding,
    identity: str,
    status: int,
) -> None:
    answer = call(
        full_sandbox,
        sessions,
        identity,
        'GET',
        '/v1/leases/%s' % binding.lease_id,
    )
    # REGRESSION: alt-admin and glance (admin of their projects) read it.
    assert answer.status_code == status, answer.text
    if status == 200:
        assert answer.json()['project_id'] == binding.project_id
    else:
        assert binding.server_id not in answer.text


# Operators' resources: pools, detailed health, reconcile passes.

OPERATOR_ONLY = {SYSTEM_ADMIN: 200}


@pytest.mark.parametrize(
    ('identity', 'status'), expected(OPERATOR_ONLY), ids=ids
)
@pytest.mark.parametrize(
    ('method', 'path'),
    [
        ('GET', '/v1/pools'),
        ('GET', '/v1/pools/default'),
        ('GET', '/v1/health'),
        ('POST', '/v1/reconcile'),
    ],
)
def test_operator_resources(
    full_sandbox: stack.FullSandbox,
    sessions: dict[str, ks_session.Session | None],
    method: str,
    path: str,
    identity: str,
    status: int,
) -> None:
    answer = call(full_sandbox, sessions, identity, method, path)
    # REGRESSION: the admin of any project (alt-admin, every service
    # user) was an operator.
    assert answer.status_code == status, answer.text


# POST /v1/vendordata: Nova's service user (and an operator) only.


@pytest.mark.parametrize(
    ('identity', 'status'),
    expected({'nova': 200, SYSTEM_ADMIN: 200}),
    ids=ids,
)
def test_vendordata(
    full_sandbox: stack.FullSandbox,
    sessions: dict[str, ks_session.Session | None],
    binding: Binding,
    identity: str,
    status: int,
) -> None:
    answer = call(
        full_sandbox,
        sessions,
        identity,
        'POST',
        '/v1/vendordata',
        {'instance-id': binding.server_id, 'project-id': binding.project_id},
    )
    # REGRESSION: alt-admin (an unrelated project's admin) and glance
    # (another service's user) read this document, secret included.
    assert answer.status_code == status, answer.text
    if status == 200:
        [vgpu] = answer.json()['vgpus']
        assert vgpu['lease_id'] == binding.lease_id
    else:
        assert binding.secret not in answer.text
        assert binding.lease_id not in answer.text


# POST /v1/admissions: Cyborg's service user only.


@pytest.mark.parametrize(
    ('identity', 'status'),
    # Cyborg gets through the policy; the made-up ARQ is then refused.
    expected({'cyborg': 409}),
    ids=ids,
)
def test_admissions(
    full_sandbox: stack.FullSandbox,
    sessions: dict[str, ks_session.Session | None],
    identity: str,
    status: int,
) -> None:
    body = {
        'arq_uuid': str(uuid.uuid4()),
        'device_profile_name': 'made-up',
        'device_profile_group_id': 0,
        'hostname': 'gpu-server-1',
        'device_rp_uuid': str(uuid.uuid4()),
        'instance_uuid': str(uuid.uuid4()),
        'project_id': uuid.uuid4().hex,
    }
    answer = call(
        full_sandbox, sessions, identity, 'POST', '/v1/admissions', body
    )
    # REGRESSION: any user with the service role (glance) admitted ARQs.
    assert answer.status_code == status, answer.text


# POST /v1/lease-tokens/verify: any service user (GPU servers), operators.


@pytest.mark.parametrize(
    ('identity', 'status'),
    expected(dict.fromkeys(('glance', 'nova', 'cyborg', SYSTEM_ADMIN), 200)),
    ids=ids,
)
def test_lease_token_verify(
    full_sandbox: stack.FullSandbox,
    sessions: dict[str, ks_session.Session | None],
    identity: str,
    status: int,
) -> None:
    answer = call(
        full_sandbox,
        sessions,
        identity,
        'POST',
        '/v1/lease-tokens/verify',
        {'token': 'not-a-lease-token'},
    )
    assert answer.status_code == status, answer.text
    if status == 200:
        assert answer.json()['valid'] is False


# Public: /metrics and /healthz, whatever token (or none) comes along.


@pytest.mark.parametrize('identity', IDENTITIES)
@pytest.mark.parametrize('path', ['/metrics', '/healthz', '/'])
def test_public_paths(
    full_sandbox: stack.FullSandbox,
    sessions: dict[str, ks_session.Session | None],
    identity: str,
    path: str,
) -> None:
    answer = call(full_sandbox, sessions, identity, 'GET', path)
    assert answer.status_code == 200, answer.text


def test_the_sandbox_names_every_identity() -> None:
    """The identities this module uses are the sandbox's."""
    users = {user for user, _scope in clouds.CLOUDS.values()}
    assert {name for name in IDENTITIES[2:] if name != SYSTEM_ADMIN} <= set(
        clouds.CLOUDS
    )
    assert 'alt-admin' in {u for u, _p, _r in layout.TENANT_USERS}
    assert users >= {'domain-member', 'system-reader', 'alt-admin'}
