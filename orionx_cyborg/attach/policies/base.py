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

"""Base rules of the attach service's policy, in Nova's and Cyborg's style.

The personas: a project's ``reader`` (and ``member``, which implies it)
sees its own project's leases; a **system-scoped** ``admin`` sees and does
everything an operator does; Nova's and Cyborg's service users (the
``service`` role *and* the user the options name, see
:mod:`orionx_cyborg.attach.context`) read binding documents and admit
ARQs. A domain-scoped token fits none of them.
"""

from __future__ import annotations

from oslo_policy import policy

DEPRECATED_REASON = (
    'An admin of any project used to be an operator of the attach '
    'service. The new default asks for a system-scoped admin token '
    '(role admin, system scope all); set [oslo_policy] '
    'enforce_new_defaults = False to keep the old behaviour for one more '
    'release while operators move to system-scoped tokens.'
)
DEPRECATED_SINCE = '2026.1'

ADMIN = 'rule:admin_api'
PROJECT_READER = 'rule:project_reader_api'
PROJECT_MEMBER = 'rule:project_member_api'
PROJECT_READER_OR_ADMIN = 'rule:project_reader_or_admin'
NOVA_SERVICE = 'rule:nova_service'
CYBORG_SERVICE = 'rule:cyborg_service'

#: Operations of projects and operators (a domain scope fits none).
SYSTEM_OR_PROJECT = ['system', 'project']

DEPRECATED_ADMIN = policy.DeprecatedRule(
    name='admin_api',
    check_str='role:admin',
    deprecated_reason=DEPRECATED_REASON,
    deprecated_since=DEPRECATED_SINCE,
)

rules: list[policy.RuleDefault] = [
    policy.RuleDefault(
        'admin_api',
        'role:admin and system_scope:all',
        'An operator: the admin role on a system-scoped token. The legacy '
        'fallback (the admin role in any project) is deprecated and off '
        'unless [oslo_policy] enforce_new_defaults = False.',
        deprecated_rule=DEPRECATED_ADMIN,
    ),
    policy.RuleDefault(
        'project_reader_api',
        'role:reader and project_id:%(project_id)s',
        'A reader of the project that owns the target.',
    ),
    policy.RuleDefault(
        'project_member_api',
        'role:member and project_id:%(project_id)s',
        'A member of the project that owns the target.',
    ),
    policy.RuleDefault(
        'project_reader_or_admin',
        'rule:project_reader_api or rule:admin_api',
        'A reader of the owning project, or an operator.',
    ),
    policy.RuleDefault(
        'nova_service',
        'role:service and service_identity:nova',
        'Nova\'s service user: the service role, and the user named by '
        '[orionx_attach] nova_service_user (service_identity is nova). '
        'The role alone, which every service\'s user has, is not enough.',
    ),
    policy.RuleDefault(
        'cyborg_service',
        'role:service and service_identity:cyborg',
        'Cyborg\'s service user: the service role, and the user named by '
        '[orionx_attach] cyborg_service_user (service_identity is '
        'cyborg).',
    ),
]


def list_rules() -> list[policy.RuleDefault]:
    return rules
