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

"""The ``ExtARQ`` subclass that admits a pooled vGPU before Cyborg binds it."""

from __future__ import annotations

import importlib.metadata
from typing import Any

from oslo_config import cfg
from oslo_log import log as logging

from orionx_cyborg import exception
from orionx_cyborg import resources
from orionx_cyborg.admission import client as client_mod

LOG = logging.getLogger(__name__)

#: Cyborg releases whose ExtARQ factory this module was tested with.
SUPPORTED_CYBORG = ('17.',)


def check_cyborg_version(version: str | None = None) -> str:
    """:raises UnsupportedCyborg: for a release this hook was not tested
    with.
    """
    found = version or importlib.metadata.version('openstack-cyborg')
    if not found.startswith(SUPPORTED_CYBORG):
        raise exception.UnsupportedCyborg(
            supported=', '.join('%sx' % v for v in SUPPORTED_CYBORG),
            found=found,
        )
    return found


def install(
    conf: cfg.ConfigOpts, client: client_mod.AdmissionClient | None = None
) -> type:
    """Register the ``ExtARQ`` subclass for pooled vGPUs in Cyborg.

    :returns: the registered class.
    :raises UnsupportedCyborg: for an untested Cyborg release.
    """
    check_cyborg_version()
    from cyborg.common import utils as cyborg_utils
    from cyborg.objects import base as cyborg_base
    from cyborg.objects.ext_arq import ExtARQ

    admission = client or client_mod.AdmissionClient(conf)

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
