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

"""The conductor's client of the attach service: ``POST /v1/admissions``."""

from __future__ import annotations

from typing import Any

from keystoneauth1 import exceptions as ks_exceptions
from oslo_config import cfg
from oslo_log import log as logging

from orionx_cyborg import exception
from orionx_cyborg.clients import adapter as adapter_mod
from orionx_cyborg.conf import admission as admission_conf

LOG = logging.getLogger(__name__)


class AdmissionClient:
    """``POST /v1/admissions`` on the attach service."""

    def __init__(self, conf: cfg.ConfigOpts) -> None:
        self._conf = conf
        self._adapter: Any = None

    def _http(self) -> Any:
        if self._adapter is None:
            self._adapter = adapter_mod.load_adapter(
                self._conf, admission_conf.GROUP
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
            raise exception.AttachServiceRefused(
                arq=body['arq_uuid'], reason=message
            )
        self._unreachable(body, 'HTTP %d' % response.status_code)

    def _unreachable(self, body: dict[str, Any], reason: str) -> None:
        if self._conf[admission_conf.GROUP].fail_open:
            LOG.warning(
                'Attach service unreachable (%s): binding ARQ %s '
                'without admission',
                reason,
                body['arq_uuid'],
            )
            return
        raise exception.AttachServiceRefused(
            arq=body['arq_uuid'],
            reason='attach service unreachable: %s' % reason,
        )
