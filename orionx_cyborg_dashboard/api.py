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

"""The console's calls: the attach service and Placement, as the user.

Every request carries the token of the Horizon session's user (never a
service user's), so the attach service's policy decides what the console
shows: a 403 becomes :class:`Forbidden`, which the views turn into a
message in place of the data. Endpoints come from the token's catalog
(service type ``orionx-attach``), one per region for the regions page.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from django.conf import settings
from keystoneauth1 import adapter as ks_adapter
from keystoneauth1 import session as ks_session
from keystoneauth1 import token_endpoint
from openstack_dashboard.api import base

from orionx_cyborg.clients import attach as attach_client
from orionx_cyborg.clients import errors
from orionx_cyborg.clients import http
from orionx_cyborg.clients import microversions
from orionx_cyborg_dashboard import summary

SERVICE_TYPE = 'orionx-attach'
#: Seconds any call of the console may take.
TIMEOUT = 30
#: Placement resource providers read for the inventory page, at most.
MAX_PROVIDERS = 500


class Forbidden(Exception):
    """The service's policy refused the user's token (a 403)."""


class NotFound(Exception):
    """No such pool or lease (or one the token may not see)."""


class Unavailable(Exception):
    """The service cannot be reached or failed."""


@dataclasses.dataclass(frozen=True)
class Region:
    name: str
    url: str


def _verify() -> bool | str:
    if getattr(settings, 'OPENSTACK_SSL_NO_VERIFY', False):
        return False
    cacert = getattr(settings, 'OPENSTACK_SSL_CACERT', None)
    return str(cacert) if cacert else True


def _adapter(request: Any, url: str, service_type: str) -> Any:
    """An adapter on *url* carrying the user's token."""
    auth = token_endpoint.Token(url, request.user.token.id)
    session = ks_session.Session(auth=auth, verify=_verify(), timeout=TIMEOUT)
    return ks_adapter.Adapter(
        session=session,
        auth=auth,
        service_type=service_type,
        endpoint_override=url,
        # The callers read the status (a 403 is the policy's answer).
        raise_exc=False,
    )


def _call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except errors.Forbidden as err:
        raise Forbidden(str(err)) from err
    except errors.NotFound as err:
        raise NotFound(str(err)) from err
    except (errors.RequestFailed, errors.ServiceUnavailable) as err:
        raise Unavailable(str(err)) from err


def _document(record: Any) -> dict[str, Any]:
    """A client record as the JSON-like dict the summaries read."""
    return dataclasses.asdict(record)


def attach(
    request: Any, region: Region | None = None
) -> attach_client.AttachClient:
    """The attach service of *region* (the session's region by default)."""
    url = region.url if region else base.url_for(request, SERVICE_TYPE)
    return attach_client.AttachClient(
        _adapter(request, url, SERVICE_TYPE), timeout=TIMEOUT
    )


def regions(request: Any) -> list[Region]:
    """Every region of the catalog with an attach service, by name."""
    service = base.get_service_from_catalog(
        request.user.service_catalog, SERVICE_TYPE
    )
    if not service:
        return []
    found = {}
    for endpoint in service.get('endpoints', []):
        name = endpoint.get('region_id') or endpoint.get('region')
        if not name or name in found:
            continue
        url = base.get_url_for_service(
            service, name, settings.OPENSTACK_ENDPOINT_TYPE
        ) or base.get_url_for_service(
            service, name, settings.SECONDARY_ENDPOINT_TYPE
        )
        if url:
            found[name] = Region(name, url)
    return [found[name] for name in sorted(found)]


def pools(request: Any, region: Region | None = None) -> list[dict[str, Any]]:
    """Every pool the service serves (without GPUs)."""
    return [_document(p) for p in _call(attach(request, region).pools)]


def pool(
    request: Any, name: str, region: Region | None = None
) -> dict[str, Any]:
    """One pool with its GPUs."""
    return _document(_call(attach(request, region).pool, name))


def leases(
    request: Any, project: str | None = None, **filters: str
) -> list[dict[str, Any]]:
    """Leases of *project*, or of every project the token may see."""
    return [
        _document(lease)
        for lease in _call(
            attach(request).leases,
            project=project,
            all_projects=project is None,
            **filters,
        )
    ]


def lease(request: Any, lease_id: str) -> dict[str, Any]:
    """A lease with its events."""
    return _document(_call(attach(request).lease, lease_id))


def placement_providers(request: Any) -> list[dict[str, Any]]:
    """Placement's providers of our resource classes, with inventories,
    usages and their root provider's name (the host).

    Only nested providers are read in detail: Cyborg's devices are the
    compute nodes' children.
    """
    url = base.url_for(request, 'placement')
    adapter = _adapter(request, url, 'placement')
    client = http.JsonHttp(
        adapter, 'Placement', microversions.PLACEMENT, timeout=TIMEOUT
    )

    def get(path: str) -> Any:
        return _call(client.request, 'GET', path)[1] or {}

    listed = get('/resource_providers').get('resource_providers', [])
    names = {p['uuid']: p.get('name') for p in listed}
    wanted = set(summary.PLACEMENT_CLASSES)
    providers = []
    for provider in listed[:MAX_PROVIDERS]:
        if provider.get('parent_provider_uuid') is None:
            continue
        uuid = provider['uuid']
        inventories = get('/resource_providers/%s/inventories' % uuid).get(
            'inventories', {}
        )
        if not wanted & set(inventories):
            continue
        usages = get('/resource_providers/%s/usages' % uuid).get('usages', {})
        providers.append(
            {
                'uuid': uuid,
                'name': provider.get('name'),
                'root_name': names.get(provider.get('root_provider_uuid')),
                'inventories': inventories,
                'usages': usages,
            }
        )
    return providers


def project_servers(request: Any) -> dict[str, str]:
    """Instance id -> name of the project's servers (Nova), as far as
    Nova tells; empty when it cannot.
    """
    from openstack_dashboard.api import nova

    try:
        servers, _more = nova.server_list(request)
    except Exception:  # noqa: S110 - names are a nicety
        return {}
    return {s.id: s.name for s in servers}
