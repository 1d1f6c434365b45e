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

"""Policy of the lease resources (read-only)."""

from __future__ import annotations

from oslo_policy import policy

from orionx_cyborg.attach.policies import base

PREFIX = 'orionx_attach:leases:%s'
LIST = PREFIX % 'list'
LIST_ALL_PROJECTS = PREFIX % 'list:all_projects'
SHOW = PREFIX % 'show'

rules: list[policy.RuleDefault] = [
    policy.DocumentedRuleDefault(
        name=LIST,
        check_str=base.PROJECT_READER_OR_ADMIN,
        description='List the leases of the caller\'s project.',
        operations=[{'method': 'GET', 'path': '/v1/leases'}],
        scope_types=base.SYSTEM_OR_PROJECT,
    ),
    policy.DocumentedRuleDefault(
        name=LIST_ALL_PROJECTS,
        check_str=base.ADMIN,
        description='List the leases of every project (and filter them '
        'by another project than the caller\'s).',
        operations=[{'method': 'GET', 'path': '/v1/leases'}],
        scope_types=base.SYSTEM_OR_PROJECT,
    ),
    policy.DocumentedRuleDefault(
        name=SHOW,
        check_str=base.PROJECT_READER_OR_ADMIN,
        description='Show a lease and its events.',
        operations=[{'method': 'GET', 'path': '/v1/leases/{lease_id}'}],
        scope_types=base.SYSTEM_OR_PROJECT,
    ),
]


def list_rules() -> list[policy.RuleDefault]:
    return rules
