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

"""Command lines: ``openstack accelerator ...`` against the sandbox, and
the sandbox's own ``up --keep`` / ``status`` / ``down``."""

from __future__ import annotations

import contextlib
import io
import json
import os
import pathlib
import subprocess
import sys
from typing import Any

import pytest

from orionx_cyborg.sandbox import cli
from orionx_cyborg.sandbox import demo
from orionx_cyborg.sandbox import layout
from orionx_cyborg.sandbox import processes
from orionx_cyborg.sandbox import stack
from tests.functional import helpers


def _openstack(sandbox: stack.Sandbox, *args: str) -> Any:
    executable = pathlib.Path(sys.executable).with_name('openstack')
    if not executable.exists():
        pytest.fail(
            'python-openstackclient is not installed next to %s'
            % sys.executable
        )
    env = {k: v for k, v in os.environ.items() if not k.startswith('OS_')}
    env.update(sandbox.environment())
    result = subprocess.run(
        [str(executable), *args, '-f', 'json'],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_openstack_accelerator_cli_lists_devices_deployables_profiles(
    sandbox: stack.Sandbox, admin_conn: Any
) -> None:
    name = helpers.unique('cli-profile')
    admin_conn.accelerator.create_device_profile(
        name=name, groups=[{'resources:PGPU': '1'}]
    )
    try:
        devices = _openstack(sandbox, 'accelerator', 'device', 'list')
        deployables = _openstack(sandbox, 'accelerator', 'deployable', 'list')
        profiles = _openstack(
            sandbox, 'accelerator', 'device', 'profile', 'list'
        )
        shown = _openstack(
            sandbox, 'accelerator', 'device', 'profile', 'show', name
        )
    finally:
        admin_conn.accelerator.delete_device_profile(name)
    api_devices = sandbox.cyborg().get('/devices')['devices']
    assert {d['uuid'] for d in devices} == {d['uuid'] for d in api_devices}
    assert {d['hostname'] for d in devices} == {
        h.name for h in sandbox.manifest.hosts
    }
    assert {d['name'] for d in deployables} == {
        d['name'] for d in helpers.deployables(sandbox)
    }
    assert name in {p['name'] for p in profiles}
    assert shown['groups'] == [{'resources:PGPU': '1'}]


def test_sandbox_cli_up_keep_status_down_leaves_nothing(
    tmp_path: pathlib.Path,
) -> None:
    state_dir = str(tmp_path / 'cli-sandbox')
    out = io.StringIO()
    assert (
        cli.main(['up', '--keep', '--state-dir', state_dir], out)
        == cli.EXIT_OK
    ), out.getvalue()
    records = processes.load_records(layout.StateLayout(state_dir).processes)
    try:
        assert {r.name for r in records} == {
            'placement',
            'nova',
            'cyborg',
            'attach',
        }
        assert 'export OS_AUTH_TYPE=admin_token' in out.getvalue()
        # The openstacksdk snippet it prints works as printed.
        snippet = demo.sdk_snippet(layout.load_manifest(state_dir))
        assert snippet in out.getvalue()
        with contextlib.redirect_stdout(io.StringIO()):
            exec(snippet, {})
        status = io.StringIO()
        assert (
            cli.main(['status', '--json', '--state-dir', state_dir], status)
            == cli.EXIT_OK
        )
        report = json.loads(status.getvalue())
        assert all(report['endpoints'].values()), report
        assert set(report['endpoints']) == {
            'placement',
            'cyborg',
            'nova',
            'attach',
        }
        # Nova's vendordata asks the attach service.
        manifest = layout.load_manifest(state_dir)
        assert manifest.vendordata_targets == (
            'orionx@%s/v1/vendordata' % manifest.attach_url,
        )
        assert 'vendordata orionx@http://127.0.0.1:' in out.getvalue()
        assert [h['name'] for h in report['hosts']] == [
            'gpu-server-1',
            'gpu-server-2',
            'cpu-host-1',
        ]
        # A second sandbox in the same directory is refused.
        again = io.StringIO()
        assert (
            cli.main(['up', '--keep', '--state-dir', state_dir], again)
            == cli.EXIT_FAILED
        )
    finally:
        down = io.StringIO()
        assert cli.main(['down', '--state-dir', state_dir], down) == 0
    assert not [r for r in records if processes.is_running(r)]
    assert 'stopped cyborg' in down.getvalue()
    assert (
        cli.main(['status', '--state-dir', state_dir], io.StringIO())
        == cli.EXIT_NOT_RUNNING
    )
    assert not helpers.processes_mentioning(state_dir)
