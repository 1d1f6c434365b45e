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

"""Who calls the API.

keystonemiddleware (``auth_strategy = keystone``) or the sandbox's no-auth
filter (``noauth``) put the caller's identity in the usual ``X-*``
headers; :func:`from_environ` reads it into an oslo.context request
context, and :mod:`orionx_cyborg.attach.policies` decides what it may do.
Roles alone do not name a service: the context also says whether the
caller is the Nova or Cyborg service user the options configure
(``service_identity`` in the policy credentials).
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from collections.abc import Iterable
from typing import Any

from oslo_config import cfg
from oslo_context import context as oslo_context

ADMIN_ROLE = 'admin'
SERVICE_ROLE = 'service'
NOVA = 'nova'
CYBORG = 'cyborg'


@dataclasses.dataclass(frozen=True)
class ServiceUser:
    """A service's user: its id, or its name in a domain (name or id)."""

    user: str
    domain: str

    def matches(self, ctx: oslo_context.RequestContext) -> bool:
        if not self.user:
            return False
        if ctx.user_id == self.user:
            return True
        return ctx.user_name == self.user and self.domain in (
            ctx.user_domain_name,
            ctx.user_domain_id,
        )


@dataclasses.dataclass(frozen=True)
class ServiceUsers:
    """The service users the options name (``[orionx_attach]``)."""

    nova: ServiceUser
    cyborg: ServiceUser

    @classmethod
    def from_conf(cls, conf: cfg.ConfigOpts) -> ServiceUsers:
        group = conf.orionx_attach
        return cls(
            nova=ServiceUser(
                group.nova_service_user, group.nova_service_user_domain
            ),
            cyborg=ServiceUser(
                group.cyborg_service_user, group.cyborg_service_user_domain
            ),
        )

    def identify(self, ctx: oslo_context.RequestContext) -> str | None:
        """``nova``, ``cyborg`` or None: which configured user calls."""
        if self.nova.matches(ctx):
            return NOVA
        if self.cyborg.matches(ctx):
            return CYBORG
        return None


class RequestContext(oslo_context.RequestContext):
    """oslo.context's context plus the configured service identity."""

    def __init__(
        self, service_identity: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.service_identity = service_identity

    def to_policy_values(self) -> Any:
        # A plain dict: oslo.context warns about keys it does not know.
        values = dict(super().to_policy_values())
        values['service_identity'] = self.service_identity
        return values


def from_environ(
    environ: dict[str, Any], service_users: ServiceUsers
) -> RequestContext | None:
    """The caller, or None when no identity was confirmed."""
    if environ.get('HTTP_X_IDENTITY_STATUS') != 'Confirmed':
        return None
    ctx = RequestContext.from_environ(environ)
    ctx.service_identity = service_users.identify(ctx)
    return ctx


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


#: Sandbox users with the service role: the default service user names,
#: and the GPU servers' data planes (lease-token checks).
GPU_SERVER = 'gpu-server'
_SERVICE_USERS = frozenset({NOVA, CYBORG, GPU_SERVER})


class NoAuthMiddleware:
    """For the sandbox only: the token ``user[:project]`` names the caller.

    ``admin`` alone is a system-scoped admin (an operator), ``admin:P``
    an admin of project P only; ``nova`` and ``cyborg`` are those
    services' users and ``gpu-server`` a GPU server's data plane (role
    ``service`` in project ``service``); any other
    user is a member and reader of its project (a stable UUID-like id
    when none is given). Identity headers sent by the client are
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
            if (k.startswith('HTTP_X_') and k != 'HTTP_X_AUTH_TOKEN')
            or k.startswith('HTTP_OPENSTACK_SYSTEM')
        ]:
            del environ[key]
        token = environ.get('HTTP_X_AUTH_TOKEN', '')
        if token:
            environ.update(_headers(token))
        return self.app(environ, start_response)


def _headers(token: str) -> dict[str, str]:
    user, _, project = token.partition(':')
    roles = ['member', 'reader']
    headers = {
        'HTTP_X_USER_ID': user,
        'HTTP_X_USER_NAME': user,
        'HTTP_X_USER_DOMAIN_ID': 'default',
        'HTTP_X_USER_DOMAIN_NAME': 'Default',
        'HTTP_X_IDENTITY_STATUS': 'Confirmed',
    }
    if user == ADMIN_TOKEN and not project:
        headers['HTTP_OPENSTACK_SYSTEM_SCOPE'] = 'all'
        roles.insert(0, ADMIN_ROLE)
    else:
        if user == ADMIN_TOKEN:
            roles.insert(0, ADMIN_ROLE)
        if user in _SERVICE_USERS:
            roles.append(SERVICE_ROLE)
            project = project or uuid.uuid5(uuid.NAMESPACE_DNS, 'service').hex
        headers['HTTP_X_PROJECT_ID'] = project or project_of(user)
    headers['HTTP_X_ROLES'] = ','.join(roles)
    return headers
