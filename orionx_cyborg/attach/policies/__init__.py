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

"""The attach service's policy in code (oslo.policy).

One home for every authorization decision: the rules here, enforced by
:mod:`orionx_cyborg.attach.policy`. The sample file
(``etc/orionx-cyborg/policy.yaml.sample``, ``tox -e genpolicy``) and the
docs' policy reference are generated from :func:`list_rules`.
"""

from __future__ import annotations

import itertools

from oslo_policy import policy

from orionx_cyborg.attach.policies import base
from orionx_cyborg.attach.policies import leases
from orionx_cyborg.attach.policies import pools
from orionx_cyborg.attach.policies import services


def list_rules() -> list[policy.RuleDefault]:
    """Every rule (the ``oslo.policy.policies`` entry point)."""
    return list(
        itertools.chain(
            base.list_rules(),
            leases.list_rules(),
            pools.list_rules(),
            services.list_rules(),
        )
    )
