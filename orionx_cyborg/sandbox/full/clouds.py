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

"""Talking to the full sandbox: sessions, clouds.yaml, tempest.conf.

``clouds.yaml`` has one cloud per identity (``admin``, ``demo``,
``demo-reader``, ``alt``, ``alt-admin``, ``nova``, ``cyborg``,
``glance``, ``system-admin``, ``system-reader``, ``domain-member``), for
openstacksdk and
the ``openstack`` CLI (``OS_CLIENT_CONFIG_FILE``); ``tempest.conf``
points Tempest, cyborg-tempest-plugin and orionx-cyborg's own plugin
(``[orionx]``) at the sandbox.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Sequence
from typing import Any

import yaml
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

from orionx_cyborg.sandbox import layout as light_layout
from orionx_cyborg.sandbox.full import config
from orionx_cyborg.sandbox.full import layout

TIMEOUT = 30.0
#: A scope ``domain:<name>`` is that domain's (a domain-scoped token).
DOMAIN_SCOPE = 'domain:'
#: cloud name -> (user, scope: a project's name; None: system scope;
#: ``domain:<name>``: a domain)
CLOUDS: dict[str, tuple[str, str | None]] = {
    'admin': ('admin', 'admin'),
    'demo': ('demo', 'demo'),
    'demo-reader': ('demo-reader', 'demo'),
    'alt': ('alt', 'alt'),
    'alt-admin': ('alt-admin', 'alt'),
    'nova': ('nova', 'service'),
    'cyborg': ('cyborg', 'service'),
    'glance': ('glance', 'service'),
    # The operator of system-scoped APIs (the attach service's pools,
    # reconcile passes and every lease).
    'system-admin': ('admin', None),
    'system-reader': ('system-reader', None),
    'domain-member': ('domain-member', DOMAIN_SCOPE + 'Default'),
}
#: The attach service's type in the catalog (keystone_setup.CATALOG).
ATTACH_SERVICE_TYPE = 'orionx-attach'
IMAGE_NAME = 'tiny'
FLAVOR_NAME = 'tiny'
#: A 4 KiB raw image: the fake virt driver never reads it.
IMAGE_BYTES = b'\0' * 4096


def scope_options(project: str | None) -> dict[str, Any]:
    """keystoneauth's (and clouds.yaml's) options of a scope.

    *project*: a project's name, None for the system, or
    ``domain:<name>`` for a domain.
    """
    if project is None:
        return {'system_scope': 'all'}
    if project.startswith(DOMAIN_SCOPE):
        return {'domain_name': project[len(DOMAIN_SCOPE) :]}
    return {'project_name': project, 'project_domain_name': 'Default'}


def session(
    manifest: layout.FullManifest, user: str, project: str | None
) -> ks_session.Session:
    """*user*'s session in *project* (see :func:`scope_options`)."""
    auth = v3.Password(
        auth_url=manifest.auth_url,
        username=user,
        password=manifest.passwords[user],
        user_domain_name='Default',
        **scope_options(project),
    )
    return ks_session.Session(auth=auth, timeout=TIMEOUT)


def unscoped_session(
    manifest: layout.FullManifest, user: str
) -> ks_session.Session:
    """*user*'s session with an unscoped token.

    Unscoped even when the user has a default project.
    """
    auth = v3.Password(
        auth_url=manifest.auth_url,
        username=user,
        password=manifest.passwords[user],
        user_domain_name='Default',
        unscoped=True,
    )
    return ks_session.Session(auth=auth, timeout=TIMEOUT)


def admin_session(manifest: layout.FullManifest) -> ks_session.Session:
    return session(manifest, 'admin', 'admin')


def system_admin_session(
    manifest: layout.FullManifest,
) -> ks_session.Session:
    return session(manifest, 'admin', None)


def endpoint(service_type: str, region: str = layout.REGION) -> dict[str, str]:
    return {
        'service_type': service_type,
        'interface': 'public',
        'region_name': region,
    }


def get(
    sess: ks_session.Session,
    service_type: str,
    path: str,
    microversion: str | None = None,
    region: str = layout.REGION,
) -> Any:
    kwargs: dict[str, Any] = {}
    if microversion:
        kwargs['microversion'] = microversion
        kwargs['microversion_service_type'] = service_type
    return sess.get(
        path, endpoint_filter=endpoint(service_type, region), **kwargs
    ).json()


def upload_tiny_image(sess: ks_session.Session) -> str:
    """A public raw image of 4 KiB in Glance's file store; its id."""
    image = sess.post(
        '/v2/images',
        endpoint_filter=endpoint('image'),
        json={
            'name': IMAGE_NAME,
            'disk_format': 'raw',
            'container_format': 'bare',
            'visibility': 'public',
        },
    ).json()
    sess.put(
        '/v2/images/%s/file' % image['id'],
        endpoint_filter=endpoint('image'),
        data=IMAGE_BYTES,
        headers={'Content-Type': 'application/octet-stream'},
    )
    return str(image['id'])


def create_tiny_flavor(sess: ks_session.Session) -> str:
    """A public flavor of 1 vCPU, 64 MiB and 1 GiB (Tempest's); its id."""
    flavor = sess.post(
        '/flavors',
        endpoint_filter=endpoint('compute'),
        json={
            'flavor': {
                'name': FLAVOR_NAME,
                'vcpus': 1,
                'ram': 64,
                'disk': 1,
            }
        },
    ).json()['flavor']
    return str(flavor['id'])


def _providers(
    sess: ks_session.Session, region: str = layout.REGION, **params: str
) -> list[Any]:
    query = '&'.join('%s=%s' % item for item in params.items())
    answer = get(
        sess,
        'placement',
        '/resource_providers' + ('?' + query if query else ''),
        microversion='1.14',
        region=region,
    )
    providers: list[Any] = answer['resource_providers']
    return providers


def compute_nodes_registered(
    sess: ks_session.Session, hosts: Sequence[str]
) -> bool:
    names = {rp['name'] for rp in _providers(sess)}
    return set(hosts) <= names


def devices_snapshot(
    sess: ks_session.Session,
    hosts: Sequence[str],
    region: str = layout.REGION,
) -> dict[str, int] | None:
    """Providers per host tree, once Cyborg's report looks complete.

    None while a host has no device provider yet, or Cyborg has a
    deployable without its provider, or a provider tree does not have
    one provider per deployable (the conductor writes them one by one).
    """
    deployables = get(sess, 'accelerator', '/deployables', region=region)[
        'deployables'
    ]
    snapshot = {}
    for host in hosts:
        mine = [d for d in deployables if d['name'].startswith(host + '_')]
        tree = _providers(
            sess, region, in_tree=light_layout.compute_node_uuid(host)
        )
        if (
            not mine
            or any(not d['rp_uuid'] for d in mine)
            or len(tree) != len(mine) + 1
        ):
            return None
        snapshot[host] = len(tree)
    return snapshot


def register_compute_node(
    sess: ks_session.Session, host: Any, region: str
) -> None:
    """*host*'s compute-node provider in *region*'s Placement.

    What ``nova-compute`` does in RegionOne, for a region without Nova:
    Cyborg's conductor puts a host's devices under the provider named
    after the host, and finds none otherwise. *host*: a
    :class:`~orionx_cyborg.sandbox.hosts.HostSpec`.
    """
    rp_uuid = light_layout.compute_node_uuid(host.name)
    placement = endpoint('placement', region)
    sess.post(
        '/resource_providers',
        endpoint_filter=placement,
        json={'name': host.name, 'uuid': rp_uuid},
        headers={'OpenStack-API-Version': 'placement 1.20'},
    )
    path = '/resource_providers/%s' % rp_uuid
    sess.put(
        path + '/inventories',
        endpoint_filter=placement,
        json={
            'resource_provider_generation': 0,
            'inventories': {
                'VCPU': {'total': host.vcpus, 'allocation_ratio': 4.0},
                'MEMORY_MB': {'total': host.memory_mb},
                'DISK_GB': {'total': host.disk_gb},
            },
        },
    )


def computes_up(sess: ks_session.Session, hosts: Sequence[str]) -> bool:
    services = get(sess, 'compute', '/os-services?binary=nova-compute')[
        'services'
    ]
    up = {s['host'] for s in services if s['state'] == 'up'}
    return set(hosts) <= up


def clouds_document(manifest: layout.FullManifest) -> dict[str, Any]:
    clouds = {}
    for name, (user, project) in CLOUDS.items():
        auth: dict[str, Any] = {
            'auth_url': manifest.auth_url,
            'username': user,
            'password': manifest.passwords[user],
            'user_domain_name': 'Default',
            **scope_options(project),
        }
        clouds[name] = {
            'auth': auth,
            'region_name': layout.REGION,
            # openstacksdk accepts --os-region-name only from this list.
            'regions': list(manifest.regions),
            'identity_api_version': 3,
            'interface': 'public',
        }
    return {'clouds': clouds}


def _write_private(path: os.PathLike[str] | str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w') as stream:
        stream.write(text)


def write_clouds_yaml(
    state: layout.FullLayout, manifest: layout.FullManifest
) -> None:
    _write_private(
        state.clouds_yaml,
        yaml.safe_dump(clouds_document(manifest), default_flow_style=False),
    )


def orionx_section(
    state: layout.FullLayout, manifest: layout.FullManifest, gpu_less_host: str
) -> dict[str, str]:
    """``[orionx]`` of orionx-cyborg's own Tempest plugin.

    Evacuate stops and starts a host's ``nova-compute`` through
    :mod:`.services`, with this environment's interpreter.
    """
    control = '%s -m orionx_cyborg.sandbox.full.services --state-dir %s' % (
        shlex.quote(sys.executable),
        shlex.quote(str(state.root)),
    )
    return {
        'catalog_type': ATTACH_SERVICE_TYPE,
        'pool': 'default',
        'gpu_less_host': gpu_less_host,
        'availability_zone': 'nova',
        'networks': 'none',
        'metadata_url': manifest.url('nova-metadata'),
        'metadata_proxy_shared_secret': manifest.metadata_secret,
        'compute_stop_command': control + ' stop nova-compute-{host}',
        'compute_start_command': control + ' start nova-compute-{host}',
        'enforce_new_defaults': 'True',
    }


def tempest_sections(
    state: layout.FullLayout,
    manifest: layout.FullManifest,
    gpu_less_host: str = '',
) -> dict[str, dict[str, str]]:
    image = manifest.image_id
    flavor = manifest.flavor_id
    return {
        'DEFAULT': {
            'log_file': str(state.log('tempest')),
            'debug': 'False',
        },
        'auth': {
            'admin_username': 'admin',
            'admin_password': manifest.passwords['admin'],
            'admin_project_name': 'admin',
            'admin_domain_name': 'Default',
            'use_dynamic_credentials': 'True',
            'tempest_roles': 'member',
        },
        'identity': {
            'uri_v3': manifest.auth_url,
            'auth_version': 'v3',
            'region': layout.REGION,
            'v3_endpoint_type': 'public',
        },
        'identity-feature-enabled': {'api_v2': 'False'},
        'service_available': {
            'cyborg': 'True',
            'nova': 'True',
            'glance': 'True',
            'neutron': 'False',
            'cinder': 'False',
            'swift': 'False',
            'placement': 'True',
            'orionx_attach': 'True',
        },
        'compute': {
            'image_ref': image,
            'image_ref_alt': image,
            'flavor_ref': flavor,
            'flavor_ref_alt': flavor,
            'region': layout.REGION,
            'fixed_network_name': '',
        },
        'cyborg': {'image_ref': image, 'flavor_ref': flavor},
        'cyborg_policy': {'enforce_new_defaults': 'True'},
        'network': {'public_network_id': ''},
        'orionx': orionx_section(state, manifest, gpu_less_host),
    }


def write_tempest_conf(
    state: layout.FullLayout,
    manifest: layout.FullManifest,
    gpu_less_host: str = '',
) -> None:
    _write_private(
        state.tempest_conf,
        config.render_ini(tempest_sections(state, manifest, gpu_less_host)),
    )
