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

"""The HTTP API of orionx-cyborg-attach (Flask, JSON, under ``/v1``).

``POST /v1/vendordata`` is Nova's DynamicJSON target: the answer is the
calling instance's binding document and the client settings of the
runtime. Nova logs any HTTP error and gives the guest ``{}``, so "not
yet" is a 200 document that says ``pending`` with ``retry_after``, and an
instance without pooled vGPUs gets a 200 document with ``status: none``
(a 404 would be logged as a warning for every instance Nova serves).
Leases and pools are read-only resources for operators and projects;
``POST /v1/reconcile`` runs a pass on demand.
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Callable
from typing import Any

import flask
from oslo_config import cfg
from oslo_log import log as logging
from werkzeug import exceptions as http

from orionx_cyborg import clients
from orionx_cyborg import exception
from orionx_cyborg.attach import context as context_mod
from orionx_cyborg.attach import health as health_mod
from orionx_cyborg.attach import leasetokens
from orionx_cyborg.attach import ledger as ledger_mod
from orionx_cyborg.attach import metrics
from orionx_cyborg.attach import policy as policy_mod
from orionx_cyborg.attach import reconciler as reconciler_mod
from orionx_cyborg.attach import service as service_mod
from orionx_cyborg.attach import status
from orionx_cyborg.attach.policies import leases as lease_rules
from orionx_cyborg.attach.policies import pools as pool_rules
from orionx_cyborg.attach.policies import services as service_rules
from orionx_cyborg.conf import attach as attach_conf

LOG = logging.getLogger(__name__)

API_VERSION = 'v1'
MAX_LIST = 1000
#: Longest host or profile name the ledger stores (its column width).
MAX_NAME = 255
#: Longest project id: Keystone's ids are 64 characters at most.
MAX_ID = 64
#: Longest lease token accepted (a real one is about 300 characters).
MAX_TOKEN = 2048
#: Deepest JSON body accepted (Nova's vendordata body nests 3 or 4
#: levels; user metadata a few more).
MAX_JSON_DEPTH = 32


#: What counts requests and passes (see :mod:`.metrics`).
Counters = metrics.Recorder


@dataclasses.dataclass(frozen=True)
class Dependencies:
    """What the handlers use, stored on the application."""

    service: service_mod.LeaseService
    reconciler: reconciler_mod.LeaseReconciler
    counters: Counters
    run_pass: Callable[[], reconciler_mod.PassReport]
    enforcer: policy_mod.Enforcer
    service_users: context_mod.ServiceUsers
    health: health_mod.Health | None = None


EXTENSION = 'orionx_attach'
blueprint = flask.Blueprint('orionx_attach', __name__)


def create_app(
    service: service_mod.LeaseService,
    reconciler: reconciler_mod.LeaseReconciler,
    counters: Counters | None = None,
    run_pass: Callable[[], reconciler_mod.PassReport] | None = None,
    enforcer: policy_mod.Enforcer | None = None,
    service_users: context_mod.ServiceUsers | None = None,
    health: health_mod.Health | None = None,
) -> flask.Flask:
    """The WSGI application (without the authentication middleware).

    :param run_pass: how ``POST /v1/reconcile`` runs a pass (through the
        leader lock in production); the reconciler's own by default.
    :param enforcer: the policy; the defaults in code when not given.
    :param service_users: who Nova's and Cyborg's service users are; the
        options' defaults (users ``nova`` and ``cyborg`` of domain
        ``Default``) when not given.
    """
    if enforcer is None or service_users is None:
        conf = cfg.ConfigOpts()
        conf([], default_config_files=[], default_config_dirs=[])
        attach_conf.register_opts(conf)
        enforcer = enforcer or policy_mod.Enforcer(conf)
        service_users = service_users or context_mod.ServiceUsers.from_conf(
            conf
        )
    app = flask.Flask('orionx_cyborg.attach')
    app.extensions[EXTENSION] = Dependencies(
        service,
        reconciler,
        counters or metrics.Recorder(),
        run_pass or reconciler.run_pass,
        enforcer,
        service_users,
        health,
    )
    app.register_blueprint(blueprint)
    app.register_error_handler(http.HTTPException, _http_error)
    app.register_error_handler(
        service_mod.InstanceNotFound, _instance_not_found
    )
    app.register_error_handler(clients.ServiceUnavailable, _unavailable)
    app.register_error_handler(
        ledger_mod.LedgerUnavailable, _ledger_unavailable
    )
    app.register_error_handler(policy_mod.PolicyNotAuthorized, _forbidden)
    app.register_error_handler(exception.OrionXException, _internal)
    return app


def _deps() -> Dependencies:
    deps: Dependencies = flask.current_app.extensions[EXTENSION]
    return deps


def _caller() -> context_mod.RequestContext:
    ctx = context_mod.from_environ(
        flask.request.environ, _deps().service_users
    )
    if ctx is None:
        raise http.Unauthorized('Authentication required.')
    return ctx


def _authorize(
    rule: str, target: dict[str, Any] | None = None
) -> context_mod.RequestContext:
    """The caller, if the policy lets it do *rule* on *target*.

    :raises PolicyNotAuthorized: (a 403) it may not.
    """
    ctx = _caller()
    _deps().enforcer.require(ctx, rule, target or _own_project(ctx))
    return ctx


def _own_project(ctx: context_mod.RequestContext) -> dict[str, Any]:
    # Never None: 'project_id:%(project_id)s' would then match a token
    # without a project ('None' == str(None)).
    return {'project_id': ctx.project_id or '-'}


# Errors -------------------------------------------------------------------


def _http_error(err: http.HTTPException) -> flask.Response:
    return _error(err.code or 500, err.description or err.name)


def _instance_not_found(err: Exception) -> flask.Response:
    return _error(404, str(err))


def _forbidden(err: Exception) -> flask.Response:
    return _error(403, str(err))


def _unavailable(err: Exception) -> flask.Response:
    LOG.warning('Answering 503: %s', err)
    return _error(503, '%s Try again later.' % err)


def _ledger_unavailable(err: Exception) -> flask.Response:
    LOG.error('Answering 503: %s', err)
    return _error(503, 'The lease ledger is unavailable. Try again later.')


def _internal(err: Exception) -> flask.Response:
    LOG.error('Request failed: %s', err, exc_info=err)
    return _error(500, 'Internal error: %s' % type(err).__name__)


# Routes -------------------------------------------------------------------


@blueprint.get('/')
def versions() -> Any:
    return {
        'versions': [
            {
                'id': API_VERSION,
                'status': 'CURRENT',
                'links': [
                    {
                        'rel': 'self',
                        'href': flask.request.host_url + API_VERSION,
                    }
                ],
            }
        ]
    }


@blueprint.get('/metrics')
def metrics_page() -> Any:
    deps = _deps()
    return flask.Response(
        deps.counters.render(deps.service), content_type=metrics.CONTENT_TYPE
    )


@blueprint.get('/v1/health')
def health_detail() -> Any:
    """``GET /healthz`` with details, for those who may see the pools."""
    _authorize(pool_rules.SHOW)
    health = _deps().health
    if health is None:
        raise http.NotFound('This service keeps no health state.')
    healthy, reasons, details = health.check()
    document = {'healthy': healthy, 'reasons': reasons, 'details': details}
    return document, 200 if healthy else 503


@blueprint.post('/v1/vendordata')
def vendordata() -> Any:
    _authorize(service_rules.VENDORDATA)
    body = _json_object()
    instance = _uuid_field(body, 'instance-id')
    project = body.get('project-id')
    if project is not None and not isinstance(project, str):
        raise http.BadRequest('project-id must be a string.')
    if project is not None and len(project) > MAX_ID:
        raise http.BadRequest(
            'project-id is longer than %d characters.' % MAX_ID
        )
    deps = _deps()
    started = time.monotonic()
    document = deps.service.document(instance, project or None)
    deps.counters.vendordata_answered(time.monotonic() - started)
    deps.counters.add('vendordata_requests_total')
    return document


@blueprint.post('/v1/admissions')
def admissions() -> Any:
    """Strict admission, for Cyborg's conductor (see admission module)."""
    _authorize(service_rules.ADMISSION)
    body = _json_object()
    arq = clients.Arq(
        uuid=_uuid_field(body, 'arq_uuid'),
        state='BindStarted',
        device_profile_name=_string_field(body, 'device_profile_name'),
        device_profile_group_id=_int_field(body, 'device_profile_group_id'),
        hostname=_string_field(body, 'hostname'),
        device_rp_uuid=_uuid_field(body, 'device_rp_uuid'),
        instance_uuid=_uuid_field(body, 'instance_uuid'),
        project_id=_string_field(body, 'project_id', MAX_ID),
        attach_handle_type=None,
        attach_handle_uuid=None,
        attach_handle_info={},
    )
    service = _deps().service
    try:
        lease_record = service.admit(arq)
    except service_mod.LeaseRefused as err:
        return _error(409, str(err))
    document = _lease(service, lease_record)
    return document, 201


@blueprint.post('/v1/lease-tokens/verify')
def verify_lease_token() -> Any:
    """The online check of a GPU server: does the token's lease hold?

    Always 200 for a token it could read, with ``valid`` and either the
    claims or the reason; a GPU server refuses the connection unless
    ``valid`` is true.
    """
    _authorize(service_rules.LEASE_TOKEN_VERIFY)
    body = _json_object()
    token = body.get('token')
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN:
        raise http.BadRequest('token is required (a lease token string).')
    try:
        claims = _deps().service.check_token(token)
    except leasetokens.TokenRefused as err:
        return {'valid': False, 'reason': err.reason}
    return {'valid': True, 'claims': claims.to_payload()}


@blueprint.get('/v1/leases')
def leases() -> Any:
    filters = _lease_filters(_caller())
    if filters is None:
        return {'leases': []}
    ledger = _deps().service.ledger
    try:
        records = ledger.list(
            limit=_limit(), marker=flask.request.args.get('marker'), **filters
        )
    except ledger_mod.InvalidArgument as err:
        raise http.BadRequest(str(err)) from err
    return {'leases': [_lease(_deps().service, r) for r in records]}


@blueprint.get('/v1/leases/<lease_id>')
def lease(lease_id: str) -> Any:
    ctx = _authorize(lease_rules.SHOW)
    service = _deps().service
    try:
        record: ledger_mod.LeaseRecord | None = service.ledger.get(lease_id)
    except (ledger_mod.LeaseNotFound, ledger_mod.InvalidArgument):
        record = None
    # Another project's lease is as unknown as a missing one.
    if record is None or not _deps().enforcer.authorize(
        ctx, lease_rules.SHOW, {'project_id': record.project_id}
    ):
        raise http.NotFound('No lease %s.' % lease_id)
    document = _lease(service, record)
    document['events'] = [
        {'at': e.at.isoformat(), 'event': e.event, 'detail': e.detail_data()}
        for e in service.ledger.events(lease_id=record.id, limit=50)
    ]
    return document


@blueprint.get('/v1/pools')
def pools() -> Any:
    _authorize(pool_rules.LIST)
    service = _deps().service
    return {
        'pools': [
            status.pool_status(service, name).to_dict(with_gpus=False)
            for name in service.settings.pools
        ]
    }


@blueprint.get('/v1/pools/<name>')
def pool(name: str) -> Any:
    _authorize(pool_rules.SHOW)
    service = _deps().service
    if name not in service.settings.pools:
        raise http.NotFound('This service serves no pool %s.' % name)
    return status.pool_status(service, name).to_dict()


@blueprint.post('/v1/reconcile')
def reconcile() -> Any:
    _authorize(pool_rules.RECONCILE)
    deps = _deps()
    report = deps.run_pass()
    deps.counters.add('reconcile_passes_total')
    deps.counters.add('leases_moved_total', report.moved)
    return report.to_dict()


def _error(code: int, message: str) -> flask.Response:
    response = flask.jsonify(
        {'error': {'code': code, 'title': _title(code), 'message': message}}
    )
    response.status_code = code
    if code == 503:
        response.headers['Retry-After'] = str(
            _deps().service.settings.retry_after
        )
    return response


def _title(code: int) -> str:
    try:
        return str(http.default_exceptions[code]().name)
    except KeyError:
        return 'Error'


def _json_object() -> dict[str, Any]:
    try:
        data = flask.request.get_json(silent=True)
    except RecursionError:
        data = None
    if not isinstance(data, dict):
        raise http.BadRequest('The body must be a JSON object.')
    if _too_deep(data, MAX_JSON_DEPTH):
        raise http.BadRequest(
            'The body nests deeper than %d levels.' % MAX_JSON_DEPTH
        )
    return data


def _too_deep(value: Any, limit: int) -> bool:
    """Whether *value* nests lists or objects deeper than *limit*."""
    level: list[Any] = [value]
    for _ in range(limit):
        level = [
            child
            for item in level
            for child in (
                item.values()
                if isinstance(item, dict)
                else item
                if isinstance(item, list)
                else ()
            )
        ]
        if not level:
            return False
    return any(isinstance(item, (dict, list)) for item in level)


def _uuid_field(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str):
        raise http.BadRequest('%s is required.' % name)
    try:
        return str(uuid.UUID(value))
    except ValueError as err:
        raise http.BadRequest('%s must be a UUID.' % name) from err


def _string_field(
    body: dict[str, Any], name: str, max_length: int = MAX_NAME
) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise http.BadRequest('%s is required.' % name)
    if len(value) > max_length:
        raise http.BadRequest(
            '%s is longer than %d characters.' % (name, max_length)
        )
    return value


def _int_field(body: dict[str, Any], name: str) -> int:
    value = body.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise http.BadRequest('%s must be a non-negative integer.' % name)
    return value


def _limit() -> int | None:
    raw = flask.request.args.get('limit')
    if raw is None:
        return MAX_LIST
    try:
        value = int(raw)
    except ValueError as err:
        raise http.BadRequest('limit must be an integer.') from err
    if not 1 <= value <= MAX_LIST:
        raise http.BadRequest('limit must be between 1 and %d.' % MAX_LIST)
    return value


def _lease_filters(
    ctx: context_mod.RequestContext,
) -> dict[str, Any] | None:
    """The ledger filters of a lease listing; None when none can match.

    :raises PolicyNotAuthorized: the caller may list no leases (a token
        without a project that is not an operator's, above all).
    """
    args = flask.request.args
    filters: dict[str, Any] = {}
    for name in ('instance', 'project', 'host', 'pool'):
        if args.get(name):
            filters[name] = args[name]
    if args.get('state'):
        try:
            filters['state'] = ledger_mod.LeaseState(args['state'])
        except ValueError as err:
            raise http.BadRequest(
                'state must be one of %s.'
                % ', '.join(s.value for s in ledger_mod.LeaseState)
            ) from err
    enforcer = _deps().enforcer
    if enforcer.authorize(
        ctx, lease_rules.LIST_ALL_PROJECTS, _own_project(ctx)
    ):
        return filters
    enforcer.require(ctx, lease_rules.LIST, _own_project(ctx))
    if not ctx.project_id:
        # Belt and braces: a custom policy let a token without a project
        # through; it still gets no other project's leases.
        raise policy_mod.PolicyNotAuthorized(rule=lease_rules.LIST)
    # A project sees its own leases, whatever it asks for.
    if filters.get('project', ctx.project_id) != ctx.project_id:
        return None
    filters['project'] = ctx.project_id
    return filters


def _lease(
    service: service_mod.LeaseService, record: ledger_mod.LeaseRecord
) -> dict[str, Any]:
    endpoint = None
    if record.state is ledger_mod.LeaseState.ACTIVE and record.gpu_host:
        value = service.endpoint(record)
        endpoint = {
            'address': value.address,
            'port': value.port,
            'transport': value.transport.value,
        }
    return {
        'id': record.id,
        'arq_uuid': record.arq_uuid,
        'instance_uuid': record.instance_uuid,
        'project_id': record.project_id,
        'vm_host': record.vm_host,
        'pool': record.pool,
        'state': record.state.value,
        'gmem_mib': record.gmem_mib,
        'compute_pct': record.compute_pct,
        'gpu_uuid': record.gpu_uuid,
        'gpu_host': record.gpu_host,
        'gpu_pci_address': record.gpu_pci_address,
        'endpoint': endpoint,
        'created_at': record.created_at.isoformat(),
        'placed_at': (
            record.placed_at.isoformat() if record.placed_at else None
        ),
    }
