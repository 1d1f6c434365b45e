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

"""A no-auth paste filter for the Cyborg API (Cyborg ships none).

It plays the part of keystonemiddleware's auth_token: it turns the
``X-Auth-Token`` of a request into the identity headers Cyborg's context
hook reads, after :mod:`orionx_cyborg.sandbox.identity`. Version discovery
(``/`` and ``/v2``) needs no token; anything else without one gets 401,
like Placement's noauth2.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterable
from typing import Any

from orionx_cyborg.sandbox import identity

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

_PUBLIC_PATHS = frozenset({'', '/', '/v2', '/v2/'})

# Identity headers are always recomputed from the token: a client must not
# be able to claim roles by sending them itself.
_IDENTITY_HEADERS = (
    'HTTP_X_USER_ID',
    'HTTP_X_USER',
    'HTTP_X_USER_NAME',
    'HTTP_X_PROJECT_ID',
    'HTTP_X_TENANT_ID',
    'HTTP_X_TENANT',
    'HTTP_X_PROJECT_NAME',
    'HTTP_X_ROLES',
    'HTTP_X_SERVICE_ROLES',
    'HTTP_X_SERVICE_USER_ID',
    'HTTP_X_IDENTITY_STATUS',
)


class NoAuthMiddleware:
    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    @classmethod
    def factory(
        cls, global_config: dict[str, str], **local_conf: str
    ) -> Callable[[WSGIApp], NoAuthMiddleware]:
        """paste.deploy filter factory."""
        return cls

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        for header in _IDENTITY_HEADERS:
            environ.pop(header, None)
        token = environ.get('HTTP_X_AUTH_TOKEN')
        if not token:
            if environ.get('PATH_INFO', '') in _PUBLIC_PATHS:
                return self.app(environ, start_response)
            start_response(
                '401 Unauthorized', [('Content-Type', 'application/json')]
            )
            return [b'{"error": "X-Auth-Token required"}']
        who = identity.identity_for(token, environ.get('HTTP_X_SERVICE_TOKEN'))
        environ['HTTP_X_USER_ID'] = who.user_id
        environ['HTTP_X_USER_NAME'] = who.user_id
        environ['HTTP_X_PROJECT_ID'] = who.project_id
        environ['HTTP_X_ROLES'] = ','.join(who.roles)
        environ['HTTP_X_IDENTITY_STATUS'] = 'Confirmed'
        if who.service:
            environ['HTTP_X_SERVICE_ROLES'] = 'service'
            environ['HTTP_X_SERVICE_USER_ID'] = identity.SERVICE_TOKEN
        return self.app(environ, start_response)
