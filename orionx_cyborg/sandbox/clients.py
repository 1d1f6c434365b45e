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

"""The one place that builds the sandbox's HTTP and SDK clients.

Everything in the sandbox that talks to Placement, Cyborg or the Nova
stand-in gets its client here: small JSON clients over ``requests`` for
the calls Nova makes with its own keystoneauth adapters, and openstacksdk
connections for tests and operators. Tokens are sandbox tokens (see
:mod:`orionx_cyborg.sandbox.identity`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from collections.abc import Mapping
from typing import Any

import requests

from orionx_cyborg.clients import microversions
from orionx_cyborg.sandbox import identity
from orionx_cyborg.sandbox import layout

PLACEMENT_MICROVERSION = 'placement %s' % microversions.PLACEMENT
COMPUTE_MICROVERSION = 'compute %s' % microversions.COMPUTE
DEFAULT_TIMEOUT = 30.0


class ApiError(Exception):
    """An HTTP answer other than the ones the caller expected."""

    def __init__(self, method: str, url: str, status: int, body: str) -> None:
        super().__init__(
            '%s %s returned %d: %s' % (method, url, status, body[:500])
        )
        self.method = method
        self.url = url
        self.status = status
        self.body = body

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None


class JsonClient:
    """A base URL, fixed headers, JSON in and out."""

    def __init__(
        self,
        base_url: str,
        headers: Mapping[str, str] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip('/')
        self.headers = dict(headers or {})
        self.timeout = timeout
        self.session = session if session is not None else requests.Session()

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Any = None,
        headers: Mapping[str, str] | None = None,
        expect: Iterable[int] = (200, 201, 202, 204),
    ) -> requests.Response:
        url = self.base_url + path
        all_headers = dict(self.headers)
        all_headers.update(headers or {})
        response = self.session.request(
            method,
            url,
            json=body,
            params=params,
            headers=all_headers,
            timeout=self.timeout,
        )
        if response.status_code not in set(expect):
            raise ApiError(method, url, response.status_code, response.text)
        return response

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """The decoded JSON answer, or None for an empty one."""
        response = self.request(method, path, **kwargs)
        return response.json() if response.content else None

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.call('GET', path, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        return self.call('POST', path, body=body, **kwargs)

    def put(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        return self.call('PUT', path, body=body, **kwargs)

    def patch(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        return self.call('PATCH', path, body=body, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self.call('DELETE', path, **kwargs)


def placement(url: str, token: str = identity.ADMIN_TOKEN) -> JsonClient:
    return JsonClient(
        url,
        {
            'X-Auth-Token': token,
            'OpenStack-API-Version': PLACEMENT_MICROVERSION,
        },
    )


def cyborg(
    url: str, token: str, service_token: str | None = None
) -> JsonClient:
    """A Cyborg client; *url* is the accelerator endpoint (``…/v2``).

    With *service_token* it calls like Nova does: the user's token plus a
    service token (keystoneauth's ServiceTokenAuthWrapper).
    """
    headers = {'X-Auth-Token': token}
    if service_token:
        headers['X-Service-Token'] = service_token
    return JsonClient(url, headers)


def compute(url: str, token: str = identity.ADMIN_TOKEN) -> JsonClient:
    """A client of the Nova stand-in's compute API (``…/v2.1``)."""
    return JsonClient(
        url,
        {'X-Auth-Token': token, 'OpenStack-API-Version': COMPUTE_MICROVERSION},
    )


def attach(
    url: str,
    token: str = identity.ADMIN_TOKEN,
    timeout: float = DEFAULT_TIMEOUT,
) -> JsonClient:
    """A client of ``orionx-cyborg-attach``.

    Its no-auth tokens are the sandbox's: ``admin``, ``nova``,
    ``user[:project]``.
    """
    return JsonClient(url, {'X-Auth-Token': token}, timeout=timeout)


def plain(url: str, timeout: float = DEFAULT_TIMEOUT) -> JsonClient:
    """No token: for version documents, health checks and vendordata."""
    return JsonClient(url, timeout=timeout)


def sandbox_cyborg(
    manifest: layout.Manifest, timeout: float = DEFAULT_TIMEOUT
) -> JsonClient:
    """The Cyborg process's sandbox hooks (``/_sandbox/...``)."""
    return plain(manifest.cyborg_root_url, timeout=timeout)


def sandbox_nova(manifest: layout.Manifest) -> JsonClient:
    """The Nova stand-in's sandbox API (``/sandbox/...``)."""
    return JsonClient(
        manifest.nova_root_url, {'X-Auth-Token': identity.ADMIN_TOKEN}
    )


def connect(
    manifest: layout.Manifest, token: str = identity.ADMIN_TOKEN
) -> Any:
    """An openstacksdk connection to the sandbox, as *token*.

    keystoneauth's ``admin_token`` plugin sends the fixed token; endpoint
    overrides stand in for the Keystone catalogue. Environment variables
    and clouds.yaml are ignored so an operator's cloud never leaks in.
    """
    # Imported on first use: openstacksdk takes about a second to import
    # and no sandbox process needs it.
    import openstack

    return openstack.connect(
        auth_type='admin_token',
        auth={'endpoint': manifest.cyborg_url, 'token': token},
        accelerator_endpoint_override=manifest.cyborg_url + '/v2',
        placement_endpoint_override=manifest.placement_url,
        compute_endpoint_override=manifest.nova_url,
        load_yaml_config=False,
        load_envvars=False,
    )
