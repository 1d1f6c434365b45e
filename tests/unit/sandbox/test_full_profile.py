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

import sqlalchemy
import yaml
from sqlalchemy import engine as sa_engine

from orionx_cyborg.sandbox import hosts
from orionx_cyborg.sandbox.full import clouds
from orionx_cyborg.sandbox.full import config
from orionx_cyborg.sandbox.full import launch
from orionx_cyborg.sandbox.full import layout


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
