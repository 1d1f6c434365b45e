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

"""The full sandbox profile's own logic (no service is started)."""

from __future__ import annotations

import configparser
import pathlib
import subprocess
import sys

import pytest
import sqlalchemy
import yaml
from sqlalchemy import engine as sa_engine

from orionx_cyborg.sandbox import hosts
from orionx_cyborg.sandbox.full import agent
from orionx_cyborg.sandbox.full import clouds
from orionx_cyborg.sandbox.full import config
from orionx_cyborg.sandbox.full import launch
from orionx_cyborg.sandbox.full import layout
from orionx_cyborg.sandbox.full import stack
from orionx_cyborg.sandbox.full import virt


def _manifest(tmp_path: pathlib.Path) -> layout.FullManifest:
    return layout.FullManifest.new(str(tmp_path), ('host-a', 'host-b'))


def test_sqlite_transactions_start_immediate(tmp_path: pathlib.Path) -> None:
    seen: list[str] = []
    engine = sqlalchemy.create_engine('sqlite:///%s' % (tmp_path / 'db'))
    sqlalchemy.event.listen(
        engine,
        'after_cursor_execute',
        lambda conn, cursor, statement, *args: seen.append(statement),
    )
    launch.queue_sqlite_writers()
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql('BEGIN')
            conn.exec_driver_sql('SELECT 1')
            conn.exec_driver_sql('COMMIT')
    finally:
        # Process-wide: leave the other tests' engines alone.
        sqlalchemy.event.remove(
            sa_engine.Engine, 'before_cursor_execute', launch._begin_immediate
        )
    assert seen[:2] == ['BEGIN IMMEDIATE', 'SELECT 1']


def test_manifest_round_trips_and_is_private(tmp_path: pathlib.Path) -> None:
    manifest = _manifest(tmp_path)
    state = layout.FullLayout(tmp_path)
    state.write_manifest(manifest)
    assert state.read_manifest() == manifest
    assert state.manifest.stat().st_mode & 0o077 == 0
    assert len(set(manifest.ports.values())) == len(manifest.ports)
    assert manifest.attach_target() == 'orionx@%s/v1/vendordata' % (
        manifest.url('attach')
    )


def test_clouds_yaml_has_one_cloud_per_identity(
    tmp_path: pathlib.Path,
) -> None:
    manifest = _manifest(tmp_path)
    state = layout.FullLayout(tmp_path)
    clouds.write_clouds_yaml(state, manifest)
    document = yaml.safe_load(state.clouds_yaml.read_text())['clouds']
    assert set(document) == {
        'admin',
        'demo',
        'demo-reader',
        'alt',
        'alt-admin',
        'nova',
        'cyborg',
        'glance',
        'system-admin',
        'system-reader',
        'domain-member',
    }
    reader = document['demo-reader']['auth']
    assert (reader['username'], reader['project_name']) == (
        'demo-reader',
        'demo',
    )
    assert reader['password'] == manifest.passwords['demo-reader']
    assert state.clouds_yaml.stat().st_mode & 0o077 == 0
    operator = document['system-admin']['auth']
    assert operator['system_scope'] == 'all'
    assert 'project_name' not in operator
    # The tokens of every scope the attach service's policy is tested
    # with: a system reader, a domain member.
    assert document['system-reader']['auth']['system_scope'] == 'all'
    domain = document['domain-member']['auth']
    assert domain['domain_name'] == 'Default'
    assert 'project_name' not in domain


def test_every_service_authenticates_with_keystone(
    tmp_path: pathlib.Path,
) -> None:
    manifest = _manifest(tmp_path)
    state = layout.FullLayout(tmp_path)
    config.write_all(state, manifest, hosts.orionx_fleet())
    files = {
        'placement': state.etc('placement') / 'placement.conf',
        'glance': state.etc('glance') / 'glance-api.conf',
        'neutron': state.etc('neutron') / 'neutron.conf',
        'nova': state.etc('nova') / 'nova.conf',
        'cyborg': state.etc('cyborg') / 'cyborg.conf',
        'orionx': state.etc('attach') / 'attach.conf',
    }
    for user, path in files.items():
        parser = configparser.RawConfigParser()
        parser.read(path)
        assert parser.get('keystone_authtoken', 'username') == user
        assert parser.get('keystone_authtoken', 'auth_url') == (
            manifest.auth_url
        )
        assert path.stat().st_mode & 0o077 == 0
    nova = configparser.RawConfigParser()
    nova.read(files['nova'])
    assert nova.get('api', 'vendordata_dynamic_targets') == (
        manifest.attach_target()
    )
    assert nova.get('neutron', 'metadata_proxy_shared_secret') == (
        manifest.metadata_secret
    )
    attach = configparser.RawConfigParser()
    attach.read(files['orionx'])
    assert attach.get('orionx_attach', 'auth_strategy') == 'keystone'


def test_each_agent_reports_as_its_host(tmp_path: pathlib.Path) -> None:
    manifest = _manifest(tmp_path)
    state = layout.FullLayout(tmp_path)
    fleet = hosts.orionx_fleet()
    config.write_all(state, manifest, fleet)
    for host in fleet:
        parser = configparser.RawConfigParser()
        parser.read(state.host_dir(host.name) / 'agent.conf')
        assert parser.get('DEFAULT', 'host') == host.name
        assert parser.get('agent', 'resource_provider_name') == host.name
        assert parser.get('agent', 'enabled_drivers').split(',') == [
            spec.name for spec in host.drivers
        ]
        topology = parser.get('orionx_gpu', 'fake_topology')
        assert topology.startswith(str(state.host_dir(host.name)))


def test_each_compute_runs_the_recording_driver(
    tmp_path: pathlib.Path,
) -> None:
    state = layout.FullLayout(tmp_path)
    fleet = hosts.orionx_fleet()
    config.write_all(state, _manifest(tmp_path), fleet)
    for host in fleet:
        parser = configparser.RawConfigParser()
        parser.read(state.etc('nova') / ('compute-%s.conf' % host.name))
        driver = parser.get('DEFAULT', 'compute_driver')
        assert driver == virt.COMPUTE_DRIVER
        assert parser.get('DEFAULT', 'state_path') == str(
            state.nova_host_dir(host.name)
        )


def test_nova_loads_the_recording_driver_by_its_name() -> None:
    # In a process of its own: importing Nova registers Nova's options
    # (``host`` among them) on oslo.config's global CONF, which Cyborg's
    # modules, imported by other unit tests, register differently.
    script = (
        'from nova.virt import fake\n'
        'from oslo_utils import importutils\n'
        'from orionx_cyborg.sandbox.full import virt\n'
        'virt.install()\n'
        'loaded = importutils.import_class("nova.virt." + virt.COMPUTE_DRIVER)\n'
        'assert issubclass(loaded, fake.FakeDriverWithoutFakeNodes), loaded\n'
    )
    result = subprocess.run(
        [sys.executable, '-c', script],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_the_record_keeps_each_call_and_its_arqs(
    tmp_path: pathlib.Path,
) -> None:
    arq = {
        'uuid': 'a1',
        'state': 'Bound',
        'hostname': 'host-a',
        'device_rp_uuid': 'rp',
        'attach_handle_type': 'PCI',
        'attach_handle_info': {'bus': '3a'},
        'attach_handle_uuid': 'ah',
        'instance_uuid': 'i1',
    }
    virt.record(tmp_path, 'spawn', 'i1', [arq])
    virt.record(tmp_path, 'reboot', 'i1', [arq], reboot_type='HARD')
    virt.record(tmp_path, 'spawn', 'i2', None)
    first, second = virt.read_records(tmp_path, 'i1')
    kept = {key: arq[key] for key in virt.RECORDED_KEYS}
    assert first == {'call': 'spawn', 'instance': 'i1', 'accel_info': [kept]}
    assert second == dict(first, call='reboot', reboot_type='HARD')
    assert virt.read_records(tmp_path, 'i2')[0]['accel_info'] == []
    assert len(virt.read_records(tmp_path)) == 3
    assert virt.read_records(tmp_path / 'none') == []


def test_an_agent_learns_its_simulated_host_from_its_environment(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox = stack.FullSandbox(tmp_path)
    for host in sandbox.hosts:
        entry = sandbox.host_entry(host)
        assert entry.sysfs_root == host.sysfs_root_in(
            sandbox.state.host_dir(host.name)
        )
        for name, value in agent.host_environment(entry).items():
            monkeypatch.setenv(name, value)
        assert agent.host_from_environment() == entry


def test_the_catalog_names_the_attach_service_as_its_clients_look_it_up(
    tmp_path: pathlib.Path,
) -> None:
    from orionx_cyborg.conf import auth
    from orionx_cyborg.sandbox.full import keystone_setup

    types = {endpoint: kind for _, kind, endpoint in keystone_setup.CATALOG}
    assert types['attach'] == auth.ATTACH.service_type
    state = layout.FullLayout(tmp_path)
    config.write_all(state, _manifest(tmp_path), hosts.orionx_fleet())
    parser = configparser.RawConfigParser()
    parser.read(state.etc('cyborg') / 'cyborg.conf')
    assert parser.get('orionx_admission', 'username') == 'cyborg'
    assert not parser.has_option('orionx_admission', 'endpoint_override')


def test_no_fork_asks_oslo_service_to_run_in_this_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import types

    calls = []
    fake = types.ModuleType('oslo_service.service')
    fake.launch = lambda *args, **kwargs: calls.append(kwargs)  # type: ignore[attr-defined]
    monkeypatch.delitem(sys.modules, 'oslo_service.service', raising=False)
    assert not launch.run_services_in_process()
    monkeypatch.setitem(sys.modules, 'oslo_service.service', fake)
    assert launch.run_services_in_process()
    fake.launch('conf', 'service', restart_method='mutate')  # type: ignore[attr-defined]
    assert calls == [{'restart_method': 'mutate', 'no_fork': True}]


def _two_regions(tmp_path: pathlib.Path) -> layout.FullManifest:
    return layout.FullManifest.new(
        str(tmp_path),
        ('host-a',),
        tuple(h.name for h in hosts.region_two_fleet()),
    )


def test_one_region_unless_asked(tmp_path: pathlib.Path) -> None:
    manifest = _manifest(tmp_path)
    assert manifest.regions == (layout.REGION,)
    assert not [name for name in manifest.ports if 'RegionTwo' in name]
    assert manifest.transport_url.endswith('/')
    document = clouds.clouds_document(manifest)['clouds']
    assert document['admin']['regions'] == [layout.REGION]
    with pytest.raises(stack.FullSandboxError):
        stack.FullSandbox(tmp_path, regions=3)


def test_region_two_has_its_own_services_and_endpoints(
    tmp_path: pathlib.Path,
) -> None:
    manifest = _two_regions(tmp_path)
    state = layout.FullLayout(tmp_path)
    state.write_manifest(manifest)
    assert state.read_manifest() == manifest
    assert manifest.regions == (layout.REGION, layout.REGION_TWO)
    urls = manifest.endpoints()
    for name in ('placement', 'cyborg-api', 'attach'):
        two = layout.regional(name, layout.REGION_TWO)
        assert two == name + '-RegionTwo'
        assert urls[two] != urls[name]
    assert urls['cyborg-api-RegionTwo'].endswith('/v2')
    assert len(set(manifest.ports.values())) == len(manifest.ports)
    document = clouds.clouds_document(manifest)['clouds']
    assert document['system-admin']['regions'] == ['RegionOne', 'RegionTwo']
    assert document['system-admin']['region_name'] == 'RegionOne'


def test_region_two_services_ask_their_own_region(
    tmp_path: pathlib.Path,
) -> None:
    manifest = _two_regions(tmp_path)
    state = layout.FullLayout(tmp_path)
    config.write_all(state, manifest, hosts.orionx_fleet())
    config.write_region_two(state, manifest, hosts.region_two_fleet())

    def read(name: str, file: str) -> configparser.RawConfigParser:
        parser = configparser.RawConfigParser()
        parser.read(state.etc(name) / file)
        return parser

    cyborg = read('cyborg-RegionTwo', 'cyborg.conf')
    for section in ('placement', 'nova', 'orionx_admission'):
        assert cyborg.get(section, 'region_name') == 'RegionTwo'
    assert cyborg.get('DEFAULT', 'transport_url').endswith('/RegionTwo')
    assert 'cyborg-RegionTwo.sqlite' in cyborg.get('database', 'connection')
    assert read('cyborg', 'cyborg.conf').get('placement', 'region_name') == (
        'RegionOne'
    )
    attach = read('attach-RegionTwo', 'attach.conf')
    assert attach.get('cyborg', 'region_name') == 'RegionTwo'
    assert attach.get('placement', 'region_name') == 'RegionTwo'
    assert attach.get('orionx_attach', 'state_path').endswith(
        'attach-RegionTwo'
    )
    placement = read('placement-RegionTwo', 'placement.conf')
    assert 'placement-RegionTwo.sqlite' in placement.get(
        'placement_database', 'connection'
    )
    (host,) = hosts.region_two_fleet()
    assert (state.host_dir(host.name) / 'agent.conf').exists()
    assert host.topology != 'hgx-h200'


def test_rabbitmq_loads_a_virtual_host_per_region(
    tmp_path: pathlib.Path,
) -> None:
    import base64
    import hashlib

    from orionx_cyborg.sandbox.full import rabbit

    manifest = _two_regions(tmp_path)
    state = layout.FullLayout(tmp_path)
    rabbit.write_config(state, manifest)
    conf = (state.rabbitmq / 'rabbitmq.conf').read_text()
    assert (
        'load_definitions = %s' % (state.rabbitmq / 'definitions.json') in conf
    )
    document = rabbit.definitions(manifest)
    assert [v['name'] for v in document['vhosts']] == ['/', 'RegionTwo']
    assert {p['vhost'] for p in document['permissions']} == {
        '/',
        'RegionTwo',
    }
    (user,) = document['users']
    raw = base64.b64decode(user['password_hash'])
    password = manifest.passwords['rabbitmq'].encode()
    assert raw[4:] == hashlib.sha256(raw[:4] + password).digest()
    one = layout.FullLayout(tmp_path / 'one')
    rabbit.write_config(one, _manifest(tmp_path))
    assert (
        'load_definitions' not in (one.rabbitmq / 'rabbitmq.conf').read_text()
    )
