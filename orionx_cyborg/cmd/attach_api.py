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

"""A client of orionx-cyborg-attach's read-only API (pools, leases).

It takes a keystoneauth adapter (:mod:`.connection` builds it) and
returns the API's JSON documents; transport errors and error answers
become :class:`AttachApiError` with the service's own message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from keystoneauth1 import exceptions as ks_exceptions

from orionx_cyborg import exception
from orionx_cyborg.i18n import _

PAGE_SIZE = 1000


class AttachApiError(exception.OrionXException):
    msg_fmt = _('orionx-cyborg-attach: %(reason)s')


class AttachApi:
    def __init__(self, adapter: Any) -> None:
        self._adapter = adapter

    def _get(
        self, path: str, params: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        try:
            response = self._adapter.get(
                path,
                params=dict(params or {}),
                raise_exc=False,
                headers={'Accept': 'application/json'},
            )
        except ks_exceptions.ClientException as err:
            raise AttachApiError(reason=err) from err
        try:
            data = response.json()
        except ValueError:
            data = None
        if response.status_code != 200 or not isinstance(data, dict):
            raise AttachApiError(
                reason='GET %s answered %d: %s'
                % (path, response.status_code, _message(data, response))
            )
        return data

    def pools(self) -> list[dict[str, Any]]:
        pools: list[dict[str, Any]] = self._get('/v1/pools')['pools']
        return pools

    def pool(self, name: str) -> dict[str, Any]:
        return self._get('/v1/pools/%s' % name)

    def leases(
        self, filters: Mapping[str, str], limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Leases matching *filters*, every page (or the first *limit*)."""
        leases: list[dict[str, Any]] = []
        marker = None
        while True:
            page_size = (
                min(PAGE_SIZE, limit - len(leases)) if limit else PAGE_SIZE
            )
            params = dict(filters, limit=str(page_size))
            if marker:
                params['marker'] = marker
            page = self._get('/v1/leases', params)['leases']
            leases.extend(page)
            if len(page) < page_size or (limit and len(leases) >= limit):
                return leases
            marker = page[-1]['id']

    def lease(self, lease_id: str) -> dict[str, Any]:
        return self._get('/v1/leases/%s' % lease_id)


def _message(data: Any, response: Any) -> str:
    if isinstance(data, dict) and isinstance(data.get('error'), dict):
        return str(data['error'].get('message', ''))
    return str(getattr(response, 'text', ''))[:200]
