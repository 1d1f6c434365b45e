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

The rules are the attach service's ``auth_strategy = noauth`` rules, so
that one token means the same caller everywhere in the sandbox; they are
defined once, in :mod:`orionx_cyborg.attach.context`.
"""

from __future__ import annotations

from orionx_cyborg.attach import context

ADMIN_TOKEN = context.ADMIN_TOKEN
MEMBER_TOKEN = context.MEMBER_TOKEN
SERVICE_TOKEN = context.SERVICE_TOKEN
Identity = context.Identity
identity_for = context.identity_for
project_of = context.project_of

MEMBER_PROJECT_ID = project_of(MEMBER_TOKEN)
