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

"""Who calls the attach service in the authorization tests, and what each
may do.

One table of personas (scope, roles, user) and one of expectations, so
the same cases run with keystonemiddleware's token fixture (unit tests)
and, later, with tokens a real Keystone issues (the full sandbox): a
token source only has to turn a :class:`Persona` into a token.
"""

from __future__ import annotations

import dataclasses

PROJECT_A = 'a' * 32
PROJECT_B = 'b' * 32
UNRELATED = 'c' * 32
SERVICE_PROJECT = 'd' * 32
DOMAIN = 'e' * 32

#: Roles Keystone puts in a token, implied roles expanded (member
#: implies reader; devstack gives service users admin and service in
#: the service project).
MEMBER = ('member', 'reader')
READER = ('reader',)
ADMIN = ('admin', 'member', 'reader')
SERVICE = ('admin', 'service', 'member', 'reader')


@dataclasses.dataclass(frozen=True)
class Persona:
    name: str
    user_name: str
    roles: tuple[str, ...] = ()
    project_id: str | None = None
    domain_id: str | None = None
    system: bool = False
    user_domain: str = 'default'

    @property
    def user_id(self) -> str:
        return 'id-' + self.name


PERSONAS = {
    p.name: p
    for p in (
        Persona('unscoped', 'alice'),
        Persona('domain_member', 'bob', MEMBER, domain_id=DOMAIN),
        Persona('domain_admin', 'dora', ADMIN, domain_id=DOMAIN),
        Persona('system_reader', 'sam', READER, system=True),
        Persona('system_admin', 'root', ADMIN, system=True),
        Persona('unrelated_admin', 'uma', ADMIN, project_id=UNRELATED),
        Persona('glance', 'glance', SERVICE, project_id=SERVICE_PROJECT),
        Persona('nova', 'nova', SERVICE, project_id=SERVICE_PROJECT),
        Persona('cyborg', 'cyborg', SERVICE, project_id=SERVICE_PROJECT),
        # Nova's user name in another domain is not Nova.
        Persona(
            'nova_elsewhere',
            'nova',
            SERVICE,
            project_id=SERVICE_PROJECT,
            user_domain='other',
        ),
        Persona('member', 'mia', MEMBER, project_id=PROJECT_A),
        Persona('reader', 'rita', READER, project_id=PROJECT_A),
        Persona('other_member', 'otto', MEMBER, project_id=PROJECT_B),
    )
}

#: Who may read a binding document (Nova's vendordata call).
VENDORDATA = frozenset({'system_admin', 'nova'})
#: Who may admit ARQs (Cyborg's conductor).
ADMISSIONS = frozenset({'cyborg'})
#: Who may check lease tokens online (GPU servers' data planes: any
#: service user), and operators.
LEASE_TOKENS = frozenset(
    {'system_admin', 'glance', 'nova', 'cyborg', 'nova_elsewhere'}
)
#: Who may read pools and run a reconcile pass.
OPERATORS = frozenset({'system_admin'})
#: Who lists every project's leases.
ALL_LEASES = frozenset({'system_admin'})
#: Who lists a project's own leases (all others: 403).
OWN_LEASES = frozenset(
    {
        'member',
        'reader',
        'other_member',
        'unrelated_admin',
        'glance',
        'nova',
        'cyborg',
        'nova_elsewhere',
    }
)
#: Who may read a lease of PROJECT_A (other callers with a project get
#: 404, as if it did not exist; callers without one get 403).
LEASE_OF_A = frozenset({'system_admin', 'member', 'reader'})
