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

"""The one keystoneauth adapter loader.

Adapters come from a service group's options (registered by
:func:`orionx_cyborg.conf.auth.register_auth_opts`) or, for the operator
CLI, from an openstacksdk connection's session; either way requests go
through a keystoneauth session whose ``timeout`` bounds them.
"""

from __future__ import annotations

from typing import Any

from keystoneauth1 import adapter as ks_adapter
from keystoneauth1 import loading as ks_loading
from oslo_config import cfg

from orionx_cyborg import version


def user_agent() -> str:
    return 'orionx-cyborg/%s' % version.version_info.version_string()


def load_adapter(conf: cfg.ConfigOpts, group: str) -> Any:
    """A keystoneauth adapter from the options of *group*.

    It never raises on an HTTP status (callers read the status); the
    group's ``timeout`` applies to every request.
    """
    auth = ks_loading.load_auth_from_conf_options(conf, group)
    session = ks_loading.load_session_from_conf_options(conf, group, auth=auth)
    return ks_loading.load_adapter_from_conf_options(
        conf, group, session=session, auth=auth, raise_exc=False
    )


def session_adapter(
    session: Any,
    service_type: str,
    interface: str | None,
    region_name: str | None,
    endpoint_override: str | None,
) -> ks_adapter.Adapter:
    """An adapter of *service_type* on an existing session (the CLI's).

    Like :func:`load_adapter`'s, it never raises on an HTTP status.
    """
    return ks_adapter.Adapter(
        session=session,
        service_type=service_type,
        interface=interface,
        region_name=region_name,
        endpoint_override=endpoint_override or None,
        user_agent=user_agent(),
        raise_exc=False,
    )
