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

"""The service side of lease-token verification (the online check).

A GPU server verifies a token offline with its own key
(:func:`orionx_cyborg.attach.leasetokens.verify`) and asks the attach
service (``POST /v1/lease-tokens/verify``) whether the lease still
holds: :func:`check` answers from the ledger, so a released, moved or
resized lease is refused as soon as the ledger says so.
"""

from __future__ import annotations

from orionx_cyborg.attach import leasetokens
from orionx_cyborg.attach import ledger as ledger_mod

TokenRefused = leasetokens.TokenRefused


def check(
    token: str,
    issuer: leasetokens.TokenIssuer,
    ledger: ledger_mod.Ledger,
    *,
    now: float,
    skew_s: float,
) -> leasetokens.LeaseClaims:
    """The claims of *token*, if its lease holds them now.

    :raises TokenRefused: forged, expired, revoked (released), moved or
        resized, with the reason.
    :raises LedgerUnavailable: the ledger cannot say.
    """
    host = leasetokens.unverified_claims(token).host
    claims = leasetokens.verify(
        token, issuer.key_of(host), host, now=now, skew_s=skew_s
    )
    try:
        lease = ledger.get(claims.lease_id)
    except (ledger_mod.LeaseNotFound, ledger_mod.InvalidArgument) as err:
        raise TokenRefused('revoked: the lease was released') from err
    if lease.state is not ledger_mod.LeaseState.ACTIVE:
        raise TokenRefused('revoked: the lease is %s' % lease.state.value)
    if (lease.gpu_uuid, lease.gpu_host) != (claims.gpu_uuid, claims.host):
        raise TokenRefused(
            'moved: the lease is on GPU %s of %s now'
            % (lease.gpu_uuid, lease.gpu_host)
        )
    if (lease.gmem_mib, lease.compute_pct) != (
        claims.gmem_mib,
        claims.compute_pct,
    ):
        raise TokenRefused('resized: the lease has another size now')
    return claims
