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

"""One full sandbox for every test of this directory.

Starting it takes about a minute, so every test shares it: tests use
unique names and delete what they create. The fixture checks at the
end that ``down`` left no process of the sandbox behind.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any

import openstack.config
import openstack.connection
import pytest

from orionx_cyborg.sandbox.full import clouds
from orionx_cyborg.sandbox.full import stack
from tests.functional import helpers

BOOT_TIMEOUT = 120
#: The state directory of a running full sandbox to test instead of
#: starting one.
REUSE_ENV = 'ORIONX_FULL_SANDBOX_STATE_DIR'


@pytest.fixture(scope='session')
def full_sandbox(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[stack.FullSandbox]:
    running = os.environ.get(REUSE_ENV)
    if running:
        # A developer's running sandbox (up --full --keep): used, not
        # stopped.
        sandbox = stack.FullSandbox(running)
        sandbox.attach_running()
        yield sandbox
        return
    state_dir = tmp_path_factory.mktemp('full')
    # With region two: the console's regions page and the OSC plugin's
    # --os-region-name have a real second region to show.
    sandbox = stack.FullSandbox(state_dir, regions=2)
    sandbox.start()
    try:
        yield sandbox
    finally:
        sandbox.stop()
        left = helpers.processes_mentioning(str(state_dir))
        assert not left, 'full sandbox processes left behind: %s' % left


def connect(sandbox: stack.FullSandbox, cloud: str) -> Any:
    """openstacksdk, as *cloud* of the sandbox's clouds.yaml."""
    config = openstack.config.OpenStackConfig(
        config_files=[str(sandbox.state.clouds_yaml)]
    )
    return openstack.connection.Connection(config=config.get_one(cloud=cloud))


@pytest.fixture(scope='session')
def admin(full_sandbox: stack.FullSandbox) -> Any:
    return connect(full_sandbox, 'admin')


@pytest.fixture(scope='session')
def demo(full_sandbox: stack.FullSandbox) -> Any:
    return connect(full_sandbox, 'demo')


@pytest.fixture
def accel_flavor(
    admin: Any, request: pytest.FixtureRequest
) -> Iterator[Callable[[dict[str, str]], Any]]:
    """A device profile and a flavor naming it (openstacksdk, admin)."""
    profiles: list[str] = []
    flavors: list[Any] = []

    def make(group: dict[str, str]) -> Any:
        name = helpers.unique(request.node.name)
        admin.accelerator.create_device_profile(name=name, groups=[group])
        profiles.append(name)
        flavor = admin.compute.create_flavor(
            name=name, vcpus=1, ram=512, disk=1, is_public=True
        )
        flavors.append(flavor)
        admin.compute.create_flavor_extra_specs(
            flavor, {'accel:device_profile': name}
        )
        return flavor

    yield make
    for flavor in flavors:
        admin.compute.delete_flavor(flavor, ignore_missing=True)
    for name in profiles:
        admin.accelerator.delete_device_profile(name)


@pytest.fixture
def servers(
    full_sandbox: stack.FullSandbox,
    admin: Any,
) -> Iterator[list[str]]:
    """Servers a test booted; deleted (and waited for) after it.

    Then a reconcile pass releases their leases, so that no test leaves
    pool capacity taken for the next.
    """
    booted: list[str] = []
    yield booted
    for server_id in booted:
        with contextlib.suppress(Exception):
            admin.compute.delete_server(server_id, ignore_missing=True)
    for server_id in booted:
        server = admin.compute.find_server(
            server_id, ignore_missing=True, all_projects=True
        )
        if server is not None:
            admin.compute.wait_for_delete(server, wait=BOOT_TIMEOUT)
    if booted:
        session = clouds.system_admin_session(full_sandbox.manifest)
        answer = session.post(
            full_sandbox.manifest.url('attach') + '/v1/reconcile',
            raise_exc=False,
        )
        assert answer.status_code == 200, answer.text
        left = session.get(
            full_sandbox.manifest.url('attach') + '/v1/leases'
        ).json()['leases']
        assert not [
            lease for lease in left if lease['instance_uuid'] in booted
        ]


def state_path(sandbox: stack.FullSandbox) -> pathlib.Path:
    return sandbox.state.root


def admin_session(sandbox: stack.FullSandbox) -> Any:
    return clouds.admin_session(sandbox.manifest)
