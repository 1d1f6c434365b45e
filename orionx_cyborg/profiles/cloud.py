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

"""Cyborg, Nova and Placement as the profile sync sees them.

The only module of the sync that calls the cloud: it reads device
profiles, flavors, Cyborg's report and who uses a profile, and writes
profiles, flavors and Placement's trait keeper. It gets a ready
openstacksdk connection (:mod:`orionx_cyborg.cmd.connection` builds it);
SDK and keystoneauth errors become :class:`CloudError` here.
"""

from __future__ import annotations

import collections
import functools
import uuid
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from typing import Any
from typing import TypeVar

from keystoneauth1 import exceptions as ks_exceptions
from openstack import exceptions as sdk_exceptions
from oslo_log import log as logging

from orionx_cyborg import clients
from orionx_cyborg import exception
from orionx_cyborg import resources
from orionx_cyborg.clients import http
from orionx_cyborg.clients import microversions
from orionx_cyborg.i18n import _
from orionx_cyborg.profiles import inventory as inventory_mod
from orionx_cyborg.profiles import model
from orionx_cyborg.profiles import state as state_mod

LOG = logging.getLogger(__name__)
T = TypeVar('T')

TRAIT_KEEPER_UUID = str(uuid.uuid5(uuid.NAMESPACE_DNS, state_mod.TRAIT_KEEPER))


class CloudError(exception.OrionXException):
    msg_fmt = _('%(action)s failed: %(error)s')


def _converted(action: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Turn SDK, HTTP and connection errors of a call into CloudError."""

    def decorate(function: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(function)
        def call(*args: Any, **kwargs: Any) -> T:
            try:
                return function(*args, **kwargs)
            except (
                sdk_exceptions.SDKException,
                ks_exceptions.ClientException,
            ) as err:
                raise CloudError(action=action, error=err) from err

        return call

    return decorate


class Cloud:
    """Reads and writes device profiles and flavors.

    :param conn: an ``openstack.connection.Connection`` with admin rights
        on Cyborg and Nova.
    """

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    # -- reading ---------------------------------------------------------

    @_converted('Reading the device profiles and flavors')
    def state(self) -> state_mod.CloudState:
        profiles = tuple(
            state_mod.DeviceProfile(
                uuid=str(p.uuid),
                name=str(p.name),
                groups=tuple(dict(g) for g in p.groups or ()),
                description=str(p.description or ''),
            )
            for p in self._conn.accelerator.device_profiles()
        )
        flavors = tuple(
            _flavor(f)
            for f in self._conn.compute.flavors(
                details=True,
                get_extra_specs=True,
                # Nova's way to list private flavors too (admin only).
                is_public='None',
            )
        )
        return state_mod.CloudState(
            profiles, flavors, trait_kept=self._trait_kept()
        )

    def _trait_kept(self) -> bool:
        status, data = self._placement(
            'GET',
            '/resource_providers/%s/traits' % TRAIT_KEEPER_UUID,
            accept=(200, 404),
        )
        return status == 200 and resources.TRAIT_UNHEALTHY in data['traits']

    def inventory(self, pools: Iterable[str]) -> inventory_mod.Inventory:
        """Cyborg's report. :raises ServiceUnavailable, RequestFailed:"""
        cyborg = clients.CyborgClient(self._conn.accelerator)
        return inventory_mod.Inventory.from_cyborg(
            cyborg.devices(), cyborg.deployables(), pools
        )

    def usage(self) -> dict[str, state_mod.Usage]:
        """Who uses each device profile, by name.

        It lists every accelerator request and every server of every
        project (flavor copies in servers need compute API 2.47).
        """
        arqs = collections.Counter(
            a.device_profile_name
            for a in clients.CyborgClient(self._conn.accelerator).arqs()
        )
        servers = self._servers_by_profile()
        return {
            name: state_mod.Usage(arqs=arqs[name], servers=servers[name])
            for name in set(arqs) | set(servers)
        }

    @_converted('Listing the servers of all projects')
    def _servers_by_profile(self) -> collections.Counter[str]:
        counts: collections.Counter[str] = collections.Counter()
        for server in self._conn.compute.servers(
            details=True, all_projects=True
        ):
            profile = _extra_specs(server.flavor).get(
                state_mod.DEVICE_PROFILE_SPEC
            )
            if profile:
                counts[profile] += 1
        return counts

    # -- writing ---------------------------------------------------------

    def keep_trait(self) -> None:
        """Create the trait and the provider that keeps it (idempotent)."""
        self._placement(
            'PUT', '/traits/%s' % resources.TRAIT_UNHEALTHY, accept=(201, 204)
        )
        status, _ = self._placement(
            'GET',
            '/resource_providers/%s' % TRAIT_KEEPER_UUID,
            accept=(200, 404),
        )
        if status == 404:
            self._placement(
                'POST',
                '/resource_providers',
                accept=(200,),
                body={
                    'name': state_mod.TRAIT_KEEPER,
                    'uuid': TRAIT_KEEPER_UUID,
                },
            )
        _, data = self._placement(
            'GET', '/resource_providers/%s/traits' % TRAIT_KEEPER_UUID
        )
        traits = set(data['traits']) | {resources.TRAIT_UNHEALTHY}
        self._placement(
            'PUT',
            '/resource_providers/%s/traits' % TRAIT_KEEPER_UUID,
            body={
                'traits': sorted(traits),
                'resource_provider_generation': data[
                    'resource_provider_generation'
                ],
            },
        )
        LOG.info(
            'Placement provider %s keeps trait %s',
            state_mod.TRAIT_KEEPER,
            resources.TRAIT_UNHEALTHY,
        )

    def _placement(
        self,
        method: str,
        path: str,
        body: Any = None,
        accept: tuple[int, ...] = (200,),
    ) -> tuple[int, Any]:
        action = '%s %s on Placement' % (method, path)
        placement = http.JsonHttp(
            self._conn.placement, 'Placement', microversions.PLACEMENT
        )
        try:
            return placement.request(method, path, body, accept=accept)
        except clients.RequestFailed as err:
            raise CloudError(
                action=action,
                error='HTTP %d: %s'
                % (err.kwargs['status'], err.kwargs['reason']),
            ) from err
        except clients.ServiceUnavailable as err:
            raise CloudError(action=action, error=err) from err

    @_converted('Creating a device profile')
    def create_profile(
        self, name: str, groups: Iterable[Mapping[str, str]], description: str
    ) -> None:
        self._conn.accelerator.create_device_profile(
            name=name,
            groups=[dict(g) for g in groups],
            description=description,
        )
        LOG.info('Created device profile %s', name)

    @_converted('Deleting a device profile')
    def delete_profile(self, uuid: str) -> None:
        self._conn.accelerator.delete_device_profile(uuid, ignore_missing=True)
        LOG.info('Deleted device profile %s', uuid)

    @_converted('Creating a flavor')
    def create_flavor(
        self, flavor: model.FlavorSpec, extra_specs: Mapping[str, str]
    ) -> str:
        created = self._conn.compute.create_flavor(
            name=flavor.name,
            vcpus=flavor.vcpus,
            ram=flavor.ram,
            disk=flavor.disk,
            ephemeral=flavor.ephemeral,
            swap=flavor.swap,
            is_public=flavor.is_public,
        )
        self._conn.compute.create_flavor_extra_specs(
            created, dict(extra_specs)
        )
        LOG.info('Created flavor %s (%s)', flavor.name, created.id)
        return str(created.id)

    @_converted('Deleting a flavor')
    def delete_flavor(self, flavor_id: str) -> None:
        self._conn.compute.delete_flavor(flavor_id, ignore_missing=True)
        LOG.info('Deleted flavor %s', flavor_id)

    @_converted('Changing the extra specs of a flavor')
    def update_flavor_specs(
        self,
        flavor_id: str,
        set_specs: Mapping[str, str],
        unset: Iterable[str],
    ) -> None:
        if set_specs:
            self._conn.compute.create_flavor_extra_specs(
                flavor_id, dict(set_specs)
            )
        for key in unset:
            self._conn.compute.delete_flavor_extra_specs_property(
                flavor_id, key
            )
        LOG.info('Updated the extra specs of flavor %s', flavor_id)


def _flavor(flavor: Any) -> state_mod.Flavor:
    return state_mod.Flavor(
        id=str(flavor.id),
        name=str(flavor.name),
        vcpus=int(flavor.vcpus),
        ram=int(flavor.ram),
        disk=int(flavor.disk or 0),
        ephemeral=int(flavor.ephemeral or 0),
        # Nova shows no swap as "" before microversion 2.75.
        swap=int(flavor.swap or 0),
        is_public=bool(flavor.is_public),
        extra_specs={str(k): str(v) for k, v in _extra_specs(flavor).items()},
    )


def _extra_specs(flavor: Any) -> Mapping[str, Any]:
    if flavor is None:
        return {}
    if isinstance(flavor, Mapping):
        return dict(flavor.get('extra_specs') or {})
    return dict(getattr(flavor, 'extra_specs', None) or {})
