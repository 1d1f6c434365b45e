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

"""orionx-cyborg's Tempest plugin: registration, options, discovery.

And what the full sandbox gives it: the ``[orionx]`` section of its
``tempest.conf``, the per-suite counts of ``tox -e tempest`` and the
stop/start of one service that the evacuate test runs.
"""

from __future__ import annotations

import configparser
import importlib.metadata
import io
import pathlib
import subprocess
import sys
import unittest

import subunit
from oslo_config import cfg
from tempest.test_discover import plugins as tempest_plugins

from orionx_cyborg import resources
from orionx_cyborg.sandbox import processes
from orionx_cyborg.sandbox.full import clouds
from orionx_cyborg.sandbox.full import keystone_setup
from orionx_cyborg.sandbox.full import layout
from orionx_cyborg.sandbox.full import services
from orionx_cyborg.sandbox.full import tempest_run
from orionx_cyborg_tempest_plugin import config as plugin_config
from orionx_cyborg_tempest_plugin import plugin
from orionx_cyborg_tempest_plugin.tests import base as plugin_base

ENTRY_POINT = 'orionx_cyborg'


def _registered() -> cfg.ConfigOpts:
    conf = cfg.ConfigOpts()
    plugin.OrionXTempestPlugin().register_opts(conf)
    conf([], default_config_files=[], default_config_dirs=[])
    return conf


def test_the_entry_point_names_the_plugin_class() -> None:
    [entry] = [
        e
        for e in importlib.metadata.entry_points(group='tempest.test_plugins')
        if e.name == ENTRY_POINT
    ]
    assert entry.load() is plugin.OrionXTempestPlugin


def test_tempest_finds_the_plugin_and_its_tests() -> None:
    manager = tempest_plugins.TempestTestPluginManager()
    tuples = manager.get_plugin_load_tests_tuple()
    assert ENTRY_POINT in tuples
    test_dir, top = tuples[ENTRY_POINT]
    suite = unittest.TestLoader().discover(test_dir, top_level_dir=top)
    ids = {test.id() for test in _flatten(suite)}
    failed = [i for i in ids if 'FailedTest' in i or 'ModuleImport' in i]
    assert not failed, failed
    assert any('.tests.api.' in i for i in ids)
    assert any('.tests.scenario.' in i for i in ids)
    assert all(i.startswith('orionx_cyborg_tempest_plugin.') for i in ids)


def _flatten(suite: unittest.TestSuite) -> list[unittest.TestCase]:
    found: list[unittest.TestCase] = []
    for item in suite:
        if isinstance(item, unittest.TestSuite):
            found.extend(_flatten(item))
        else:
            found.append(item)
    return found


def test_options_and_their_defaults() -> None:
    conf = _registered()
    assert conf.service_available.orionx_attach is False
    assert conf.orionx.catalog_type == 'orionx-attach'
    assert conf.orionx.pool == 'default'
    assert conf.orionx.vendordata_target == 'orionx'
    assert conf.orionx.enforce_new_defaults is True
    assert conf.orionx.evacuate is True
    assert conf.orionx.gpu_less_host == ''
    assert conf.orionx.compute_stop_command == ''


def test_every_option_is_listed_and_has_help() -> None:
    listed = plugin.OrionXTempestPlugin().get_opt_lists()
    assert [group for group, _ in listed] == ['service_available', 'orionx']
    for _group, options in listed:
        for option in options:
            assert option.help, option.name


def test_the_defaults_are_orionx_cyborgs_names() -> None:
    conf = _registered()
    catalog_types = {
        service_type for _, service_type, _ in keystone_setup.CATALOG
    }
    assert conf.orionx.catalog_type in catalog_types
    assert conf.orionx.entitlement_resource_class == resources.RC_ENTITLEMENT
    assert plugin_base.pool_trait('default') == resources.pool_trait('default')
    assert plugin_base.POOL_TRAIT_PREFIX == resources.POOL_TRAIT_PREFIX
    group = plugin_base.pooled_group(conf)
    assert group == {
        'resources:%s' % resources.RC_ENTITLEMENT: '1',
        'trait:CUSTOM_ORIONX_POOL_DEFAULT': 'required',
        'accel:orionx_gmem_mib': '4096',
        'accel:orionx_compute_pct': '10',
    }


def test_the_sandbox_tempest_conf_configures_the_plugin(
    tmp_path: pathlib.Path,
) -> None:
    manifest = layout.FullManifest.new(str(tmp_path), ('gpu-a', 'cpu-b'))
    state = layout.FullLayout(tmp_path)
    clouds.write_tempest_conf(state, manifest, 'cpu-b')
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(state.tempest_conf)
    assert parser['service_available']['orionx_attach'] == 'True'
    section = parser['orionx']
    known = {option.name for option in plugin_config.OrionXGroup}
    assert set(section) - set(parser.defaults()) <= known
    assert section['catalog_type'] == 'orionx-attach'
    assert section['gpu_less_host'] == 'cpu-b'
    assert section['metadata_url'] == manifest.url('nova-metadata')
    assert section['metadata_proxy_shared_secret'] == (
        manifest.metadata_secret
    )
    stop = section['compute_stop_command'].format(host='cpu-b')
    assert stop.endswith('--state-dir %s stop nova-compute-cpu-b' % state.root)
    # Tempest reads it: the plugin's options parse.
    conf = cfg.ConfigOpts()
    plugin.OrionXTempestPlugin().register_opts(conf)
    conf([], default_config_files=[str(state.tempest_conf)])
    assert conf.orionx.gpu_less_host == 'cpu-b'
    assert conf.service_available.orionx_attach is True


def _stream(statuses: dict[str, str]) -> bytes:
    out = io.BytesIO()
    writer = subunit.StreamResultToBytes(out)
    for test_id, status in statuses.items():
        writer.status(test_id=test_id, test_status='inprogress')
        writer.status(test_id=test_id, test_status=status)
    out.write(b'tempest prints this line, which is not subunit\n')
    return out.getvalue()


def test_tempest_run_counts_each_suite() -> None:
    stream = _stream(
        {
            'cyborg_tempest_plugin.tests.api.test_a.T.test_1[id-1]': (
                'success'
            ),
            'cyborg_tempest_plugin.tests.api.test_srbac.T.test_2': 'skip',
            'orionx_cyborg_tempest_plugin.tests.api.test_leases.L.test_3': (
                'success'
            ),
            'orionx_cyborg_tempest_plugin.tests.scenario.t.S.test_4': 'fail',
            'setUpClass (orionx_cyborg_tempest_plugin.tests.api.t.W)': (
                'fail'
            ),
        }
    )
    counts = tempest_run.suite_counts(tempest_run.outcomes(stream))
    assert counts == {
        'cyborg-tempest-plugin': tempest_run.Counts(1, 1, 0),
        'orionx-cyborg': tempest_run.Counts(1, 0, 2),
    }
    text = tempest_run.report(counts)
    assert 'orionx-cyborg' in text and 'failed' in text.splitlines()[0]


def test_services_stop_and_start_a_recorded_service(
    tmp_path: pathlib.Path,
) -> None:
    state = layout.FullLayout(tmp_path)
    log = tmp_path / 'server.log'
    service = processes.Service(
        'web',
        'http.server',
        ['--bind', '127.0.0.1', '0'],
        log,
        {'PATH': '/usr/bin:/bin'},
        python=sys.executable,
    )
    processes.save_records(state.processes, [service.record])
    started = None
    try:
        stopped = services.stop(tmp_path, 'web')
        assert stopped.pid == service.record.pid
        assert service.popen.wait(10) is not None
        started = services.start(tmp_path, 'web')
        assert started.pid != stopped.pid
        assert processes.is_running(started)
        [record] = processes.load_records(state.processes)
        assert record == started
        # Running: a second start refuses.
        try:
            services.start(tmp_path, 'web')
        except services.ServiceError as err:
            assert 'still running' in str(err)
        else:
            raise AssertionError('started a running service twice')
    finally:
        processes.terminate(service.record, service.popen)
        if started is not None:
            processes.terminate(started)
    assert not processes.is_running(started)


def test_services_refuses_unknown_and_pinned_services(
    tmp_path: pathlib.Path,
) -> None:
    for name in ('nothing', 'rabbitmq'):
        done = subprocess.run(
            [
                sys.executable,
                '-m',
                'orionx_cyborg.sandbox.full.services',
                '--state-dir',
                str(tmp_path),
                'stop',
                name,
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 1, done.stderr
        assert name in done.stderr
