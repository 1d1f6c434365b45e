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

"""Editing a host's simulated topology, then running an agent cycle."""

from __future__ import annotations

from orionx_cyborg.gpu.fake import topology
from orionx_cyborg.sandbox import stack

HOST = 'gpu-server-2'
ADDRESS = '0000:18:00.0'
UNHEALTHY = 'CUSTOM_ORIONX_UNHEALTHY'


def _traits(sandbox: stack.Sandbox) -> list[str]:
    name = '%s_%s_PGPU' % (HOST, ADDRESS.replace(':', '_').replace('.', '_'))
    placement = sandbox.placement()
    [rp] = placement.get('/resource_providers', params={'name': name})[
        'resource_providers'
    ]
    traits: list[str] = placement.get(
        '/resource_providers/%s/traits' % rp['uuid']
    )['traits']
    return traits


def test_a_gpu_lost_in_the_topology_is_reported_unhealthy(
    sandbox: stack.Sandbox,
) -> None:
    path = sandbox.topology_file(HOST)
    original = path.read_text()
    assert UNHEALTHY not in _traits(sandbox)
    try:
        host = topology.load(str(path), HOST)
        topology.dump(host.replace_gpu(ADDRESS, lost=True), str(path))
        sandbox.update_resources([HOST])
        assert UNHEALTHY in _traits(sandbox)
    finally:
        path.write_text(original)
        sandbox.update_resources([HOST])
    assert UNHEALTHY not in _traits(sandbox)
