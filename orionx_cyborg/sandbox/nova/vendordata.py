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

"""Nova's DynamicJSON vendordata: ask each configured target about a VM.

As nova 34's ``nova/api/metadata/vendordata_dynamic.py``: targets are
``name@url`` (``[api] vendordata_dynamic_targets``); each gets a ``POST``
of the instance's JSON document; the answers, keyed by target name, make
up ``vendor_data2.json``. Any HTTP error, connection failure or body that
is not JSON makes that target's entry ``{}`` (Nova logs a warning), so a
target must answer "not yet" with a 200 document, never with an error.
The call carries the Nova service token, as with
``[vendordata_dynamic_auth]`` configured.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable
from collections.abc import Mapping
from typing import Any

import requests

from orionx_cyborg.sandbox import identity

LOG = logging.getLogger(__name__)

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 5.0


@dataclasses.dataclass(frozen=True)
class Target:
    name: str
    url: str

    @classmethod
    def parse(cls, spec: str) -> Target:
        name, sep, url = spec.partition('@')
        if not sep or not name or not url:
            raise ValueError(
                'vendordata target %r is not of the form name@url' % spec
            )
        return cls(name, url)

    def __str__(self) -> str:
        return '%s@%s' % (self.name, self.url)


def parse_targets(specs: Iterable[str]) -> list[Target]:
    return [Target.parse(spec) for spec in specs]


def request_body(instance: Mapping[str, Any]) -> dict[str, Any]:
    """The document Nova posts; *instance* holds the server's fields."""
    return {
        'project-id': instance['project_id'],
        'instance-id': instance['id'],
        'image-id': instance['image_id'],
        'user-data': instance.get('user_data'),
        'hostname': instance['hostname'],
        'metadata': dict(instance.get('metadata') or {}),
        'boot-roles': ','.join(instance.get('boot_roles') or ()),
    }


class VendordataCaller:
    def __init__(
        self,
        targets: Iterable[Target] = (),
        session: requests.Session | None = None,
        token: str = identity.SERVICE_TOKEN,
    ) -> None:
        self.targets = list(targets)
        self.session = session if session is not None else requests.Session()
        self.token = token

    def vendor_data2(self, instance: Mapping[str, Any]) -> dict[str, Any]:
        body = request_body(instance)
        return {
            target.name: self._call(target, body) for target in self.targets
        }

    def _call(self, target: Target, body: Mapping[str, Any]) -> Any:
        try:
            response = self.session.post(
                target.url,
                json=body,
                headers={
                    'Accept': 'application/json',
                    'User-Agent': 'openstack-nova-vendordata',
                    'X-Auth-Token': self.token,
                },
                timeout=(CONNECT_TIMEOUT, READ_TIMEOUT),
            )
            response.raise_for_status()
            return response.json() if response.text else {}
        except (requests.RequestException, ValueError) as err:
            LOG.warning(
                'Error from dynamic vendordata service %s at %s: %s',
                target.name,
                target.url,
                err,
            )
            return {}
