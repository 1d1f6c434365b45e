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

"""keystoneauth options of every service this project calls, per group.

As ironic's ``conf/auth.py``: each service group (``[cyborg]``,
``[placement]``, ``[orionx_admission]``) gets keystoneauth's session,
auth and adapter options through :mod:`keystoneauth1.loading`, with the
group's service type, the interfaces to try and a request timeout as
defaults. ``timeout`` is keystoneauth's session option: it bounds the
connection and every read of a request, so no call of this project waits
for a hung service longer than it.
"""

from __future__ import annotations

import copy
import dataclasses

from keystoneauth1 import loading as ks_loading
from oslo_config import cfg

DEFAULT_VALID_INTERFACES = ['internal', 'public']


@dataclasses.dataclass(frozen=True)
class ServiceGroup:
    """A configuration group of one service's client."""

    name: str
    service_type: str
    timeout: float
    """Default of ``timeout`` (seconds) for every request."""


#: The attach service's clients. Cyborg lists every ARQ of the cloud in
#: one answer (about 3 s per 1,000 ARQs, benchmarks/attach), so its
#: timeout leaves room for a large region's reconcile pass; Placement
#: answers from indexes.
CYBORG = ServiceGroup('cyborg', 'accelerator', 60.0)
PLACEMENT = ServiceGroup('placement', 'placement', 10.0)
#: Cyborg's conductor calling the attach service's admissions.
ATTACH = ServiceGroup('orionx_admission', 'orionx-attach', 30.0)

ATTACH_SERVICE_GROUPS = (CYBORG, PLACEMENT)


def register_auth_opts(conf: cfg.ConfigOpts, group: ServiceGroup) -> None:
    """Register session, auth and adapter options in *group* of *conf*."""
    ks_loading.register_session_conf_options(conf, group.name)
    ks_loading.register_auth_conf_options(conf, group.name)
    ks_loading.register_adapter_conf_options(conf, group.name)
    conf.set_default('service_type', group.service_type, group=group.name)
    conf.set_default(
        'valid_interfaces', DEFAULT_VALID_INTERFACES, group=group.name
    )
    conf.set_default('timeout', group.timeout, group=group.name)


def add_auth_opts(
    options: list[cfg.Opt], group: ServiceGroup
) -> list[cfg.Opt]:
    """*options* plus the keystoneauth options of *group*, for samples.

    The generic auth options and those of the password plugin (the one
    deployments use, as nova.conf's ``[placement]`` shows them), with the
    group's defaults.
    """
    added = list(options)
    names = {opt.dest for opt in added}
    ks_options = copy.deepcopy(
        ks_loading.get_auth_common_conf_options()
        + ks_loading.get_auth_plugin_conf_options('password')
        + ks_loading.get_session_conf_options()
        + ks_loading.get_adapter_conf_options(include_deprecated=False)
    )
    cfg.set_defaults(
        ks_options,
        service_type=group.service_type,
        valid_interfaces=DEFAULT_VALID_INTERFACES,
        timeout=group.timeout,
    )
    for opt in ks_options:
        if opt.dest not in names:
            names.add(opt.dest)
            added.append(opt)
    return added


def list_opts() -> dict[str, list[cfg.Opt]]:
    """The attach service's client groups, for its sample config."""
    return {
        group.name: add_auth_opts([], group) for group in ATTACH_SERVICE_GROUPS
    }
