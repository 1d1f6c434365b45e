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

# No-auth tokens ---------------------------------------------------------
#
# With ``auth_strategy = noauth`` a token is ``user`` or ``user:project``.
# These rules are the sandbox's too (:mod:`orionx_cyborg.sandbox.identity`
# uses them for its Cyborg, Placement and Nova stand-ins): they live here
# because production code never imports the sandbox.

# No-auth tokens name users; they are not secrets.
ADMIN_TOKEN = 'admin'  # noqa: S105
MEMBER_TOKEN = 'demo'  # noqa: S105
SERVICE_TOKEN = 'nova'  # noqa: S105

_ADMIN_USERS = frozenset({ADMIN_TOKEN, SERVICE_TOKEN})


@dataclasses.dataclass(frozen=True)
class Identity:
    """Who a no-auth token stands for."""

    user_id: str
    project_id: str
    roles: tuple[str, ...]
    service: bool

    @property
    def is_admin(self) -> bool:
        return ADMIN_ROLE in self.roles


def project_of(user: str) -> str:
    """The stable UUID-like project of a user that named none."""
    return uuid.uuid5(uuid.NAMESPACE_DNS, user).hex


def identity_for(token: str, service_token: str | None = None) -> Identity:
    """The identity of no-auth *token*.

    ``admin`` is an operator (admin, member, reader); ``nova`` is Nova's
    service user (admin, member, reader, service); any other user is a
    member (member, reader). A project missing from the token is derived
    from the user name. A request that also carries a service token (how
    keystoneauth's service token wrapper, and so Nova, calls) is a
    service request.
    """
    user, _, project = token.partition(':')
    roles = ['member', 'reader']
    if user in _ADMIN_USERS:
        roles.insert(0, ADMIN_ROLE)
    if user == SERVICE_TOKEN:
        roles.append(SERVICE_ROLE)
    return Identity(
        user_id=user,
        project_id=project or project_of(user),
        roles=tuple(roles),
        service=user == SERVICE_TOKEN or bool(service_token),
    )


class NoAuthMiddleware:
    """For the sandbox only: the token ``user[:project]`` names the caller.

    See :func:`identity_for`. Identity headers sent by the client are
    discarded first.
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
            who = identity_for(token)
            if who.user_id == SERVICE_TOKEN:
                environ['HTTP_X_SERVICE_ROLES'] = SERVICE_ROLE
            environ['HTTP_X_USER_ID'] = who.user_id
            environ['HTTP_X_PROJECT_ID'] = who.project_id
            environ['HTTP_X_ROLES'] = ','.join(who.roles)
            environ['HTTP_X_IDENTITY_STATUS'] = 'Confirmed'
        return self.app(environ, start_response)
