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

"""Keystone's database, keys, identities and catalog, in one process.

``python -m orionx_cyborg.sandbox.full.keystone_setup STATE_DIR`` does
what ``keystone-manage db_sync``, ``fernet_setup``, ``credential_setup``
and ``bootstrap`` followed by a round of ``openstack user/project/role/
endpoint create`` would, through Keystone's own provider APIs: one
interpreter start instead of a dozen, before the Keystone API runs.

Identities: ``admin`` (project ``admin`` and the system, role admin);
service users (:data:`.layout.SERVICE_USERS`) in project ``service``
with roles ``service`` and ``admin``; the tenants of
:data:`.layout.TENANT_USERS`; users with a role on domain ``Default``
(:data:`.layout.DOMAIN_USERS`) or on the system
(:data:`.layout.SYSTEM_USERS`), without a default project, for the
tokens of those scopes. The catalog has every HTTP service of the
sandbox in ``RegionOne`` (public, internal and admin interfaces) and,
with a second region, region two's Placement, Cyborg and attach service
in ``RegionTwo``: the same services, endpoints of their own.
"""

from __future__ import annotations

import base64
import os
import pathlib
import sys
import uuid
from typing import Any

from orionx_cyborg.sandbox.full import layout

#: (catalog name, service type, manifest endpoint name)
CATALOG = (
    ('placement', 'placement', 'placement'),
    ('glance', 'image', 'glance'),
    ('neutron', 'network', 'neutron'),
    ('nova', 'compute', 'nova-api'),
    ('cyborg', 'accelerator', 'cyborg-api'),
    ('orionx-cyborg-attach', 'orionx-attach', 'attach'),
)
INTERFACES = ('public', 'internal', 'admin')


def write_fernet_keys(repository: pathlib.Path) -> None:
    """Keys 0 (staged) and 1 (primary), as ``fernet_setup`` leaves them."""
    repository.mkdir(parents=True, exist_ok=True)
    repository.chmod(0o700)
    for name in ('0', '1'):
        key = base64.urlsafe_b64encode(os.urandom(32))
        path = repository / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, 'wb') as stream:
            stream.write(key)


def _role(providers: Any, name: str) -> str:
    from keystone import exception

    try:
        role = providers.role_api.create_role(
            uuid.uuid4().hex, {'id': uuid.uuid4().hex, 'name': name}
        )
    except exception.Conflict:
        role = providers.role_api.get_unique_role_by_name(name)
    return str(role['id'])


def _project(providers: Any, name: str) -> str:
    project_id = uuid.uuid4().hex
    project = providers.resource_api.create_project(
        project_id,
        {
            'id': project_id,
            'name': name,
            'domain_id': 'default',
            'enabled': True,
            'description': 'Sandbox project %s' % name,
        },
    )
    return str(project['id'])


def _user(
    providers: Any, name: str, password: str, project: str | None
) -> str:
    fields: dict[str, Any] = {
        'name': name,
        'password': password,
        'domain_id': 'default',
        'enabled': True,
    }
    if project is not None:
        fields['default_project_id'] = project
    user = providers.identity_api.create_user(fields)
    return str(user['id'])


def create_identities(manifest: layout.FullManifest) -> None:
    from keystone.common import provider_api

    providers = provider_api.ProviderAPIs
    roles = {
        name: _role(providers, name)
        for name in ('admin', 'member', 'reader', 'service')
    }
    service = _project(providers, 'service')
    for name in layout.SERVICE_USERS:
        user = _user(providers, name, manifest.passwords[name], service)
        for role in ('service', 'admin'):
            providers.assignment_api.add_role_to_user_and_project(
                user, service, roles[role]
            )
    projects: dict[str, str] = {}
    for name, project_name, role in layout.TENANT_USERS:
        if project_name not in projects:
            projects[project_name] = _project(providers, project_name)
        project = projects[project_name]
        user = _user(providers, name, manifest.passwords[name], project)
        providers.assignment_api.add_role_to_user_and_project(
            user, project, roles[role]
        )
    for name, role in layout.DOMAIN_USERS:
        user = _user(providers, name, manifest.passwords[name], None)
        providers.assignment_api.create_grant(
            roles[role], user_id=user, domain_id='default'
        )
    for name, role in layout.SYSTEM_USERS:
        user = _user(providers, name, manifest.passwords[name], None)
        providers.assignment_api.create_system_grant_for_user(
            user, roles[role]
        )


def _endpoints(catalog: Any, service_id: str, url: str, region: str) -> None:
    for interface in INTERFACES:
        endpoint_id = uuid.uuid4().hex
        catalog.create_endpoint(
            endpoint_id,
            {
                'id': endpoint_id,
                'interface': interface,
                'url': url,
                'service_id': service_id,
                'region_id': region,
                'enabled': True,
            },
        )


def create_catalog(manifest: layout.FullManifest) -> None:
    from keystone.common import provider_api

    catalog = provider_api.ProviderAPIs.catalog_api
    urls = manifest.endpoints()
    two = layout.REGION_TWO
    if two in manifest.regions:
        catalog.create_region({'id': two, 'description': 'Sandbox region'})
    for name, service_type, endpoint in CATALOG:
        service_id = uuid.uuid4().hex
        catalog.create_service(
            service_id,
            {
                'id': service_id,
                'name': name,
                'type': service_type,
                'enabled': True,
            },
        )
        _endpoints(catalog, service_id, urls[endpoint], layout.REGION)
        regional = layout.regional(endpoint, two)
        if two in manifest.regions and regional in urls:
            _endpoints(catalog, service_id, urls[regional], two)


def bootstrap(manifest: layout.FullManifest) -> None:
    """``keystone-manage bootstrap``: admin, roles, region, identity."""
    from keystone.cmd import bootstrap as bootstrap_mod

    boot = bootstrap_mod.Bootstrapper()
    boot.admin_username = 'admin'
    boot.admin_password = manifest.passwords['admin']
    boot.project_name = 'admin'
    boot.admin_role_name = 'admin'
    boot.service_name = 'keystone'
    boot.region_id = layout.REGION
    boot.public_url = boot.internal_url = boot.admin_url = manifest.auth_url
    boot.bootstrap()


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print('usage: keystone_setup STATE_DIR', file=sys.stderr)
        return 2
    state = layout.FullLayout(argv[0])
    manifest = state.read_manifest()
    write_fernet_keys(state.keystone / 'fernet-keys')
    write_fernet_keys(state.keystone / 'credential-keys')
    from keystone.cmd import cli

    conf = str(state.etc('keystone') / 'keystone.conf')
    # keystone-manage db_sync; it also loads the configuration.
    cli.main(['keystone-manage', '--config-file', conf, 'db_sync'])
    bootstrap(manifest)
    create_identities(manifest)
    create_catalog(manifest)
    print('keystone setup done', flush=True)
    return 0


if __name__ == '__main__':
    from orionx_cyborg.sandbox.full import launch

    launch.queue_sqlite_writers()
    sys.exit(main(sys.argv[1:]))
