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

"""What Cyborg and Placement hold is what our planner says, host by host.

The oracle (:mod:`tests.functional.report_oracle`) runs ``orionx-cyborg
discover`` on each host's own topology file and agent.conf; the fleet
covers every mode (passthrough, vGPU on SR-IOV VFs and on mdevs, pool,
off) and every attach handle type.
"""

from __future__ import annotations

import pathlib

import pytest

from orionx_cyborg.sandbox import stack
from tests.functional import report_oracle

# Modes and handle types each host's configuration asks for; checked on
# the oracle too, so that an oracle that lost a mode cannot pass.
FLEET = {
    'gpu-server-1': ({'passthrough', 'vgpu', 'pool'}, {'PCI', 'TEST_PCI'}),
    'gpu-server-2': (
        {'passthrough', 'vgpu', 'pool'},
        {'PCI', 'MDEV', 'TEST_PCI'},
    ),
    'cpu-host-1': (set(), {'TEST_PCI'}),
}


@pytest.mark.parametrize('host', sorted(FLEET))
def test_placement_and_cyborg_hold_the_planned_report(
    sandbox: stack.Sandbox, host: str, tmp_path: pathlib.Path
) -> None:
    want = report_oracle.assert_host_matches(sandbox, host, tmp_path)
    modes, handle_types = FLEET[host]
    assert {gpu['mode'] for gpu in want.discovery['gpus']} == modes
    assert {
        kind
        for dep in want.cyborg['deployables'].values()
        for kind, _ in dep['handles']
    } == handle_types
    assert want.placement, 'a host with nothing to compare'


def test_steady_cycle_makes_no_placement_write(
    sandbox: stack.Sandbox,
) -> None:
    hosts = [host.name for host in sandbox.manifest.hosts]
    # Whatever earlier tests changed is reported by this first cycle.
    sandbox.update_resources(hosts)
    sandbox.placement_requests(reset=True)
    sandbox.update_resources(hosts)
    counts = sandbox.placement_requests(reset=True)
    assert counts.writes == 0, counts.write_routes()
    # The conductor looks up each host's compute node: one GET each.
    print(
        'steady cycle of %d hosts: %d Placement requests %s'
        % (len(hosts), counts.total, dict(counts.by_method))
    )
    assert counts.by_method == {'GET': len(hosts)}
