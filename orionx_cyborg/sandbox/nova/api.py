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

"""The Nova stand-in's HTTP side: the compute API it needs, and hooks.

Compute API (``/v2.1``), enough for openstacksdk and the openstack CLI:
version discovery, flavors with extra specs, servers (create, show,
list, delete, and the actions shelve, shelveOffload, unshelve and
evacuate) and ``os-server-external-events``, which Cyborg calls when it
has bound an ARQ. Errors use Nova's body format.

Also served: ``GET /openstack/latest/vendor_data2.json`` with an
``X-Instance-ID`` header (the metadata service, without Neutron's proxy
signature) and the sandbox's own routes under ``/sandbox``: a server's
full record (ARQs, events received, attachments), every event received,
the vendordata targets (``GET``/``PUT``) and the compute hosts.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import urllib.parse
import uuid
from collections.abc import Callable
from collections.abc import Iterable
from typing import Any

from orionx_cyborg.clients import microversions
from orionx_cyborg.sandbox import identity
from orionx_cyborg.sandbox.nova import service

LOG = logging.getLogger(__name__)

MIN_VERSION = '2.1'
MAX_VERSION = microversions.COMPUTE

Response = tuple[int, Any]
Handler = Callable[['Request', dict[str, str]], Response]

_REASONS = {
    200: 'OK',
    201: 'Created',
    202: 'Accepted',
    204: 'No Content',
    207: 'Multi-Status',
    400: 'Bad Request',
    401: 'Unauthorized',
    403: 'Forbidden',
    404: 'Not Found',
    405: 'Method Not Allowed',
    409: 'Conflict',
    500: 'Internal Server Error',
}
_ERROR_KEYS = {
    400: 'badRequest',
    401: 'unauthorized',
    403: 'forbidden',
    404: 'itemNotFound',
    405: 'notAllowed',
    409: 'conflictingRequest',
    500: 'computeFault',
}


class HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclasses.dataclass
class Request:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: Any
    base_url: str

    @property
    def token(self) -> str | None:
        return self.headers.get('x-auth-token')

    def who(self) -> identity.Identity:
        if not self.token:
            raise HttpError(
                401, 'The request you have made requires authentication.'
            )
        return identity.identity_for(
            self.token, self.headers.get('x-service-token')
        )

    def require_admin(self) -> identity.Identity:
        who = self.who()
        if not (who.is_admin or who.service):
            raise HttpError(403, 'Policy does not allow this action.')
        return who


def version_document(base_url: str) -> dict[str, Any]:
    return {
        'id': 'v2.1',
        'status': 'CURRENT',
        'version': MAX_VERSION,
        'min_version': MIN_VERSION,
        'updated': '2013-07-23T11:33:21Z',
        'links': [{'rel': 'self', 'href': base_url + '/v2.1/'}],
        'media-types': [
            {
                'base': 'application/json',
                'type': 'application/vnd.openstack.compute+json;version=2.1',
            }
        ],
    }


def flavor_view(flavor: service.Flavor, base_url: str) -> dict[str, Any]:
    return {
        'id': flavor.id,
        'name': flavor.name,
        'ram': flavor.ram,
        'vcpus': flavor.vcpus,
        'disk': flavor.disk,
        'swap': flavor.swap,
        'OS-FLV-EXT-DATA:ephemeral': flavor.ephemeral,
        'OS-FLV-DISABLED:disabled': False,
        'os-flavor-access:is_public': flavor.is_public,
        'rxtx_factor': flavor.rxtx_factor,
        'description': flavor.description,
        'extra_specs': dict(flavor.extra_specs),
        'links': _links(base_url, 'flavors', flavor.id),
    }


def server_view(server: service.Server, base_url: str) -> dict[str, Any]:
    view: dict[str, Any] = {
        'id': server.id,
        'name': server.name,
        'status': server.status,
        'tenant_id': server.project_id,
        'user_id': server.user_id,
        'metadata': dict(server.metadata),
        'hostId': '',
        'image': {'id': server.image_id, 'links': []},
        'flavor': {
            'original_name': server.flavor.name,
            'vcpus': server.flavor.vcpus,
            'ram': server.flavor.ram,
            'disk': server.flavor.disk,
            'ephemeral': server.flavor.ephemeral,
            'swap': server.flavor.swap,
            'extra_specs': dict(server.flavor.extra_specs),
        },
        'created': server.created,
        'updated': server.updated,
        'addresses': {},
        'accessIPv4': '',
        'accessIPv6': '',
        'key_name': None,
        'security_groups': [],
        'config_drive': '',
        'locked': False,
        'description': None,
        'tags': [],
        'OS-DCF:diskConfig': 'MANUAL',
        'OS-EXT-AZ:availability_zone': 'nova',
        'OS-EXT-SRV-ATTR:host': server.host,
        'OS-EXT-SRV-ATTR:hypervisor_hostname': server.host,
        'OS-EXT-SRV-ATTR:instance_name': 'instance-%s' % server.id[:8],
        'OS-EXT-SRV-ATTR:hostname': server.hostname,
        'OS-EXT-STS:vm_state': server.vm_state,
        'OS-EXT-STS:task_state': server.task_state,
        'OS-EXT-STS:power_state': 1 if server.status == 'ACTIVE' else 0,
        'os-extended-volumes:volumes_attached': [],
        'links': _links(base_url, 'servers', server.id),
    }
    if server.fault and server.status == 'ERROR':
        view['fault'] = server.fault
    return view


def _links(base_url: str, collection: str, item: str) -> list[dict[str, str]]:
    return [
        {
            'rel': 'self',
            'href': '%s/v2.1/%s/%s' % (base_url, collection, item),
        },
        {'rel': 'bookmark', 'href': '%s/%s/%s' % (base_url, collection, item)},
    ]


class ComputeApp:
    """WSGI application of the Nova stand-in."""

    def __init__(self, nova: service.NovaStandIn) -> None:
        self.nova = nova
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._add_routes()

    def _route(self, method: str, pattern: str, handler: Handler) -> None:
        self.routes.append((method, re.compile('^%s$' % pattern), handler))

    def _add_routes(self) -> None:
        flavor = r'/v2\.1/flavors/(?P<flavor>[^/]+)'
        server = r'/v2\.1/servers/(?P<server>[^/]+)'
        for method, pattern, handler in (
            ('GET', r'/?', self.versions),
            ('GET', r'/v2\.1/?', self.version),
            ('GET', r'/v2\.1/flavors', self.list_flavors),
            ('GET', r'/v2\.1/flavors/detail', self.list_flavors_detail),
            ('POST', r'/v2\.1/flavors', self.create_flavor),
            ('GET', flavor, self.show_flavor),
            ('DELETE', flavor, self.delete_flavor),
            ('GET', flavor + '/os-extra_specs', self.list_extra_specs),
            ('POST', flavor + '/os-extra_specs', self.create_extra_specs),
            (
                'GET',
                flavor + '/os-extra_specs/(?P<key>[^/]+)',
                self.show_extra_spec,
            ),
            (
                'PUT',
                flavor + '/os-extra_specs/(?P<key>[^/]+)',
                self.update_extra_spec,
            ),
            (
                'DELETE',
                flavor + '/os-extra_specs/(?P<key>[^/]+)',
                self.delete_extra_spec,
            ),
            ('GET', r'/v2\.1/servers', self.list_servers),
            ('GET', r'/v2\.1/servers/detail', self.list_servers_detail),
            ('POST', r'/v2\.1/servers', self.create_server),
            ('GET', server, self.show_server),
            ('DELETE', server, self.delete_server),
            ('POST', server + '/action', self.server_action),
            (
                'POST',
                r'/v2\.1/os-server-external-events',
                self.external_events,
            ),
            (
                'GET',
                r'/openstack/latest/vendor_data2\.json',
                self.metadata_vendordata,
            ),
            (
                'GET',
                r'/sandbox/servers/(?P<server>[^/]+)',
                self.sandbox_server,
            ),
            (
                'GET',
                r'/sandbox/servers/(?P<server>[^/]+)/vendor_data2\.json',
                self.sandbox_vendordata,
            ),
            ('GET', r'/sandbox/events', self.sandbox_events),
            ('GET', r'/sandbox/vendordata_targets', self.get_targets),
            ('PUT', r'/sandbox/vendordata_targets', self.put_targets),
            ('GET', r'/sandbox/hosts', self.sandbox_hosts),
        ):
            self._route(method, pattern, handler)

    # -- WSGI --------------------------------------------------------

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        try:
            request = _request(environ)
            status, body = self._dispatch(request)
        except HttpError as err:
            status, body = (
                err.status,
                {
                    _ERROR_KEYS.get(err.status, 'error'): {
                        'code': err.status,
                        'message': err.message,
                    }
                },
            )
        except Exception:
            LOG.exception('Unexpected error in the Nova stand-in')
            status, body = (
                500,
                {
                    'computeFault': {
                        'code': 500,
                        'message': 'Unexpected error',
                    }
                },
            )
        payload = b'' if body is None else json.dumps(body).encode()
        version = _requested_version(environ)
        headers = [
            ('Content-Type', 'application/json'),
            ('Content-Length', str(len(payload))),
            ('OpenStack-API-Version', 'compute %s' % version),
            ('X-OpenStack-Nova-API-Version', version),
            ('Vary', 'OpenStack-API-Version, X-OpenStack-Nova-API-Version'),
        ]
        start_response('%d %s' % (status, _REASONS.get(status, '')), headers)
        return [payload]

    def _dispatch(self, request: Request) -> Response:
        allowed = False
        for method, pattern, handler in self.routes:
            match = pattern.match(request.path)
            if match:
                allowed = True
                if method == request.method:
                    return handler(request, match.groupdict())
        if allowed:
            raise HttpError(405, 'Method not allowed.')
        raise HttpError(404, 'Not found: %s' % request.path)

    # -- version discovery -------------------------------------------

    def versions(self, request: Request, args: dict[str, str]) -> Response:
        return 200, {'versions': [version_document(request.base_url)]}

    def version(self, request: Request, args: dict[str, str]) -> Response:
        return 200, {'version': version_document(request.base_url)}

    # -- flavors -----------------------------------------------------

    def _flavors(self, request: Request) -> list[service.Flavor]:
        request.who()
        return self.nova.list_flavors()

    def list_flavors(self, request: Request, args: dict[str, str]) -> Response:
        return 200, {
            'flavors': [
                {
                    'id': f.id,
                    'name': f.name,
                    'description': f.description,
                    'links': _links(request.base_url, 'flavors', f.id),
                }
                for f in self._flavors(request)
            ]
        }

    def list_flavors_detail(
        self, request: Request, args: dict[str, str]
    ) -> Response:
        return 200, {
            'flavors': [
                flavor_view(f, request.base_url)
                for f in self._flavors(request)
            ]
        }

    def create_flavor(
        self, request: Request, args: dict[str, str]
    ) -> Response:
        request.require_admin()
        body = _member(request, 'flavor')
        try:
            flavor = service.Flavor(
                id=str(body.get('id') or uuid.uuid4()),
                name=str(body['name']),
                vcpus=int(body['vcpus']),
                ram=int(body['ram']),
                disk=int(body.get('disk', 0)),
                ephemeral=int(body.get('OS-FLV-EXT-DATA:ephemeral', 0)),
                swap=int(body.get('swap') or 0),
                description=body.get('description'),
                is_public=bool(body.get('os-flavor-access:is_public', True)),
                rxtx_factor=float(body.get('rxtx_factor', 1.0)),
            )
        except (KeyError, TypeError, ValueError) as err:
            raise HttpError(400, 'Invalid flavor: %s' % err) from err
        return 200, {
            'flavor': flavor_view(
                self._call(self.nova.create_flavor, flavor), request.base_url
            )
        }

    def _flavor(self, request: Request, flavor_id: str) -> service.Flavor:
        request.who()
        flavor: service.Flavor = self._call(self.nova.get_flavor, flavor_id)
        return flavor

    def show_flavor(self, request: Request, args: dict[str, str]) -> Response:
        flavor = self._flavor(request, args['flavor'])
        return 200, {'flavor': flavor_view(flavor, request.base_url)}

    def delete_flavor(
        self, request: Request, args: dict[str, str]
    ) -> Response:
        request.require_admin()
        self._call(self.nova.delete_flavor, args['flavor'])
        return 202, None

    def list_extra_specs(
        self, request: Request, args: dict[str, str]
    ) -> Response:
        flavor = self._flavor(request, args['flavor'])
        return 200, {'extra_specs': dict(flavor.extra_specs)}

    def create_extra_specs(
        self, request: Request, args: dict[str, str]
    ) -> Response:
        request.require_admin()
        flavor = self._flavor(request, args['flavor'])
        specs = _member(request, 'extra_specs')
        flavor.extra_specs.update({str(k): str(v) for k, v in specs.items()})
        return 200, {'extra_specs': specs}

    def show_extra_spec(
        self, request: Request, args: dict[str, str]
    ) -> Response:
        flavor = self._flavor(request, args['flavor'])
        if args['key'] not in flavor.extra_specs:
            raise HttpError(
                404,
                'Flavor %s has no extra specs with key %s.'
                % (flavor.id, args['key']),
            )
        return 200, {args['key']: flavor.extra_specs[args['key']]}

    def update_extra_spec(
        self, request: Request, args: dict[str, str]
    ) -> Response:
        request.require_admin()
        flavor = self._flavor(request, args['flavor'])
        body = request.body if isinstance(request.body, dict) else {}
        if list(body) != [args['key']]:
            raise HttpError(400, 'Request body and URI mismatch')
        flavor.extra_specs[args['key']] = str(body[args['key']])
        return 200, body

    def delete_extra_spec(
        self, request: Request, args: dict[str, str]
    ) -> Response:
        request.require_admin()
        flavor = self._flavor(request, args['flavor'])
        if flavor.extra_specs.pop(args['key'], None) is None:
            raise HttpError(
                404,
                'Flavor %s has no extra specs with key %s.'
                % (flavor.id, args['key']),
            )
        return 200, None

    # -- servers -----------------------------------------------------

    def _visible_servers(self, request: Request) -> list[service.Server]:
        who = request.who()
        servers = self.nova.list_servers()
        if not who.is_admin:
            servers = [s for s in servers if s.project_id == who.project_id]
        name = _query_value(request, 'name')
        if name:
            servers = [s for s in servers if re.search(name, s.name)]
        return sorted(servers, key=lambda s: s.created)

    def list_servers(self, request: Request, args: dict[str, str]) -> Response:
        return 200, {
            'servers': [
                {
                    'id': s.id,
                    'name': s.name,
                    'links': _links(request.base_url, 'servers', s.id),
                }
                for s in self._visible_servers(request)
            ]
        }

    def list_servers_detail(
        self, request: Request, args: dict[str, str]
    ) -> Response:
        return 200, {
            'servers': [
                server_view(s, request.base_url)
                for s in self._visible_servers(request)
            ]
        }

    def _server(self, request: Request, server_id: str) -> service.Server:
        who = request.who()
        server: service.Server = self._call(self.nova.get_server, server_id)
        if not who.is_admin and server.project_id != who.project_id:
            raise HttpError(404, 'Instance %s could not be found.' % server_id)
        return server

    def create_server(
        self, request: Request, args: dict[str, str]
    ) -> Response:
        request.who()
        body = _member(request, 'server')
        try:
            name = str(body['name'])
            flavor_ref = str(body['flavorRef']).rstrip('/').rsplit('/', 1)[-1]
        except KeyError as err:
            raise HttpError(400, 'Missing server attribute %s' % err) from err
        server = self._call(
            self.nova.create_server,
            str(request.token),
            name,
            flavor_ref,
            image_id=body.get('imageRef') or None,
            metadata=body.get('metadata'),
            user_data=body.get('user_data'),
            requested_host=_requested_host(body),
        )
        return 202, {
            'server': {
                'id': server.id,
                'links': _links(request.base_url, 'servers', server.id),
                'OS-DCF:diskConfig': 'MANUAL',
                'security_groups': [],
            }
        }

    def show_server(self, request: Request, args: dict[str, str]) -> Response:
        server = self._server(request, args['server'])
        return 200, {'server': server_view(server, request.base_url)}

    def delete_server(
        self, request: Request, args: dict[str, str]
    ) -> Response:
        server = self._server(request, args['server'])
        self._call(self.nova.delete_server, server.id)
        return 204, None

    def server_action(
        self, request: Request, args: dict[str, str]
    ) -> Response:
        server = self._server(request, args['server'])
        if not isinstance(request.body, dict) or len(request.body) != 1:
            raise HttpError(400, 'There is no such action.')
        action, params = next(iter(request.body.items()))
        params = params if isinstance(params, dict) else {}
        if action == 'shelve':
            self._call(self.nova.shelve, server.id)
        elif action == 'shelveOffload':
            request.require_admin()
            self._call(self.nova.shelve_offload, server.id)
        elif action == 'unshelve':
            self._call(self.nova.unshelve, server.id, params.get('host'))
        elif action == 'evacuate':
            request.require_admin()
            self._call(self.nova.evacuate, server.id, params.get('host'))
            return 200, None
        else:
            raise HttpError(400, 'There is no such action: %s' % action)
        return 202, None

    def external_events(
        self, request: Request, args: dict[str, str]
    ) -> Response:
        request.require_admin()
        events = _member(request, 'events')
        if not isinstance(events, list):
            raise HttpError(400, 'events must be a list')
        answers = self.nova.receive_events(events)
        codes = {answer['code'] for answer in answers}
        if codes == {404}:
            raise HttpError(404, 'No instances found for any event')
        return (200 if codes == {200} else 207), {'events': answers}

    # -- metadata and sandbox ----------------------------------------

    def metadata_vendordata(
        self, request: Request, args: dict[str, str]
    ) -> Response:
        server_id = request.headers.get('x-instance-id')
        if not server_id:
            raise HttpError(400, 'X-Instance-ID header is missing')
        return 200, self._call(self.nova.vendor_data2, server_id)

    def sandbox_server(
        self, request: Request, args: dict[str, str]
    ) -> Response:
        request.require_admin()
        server = self._call(self.nova.get_server, args['server'])
        return 200, {'server': server.sandbox_view()}

    def sandbox_vendordata(
        self, request: Request, args: dict[str, str]
    ) -> Response:
        request.require_admin()
        return 200, self._call(self.nova.vendor_data2, args['server'])

    def sandbox_events(
        self, request: Request, args: dict[str, str]
    ) -> Response:
        request.require_admin()
        return 200, {'events': self.nova.list_events()}

    def get_targets(self, request: Request, args: dict[str, str]) -> Response:
        request.require_admin()
        return 200, {'targets': [str(t) for t in self.nova.vendordata.targets]}

    def put_targets(self, request: Request, args: dict[str, str]) -> Response:
        request.require_admin()
        targets = _member(request, 'targets')
        try:
            self.nova.set_vendordata_targets([str(t) for t in targets])
        except ValueError as err:
            raise HttpError(400, str(err)) from err
        return self.get_targets(request, args)

    def sandbox_hosts(
        self, request: Request, args: dict[str, str]
    ) -> Response:
        request.require_admin()
        return 200, {
            'hosts': [
                {
                    'name': h.name,
                    'compute_node_uuid': h.rp_uuid,
                    'drivers': list(h.drivers),
                    'sysfs_root': h.sysfs_root,
                }
                for h in self.nova.manifest.hosts
            ]
        }

    @staticmethod
    def _call(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Map the stand-in's errors to HTTP answers."""
        try:
            return function(*args, **kwargs)
        except service.NotFound as err:
            raise HttpError(404, str(err)) from err
        except service.BadRequest as err:
            raise HttpError(400, str(err)) from err
        except service.Conflict as err:
            raise HttpError(409, str(err)) from err


def _request(environ: dict[str, Any]) -> Request:
    length = int(environ.get('CONTENT_LENGTH') or 0)
    raw = environ['wsgi.input'].read(length) if length else b''
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        raise HttpError(400, 'Malformed request body') from None
    headers = {
        key[5:].replace('_', '-').lower(): value
        for key, value in environ.items()
        if key.startswith('HTTP_')
    }
    host = environ.get('HTTP_HOST') or '%s:%s' % (
        environ['SERVER_NAME'],
        environ['SERVER_PORT'],
    )
    return Request(
        method=environ['REQUEST_METHOD'],
        path=environ.get('PATH_INFO', '') or '/',
        query=environ.get('QUERY_STRING', ''),
        headers=headers,
        body=body,
        base_url='http://%s' % host,
    )


def _member(request: Request, key: str) -> Any:
    if not isinstance(request.body, dict) or key not in request.body:
        raise HttpError(400, "Missing '%s' in the request body" % key)
    return request.body[key]


def _query_value(request: Request, key: str) -> str | None:
    values = urllib.parse.parse_qs(request.query).get(key)
    return values[0] if values else None


def _requested_host(body: dict[str, Any]) -> str | None:
    """``host`` (2.74) or an admin's ``availability_zone=nova:<host>``."""
    if body.get('host'):
        return str(body['host'])
    zone = str(body.get('availability_zone') or '')
    _, sep, host = zone.partition(':')
    return host.split(':')[0] if sep and host else None


def _requested_version(environ: dict[str, Any]) -> str:
    header = environ.get('HTTP_OPENSTACK_API_VERSION', '')
    if header.startswith('compute '):
        version = header.split(' ', 1)[1].strip()
    else:
        version = environ.get('HTTP_X_OPENSTACK_NOVA_API_VERSION', '')
    if version == 'latest':
        return MAX_VERSION
    return version or MIN_VERSION
