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

"""Strict admission: claim the pooled vGPU while Cyborg binds the ARQ.

Opt-in, and version-fragile by nature. Cyborg calls no driver at bind
time; its only in-process hook is the ``ExtARQ`` subclass factory keyed by
a device profile group's resource class, used by the conductor. This
module registers a subclass for ``CUSTOM_ORIONX_VGPU`` whose ``bind``
first asks the attach service for a placed lease (``POST
/v1/admissions``): when the pool has no room, the bind fails, the ARQ
becomes ``BindFailed`` and Nova reschedules or fails the boot, instead of
starting a VM whose vGPU would wait as ``pending``.

Run the conductor through ``orionx-cyborg-conductor`` (which checks the
Cyborg version, registers the options below in cyborg.conf and the
subclass, then starts Cyborg's own conductor) instead of
``cyborg-conductor``. Deleting ARQs does not go through this hook; the
attach service's reconciler releases those leases as always.
"""

from __future__ import annotations

import importlib.metadata
import sys
from collections.abc import Callable
from typing import Any

from keystoneauth1 import exceptions as ks_exceptions
from keystoneauth1 import loading as ks_loading
from oslo_config import cfg
from oslo_log import log as logging

from orionx_cyborg import exception
from orionx_cyborg import resources
from orionx_cyborg.i18n import _

LOG = logging.getLogger(__name__)

#: Cyborg releases whose ExtARQ factory this module was tested with.
SUPPORTED_CYBORG = ('17.',)
GROUP = 'orionx_admission'

opts = [
    cfg.BoolOpt(
        'fail_open',
        default=False,
        help=_(
            'When the attach service cannot be reached, let the bind go '
            'on (the lease is then made by the reconciler, perhaps as '
            'pending) instead of failing it.'
        ),
    ),
]


class AttachServiceRefused(exception.OrionXException):
    msg_fmt = _('The attach service refused ARQ %(arq)s: %(reason)s')


class UnsupportedCyborg(exception.ConfigurationError):
    msg_fmt = _(
        'Strict admission hooks into Cyborg internals and supports '
        'openstack-cyborg %(supported)s; this host has %(found)s. Run the '
        'stock cyborg-conductor (leases are then made after the bind).'
    )


def check_cyborg_version(version: str | None = None) -> str:
    """:raises UnsupportedCyborg: for a release this hook was not tested
    with.
    """
    found = version or importlib.metadata.version('openstack-cyborg')
    if not found.startswith(SUPPORTED_CYBORG):
        raise UnsupportedCyborg(
            supported=', '.join('%sx' % v for v in SUPPORTED_CYBORG),
            found=found,
        )
    return found


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_group(
        cfg.OptGroup(
            GROUP,
            title=_('Strict admission of pooled vGPUs'),
            help=_('How the conductor reaches orionx-cyborg-attach.'),
        )
    )
    conf.register_opts(opts, group=GROUP)
    ks_loading.register_session_conf_options(conf, GROUP)
    ks_loading.register_auth_conf_options(conf, GROUP)
    ks_loading.register_adapter_conf_options(conf, GROUP)
    conf.set_default('service_type', 'orionx-attach', group=GROUP)


def list_opts() -> list[tuple[str, list[cfg.Opt]]]:
    return [
        (
            GROUP,
            opts
            + ks_loading.get_adapter_conf_options(include_deprecated=False)
            + ks_loading.get_session_conf_options()
            + ks_loading.get_auth_common_conf_options(),
        )
    ]


class AdmissionClient:
    """``POST /v1/admissions`` on the attach service."""

    def __init__(self, conf: cfg.ConfigOpts) -> None:
        self._conf = conf
        self._adapter: Any = None

    def _http(self) -> Any:
        if self._adapter is None:
            auth = ks_loading.load_auth_from_conf_options(self._conf, GROUP)
            session = ks_loading.load_session_from_conf_options(
                self._conf, GROUP, auth=auth
            )
            self._adapter = ks_loading.load_adapter_from_conf_options(
                self._conf, GROUP, session=session, auth=auth, raise_exc=False
            )
        return self._adapter

    def admit(self, body: dict[str, Any]) -> None:
        """:raises AttachServiceRefused: no lease can be placed now."""
        try:
            response = self._http().post('/v1/admissions', json=body)
        except ks_exceptions.ClientException as err:
            self._unreachable(body, str(err))
            return
        if response.status_code == 201:
            return
        if response.status_code == 409:
            message = response.json().get('error', {}).get('message', '')
            raise AttachServiceRefused(arq=body['arq_uuid'], reason=message)
        self._unreachable(body, 'HTTP %d' % response.status_code)

    def _unreachable(self, body: dict[str, Any], reason: str) -> None:
        if self._conf[GROUP].fail_open:
            LOG.warning(
                'Attach service unreachable (%s): binding ARQ %s '
                'without admission',
                reason,
                body['arq_uuid'],
            )
            return
        raise AttachServiceRefused(
            arq=body['arq_uuid'],
            reason='attach service unreachable: %s' % reason,
        )


def install(
    conf: cfg.ConfigOpts, client: AdmissionClient | None = None
) -> type:
    """Register the ``ExtARQ`` subclass for pooled vGPUs in Cyborg.

    :returns: the registered class.
    :raises UnsupportedCyborg: for an untested Cyborg release.
    """
    check_cyborg_version()
    from cyborg.common import utils as cyborg_utils
    from cyborg.objects import base as cyborg_base
    from cyborg.objects.ext_arq import ExtARQ

    admission = client or AdmissionClient(conf)

    class OrionXExtARQ(ExtARQ):  # type: ignore[misc]
        """An ARQ on a pooled-vGPU entitlement: admitted before bound."""

        def bind(self, context: Any, deployable: Any) -> Any:
            arq = self.arq
            admission.admit(
                {
                    'arq_uuid': arq.uuid,
                    'instance_uuid': arq.instance_uuid,
                    'hostname': arq.hostname,
                    'project_id': arq.project_id or context.project_id,
                    'device_rp_uuid': arq.device_rp_uuid,
                    'device_profile_name': arq.device_profile_name,
                    'device_profile_group_id': arq.device_profile_group_id,
                }
            )
            return super().bind(context, deployable)

    registered: type = cyborg_utils.factory_register(
        ExtARQ, resources.RC_ENTITLEMENT
    )(cyborg_base.CyborgObjectRegistry.register(OrionXExtARQ))
    LOG.info(
        'Strict admission of pooled vGPUs installed in Cyborg %s',
        check_cyborg_version(),
    )
    return registered


def main(
    argv: list[str] | None = None, conductor: Callable[[], None] | None = None
) -> int:
    """``orionx-cyborg-conductor``: Cyborg's conductor with admission."""
    try:
        check_cyborg_version()
    except UnsupportedCyborg as err:
        sys.stderr.write('orionx-cyborg-conductor: %s\n' % err)
        return 2
    # cyborg.cmd first: it selects oslo.service's threading backend.
    from cyborg.cmd import conductor as cyborg_conductor
    from cyborg.conf import CONF

    register_opts(CONF)
    install(CONF)
    if argv is not None:
        sys.argv = [sys.argv[0]] + list(argv)
    (conductor or cyborg_conductor.main)()
    return 0
