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

"""Lease tokens: the secret a guest presents to a GPU server.

A token states one lease: its id, GPU, GPU server (host), size (MiB and
compute %), when it was issued and when it expires. It is signed with
the key of **that GPU server only**, derived from the service's
``secret_key`` with HKDF (RFC 5869, SHA-256, info ``gpu-server:<host>``):
a GPU server holds its own key (``orionx-cyborg-attach-server-key
HOST``), can check the tokens presented to it and learn their size, and
cannot forge a token for another server.

A GPU server's runtime calls :func:`verify` with its key and host name
(offline: signature, host, GPU, expiry, with a clock skew allowance),
then asks the attach service (``POST /v1/lease-tokens/verify``,
:func:`verify_with_service`) whether the lease still holds that GPU.

Revocation, stated: a released or moved lease is refused **at once** by
a server that asks the service (as :func:`verify_with_service` does at
every connection); a server that only checks offline refuses it at the
latest ``secret_ttl`` + its skew allowance after the token was issued.
A moved lease's old token names the old GPU: the new GPU's server
refuses it offline already.

The format: ``v1.<payload>.<signature>``, both parts base64url without
padding, the payload compact JSON, the signature HMAC-SHA256 of
``v1.<payload>`` under the server's key.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

VERSION = 'v1'
_SALT = b'orionx-cyborg lease tokens'
#: Default tolerance for a GPU server's clock against the service's.
DEFAULT_SKEW_S = 30.0


class TokenRefused(Exception):
    """The token proves no lease on this GPU server now."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclasses.dataclass(frozen=True)
class LeaseClaims:
    """What a valid token says about its lease."""

    lease_id: str
    gpu_uuid: str
    host: str
    gmem_mib: int
    compute_pct: int
    issued_at: int
    expires_at: int

    def to_payload(self) -> dict[str, Any]:
        return {
            'lease': self.lease_id,
            'gpu': self.gpu_uuid,
            'host': self.host,
            'gmem': self.gmem_mib,
            'pct': self.compute_pct,
            'iat': self.issued_at,
            'exp': self.expires_at,
        }

    @classmethod
    def from_payload(cls, data: Any) -> LeaseClaims:
        try:
            claims = cls(
                lease_id=data['lease'],
                gpu_uuid=data['gpu'],
                host=data['host'],
                gmem_mib=data['gmem'],
                compute_pct=data['pct'],
                issued_at=data['iat'],
                expires_at=data['exp'],
            )
        except (KeyError, TypeError) as err:
            raise TokenRefused('malformed token') from err
        for name in ('lease_id', 'gpu_uuid', 'host'):
            if not isinstance(getattr(claims, name), str):
                raise TokenRefused('malformed token')
        for name in ('gmem_mib', 'compute_pct', 'issued_at', 'expires_at'):
            value = getattr(claims, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise TokenRefused('malformed token')
        return claims


def server_key(service_key: str | bytes, host: str) -> bytes:
    """The key of the GPU server *host*, derived from the service's key.

    HKDF-SHA256 (RFC 5869) with a fixed salt and ``gpu-server:<host>`` as
    info: knowing one server's key tells nothing of another's.
    """
    if not service_key:
        raise ValueError('an empty service key derives nothing')
    ikm = (
        service_key.encode('utf-8')
        if isinstance(service_key, str)
        else service_key
    )
    prk = hmac.new(_SALT, ikm, hashlib.sha256).digest()
    info = ('gpu-server:%s' % host).encode('utf-8')
    # One block of HKDF-Expand: 32 bytes, all SHA-256 gives.
    return hmac.new(prk, info + b'\x01', hashlib.sha256).digest()


class TokenIssuer:
    """Issues lease tokens (the attach service holds the service key)."""

    def __init__(self, service_key: str, ttl_s: int) -> None:
        if not service_key:
            raise ValueError('an empty secret key signs nothing')
        self._service_key = service_key
        self.ttl_s = ttl_s

    def issue(self, claims: LeaseClaims) -> str:
        """The token of *claims*, signed with its host's key."""
        key = server_key(self._service_key, claims.host)
        return sign(claims, key)

    def claims(
        self,
        *,
        lease_id: str,
        gpu_uuid: str,
        host: str,
        gmem_mib: int,
        compute_pct: int,
        now: float,
    ) -> LeaseClaims:
        """Claims issued *now*, valid for the issuer's TTL."""
        issued = int(now)
        return LeaseClaims(
            lease_id=lease_id,
            gpu_uuid=gpu_uuid,
            host=host,
            gmem_mib=gmem_mib,
            compute_pct=compute_pct,
            issued_at=issued,
            expires_at=issued + self.ttl_s,
        )

    def key_of(self, host: str) -> bytes:
        return server_key(self._service_key, host)

    def __repr__(self) -> str:
        # Never show the key, whatever prints this object.
        return '<TokenIssuer ttl=%ds>' % self.ttl_s


def sign(claims: LeaseClaims, key: bytes) -> str:
    payload = _b64(
        json.dumps(
            claims.to_payload(), separators=(',', ':'), sort_keys=True
        ).encode('utf-8')
    )
    signed = '%s.%s' % (VERSION, payload)
    return '%s.%s' % (signed, _b64(_mac(key, signed)))


def unverified_claims(token: str) -> LeaseClaims:
    """The claims of *token* without checking them (to pick the key).

    :raises TokenRefused: not a token.
    """
    return _claims(_split(token)[1])


def verify(
    token: str,
    key: bytes,
    host: str,
    *,
    gpu_uuid: str | None = None,
    now: float | None = None,
    skew_s: float = DEFAULT_SKEW_S,
) -> LeaseClaims:
    """The lease *token* proves on GPU server *host*, checked offline.

    What a GPU server's runtime calls for every connection: the
    signature under its own *key*, its own *host* (and *gpu_uuid*, when
    it knows which GPU the connection asks for), and the validity period
    with *skew_s* seconds of tolerance for clocks on either side.

    :raises TokenRefused: with the reason.
    """
    signed, payload, signature = _split(token)
    # The signature first: nothing unsigned is even parsed.
    if not hmac.compare_digest(signature, _mac(key, signed)):
        raise TokenRefused('bad signature (not a token for this server)')
    claims = _claims(payload)
    if claims.host != host:
        raise TokenRefused('issued for GPU server %s' % claims.host)
    if gpu_uuid is not None and claims.gpu_uuid != gpu_uuid:
        raise TokenRefused('issued for GPU %s' % claims.gpu_uuid)
    at = time.time() if now is None else now
    if at + skew_s < claims.issued_at:
        raise TokenRefused('issued in the future (clock skew)')
    if at - skew_s > claims.expires_at:
        raise TokenRefused('expired')
    return claims


def verify_with_service(
    post: Callable[[str, dict[str, Any]], dict[str, Any]], token: str
) -> LeaseClaims:
    """Ask the attach service whether *token*'s lease still holds.

    *post* sends a JSON body to a path of the attach service and returns
    the JSON answer (a keystoneauth adapter's ``post(...).json()``).

    :raises TokenRefused: released, moved, resized, expired or forged.
    """
    answer = post('/v1/lease-tokens/verify', {'token': token})
    if not answer.get('valid'):
        raise TokenRefused(str(answer.get('reason', 'refused')))
    return LeaseClaims.from_payload(answer.get('claims'))


def _split(token: str) -> tuple[str, str, bytes]:
    """The signed part, the payload and the raw signature of *token*."""
    if not isinstance(token, str) or token.count('.') != 2:
        raise TokenRefused('malformed token')
    version, payload, signature = token.split('.')
    if version != VERSION:
        raise TokenRefused('unknown token version %r' % version[:8])
    try:
        raw_signature = _unb64(signature)
    except (ValueError, binascii.Error) as err:
        raise TokenRefused('malformed token') from err
    return '%s.%s' % (version, payload), payload, raw_signature


def _claims(payload: str) -> LeaseClaims:
    try:
        data = json.loads(_unb64(payload))
    except (ValueError, binascii.Error) as err:
        raise TokenRefused('malformed token') from err
    return LeaseClaims.from_payload(data)


def _mac(key: bytes, signed: str) -> bytes:
    return hmac.new(key, signed.encode('ascii'), hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode('ascii').rstrip('=')


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + '=' * (-len(text) % 4))
