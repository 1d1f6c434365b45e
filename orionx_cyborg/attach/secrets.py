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

"""Per-lease secrets, derived instead of stored.

A lease's secret is an HMAC of the lease id and a time window under the
service's ``secret_key``: every replica, and every GPU server holding the
key, computes the same secret without the database holding any. Secrets
rotate every ``secret_ttl`` seconds; a guest refreshes through the
metadata service, and a server accepts the current and previous window.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac


class SecretSigner:
    def __init__(self, key: str, ttl_s: int) -> None:
        if not key:
            raise ValueError('an empty secret key signs nothing')
        self._key = key.encode('utf-8')
        self._ttl = ttl_s

    def issue(
        self, lease_id: str, now: datetime.datetime
    ) -> tuple[str, datetime.datetime]:
        """The secret of *lease_id* now, and when it expires."""
        window = int(now.timestamp()) // self._ttl
        expires = datetime.datetime.fromtimestamp(
            (window + 1) * self._ttl, tz=datetime.UTC
        )
        return self._secret(lease_id, window), expires

    def verify(
        self, lease_id: str, secret: str, now: datetime.datetime
    ) -> bool:
        """Whether *secret* is the current or previous one (for servers)."""
        window = int(now.timestamp()) // self._ttl
        return any(
            hmac.compare_digest(secret, self._secret(lease_id, w))
            for w in (window, window - 1)
        )

    def _secret(self, lease_id: str, window: int) -> str:
        message = ('%s:%d' % (lease_id, window)).encode('ascii')
        digest = hmac.new(self._key, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode('ascii').rstrip('=')

    def __repr__(self) -> str:
        # Never show the key, whatever prints this object.
        return '<SecretSigner ttl=%ds>' % self._ttl
