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

"""Several vendors in one pool, on the sandbox's mixed host.

A sandbox of its own (module scope): ``gpu-server-3`` (2x H200, 2x AMD
MI300X, 2x Ascend 910B3, 2x MTT S4000 behind their simulated libraries;
one H200, one MI300X and one MTT S4000 in the pool) and ``cpu-host-1``
(an entitlement only). Instances boot through the Nova stand-in in the
real Cyborg and Placement; the real attach service places the leases.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
from typing import Any

import pytest

from orionx_cyborg import constraints
from orionx_cyborg import resources
from orionx_cyborg.sandbox import hosts
from orionx_cyborg.sandbox import identity
from orionx_cyborg.sandbox import stack
from tests.functional import attach_checks
from tests.functional import helpers

MIXED = hosts.MIXED_HOST
NVIDIA_MEMBER, AMD_MEMBER, MTHREADS_MEMBER = hosts.MIXED_POOL_DEVICES
AMD_WHOLE = '0000:11:00.0'


@pytest.fixture(scope='module')
def sandbox(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[stack.Sandbox]:
    fleet = tuple(
        h for h in hosts.orionx_fleet() if h.name == 'cpu-host-1'
    ) + (hosts.mixed_host(),)
    sbx = stack.Sandbox(
        tmp_path_factory.mktemp('sandbox-vendors'),
        fleet,
        arq_binding_timeout=20.0,
    )
    with helpers.started(sbx):
        yield sbx


@pytest.fixture(scope='module')
def admin_conn(sandbox: stack.Sandbox) -> Any:
    return sandbox.connect(identity.ADMIN_TOKEN)


def _pooled(gmem_mib: int, **keys: str) -> list[dict[str, str]]:
    group = attach_checks.pooled_group(gmem_mib, 25)
    group.update(keys)
    return [group]


def _lease(
    sandbox: stack.Sandbox, record: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The instance's vendordata document and its one lease."""
    assert record['status'] == 'ACTIVE', record['fault']
    document = attach_checks.vendordata(sandbox, record['id'])
    [lease] = attach_checks.leases(sandbox, instance=record['id'])
    return document, lease


def test_whole_non_nvidia_devices_boot(
    sandbox: stack.Sandbox,
    accel_flavor: Callable[..., str],
    boot: Callable[..., dict[str, Any]],
) -> None:
    """An AMD GPU and an Ascend NPU, passed through whole."""
    amd = boot(
        accel_flavor(
            [
                {
                    'resources:PGPU': '1',
                    'trait:CUSTOM_GPU_MODEL_INSTINCT_MI300X': 'required',
                }
            ]
        )
    )
    npu = boot(
        accel_flavor(
            [
                {
                    'resources:%s' % resources.RC_PNPU: '1',
                    'trait:CUSTOM_NPU_HUAWEI': 'required',
                }
            ]
        )
    )
    for record in (amd, npu):
        assert record['status'] == 'ACTIVE', record['fault']
        [arq] = helpers.arqs_of(sandbox, record['id'])
        assert arq['attach_handle_type'] == resources.AH_PCI
        assert arq['hostname'] == MIXED
    [arq] = helpers.arqs_of(sandbox, amd['id'])
    assert arq['attach_handle_info']['bus'] == '11'


def test_a_lease_requiring_amd_lands_only_on_amd(
    sandbox: stack.Sandbox,
    accel_flavor: Callable[..., str],
    leased_boot: Callable[..., dict[str, Any]],
) -> None:
    flavor = accel_flavor(
        _pooled(16384, **{constraints.REQUIRED_KEY: 'CUSTOM_GPU_AMD'})
    )
    for _ in range(3):
        record = leased_boot(flavor, availability_zone='nova:cpu-host-1')
        document, lease = _lease(sandbox, record)
        assert (lease['gpu_host'], lease['gpu_pci_address']) == (
            MIXED,
            AMD_MEMBER,
        )
        assert lease['runtime'] == 'generic'
        assert lease['gpu_constraint']['required'] == ['CUSTOM_GPU_AMD']
        [vgpu] = document['vgpus']
        assert (vgpu['runtime'], vgpu['vendor']) == ('generic', '1002')
        assert document['runtime'] == 'generic'
        assert document['client']['environment']['ORIONX_VGPU_COUNT'] == '1'


def test_forbidden_vendors_are_excluded(
    sandbox: stack.Sandbox,
    accel_flavor: Callable[..., str],
    leased_boot: Callable[..., dict[str, Any]],
) -> None:
    flavor = accel_flavor(
        _pooled(
            8192,
            **{
                constraints.FORBIDDEN_KEY: 'CUSTOM_GPU_NVIDIA,CUSTOM_GPU_AMD',
            },
        )
    )
    for _ in range(2):
        record = leased_boot(flavor, availability_zone='nova:cpu-host-1')
        _, lease = _lease(sandbox, record)
        assert lease['gpu_pci_address'] == MTHREADS_MEMBER
        assert lease['runtime'] == 'generic'


def test_a_constrained_pending_lease_does_not_block_others(
    sandbox: stack.Sandbox,
    accel_flavor: Callable[..., str],
    leased_boot: Callable[..., dict[str, Any]],
) -> None:
    amd = constraints.REQUIRED_KEY
    big_amd = accel_flavor(_pooled(150000, **{amd: 'CUSTOM_GPU_AMD'}))
    first = leased_boot(big_amd, availability_zone='nova:cpu-host-1')
    assert _lease(sandbox, first)[1]['gpu_pci_address'] == AMD_MEMBER
    waiting = leased_boot(big_amd, availability_zone='nova:cpu-host-1')
    _, lease = _lease(sandbox, waiting)
    assert lease['state'] == 'pending'
    # A lease any GPU may serve is not queued behind it: it takes a GPU
    # the waiting lease cannot use.
    anywhere = leased_boot(
        accel_flavor(_pooled(8192)), availability_zone='nova:cpu-host-1'
    )
    _, lease = _lease(sandbox, anywhere)
    assert lease['state'] == 'active'
    assert lease['gpu_pci_address'] in (NVIDIA_MEMBER, MTHREADS_MEMBER)
    # ... while another AMD lease waits its turn.
    behind = leased_boot(
        accel_flavor(_pooled(8192, **{amd: 'CUSTOM_GPU_AMD'})),
        availability_zone='nova:cpu-host-1',
    )
    _, lease = _lease(sandbox, behind)
    assert lease['state'] == 'pending'


@pytest.fixture
def orionx_runtime_only(sandbox: stack.Sandbox) -> Iterator[None]:
    """The attach service with the orionx runtime alone (NVIDIA only)."""
    sandbox.reconfigure_attach({'additional_runtimes': ''})
    try:
        yield
    finally:
        sandbox.reconfigure_attach({'additional_runtimes': 'generic'})


def test_a_runtime_never_gets_a_gpu_of_a_vendor_it_cannot_serve(
    sandbox: stack.Sandbox,
    orionx_runtime_only: None,
    accel_flavor: Callable[..., str],
    leased_boot: Callable[..., dict[str, Any]],
) -> None:
    anywhere = accel_flavor(_pooled(8192))
    for _ in range(3):
        record = leased_boot(anywhere, availability_zone='nova:cpu-host-1')
        document, lease = _lease(sandbox, record)
        assert lease['gpu_pci_address'] == NVIDIA_MEMBER
        assert document['runtime'] == 'orionx'
    amd_only = accel_flavor(
        _pooled(8192, **{constraints.REQUIRED_KEY: 'CUSTOM_GPU_AMD'})
    )
    record = leased_boot(amd_only, availability_zone='nova:cpu-host-1')
    assert record['status'] == 'ACTIVE', record['fault']
    document = attach_checks.vendordata(sandbox, record['id'])
    [vgpu] = document['vgpus']
    assert vgpu['state'] == 'rejected'
    assert 'no GPU of pool default meets +CUSTOM_GPU_AMD' in vgpu['reason']
    assert not attach_checks.leases(sandbox, instance=record['id'])
