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

"""The part of Placement the attach service writes and reads."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from orionx_cyborg.clients import errors
from orionx_cyborg.clients import http
from orionx_cyborg.clients import microversions

#: The consumer type of lease allocations (Placement >= 1.38).
CONSUMER_TYPE = 'ORIONX_LEASE'


@dataclasses.dataclass(frozen=True)
class ConsumerAllocations:
    generation: int | None
    allocations: Mapping[str, Mapping[str, int]]
    """Resource provider UUID -> resource class -> amount."""
    project_id: str | None = None
    consumer_type: str | None = None


class PlacementClient:
    """The part of Placement the attach service writes and reads."""

    def __init__(
        self,
        adapter: Any,
        tracker: http.Tracker | None = None,
        timeout: float | None = None,
    ) -> None:
        """:param timeout: seconds of every request (None: the session's)."""
        self._http = http.JsonHttp(
            adapter, 'Placement', microversions.PLACEMENT, tracker, timeout
        )

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
        except errors.RequestFailed as err:
            if err.kwargs.get('status') != 409:
                raise
            # Only generation conflicts carry this code; a capacity 409
            # says placement.undefined_code.
            if err.kwargs.get('code') == 'placement.concurrent_update':
                raise errors.GenerationConflict(what=consumer) from err
            raise errors.NoRoom(
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

    def provider_inventories(
        self, rp_uuid: str
    ) -> dict[str, dict[str, int]] | None:
        """Resource class -> inventory of a provider; None if it is gone."""
        status, data = self._http.request(
            'GET',
            '/resource_providers/%s/inventories' % rp_uuid,
            accept=(200, 404),
        )
        if status == 404:
            return None
        return {
            rc: dict(inventory)
            for rc, inventory in (data or {}).get('inventories', {}).items()
        }

    def provider_usages(self, rp_uuid: str) -> dict[str, int]:
        """Resource class -> amount allocated on a provider (none if gone)."""
        status, data = self._http.request(
            'GET',
            '/resource_providers/%s/usages' % rp_uuid,
            accept=(200, 404),
        )
        if status == 404:
            return {}
        return {rc: int(n) for rc, n in (data or {}).get('usages', {}).items()}

    def provider_root_name(self, rp_uuid: str) -> str | None:
        """The name of *rp_uuid*'s root provider (its compute node's host
        name, for a provider Cyborg made); None if it is gone.
        """
        status, data = self._http.request(
            'GET', '/resource_providers/%s' % rp_uuid, accept=(200, 404)
        )
        if status == 404 or not data:
            return None
        root = data.get('root_provider_uuid') or rp_uuid
        if root != rp_uuid:
            status, data = self._http.request(
                'GET', '/resource_providers/%s' % root, accept=(200, 404)
            )
            if status == 404 or not data:
                return None
        name = data.get('name')
        return str(name) if name else None

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
        except errors.RequestFailed as err:
            if err.kwargs.get('status') == 409:
                raise errors.GenerationConflict(what=rp_uuid) from err
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
        except errors.RequestFailed as err:
            if err.kwargs.get('status') == 409:
                raise errors.GenerationConflict(what=rp_uuid) from err
            raise
