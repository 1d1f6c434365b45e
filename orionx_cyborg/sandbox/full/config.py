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

"""The configuration files of the full sandbox, from its manifest.

Every service authenticates its callers with keystonemiddleware
(``[keystone_authtoken]``, its own service user) and reaches the others
through the Keystone catalog (region ``RegionOne``, public interface)
with its service user's password.
"""

from __future__ import annotations

import importlib.metadata
import pathlib
import shutil
from collections.abc import Mapping
from collections.abc import Sequence

from orionx_cyborg.sandbox import config as light_config
from orionx_cyborg.sandbox import hosts as hosts_mod
from orionx_cyborg.sandbox.full import layout
from orionx_cyborg.sandbox.full import virt

Sections = dict[str, dict[str, str]]
render_ini = light_config.render_ini

#: Keystone's bcrypt cost: the minimum, or every token costs ~0.3 s of
#: a shared CPU (the default, 12, is for production).
PASSWORD_HASH_ROUNDS = '4'  # noqa: S105 - a cost


def data_file(distribution: str, suffix: str) -> pathlib.Path:
    """A file a distribution installs outside site-packages (etc/...)."""
    dist = importlib.metadata.distribution(distribution)
    for path in dist.files or ():
        if str(path).endswith(suffix):
            return pathlib.Path(str(dist.locate_file(path))).resolve()
    raise FileNotFoundError('%s installs no %s' % (distribution, suffix))


def password_auth(
    manifest: layout.FullManifest, user: str, project: str = 'service'
) -> dict[str, str]:
    """keystoneauth's password plugin options for *user*."""
    return {
        'auth_type': 'password',
        'auth_url': manifest.auth_url,
        'username': user,
        'password': manifest.passwords[user],
        'user_domain_name': 'Default',
        'project_name': project,
        'project_domain_name': 'Default',
    }


def client_of(
    manifest: layout.FullManifest, user: str, region: str = layout.REGION
) -> dict[str, str]:
    """A service client: *user*'s password, *region*'s public URL."""
    return dict(
        password_auth(manifest, user),
        region_name=region,
        valid_interfaces='public',
    )


def authtoken(manifest: layout.FullManifest, user: str) -> dict[str, str]:
    return dict(
        password_auth(manifest, user),
        www_authenticate_uri=manifest.auth_url,
        service_token_roles_required='True',  # noqa: S106
    )


def common_default(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    # Each process's stderr is its log file (logs/<name>.log).
    values = {'use_stderr': 'True', 'debug': 'False'}
    values.update(extra or {})
    return values


def keystone_sections(
    state: layout.FullLayout, manifest: layout.FullManifest
) -> Sections:
    return {
        'DEFAULT': common_default(),
        'database': {'connection': state.sqlite_url('keystone')},
        'token': {'provider': 'fernet'},
        'identity': {'password_hash_rounds': PASSWORD_HASH_ROUNDS},
        'fernet_tokens': {
            'key_repository': str(state.keystone / 'fernet-keys')
        },
        'fernet_receipts': {
            'key_repository': str(state.keystone / 'fernet-keys')
        },
        'credential': {
            'key_repository': str(state.keystone / 'credential-keys')
        },
    }


def placement_sections(
    state: layout.FullLayout,
    manifest: layout.FullManifest,
    region: str = layout.REGION,
) -> Sections:
    database = state.sqlite_url(layout.regional('placement', region))
    return {
        'DEFAULT': common_default(),
        'api': {'auth_strategy': 'keystone'},
        'keystone_authtoken': authtoken(manifest, 'placement'),
        'placement_database': {'connection': database},
    }


def glance_sections(
    state: layout.FullLayout, manifest: layout.FullManifest
) -> Sections:
    store = state.data / 'glance'
    return {
        'DEFAULT': common_default(
            {
                'enabled_backends': 'fs:file',
                'worker_self_reference_url': manifest.url('glance'),
            }
        ),
        'database': {'connection': state.sqlite_url('glance')},
        'glance_store': {'default_backend': 'fs'},
        'fs': {'filesystem_store_datadir': str(store / 'images')},
        'os_glance_staging_store': {
            'filesystem_store_datadir': str(store / 'staging')
        },
        'os_glance_tasks_store': {
            'filesystem_store_datadir': str(store / 'tasks')
        },
        'paste_deploy': {
            'flavor': 'keystone',
            'config_file': str(state.etc('glance') / 'glance-api-paste.ini'),
        },
        'keystone_authtoken': authtoken(manifest, 'glance'),
        'oslo_policy': {'enforce_new_defaults': 'True'},
    }


def neutron_sections(
    state: layout.FullLayout, manifest: layout.FullManifest
) -> Sections:
    return {
        'DEFAULT': common_default(
            {
                'core_plugin': 'ml2',
                'service_plugins': 'router',
                'auth_strategy': 'keystone',
                'transport_url': manifest.transport_url,
                'api_paste_config': str(
                    state.etc('neutron') / 'api-paste.ini'
                ),
                'state_path': str(state.data / 'neutron'),
                'notify_nova_on_port_status_changes': 'False',
                'notify_nova_on_port_data_changes': 'False',
                'api_workers': '1',
                'rpc_workers': '0',
                'rpc_state_report_workers': '0',
            }
        ),
        'database': {'connection': state.sqlite_url('neutron')},
        'keystone_authtoken': authtoken(manifest, 'neutron'),
        'oslo_concurrency': {
            'lock_path': str(state.data / 'neutron' / 'locks')
        },
        'oslo_messaging_notifications': {'driver': 'noop'},
    }


ML2_SECTIONS: Sections = {
    'ml2': {
        'type_drivers': 'flat,local',
        'tenant_network_types': 'local',
        'mechanism_drivers': '',
        'extension_drivers': 'port_security',
    },
    'ml2_type_flat': {'flat_networks': '*'},
}


def nova_sections(
    state: layout.FullLayout, manifest: layout.FullManifest
) -> Sections:
    nova = state.data / 'nova'
    return {
        'DEFAULT': common_default(
            {
                'transport_url': manifest.transport_url,
                'my_ip': '127.0.0.1',
                'state_path': str(nova / 'common'),
                # A node UUID from $state_path/compute_id: restartable.
                'compute_driver': 'fake.FakeDriverWithoutFakeNodes',
                'reserved_host_memory_mb': '0',
                'heal_instance_info_cache_interval': '-1',
                'shelved_offload_time': '0',
            }
        ),
        'api': {
            'auth_strategy': 'keystone',
            'vendordata_providers': 'StaticJSON,DynamicJSON',
            'vendordata_dynamic_targets': manifest.attach_target(),
            # Every request asks the targets again (a lease may be new).
            'metadata_cache_expiration': '0',
        },
        'vendordata_dynamic_auth': password_auth(manifest, 'nova'),
        'wsgi': {'api_paste_config': str(state.etc('nova') / 'api-paste.ini')},
        'api_database': {'connection': state.sqlite_url('nova_api')},
        # Also the URL `nova-manage cell_v2 create_cell` stores for cell1.
        'database': {'connection': state.sqlite_url('nova_cell1')},
        'keystone_authtoken': authtoken(manifest, 'nova'),
        'service_user': dict(
            password_auth(manifest, 'nova'),
            send_service_user_token='True',  # noqa: S106
        ),
        'placement': client_of(manifest, 'placement'),
        'glance': {'valid_interfaces': 'public', 'region_name': 'RegionOne'},
        'neutron': dict(
            client_of(manifest, 'neutron'),
            service_metadata_proxy='True',
            metadata_proxy_shared_secret=manifest.metadata_secret,
        ),
        'cyborg': {'valid_interfaces': 'public', 'region_name': 'RegionOne'},
        'cinder': {'os_region_name': 'RegionOne'},
        'scheduler': {
            'discover_hosts_in_cells_interval': '-1',
            'workers': '1',
        },
        'conductor': {'workers': '1'},
        'oslo_concurrency': {'lock_path': str(nova / 'locks')},
        'oslo_messaging_notifications': {'driver': 'noop'},
        'vnc': {'enabled': 'False'},
    }


def nova_compute_sections(state: layout.FullLayout, host: str) -> Sections:
    host_dir = state.nova_host_dir(host)
    return {
        'DEFAULT': {
            'host': host,
            # Nova's fake driver that records the ARQs it is given.
            'compute_driver': virt.COMPUTE_DRIVER,
            'state_path': str(host_dir),
            'instances_path': str(host_dir / 'instances'),
        }
    }


def cyborg_sections(
    state: layout.FullLayout,
    manifest: layout.FullManifest,
    region: str = layout.REGION,
) -> Sections:
    name = layout.regional('cyborg', region)
    etc = state.etc(name)
    return {
        'DEFAULT': common_default(
            {
                'transport_url': manifest.transport_url_of(region),
                'state_path': str(state.data / name),
            }
        ),
        'api': {'api_paste_config': str(etc / 'api-paste.ini')},
        'database': {'connection': state.sqlite_url(name)},
        'keystone_authtoken': authtoken(manifest, 'cyborg'),
        'placement': client_of(manifest, 'cyborg', region),
        # Region two has no Nova: nothing there calls this one.
        'nova': client_of(manifest, 'cyborg', region),
        'service_user': {'send_service_user_token': 'False'},
        'oslo_concurrency': {'lock_path': str(state.data / name / 'locks')},
        'oslo_messaging_notifications': {'driver': 'noop'},
        'agent': {'enabled_drivers': hosts_mod.FAKE_DRIVER},
        # Cyborg's new policy defaults with scope checks, as a current
        # deployment runs them (and cyborg-tempest-plugin's SRBAC tests
        # expect).
        'oslo_policy': {
            'enforce_new_defaults': 'True',
            'enforce_scope': 'True',
        },
        # Read by orionx-cyborg-conductor only (strict admission, see
        # FullSandbox.set_strict_admission): Cyborg's service user, the
        # attach service from the catalog; a bind never waits long.
        'orionx_admission': dict(
            client_of(manifest, 'cyborg', region), timeout='10'
        ),
    }


def agent_sections(
    state: layout.FullLayout, host: hosts_mod.HostSpec
) -> Sections:
    """A host's ``agent.conf``: its name and its drivers' options."""
    host_dir = state.host_dir(host.name)
    sections = light_config.host_sections(host_dir, host.options())
    sections['DEFAULT'] = {'host': host.name}
    sections['agent'] = {
        'enabled_drivers': ','.join(spec.name for spec in host.drivers),
        'resource_provider_name': host.name,
    }
    return sections


def attach_sections(
    state: layout.FullLayout,
    manifest: layout.FullManifest,
    region: str = layout.REGION,
) -> Sections:
    return {
        'DEFAULT': common_default(),
        'orionx_attach': {
            'auth_strategy': 'keystone',
            # Its own ledger: each region's attach service is its own.
            'state_path': str(state.data / layout.regional('attach', region)),
            'secret_key': manifest.attach_secret_key,
            'reconcile_interval': '0',
            # Passes run only when a test asks, on one worker: the other
            # workers re-read the pools this often.
            'pool_view_max_age': '5',
        },
        'keystone_authtoken': authtoken(manifest, 'orionx'),
        'cyborg': client_of(manifest, 'orionx', region),
        'placement': client_of(manifest, 'orionx', region),
    }


def _write(
    path: pathlib.Path, sections: Sections, private: bool = True
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if private:
        # Passwords: readable by the owner only.
        path.touch(mode=0o600, exist_ok=True)
        path.chmod(0o600)
    path.write_text(render_ini(sections))


PASTE_FILES = (
    ('nova', 'nova', 'etc/nova/api-paste.ini', 'api-paste.ini'),
    (
        'glance',
        'glance',
        'etc/glance/glance-api-paste.ini',
        'glance-api-paste.ini',
    ),
    ('neutron', 'neutron', 'etc/neutron/api-paste.ini', 'api-paste.ini'),
    (
        'cyborg',
        'openstack-cyborg',
        'etc/cyborg/api-paste.ini',
        'api-paste.ini',
    ),
)


def write_region_two(
    state: layout.FullLayout,
    manifest: layout.FullManifest,
    hosts: Sequence[hosts_mod.HostSpec],
) -> None:
    """Region two's Placement, Cyborg and attach service, its hosts."""
    region = layout.REGION_TWO
    etc = state.etc
    _write(
        etc(layout.regional('placement', region)) / 'placement.conf',
        placement_sections(state, manifest, region),
    )
    cyborg = etc(layout.regional('cyborg', region))
    _write(cyborg / 'cyborg.conf', cyborg_sections(state, manifest, region))
    shutil.copyfile(
        data_file('openstack-cyborg', 'etc/cyborg/api-paste.ini'),
        cyborg / 'api-paste.ini',
    )
    _write(
        etc(layout.regional('attach', region)) / 'attach.conf',
        attach_sections(state, manifest, region),
    )
    for host in hosts:
        _write_agent(state, host)


def _write_agent(state: layout.FullLayout, host: hosts_mod.HostSpec) -> None:
    host_dir = state.host_dir(host.name)
    (host_dir / 'sysfs').mkdir(parents=True, exist_ok=True)
    (host_dir / 'driver-state').mkdir(exist_ok=True)
    _write(host_dir / 'agent.conf', agent_sections(state, host))


def write_all(
    state: layout.FullLayout,
    manifest: layout.FullManifest,
    hosts: Sequence[hosts_mod.HostSpec],
) -> None:
    etc = state.etc
    _write(
        etc('keystone') / 'keystone.conf', keystone_sections(state, manifest)
    )
    _write(
        etc('placement') / 'placement.conf',
        placement_sections(state, manifest),
    )
    _write(etc('glance') / 'glance-api.conf', glance_sections(state, manifest))
    _write(etc('neutron') / 'neutron.conf', neutron_sections(state, manifest))
    _write(etc('neutron') / 'plugins' / 'ml2' / 'ml2_conf.ini', ML2_SECTIONS)
    _write(etc('nova') / 'nova.conf', nova_sections(state, manifest))
    # For building cell0's schema beside cell1's (nova-manage db sync
    # --local_cell with this file last).
    _write(
        etc('nova') / 'cell0-db.conf',
        {'database': {'connection': state.sqlite_url('nova_cell0')}},
    )
    _write(etc('cyborg') / 'cyborg.conf', cyborg_sections(state, manifest))
    _write(etc('attach') / 'attach.conf', attach_sections(state, manifest))
    for service, dist, source, name in PASTE_FILES:
        shutil.copyfile(data_file(dist, source), etc(service) / name)
    for host in hosts:
        _write(
            etc('nova') / ('compute-%s.conf' % host.name),
            nova_compute_sections(state, host.name),
        )
        _write_agent(state, host)
