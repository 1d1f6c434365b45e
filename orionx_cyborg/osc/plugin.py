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

"""The OSC plugin module: how ``openstack`` builds the orionx clients.

python-openstackclient imports this module through the
``openstack.cli.extension`` entry point ``orionx``, adds
:func:`build_option_parser`'s options, loads the commands of
``openstack.orionx.v<version>`` and, on a command's first use of
``client_manager.orionx``, calls :func:`make_client`.
"""

from __future__ import annotations

import argparse
import functools
import os
from typing import Any

from orionx_cyborg.clients import adapter as adapter_mod
from orionx_cyborg.clients import attach
from orionx_cyborg.clients import cyborg
from orionx_cyborg.clients import placement

API_NAME = 'orionx'
API_VERSION_OPTION = 'os_orionx_api_version'
DEFAULT_API_VERSION = '1'
API_VERSIONS = ('1',)
#: Seconds each request of the orionx commands may take (the openstack
#: command's own session has no timeout).
DEFAULT_TIMEOUT = attach.DEFAULT_TIMEOUT
TIMEOUT_OPTION = 'orionx_timeout'


class ClientSet:
    """The clients the orionx commands use, on the command's session."""

    def __init__(
        self,
        session: Any,
        interface: str | None,
        region_name: str | None,
        attach_endpoint: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.session = session
        self.interface = interface
        self.region_name = region_name
        self.attach_endpoint = attach_endpoint
        self.timeout = timeout

    @functools.cached_property
    def attach(self) -> attach.AttachClient:
        """orionx-cyborg-attach, from the catalog (or the override)."""
        return attach.AttachClient.from_session(
            self.session,
            interface=self.interface,
            region_name=self.region_name,
            endpoint_override=self.attach_endpoint,
            timeout=self.timeout,
        )

    @functools.cached_property
    def cyborg(self) -> cyborg.CyborgClient:
        return cyborg.CyborgClient(
            self._adapter('accelerator'), timeout=self.timeout
        )

    @functools.cached_property
    def placement(self) -> placement.PlacementClient:
        return placement.PlacementClient(
            self._adapter('placement'), timeout=self.timeout
        )

    def _adapter(self, service_type: str) -> Any:
        return adapter_mod.session_adapter(
            self.session,
            service_type,
            interface=self.interface,
            region_name=self.region_name,
            endpoint_override=None,
        )


def make_client(instance: Any) -> ClientSet:
    """The orionx clients of an OSC ``ClientManager``."""
    options = instance._cli_options
    timeout = options.config.get(TIMEOUT_OPTION) or DEFAULT_TIMEOUT
    return ClientSet(
        instance.session,
        interface=instance.interface,
        region_name=instance.region_name,
        # --os-endpoint-override style: OS_ORIONX_ATTACH_ENDPOINT_OVERRIDE
        # or orionx_attach_endpoint_override in clouds.yaml.
        attach_endpoint=options.get_endpoint(attach.SERVICE_TYPE),
        timeout=float(timeout),
    )


def build_option_parser(
    parser: argparse.ArgumentParser,
) -> argparse.ArgumentParser:
    """The plugin's global options of ``openstack``."""
    parser.add_argument(
        '--os-orionx-api-version',
        metavar='<orionx-api-version>',
        default=os.environ.get('OS_ORIONX_API_VERSION'),
        help='orionx API version, default=%s (Env: OS_ORIONX_API_VERSION)'
        % DEFAULT_API_VERSION,
    )
    parser.add_argument(
        '--os-orionx-timeout',
        metavar='<seconds>',
        type=float,
        default=os.environ.get('OS_ORIONX_TIMEOUT'),
        help='Seconds each request of the orionx commands may take, '
        'default=%d (Env: OS_ORIONX_TIMEOUT)' % DEFAULT_TIMEOUT,
    )
    return parser


def clients(app: Any) -> ClientSet:
    """The orionx clients of a command's *app* (made on first use)."""
    found: ClientSet = getattr(app.client_manager, API_NAME)
    return found
