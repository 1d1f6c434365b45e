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

"""Who a sandbox token stands for (there is no Keystone in the sandbox).

A token is ``user`` or ``user:project``. The sandbox knows three users:

* ``admin``: roles admin, member, reader (the cloud operator);
* ``demo``: roles member, reader (an ordinary member of a project);
* ``nova``: the Nova service user: admin, member, reader and service.

Any other user is a member. Cyborg validates project ids as UUIDs, so a
project missing from the token is derived from the user name as a UUID.
A request that carries ``X-Service-Token`` (how keystoneauth's service
token wrapper, and so Nova, calls Cyborg) is also a service request.
"""

from __future__ import annotations

import dataclasses
import uuid

# Sandbox tokens name users; they are not secrets.
ADMIN_TOKEN = 'admin'  # noqa: S105
MEMBER_TOKEN = 'demo'  # noqa: S105
SERVICE_TOKEN = 'nova'  # noqa: S105

_ADMIN_USERS = frozenset({ADMIN_TOKEN, SERVICE_TOKEN})


@dataclasses.dataclass(frozen=True)
class Identity:
    user_id: str
    project_id: str
    roles: tuple[str, ...]
    service: bool

    @property
    def is_admin(self) -> bool:
        return 'admin' in self.roles


def project_of(user: str) -> str:
    """The stable UUID-like project of a user that named none."""
    return uuid.uuid5(uuid.NAMESPACE_DNS, user).hex


def identity_for(token: str, service_token: str | None = None) -> Identity:
    user, _, project = token.partition(':')
    roles = ['member', 'reader']
    if user in _ADMIN_USERS:
        roles.insert(0, 'admin')
    if user == SERVICE_TOKEN:
        roles.append('service')
    return Identity(
        user_id=user,
        project_id=project or project_of(user),
        roles=tuple(roles),
        service=user == SERVICE_TOKEN or bool(service_token),
    )


MEMBER_PROJECT_ID = project_of(MEMBER_TOKEN)
