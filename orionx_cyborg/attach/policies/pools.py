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

"""Policy of the operators' resources: pools and reconcile passes."""

from __future__ import annotations

from oslo_policy import policy

from orionx_cyborg.attach.policies import base

LIST = 'orionx_attach:pools:list'
SHOW = 'orionx_attach:pools:show'
RECONCILE = 'orionx_attach:reconcile'

rules: list[policy.RuleDefault] = [
    policy.DocumentedRuleDefault(
        name=LIST,
        check_str=base.ADMIN,
        description='List the pools and their usage.',
        operations=[{'method': 'GET', 'path': '/v1/pools'}],
        scope_types=base.SYSTEM_OR_PROJECT,
    ),
    policy.DocumentedRuleDefault(
        name=SHOW,
        check_str=base.ADMIN,
        description='Show a pool with its GPUs.',
        operations=[{'method': 'GET', 'path': '/v1/pools/{name}'}],
        scope_types=base.SYSTEM_OR_PROJECT,
    ),
    policy.DocumentedRuleDefault(
        name=RECONCILE,
        check_str=base.ADMIN,
        description='Run a reconcile pass now.',
        operations=[{'method': 'POST', 'path': '/v1/reconcile'}],
        scope_types=base.SYSTEM_OR_PROJECT,
    ),
]


def list_rules() -> list[policy.RuleDefault]:
    return rules
