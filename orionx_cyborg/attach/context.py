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

"""Who calls the API, and what they may do.

keystonemiddleware (``auth_strategy = keystone``) or the sandbox's no-auth
filter (``noauth``) put the caller's identity in the usual ``X-*``
headers; :func:`from_environ` reads it and the rules below decide. The
rules are deliberately few: operators (``admin``) see and do everything;
Nova (the ``service`` role, as its service token carries) reads binding
documents; a project member sees its own project's leases.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from collections.abc import Iterable
from typing import Any

ADMIN_ROLE = 'admin'
SERVICE_ROLE = 'service'


@dataclasses.dataclass(frozen=True)
class RequestContext:
    user_id: str | None
    project_id: str | None
    roles: frozenset[str]
    service_roles: frozenset[str]

    @property
    def is_admin(self) -> bool:
        return ADMIN_ROLE in self.roles

    @property
    def is_service(self) -> bool:
        return SERVICE_ROLE in self.roles | self.service_roles

    def can_read_binding(self) -> bool:
        """Nova's service identity, or an operator."""
        return self.is_admin or self.is_service

    def can_see_project(self, project_id: str) -> bool:
        return self.is_admin or (
            self.project_id is not None and self.project_id == project_id
        )


def _split(value: str | None) -> frozenset[str]:
    return frozenset(
        r.strip().lower() for r in (value or '').split(',') if r.strip()
    )


def from_environ(environ: dict[str, Any]) -> RequestContext | None:
    """The caller, or None when no identity was confirmed."""
    if environ.get('HTTP_X_IDENTITY_STATUS') != 'Confirmed':
        return None
    return RequestContext(
        user_id=environ.get('HTTP_X_USER_ID'),
        project_id=environ.get('HTTP_X_PROJECT_ID'),
        roles=_split(environ.get('HTTP_X_ROLES')),
        service_roles=_split(environ.get('HTTP_X_SERVICE_ROLES')),
    )


WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

#: Paths anyone may read (version document, health, metrics scrapes).
PUBLIC_PATHS = frozenset({'', '/', '/healthz', '/metrics'})


class NoAuthMiddleware:
    """For the sandbox only: the token ``user[:project]`` names the caller.

    ``admin`` is an operator, ``nova`` Nova's service identity; any other
    user is a member of its project (a stable UUID-like id when none is
    given). Identity headers sent by the client are discarded first.
    """

    def __init__(self, app: WsgiApp) -> None:
        self.app = app

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        for key in [
            k
            for k in environ
            if k.startswith('HTTP_X_') and k != 'HTTP_X_AUTH_TOKEN'
        ]:
            del environ[key]
        token = environ.get('HTTP_X_AUTH_TOKEN', '')
        if token:
            user, _, project = token.partition(':')
            project = project or uuid.uuid5(uuid.NAMESPACE_DNS, user).hex
            roles = ['member', 'reader']
            if user in ('admin', 'nova'):
                roles.insert(0, ADMIN_ROLE)
            if user == 'nova':
                roles.append(SERVICE_ROLE)
                environ['HTTP_X_SERVICE_ROLES'] = SERVICE_ROLE
            environ['HTTP_X_USER_ID'] = user
            environ['HTTP_X_PROJECT_ID'] = project
            environ['HTTP_X_ROLES'] = ','.join(roles)
            environ['HTTP_X_IDENTITY_STATUS'] = 'Confirmed'
        return self.app(environ, start_response)
