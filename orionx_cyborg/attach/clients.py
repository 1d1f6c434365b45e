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

"""The client seam of the attach service: Cyborg and Placement over HTTP.

The attach service builds its Cyborg and Placement clients here (the
operator commands, profiles, strict admission and the sandbox build
their own). It uses keystoneauth adapters
configured from ``[cyborg]`` and ``[placement]`` and reads raw JSON, since
openstacksdk's accelerator resources drop fields the service needs
(``attach_handle_uuid``, ``project_id``, ``rp_uuid``) and ignore
server-side filters. Everything it returns is a typed frozen model;
keystoneauth and HTTP errors become :mod:`orionx_cyborg.exception` errors
here.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from keystoneauth1 import exceptions as ks_exceptions
from keystoneauth1 import loading as ks_loading
from oslo_config import cfg
from oslo_log import log as logging

from orionx_cyborg import exception
from orionx_cyborg.i18n import _

LOG = logging.getLogger(__name__)

PLACEMENT_VERSION = '1.39'
CYBORG_VERSION = '2.0'
#: The consumer type of lease allocations (Placement >= 1.38).
CONSUMER_TYPE = 'ORIONX_LEASE'


class ServiceUnavailable(exception.OrionXException):
    msg_fmt = _('%(service)s is unavailable: %(reason)s')


class GenerationConflict(exception.OrionXException):
    msg_fmt = _('Placement refused a stale generation for %(what)s.')


class NoRoom(exception.OrionXException):
    msg_fmt = _('Placement has no room for %(what)s: %(reason)s')


class RequestFailed(exception.OrionXException):
    msg_fmt = _(
        '%(service)s answered %(status)d to %(method)s %(path)s: %(reason)s'
    )


def load_adapter(conf: cfg.ConfigOpts, group: str) -> Any:
    """A keystoneauth adapter from a service's option group."""
    auth = ks_loading.load_auth_from_conf_options(conf, group)
    session = ks_loading.load_session_from_conf_options(conf, group, auth=auth)
    return ks_loading.load_adapter_from_conf_options(
        conf, group, session=session, auth=auth, raise_exc=False
    )


class _Http:
    """Requests through an adapter, with errors converted."""

    def __init__(self, adapter: Any, service: str, microversion: str):
        self._adapter = adapter
        self._service = service
        self._microversion = microversion

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        params: Mapping[str, str] | None = None,
        accept: tuple[int, ...] = (200,),
    ) -> tuple[int, Any]:
        """Send a request; return (status, decoded JSON or None).

        :raises ServiceUnavailable: connection failures and 5xx answers.
        :raises RequestFailed: any status outside *accept*.
        """
        kwargs: dict[str, Any] = {
            'microversion': self._microversion,
            'headers': {'Accept': 'application/json'},
        }
        if body is not None:
            kwargs['json'] = body
        if params:
            kwargs['params'] = dict(params)
        try:
            response = self._adapter.request(path, method, **kwargs)
        except ks_exceptions.ClientException as err:
            raise ServiceUnavailable(
                service=self._service, reason=err
            ) from err
        status = int(response.status_code)
        if status >= 500:
            raise ServiceUnavailable(
                service=self._service,
                reason='%d on %s %s' % (status, method, path),
            )
        if status not in accept:
            raise RequestFailed(
                service=self._service,
                status=status,
                method=method,
                path=path,
                reason=_error_text(response),
                code=_error_code(_json(response)),
            )
        return status, _json(response)


def _json(response: Any) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def _error_text(response: Any) -> str:
    data = _json(response)
    if isinstance(data, dict):
        errors = data.get('errors')
        if isinstance(errors, list) and errors:
            return '; '.join(str(e.get('detail', e)) for e in errors)
        for key in ('error_message', 'message', 'title'):
            if key in data:
                return str(data[key])
    return response.text[:200] if getattr(response, 'text', '') else ''


def _error_code(response_data: Any) -> str | None:
    if isinstance(response_data, dict):
        for error in response_data.get('errors', []):
            if isinstance(error, dict) and error.get('code'):
                return str(error['code'])
    return None


# Cyborg ---------------------------------------------------------------


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

    def __init__(self, adapter: Any) -> None:
        self._http = _Http(adapter, 'Cyborg', CYBORG_VERSION)

    def arqs(self, instance: str | None = None) -> list[Arq]:
        params = {'instance': instance} if instance else None
        _, data = self._http.request(
            'GET', '/accelerator_requests', params=params
        )
        return [_arq(item) for item in (data or {}).get('arqs', [])]

    def arq(self, uuid: str) -> Arq | None:
        """One ARQ by UUID (one row read in Cyborg), or None if gone."""
        status, data = self._http.request(
            'GET', '/accelerator_requests/%s' % uuid, accept=(200, 404)
        )
        if status == 404 or not data:
            return None
        return _arq(data)

    def deployables(self) -> list[Deployable]:
        _, data = self._http.request('GET', '/deployables')
        return [
            _deployable(item) for item in (data or {}).get('deployables', [])
        ]

    def devices(self) -> list[Device]:
        _, data = self._http.request('GET', '/devices')
        return [_device(item) for item in (data or {}).get('devices', [])]

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


# Placement ------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ConsumerAllocations:
    generation: int | None
    allocations: Mapping[str, Mapping[str, int]]
    """Resource provider UUID -> resource class -> amount."""
    project_id: str | None = None
    consumer_type: str | None = None


class PlacementClient:
    """The part of Placement the attach service writes and reads."""

    def __init__(self, adapter: Any) -> None:
        self._http = _Http(adapter, 'Placement', PLACEMENT_VERSION)

    def allocations(self, consumer: str) -> ConsumerAllocations:
        _, data = self._http.request('GET', '/allocations/%s' % consumer)
        data = data or {}
        return ConsumerAllocations(
            generation=data.get('consumer_generation'),
            allocations={
                rp: dict(entry.get('resources', {}))
                for rp, entry in data.get('allocations', {}).items()
            },
            project_id=data.get('project_id'),
            consumer_type=data.get('consumer_type'),
        )

    def claim(
        self,
        consumer: str,
        allocations: Mapping[str, Mapping[str, int]],
        project_id: str,
        user_id: str,
        consumer_generation: int | None,
    ) -> None:
        """Write all allocations of *consumer* in one atomic request.

        :raises GenerationConflict: the consumer or a provider changed;
            read again and retry.
        :raises NoRoom: a provider lacks capacity (any other 409).
        """
        body = {
            'allocations': {
                rp: {'resources': dict(resources)}
                for rp, resources in allocations.items()
            },
            'project_id': project_id,
            'user_id': user_id,
            'consumer_generation': consumer_generation,
            'consumer_type': CONSUMER_TYPE,
        }
        try:
            self._http.request(
                'PUT', '/allocations/%s' % consumer, body, accept=(204,)
            )
        except RequestFailed as err:
            if err.kwargs.get('status') != 409:
                raise
            # Only generation conflicts carry this code; a capacity 409
            # says placement.undefined_code.
            if err.kwargs.get('code') == 'placement.concurrent_update':
                raise GenerationConflict(what=consumer) from err
            raise NoRoom(
                what=consumer, reason=err.kwargs.get('reason')
            ) from err

    def release(self, consumer: str) -> bool:
        """Delete every allocation of *consumer*; False if it had none."""
        status, _ = self._http.request(
            'DELETE', '/allocations/%s' % consumer, accept=(204, 404)
        )
        return status == 204

    def provider_allocations(self, rp_uuid: str) -> dict[str, dict[str, int]]:
        """Consumer -> resources allocated on one provider."""
        status, data = self._http.request(
            'GET',
            '/resource_providers/%s/allocations' % rp_uuid,
            accept=(200, 404),
        )
        if status == 404:
            return {}
        return {
            consumer: dict(entry.get('resources', {}))
            for consumer, entry in (data or {}).get('allocations', {}).items()
        }

    def provider_traits(self, rp_uuid: str) -> tuple[int, set[str]]:
        _, data = self._http.request(
            'GET', '/resource_providers/%s/traits' % rp_uuid
        )
        data = data or {}
        return (
            int(data['resource_provider_generation']),
            set(data.get('traits', [])),
        )

    def set_provider_traits(
        self, rp_uuid: str, generation: int, traits: set[str]
    ) -> None:
        """:raises GenerationConflict: the provider changed meanwhile."""
        for trait in sorted(traits):
            if trait.startswith('CUSTOM_'):
                # Cyborg deletes a custom trait when its last provider
                # loses it: make sure it exists before using it.
                self._http.request(
                    'PUT', '/traits/%s' % trait, accept=(201, 204)
                )
        try:
            self._http.request(
                'PUT',
                '/resource_providers/%s/traits' % rp_uuid,
                {
                    'resource_provider_generation': generation,
                    'traits': sorted(traits),
                },
            )
        except RequestFailed as err:
            if err.kwargs.get('status') == 409:
                raise GenerationConflict(what=rp_uuid) from err
            raise

    def provider_inventory(
        self, rp_uuid: str
    ) -> tuple[int, dict[str, dict[str, int]]]:
        _, data = self._http.request(
            'GET', '/resource_providers/%s/inventories' % rp_uuid
        )
        data = data or {}
        return (
            int(data['resource_provider_generation']),
            {rc: dict(inv) for rc, inv in data.get('inventories', {}).items()},
        )

    def set_provider_inventory(
        self,
        rp_uuid: str,
        generation: int,
        inventories: Mapping[str, Mapping[str, int]],
    ) -> None:
        """:raises GenerationConflict: the provider changed meanwhile."""
        try:
            self._http.request(
                'PUT',
                '/resource_providers/%s/inventories' % rp_uuid,
                {
                    'resource_provider_generation': generation,
                    'inventories': {
                        rc: dict(inv) for rc, inv in inventories.items()
                    },
                },
            )
        except RequestFailed as err:
            if err.kwargs.get('status') == 409:
                raise GenerationConflict(what=rp_uuid) from err
            raise


def from_conf(conf: cfg.ConfigOpts) -> tuple[CyborgClient, PlacementClient]:
    """The two clients, from ``[cyborg]`` and ``[placement]``."""
    return (
        CyborgClient(load_adapter(conf, 'cyborg')),
        PlacementClient(load_adapter(conf, 'placement')),
    )
