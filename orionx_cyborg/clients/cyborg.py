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

"""Cyborg's API as typed, frozen records.

Raw JSON through an adapter rather than openstacksdk's accelerator
resources, which drop fields the callers need (``attach_handle_uuid``,
``project_id``, ``rp_uuid``) and ignore server-side filters.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from orionx_cyborg.clients import errors
from orionx_cyborg.clients import http
from orionx_cyborg.clients import microversions


@dataclasses.dataclass(frozen=True)
class Arq:
    """An accelerator request, as Cyborg's API shows it."""

    uuid: str
    state: str
    device_profile_name: str
    device_profile_group_id: int
    hostname: str | None
    device_rp_uuid: str | None
    instance_uuid: str | None
    project_id: str | None
    attach_handle_type: str | None
    attach_handle_uuid: str | None
    attach_handle_info: Mapping[str, str]

    @property
    def bound(self) -> bool:
        return self.state == 'Bound'


@dataclasses.dataclass(frozen=True)
class Deployable:
    uuid: str
    name: str
    rp_uuid: str | None
    num_accelerators: int
    driver_name: str | None
    resource_class: str | None
    traits: frozenset[str]


@dataclasses.dataclass(frozen=True)
class Device:
    uuid: str
    hostname: str
    vendor: str
    model: str
    std_board_info: Mapping[str, Any]


@dataclasses.dataclass(frozen=True)
class DeviceProfile:
    name: str
    groups: tuple[Mapping[str, str], ...]


class CyborgClient:
    """Cyborg's API, read as an admin."""

    def __init__(
        self,
        adapter: Any,
        tracker: http.Tracker | None = None,
        timeout: float | None = None,
    ) -> None:
        """:param timeout: seconds of every request (None: the session's)."""
        self._http = http.JsonHttp(
            adapter, 'Cyborg', microversions.CYBORG, tracker, timeout
        )

    def arqs(self, instance: str | None = None) -> list[Arq]:
        params = {'instance': instance} if instance else None
        items = self._collection('/accelerator_requests', 'arqs', params)
        return [_arq(item) for item in items]

    def arq(self, uuid: str) -> Arq | None:
        """One ARQ by UUID (one row read in Cyborg), or None if gone."""
        status, data = self._http.request(
            'GET', '/accelerator_requests/%s' % uuid, accept=(200, 404)
        )
        if status == 404 or not data:
            return None
        return _arq(data)

    def deployables(self) -> list[Deployable]:
        items = self._collection('/deployables', 'deployables')
        return [_deployable(item) for item in items]

    def devices(self) -> list[Device]:
        items = self._collection('/devices', 'devices')
        return [_device(item) for item in items]

    def device_profile(self, name: str) -> DeviceProfile | None:
        _, data = self._http.request(
            'GET', '/device_profiles', params={'name': name}
        )
        profiles = (data or {}).get('device_profiles', [])
        if not profiles:
            return None
        return DeviceProfile(
            name=profiles[0]['name'],
            groups=tuple(dict(g) for g in profiles[0].get('groups', [])),
        )

    def _collection(
        self,
        path: str,
        key: str,
        params: Mapping[str, str] | None = None,
    ) -> list[Mapping[str, Any]]:
        """The items of one of Cyborg's collections.

        A filter that matches nothing gives an empty list, so a 404 here
        says nothing about the resources: the endpoint is not Cyborg's v2
        API (a wrong catalog entry, a proxy without its backend), or
        Cyborg could not describe one item of the list (Cyborg 17 answers
        404 to every ARQ listing once one ARQ's device profile is gone,
        which a database that does not enforce the foreign key, such as
        SQLite, lets happen). Either way Cyborg cannot be read now: the
        callers keep what they have and try again, as for a 5xx.

        :raises ServerError: Cyborg answered 404.
        """
        status, data = self._http.request(
            'GET', path, params=params, accept=(200, 404)
        )
        if status == 404:
            raise errors.ServerError(
                service='Cyborg',
                reason='GET %s answered 404: the catalog\'s accelerator '
                'endpoint is not Cyborg\'s v2 API, or Cyborg could not '
                'describe an item of the list (see its log)' % path,
            )
        return list((data or {}).get(key, []))


def _arq(item: Mapping[str, Any]) -> Arq:
    return Arq(
        uuid=item['uuid'],
        state=item.get('state') or '',
        device_profile_name=item.get('device_profile_name') or '',
        device_profile_group_id=int(item.get('device_profile_group_id') or 0),
        hostname=item.get('hostname'),
        device_rp_uuid=item.get('device_rp_uuid'),
        instance_uuid=item.get('instance_uuid'),
        project_id=item.get('project_id'),
        attach_handle_type=item.get('attach_handle_type'),
        attach_handle_uuid=item.get('attach_handle_uuid'),
        attach_handle_info=dict(item.get('attach_handle_info') or {}),
    )


def _deployable(item: Mapping[str, Any]) -> Deployable:
    # attributes_list is a JSON string holding one-key dicts.
    raw = item.get('attributes_list') or '[]'
    try:
        attributes = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        attributes = []
    rc = None
    traits = set()
    for attribute in attributes:
        for key, value in dict(attribute).items():
            if key == 'rc':
                rc = str(value)
            elif key.startswith('trait'):
                traits.add(str(value))
    return Deployable(
        uuid=item['uuid'],
        name=item.get('name') or '',
        rp_uuid=item.get('rp_uuid'),
        num_accelerators=int(item.get('num_accelerators') or 0),
        driver_name=item.get('driver_name'),
        resource_class=rc,
        traits=frozenset(traits),
    )


def _device(item: Mapping[str, Any]) -> Device:
    try:
        board = json.loads(item.get('std_board_info') or '{}')
    except ValueError:
        board = {}
    return Device(
        uuid=item['uuid'],
        hostname=item.get('hostname') or '',
        vendor=item.get('vendor') or '',
        model=item.get('model') or '',
        std_board_info=board if isinstance(board, dict) else {},
    )
