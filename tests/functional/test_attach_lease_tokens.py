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

"""Lease tokens end to end: a stand-in GPU server data plane checks what
guests present, against the real attach service in the sandbox.

The guest's token comes from Nova's vendordata path; the stand-in holds
only its own server key (derived as ``orionx-cyborg-attach-server-key``
does) and, like a real runtime, verifies offline
(:func:`orionx_cyborg.attach.leasetokens.verify`) and then online
(``POST /v1/lease-tokens/verify``). It must refuse a wrong, expired,
revoked (released) or moved lease, and accept the lease's new token on
its new GPU.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from orionx_cyborg.attach import context
from orionx_cyborg.attach import leasetokens
from orionx_cyborg.sandbox import identity
from orionx_cyborg.sandbox import stack
from tests.functional import attach_checks

HOST = 'gpu-server-1'
OTHER_HOST = 'gpu-server-2'


class StandInDataPlane:
    """A GPU server's data plane in miniature.

    A connection is served only for a token that holds, and at the size
    the token says.
    """

    def __init__(self, sandbox: stack.Sandbox, host: str) -> None:
        self.host = host
        self._key = sandbox.gpu_server_key(host)
        self._attach = sandbox.attach(context.GPU_SERVER)

    def connect(
        self, token: str, gpu_uuid: str, now: float | None = None
    ) -> leasetokens.LeaseClaims:
        """The lease a connection to *gpu_uuid* may use.

        :raises TokenRefused: why not.
        """
        offline = leasetokens.verify(
            token, self._key, self.host, gpu_uuid=gpu_uuid, now=now
        )
        online = leasetokens.verify_with_service(self._attach.post, token)
        assert online == offline
        return online


def _vgpu(sandbox: stack.Sandbox, server: str) -> dict[str, Any]:
    document = attach_checks.vendordata(sandbox, server)
    assert document['status'] == 'active', document
    [vgpu] = document['vgpus']
    return vgpu


def _refused(plane: StandInDataPlane, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(leasetokens.TokenRefused) as refused:
        plane.connect(*args, **kwargs)
    return refused.value.reason


def test_a_gpu_server_serves_only_tokens_that_hold(
    sandbox: stack.Sandbox,
    pooled_flavor: Callable[[int, int], str],
    leased_boot: Callable[..., dict[str, Any]],
) -> None:
    record = leased_boot(
        pooled_flavor(8192, 10), availability_zone='nova:%s' % HOST
    )
    vgpu = _vgpu(sandbox, record['id'])
    assert vgpu['gpu_host'] == HOST
    token, gpu = vgpu['secret'], vgpu['gpu_uuid']
    plane = StandInDataPlane(sandbox, HOST)

    # The lease's own server and GPU: served, at the lease's size.
    claims = plane.connect(token, gpu)
    assert claims.lease_id == vgpu['lease_id']
    assert (claims.gmem_mib, claims.compute_pct) == (8192, 10)

    # Wrong: another server (its own key), another GPU, a forgery.
    assert 'signature' in _refused(
        StandInDataPlane(sandbox, OTHER_HOST), token, gpu
    )
    assert 'GPU' in _refused(plane, token, 'GPU-not-this-one')
    forged = leasetokens.sign(
        leasetokens.unverified_claims(token), b'guessed key'
    )
    assert 'signature' in _refused(plane, forged, gpu)

    # Expired: the data plane's clock past expiry and its skew allowance.
    late = claims.expires_at + leasetokens.DEFAULT_SKEW_S + 1
    assert 'expired' in _refused(plane, token, gpu, now=late)
    # Behind by less than the allowance: still served.
    plane.connect(token, gpu, now=claims.issued_at - 10)


def test_a_moved_then_released_lease_is_refused(
    sandbox: stack.Sandbox,
    pooled_flavor: Callable[[int, int], str],
    leased_boot: Callable[..., dict[str, Any]],
) -> None:
    record = leased_boot(
        pooled_flavor(8192, 10), availability_zone='nova:%s' % HOST
    )
    before = _vgpu(sandbox, record['id'])
    plane = StandInDataPlane(sandbox, HOST)
    plane.connect(before['secret'], before['gpu_uuid'])
    [lease] = attach_checks.leases(sandbox, instance=record['id'])
    address = lease['gpu_pci_address']
    try:
        sandbox.edit_topology(
            HOST, lambda h: h.replace_gpu(address, lost=True)
        )
        sandbox.update_resources([HOST])
        report = attach_checks.reconcile_and_check(sandbox)
        assert lease['id'] in {move['lease'] for move in report['moves']}
        # The old token, at the old GPU: refused at once (online).
        reason = _refused(plane, before['secret'], before['gpu_uuid'])
        assert reason.startswith('moved:'), reason
        # The new token from the metadata service: served on the new GPU
        # (strict locality keeps it on the same host).
        after = _vgpu(sandbox, record['id'])
        assert after['gpu_uuid'] != before['gpu_uuid']
        assert after['lease_id'] == before['lease_id']
        claims = plane.connect(after['secret'], after['gpu_uuid'])
        assert claims.gpu_uuid == after['gpu_uuid']
        # ... and not on the old GPU.
        assert 'GPU' in _refused(plane, after['secret'], before['gpu_uuid'])
    finally:
        sandbox.edit_topology(
            HOST, lambda h: h.replace_gpu(address, lost=False)
        )
        sandbox.update_resources([HOST])
    # Released (the server is deleted): revoked at once.
    sandbox.compute(identity.MEMBER_TOKEN).delete('/servers/%s' % record['id'])
    report = attach_checks.reconcile_and_check(sandbox)
    assert report['released'] >= 1
    reason = _refused(plane, after['secret'], after['gpu_uuid'])
    assert reason.startswith('revoked:'), reason
