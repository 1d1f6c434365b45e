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

"""AMD MxGPU VFs in the real Cyborg and Placement.

A sandbox of its own (module scope) with one host on the simulated
``mxgpu`` topology: two MI300X under AMD's GIM host driver, split into 8
and 1 SR-IOV VFs (found only in the host's simulated sysfs tree), and one
MI300X under ROCm's amdgpu. Each VF must be a resource provider of its own
under the host, as the planner reports it.
"""

from __future__ import annotations

import pathlib
from collections.abc import Iterator

import pytest

from orionx_cyborg import resources
from orionx_cyborg.sandbox import hosts
from orionx_cyborg.sandbox import stack
from tests.functional import helpers
from tests.functional import report_oracle

HOST = 'amd-mxgpu-1'


@pytest.fixture(scope='module')
def sandbox(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[stack.Sandbox]:
    host = hosts.HostSpec(
        name=HOST,
        description='AMD MxGPU: 2x MI300X under GIM (8 and 1 VFs), 1 ROCm',
        topology='mxgpu',
        drivers=(hosts.orionx_driver({'default_mode': 'passthrough'}, {}),),
    )
    sbx = stack.Sandbox(
        tmp_path_factory.mktemp('sandbox-mxgpu'),
        (host,),
        arq_binding_timeout=20.0,
    )
    with helpers.started(sbx):
        yield sbx


def test_vfs_are_resource_providers_of_their_own(
    sandbox: stack.Sandbox, tmp_path: pathlib.Path
) -> None:
    want = report_oracle.assert_host_matches(sandbox, HOST, tmp_path)
    vfs = {
        name: rp
        for name, rp in want.placement.items()
        if rp['resource_class'] == resources.RC_GPU_VF
    }
    assert len(vfs) == 9, sorted(want.placement)
    for name, rp in vfs.items():
        assert name.startswith(HOST + '_0000_') and name.endswith('_VF')
        assert rp['total'] == 1
        assert {
            resources.TRAIT_SRIOV_VF,
            'CUSTOM_GPU_AMD',
            'CUSTOM_GPU_MODEL_INSTINCT_MI300X',
            'CUSTOM_GPU_PRODUCT_ID_74B5',
        } <= set(rp['traits'])
    memory = sorted(
        t for rp in vfs.values() for t in rp['traits'] if 'MEMORY' in t
    )
    assert (
        memory == ['CUSTOM_GPU_MEMORY_192GB'] + ['CUSTOM_GPU_MEMORY_24GB'] * 8
    )
    # The GPU ROCm drives is passed through whole, beside the VFs.
    assert [
        rp['resource_class']
        for name, rp in want.placement.items()
        if name.startswith(HOST + '_0000_51_00_0')
    ] == [resources.RC_PGPU]
    handles = [
        kind
        for dep in want.cyborg['deployables'].values()
        for kind, _ in dep['handles']
    ]
    assert handles == [resources.AH_PCI] * 10
