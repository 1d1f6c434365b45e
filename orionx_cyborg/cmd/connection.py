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

"""The one place the operator commands build their cloud clients.

Credentials come from openstacksdk's cloud configuration, as the
``openstack`` command reads it: ``--os-cloud`` (or ``$OS_CLOUD``) names a
cloud of ``clouds.yaml``, and ``OS_*`` variables (``OS_AUTH_URL``,
``OS_USERNAME``, ``OS_TOKEN``, ``OS_AUTH_TYPE``, endpoint overrides such
as ``OS_COMPUTE_ENDPOINT_OVERRIDE``...) fill in or replace it. The attach
service is found in the Keystone catalog (service type
``orionx-attach``) unless ``--attach-url`` or ``$ORIONX_ATTACH_URL``
names it; requests carry the same keystoneauth session's token.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from keystoneauth1 import exceptions as ks_exceptions

from orionx_cyborg import exception
from orionx_cyborg import version
from orionx_cyborg.clients import adapter as adapter_mod
from orionx_cyborg.i18n import _

ATTACH_SERVICE_TYPE = 'orionx-attach'
ATTACH_URL_ENV = 'ORIONX_ATTACH_URL'
#: Seconds any request of the operator commands may take.
API_TIMEOUT = 60


class ConnectionFailed(exception.OrionXException):
    msg_fmt = _(
        'Cannot connect to the cloud: %(error)s. Name a cloud of '
        'clouds.yaml with --os-cloud or $OS_CLOUD, or set the OS_* '
        'variables as for the openstack command.'
    )


def add_cloud_arguments(parser: argparse.ArgumentParser) -> None:
    """``--os-cloud`` and friends, with the environment as defaults."""
    group = parser.add_argument_group('cloud')
    group.add_argument(
        '--os-cloud',
        metavar='NAME',
        default=os.environ.get('OS_CLOUD'),
        help='cloud of clouds.yaml to use (default: $OS_CLOUD); OS_* '
        'variables work as for the openstack command',
    )
    group.add_argument(
        '--os-region-name',
        metavar='REGION',
        default=os.environ.get('OS_REGION_NAME'),
        help='region (default: $OS_REGION_NAME)',
    )
    group.add_argument(
        '--os-interface',
        metavar='INTERFACE',
        default=os.environ.get('OS_INTERFACE'),
        help='endpoint interface: public, internal or admin '
        '(default: $OS_INTERFACE or public)',
    )
    group.add_argument(
        '--os-api-timeout',
        metavar='SECONDS',
        type=float,
        default=float(os.environ.get('OS_API_TIMEOUT') or API_TIMEOUT),
        help='timeout of every request to the cloud (default: '
        '$OS_API_TIMEOUT or %d)' % API_TIMEOUT,
    )


def add_attach_arguments(parser: argparse.ArgumentParser) -> None:
    add_cloud_arguments(parser)
    parser.add_argument(
        '--attach-url',
        metavar='URL',
        default=os.environ.get(ATTACH_URL_ENV),
        help='endpoint of orionx-cyborg-attach (default: $%s, else the '
        'Keystone catalog, service type %s)'
        % (ATTACH_URL_ENV, ATTACH_SERVICE_TYPE),
    )


def connect(args: argparse.Namespace) -> Any:
    """An openstacksdk connection for *args* (see module docstring).

    :raises ConnectionFailed: no usable cloud configuration.
    """
    # Imported on first use: openstacksdk takes about a second to import
    # and the other orionx-cyborg commands do not need it.
    import openstack
    from openstack import exceptions as sdk_exceptions

    options: dict[str, Any] = {
        'app_name': 'orionx-cyborg',
        'app_version': version.version_info.version_string(),
    }
    if args.os_region_name:
        options['region_name'] = args.os_region_name
    if args.os_interface:
        options['interface'] = args.os_interface
    # No request of these commands waits for a hung service forever.
    options['api_timeout'] = getattr(args, 'os_api_timeout', API_TIMEOUT)
    try:
        conn = openstack.connect(cloud=args.os_cloud, **options)
        # Authenticate now, so a bad configuration fails here, named.
        conn.authorize()
    except (sdk_exceptions.SDKException, ks_exceptions.ClientException) as err:
        raise ConnectionFailed(error=err) from err
    return conn


def attach_adapter(conn: Any, url: str | None) -> Any:
    """A keystoneauth adapter of the attach service's API."""
    return adapter_mod.session_adapter(
        conn.session,
        ATTACH_SERVICE_TYPE,
        interface=conn.config.get_interface(),
        region_name=conn.config.get_region_name(),
        endpoint_override=url,
    )
