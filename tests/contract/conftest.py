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

"""Nova's own Cyborg client against the sandbox (needs ``nova``).

The ``nova-contract`` tox environment installs nova 34 beside the
project; elsewhere these tests are skipped. Nova's client is configured
as the sandbox recipe found to work (``[cyborg] endpoint_override``, a
service user token with keystoneauth's ``admin_token`` plugin), and acts
as a project member with Nova's service token, as nova-conductor does.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from orionx_cyborg.sandbox import hosts
from orionx_cyborg.sandbox import identity
from orionx_cyborg.sandbox import stack
from tests.functional import helpers


@pytest.fixture(scope='session')
def sandbox(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[stack.Sandbox]:
    sbx = stack.Sandbox(
        tmp_path_factory.mktemp('contract-sandbox'), hosts.orionx_fleet()
    )
    with helpers.started(sbx):
        yield sbx


@pytest.fixture(scope='session')
def nova_context(sandbox: stack.Sandbox) -> Any:
    """A member's request context, Nova configured for the sandbox."""
    pytest.importorskip('nova.accelerator.cyborg')
    from keystoneauth1 import loading as ks_loading
    from nova import context as nova_context_mod
    from nova import objects
    from nova.conf import CONF

    endpoint = sandbox.manifest.cyborg_url + '/v2'
    CONF([], project='nova', default_config_files=[])
    CONF.set_override('endpoint_override', endpoint, group='cyborg')
    CONF.set_override('send_service_user_token', True, group='service_user')
    CONF.set_override('auth_type', 'admin_token', group='service_user')
    CONF.register_opts(
        ks_loading.get_auth_plugin_conf_options('admin_token'),
        group='service_user',
    )
    CONF.set_override('token', identity.SERVICE_TOKEN, group='service_user')
    CONF.set_override('endpoint', endpoint, group='service_user')
    # RequestGroup and the other objects the client builds.
    objects.register_all()
    return nova_context_mod.RequestContext(
        user_id=identity.MEMBER_TOKEN,
        project_id=identity.MEMBER_PROJECT_ID,
        auth_token=identity.MEMBER_TOKEN,
        roles=['member', 'reader'],
    )
