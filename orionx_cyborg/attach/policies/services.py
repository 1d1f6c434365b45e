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

"""Policy of the service-to-service calls: Nova's and Cyborg's."""

from __future__ import annotations

from oslo_policy import policy

from orionx_cyborg.attach.policies import base

VENDORDATA = 'orionx_attach:vendordata:show'
ADMISSION = 'orionx_attach:admissions:create'
LEASE_TOKEN_VERIFY = 'orionx_attach:lease_tokens:verify'  # noqa: S105

rules: list[policy.RuleDefault] = [
    policy.DocumentedRuleDefault(
        name=VENDORDATA,
        check_str='%s or %s' % (base.NOVA_SERVICE, base.ADMIN),
        description='Read an instance\'s binding document (Nova\'s '
        'dynamic vendordata), lease secrets included: Nova\'s service '
        'user, or an operator.',
        operations=[{'method': 'POST', 'path': '/v1/vendordata'}],
        scope_types=base.SYSTEM_OR_PROJECT,
    ),
    policy.DocumentedRuleDefault(
        name=ADMISSION,
        check_str=base.CYBORG_SERVICE,
        description='Admit an ARQ that Cyborg\'s conductor binds (strict '
        'admission): only Cyborg\'s service user.',
        operations=[{'method': 'POST', 'path': '/v1/admissions'}],
        scope_types=['project'],
    ),
    policy.DocumentedRuleDefault(
        name=LEASE_TOKEN_VERIFY,
        check_str='role:service or %s' % base.ADMIN,
        description='Check whether a lease token still holds (a GPU '
        'server\'s runtime, online check). The answer tells the caller '
        'nothing it did not present: the token\'s own claims, or why it '
        'is refused. Any service user: GPU servers\' data planes '
        'authenticate as one.',
        operations=[{'method': 'POST', 'path': '/v1/lease-tokens/verify'}],
        scope_types=base.SYSTEM_OR_PROJECT,
    ),
]


def list_rules() -> list[policy.RuleDefault]:
    return rules
