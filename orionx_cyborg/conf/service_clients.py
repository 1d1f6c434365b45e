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

"""Options of the ``[cyborg]`` and ``[placement]`` groups.

Where the attach service finds Cyborg and Placement and how it
authenticates: keystoneauth's session, adapter and auth options, as every
OpenStack service has them. It needs an admin identity (it lists every
project's accelerator requests and writes allocations of its own).
"""

from keystoneauth1 import loading as ks_loading
from oslo_config import cfg

SERVICES = {
    'cyborg': 'accelerator',
    'placement': 'placement',
}


def register_opts(conf: cfg.ConfigOpts) -> None:
    for group, service_type in SERVICES.items():
        ks_loading.register_session_conf_options(conf, group)
        ks_loading.register_auth_conf_options(conf, group)
        ks_loading.register_adapter_conf_options(conf, group)
        conf.set_default('service_type', service_type, group=group)
        conf.set_default(
            'valid_interfaces', ['internal', 'public'], group=group
        )


def list_opts() -> dict[str, list[cfg.Opt]]:
    # The generic auth options plus those of the password plugin, the one
    # deployments use (as nova.conf's [placement] shows them).
    options = (
        ks_loading.get_session_conf_options()
        + ks_loading.get_auth_common_conf_options()
        + ks_loading.get_auth_plugin_conf_options('password')
        + ks_loading.get_adapter_conf_options(include_deprecated=False)
    )
    return {group: _unique(options) for group in SERVICES}


def _unique(options: list[cfg.Opt]) -> list[cfg.Opt]:
    seen: dict[str, cfg.Opt] = {}
    for opt in options:
        seen.setdefault(opt.dest, opt)
    return list(seen.values())
