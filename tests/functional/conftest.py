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

"""One sandbox for the whole functional run, and what tests share.

The sandbox runs the planned fleet (orionx_gpu_driver on its fake NVML):
gpu-server-1 (8x H200), gpu-server-2 (4x A100 80GB, 4x L40S) and
cpu-host-1 (no GPU), and the attach service (reconcile passes on demand
only). Tests use unique names and delete what they create, so they can
share it in any order; a test that makes leases releases them too
(``leased_boot``), so the pool is empty between tests.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any

import pytest

from orionx_cyborg.sandbox import clients
from orionx_cyborg.sandbox import hosts
from orionx_cyborg.sandbox import identity
from orionx_cyborg.sandbox import stack
from tests.functional import attach_checks
from tests.functional import helpers


@pytest.fixture(scope='session')
def sandbox(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[stack.Sandbox]:
    sbx = stack.Sandbox(
        tmp_path_factory.mktemp('sandbox'),
        hosts.orionx_fleet(),
        arq_binding_timeout=20.0,
    )
    with helpers.started(sbx):
        yield sbx


@pytest.fixture(scope='session')
def admin_conn(sandbox: stack.Sandbox) -> Any:
    return sandbox.connect(identity.ADMIN_TOKEN)


@pytest.fixture
def device_profile(
    admin_conn: Any, request: pytest.FixtureRequest
) -> Iterator[Callable[[list[dict[str, str]]], str]]:
    """Create device profiles (openstacksdk, as admin); deleted after."""
    created: list[str] = []

    def make(groups: list[dict[str, str]]) -> str:
        name = helpers.unique(request.node.name)
        admin_conn.accelerator.create_device_profile(name=name, groups=groups)
        created.append(name)
        return name

    yield make
    for name in created:
        admin_conn.accelerator.delete_device_profile(name)


@pytest.fixture
def accel_flavor(
    sandbox: stack.Sandbox,
    device_profile: Callable[[list[dict[str, str]]], str],
    request: pytest.FixtureRequest,
) -> Iterator[Callable[..., str]]:
    """A flavor with ``accel:device_profile`` for the given groups."""
    compute = sandbox.compute()
    created: list[str] = []

    def make(
        groups: list[dict[str, str]], vcpus: int = 2, ram: int = 2048
    ) -> str:
        profile = device_profile(groups)
        flavor = compute.post(
            '/flavors',
            {
                'flavor': {
                    'name': helpers.unique(request.node.name),
                    'vcpus': vcpus,
                    'ram': ram,
                    'disk': 10,
                }
            },
        )['flavor']
        created.append(flavor['id'])
        compute.post(
            '/flavors/%s/os-extra_specs' % flavor['id'],
            {
                'extra_specs': {'accel:device_profile': profile},
            },
        )
        flavor_id: str = flavor['id']
        return flavor_id

    yield make
    for flavor_id in created:
        compute.request('DELETE', '/flavors/%s' % flavor_id, expect=(202, 404))


@pytest.fixture
def boot(
    sandbox: stack.Sandbox, request: pytest.FixtureRequest
) -> Iterator[Callable[..., dict[str, Any]]]:
    """Boot through the Nova stand-in as the member user and wait.

    Servers are deleted after the test.
    """
    with _booting(sandbox, request) as (run, _):
        yield run


@contextlib.contextmanager
def _booting(
    sandbox: stack.Sandbox, request: pytest.FixtureRequest
) -> Iterator[tuple[Callable[..., dict[str, Any]], list[str]]]:
    """A boot function and the servers it booted, deleted on exit."""
    compute = sandbox.compute(identity.MEMBER_TOKEN)
    booted: list[str] = []

    def run(flavor_id: str, **server: Any) -> dict[str, Any]:
        body = {
            'name': helpers.unique(request.node.name),
            'flavorRef': flavor_id,
        }
        body.update(server)
        server_id = compute.post('/servers', {'server': body})['server']['id']
        booted.append(server_id)
        return helpers.wait_for_server(sandbox, server_id)

    yield run, booted
    for server_id in booted:
        compute.request('DELETE', '/servers/%s' % server_id, expect=(204, 404))


@pytest.fixture
def pooled_flavor(
    accel_flavor: Callable[..., str],
) -> Callable[[int, int], str]:
    """A flavor of one pooled vGPU of *gmem_mib* and *compute_pct*."""

    def make(gmem_mib: int, compute_pct: int) -> str:
        return accel_flavor(
            [attach_checks.pooled_group(gmem_mib, compute_pct)]
        )

    return make


@pytest.fixture
def leased_boot(
    sandbox: stack.Sandbox, request: pytest.FixtureRequest
) -> Iterator[Callable[..., dict[str, Any]]]:
    """``boot``, for tests whose instances get leases.

    Afterwards the servers are deleted and a reconcile pass runs: their
    leases must be gone and the three stores must agree, so no lease of
    a test is left holding the shared pool.
    """
    with _booting(sandbox, request) as (run, booted):
        yield run
    attach_checks.reconcile_and_check(sandbox)
    left = attach_checks.leases(sandbox)
    assert not [lease for lease in left if lease['instance_uuid'] in booted]


@pytest.fixture
def member_compute(sandbox: stack.Sandbox) -> clients.JsonClient:
    return sandbox.compute(identity.MEMBER_TOKEN)
