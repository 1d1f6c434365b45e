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

"""How much of each of our resource providers Placement has allocated.

The driver asks before it drops or shrinks anything (see
:mod:`orionx_cyborg.accelerator.reconcile`). It goes through Cyborg's own
Placement client, so it uses the agent's ``[placement]`` credentials.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from collections.abc import Mapping
from typing import Any

from oslo_log import log as logging

LOG = logging.getLogger(__name__)


def rp_uuid(name: str) -> str:
    """The resource provider UUID Cyborg's conductor gives a deployable."""
    return str(uuid.uuid3(uuid.NAMESPACE_DNS, name))


def _cyborg_placement_client() -> Any:
    from cyborg.common import placement_client

    return placement_client.PlacementClient()


class PlacementUsage:
    """Looks up usages of deployables' resource providers in Placement."""

    def __init__(
        self, client_factory: Callable[[], Any] = _cyborg_placement_client
    ) -> None:
        self._client_factory = client_factory
        self._client: Any = None

    def __call__(self, names: list[str]) -> Mapping[str, int] | None:
        """Units allocated per deployable name; None if unknown."""
        try:
            if self._client is None:
                self._client = self._client_factory()
            return {name: self._used(name) for name in names}
        except Exception as err:
            LOG.warning(
                'Cannot read Placement usages of %s (%s); keeping them as '
                'if in use.',
                ', '.join(names),
                err,
            )
            return None

    def _used(self, name: str) -> int:
        path = '/resource_providers/%s/usages' % rp_uuid(name)
        try:
            response = self._client.get(path, version='1.9')
        except Exception as err:
            if getattr(err, 'http_status', None) == 404:
                return 0
            raise
        if response.status_code == 404:
            return 0
        if response.status_code != 200:
            raise RuntimeError(
                'GET %s answered %d' % (path, response.status_code)
            )
        usages = response.json().get('usages', {})
        return int(sum(usages.values()))


def no_usage(names: list[str]) -> Mapping[str, int]:
    """A lookup that reports nothing in use (for previews)."""
    return {name: 0 for name in names}
