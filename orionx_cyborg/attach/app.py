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

"""Assemble the attach service from its configuration.

Everything the service needs is built here, once, from the
``ConfigOpts``: the ledger, the Cyborg and Placement clients, the runtime
plugin, the lease service, the reconciler, the leader lock that lets one
replica run the periodic pass, and the WSGI application behind its
authentication middleware.
"""

from __future__ import annotations

import dataclasses
import os
import secrets as stdlib_secrets
import socket
import threading
import time
import uuid
from collections.abc import Callable
from collections.abc import Sequence
from typing import Any

from oslo_config import cfg
from oslo_log import log as logging

from orionx_cyborg import clients
from orionx_cyborg import exception
from orionx_cyborg.attach import api
from orionx_cyborg.attach import context as context_mod
from orionx_cyborg.attach import health as health_mod
from orionx_cyborg.attach import leasetokens
from orionx_cyborg.attach import ledger as ledger_mod
from orionx_cyborg.attach import metrics
from orionx_cyborg.attach import pipeline
from orionx_cyborg.attach import policy as policy_mod
from orionx_cyborg.attach import reconciler as reconciler_mod
from orionx_cyborg.attach import service as service_mod
from orionx_cyborg.attach.runtimes import base as runtimes
from orionx_cyborg.clients import adapter as adapter_mod
from orionx_cyborg.conf import attach as attach_conf
from orionx_cyborg.conf import auth as auth_conf
from orionx_cyborg.conf import database as database_conf

LOG = logging.getLogger(__name__)

LOCK_NAME = b'orionx-cyborg-attach-reconcile'
PROJECT = 'orionx-cyborg'
PROG = 'orionx-cyborg-attach'


def register_opts(conf: cfg.ConfigOpts) -> None:
    attach_conf.register_opts(conf)
    database_conf.register_opts(conf)
    for group in auth_conf.ATTACH_SERVICE_GROUPS:
        auth_conf.register_auth_opts(conf, group)
    policy_mod.set_defaults(conf)


def load_conf(argv: Sequence[str], prog: str = PROG) -> cfg.ConfigOpts:
    """The service's configuration from the command line and its files.

    The console scripts and the WSGI entry point read it the same way.
    """
    conf = cfg.ConfigOpts()
    logging.register_options(conf)
    register_opts(conf)
    conf(
        list(argv),
        project=PROJECT,
        prog=prog,
        default_config_files=cfg.find_config_files(project=PROJECT, prog=PROG),
    )
    return conf


def database_url(conf: cfg.ConfigOpts) -> str:
    """``[database] connection``, or SQLite in ``state_path``."""
    return str(
        conf.database.connection
        or 'sqlite:///%s'
        % os.path.join(conf.orionx_attach.state_path, 'attach.sqlite')
    )


def engine_options(conf: cfg.ConfigOpts, url: str) -> dict[str, Any]:
    """SQLAlchemy pool settings from oslo.db's ``[database]`` options.

    SQLite keeps the ledger's own pool (oslo.db ignores these for SQLite
    too).
    """
    if url.startswith('sqlite'):
        return {}
    group = conf.database
    options: dict[str, Any] = {
        'pool_size': group.max_pool_size,
        'max_overflow': group.max_overflow,
        'pool_recycle': group.connection_recycle_time,
    }
    if group.pool_timeout is not None:
        options['pool_timeout'] = group.pool_timeout
    return {k: v for k, v in options.items() if v is not None}


def open_ledger(
    conf: cfg.ConfigOpts,
    sleep: Callable[[float], Any] = time.sleep,
) -> ledger_mod.Ledger:
    """The ledger, waiting for its database as oslo.db services do.

    ``[database] max_retries`` attempts (-1: forever), ``retry_interval``
    seconds apart, until the database answers.

    :raises LedgerUnavailable: it never answered.
    """
    url = database_url(conf)
    ledger = ledger_mod.Ledger.from_url(url, **engine_options(conf, url))
    retries = conf.database.max_retries
    attempt = 0
    while True:
        try:
            ledger.current_revision()
            return ledger
        except ledger_mod.LedgerUnavailable as err:
            if retries >= 0 and attempt >= retries:
                ledger.close()
                raise
            attempt += 1
            LOG.warning(
                'The lease ledger database does not answer (%s); attempt '
                '%d, again in %d s',
                err,
                attempt,
                conf.database.retry_interval,
            )
            sleep(conf.database.retry_interval)


class Leader:
    """Lets one replica at a time run a reconcile pass (tooz lock)."""

    def __init__(self, url: str | None, state_path: str) -> None:
        from tooz import coordination

        if not url:
            directory = os.path.join(state_path, 'coordination')
            os.makedirs(directory, exist_ok=True)
            url = 'file://%s' % directory
        member = '%s-%s' % (socket.gethostname(), uuid.uuid4().hex[:8])
        self._coordinator = coordination.get_coordinator(url, member.encode())
        self._coordinator.start(start_heart=True)
        self._lock = self._coordinator.get_lock(LOCK_NAME)

    def run(
        self, work: Callable[[], reconciler_mod.PassReport]
    ) -> reconciler_mod.PassReport | None:
        """Run *work* if no other replica runs it now; else None."""
        if not self._lock.acquire(blocking=False):
            LOG.debug('Another replica runs the reconcile pass.')
            return None
        try:
            return work()
        finally:
            self._lock.release()

    def stop(self) -> None:
        self._coordinator.stop()


@dataclasses.dataclass
class Components:
    conf: cfg.ConfigOpts
    ledger: ledger_mod.Ledger
    service: service_mod.LeaseService
    reconciler: reconciler_mod.LeaseReconciler
    leader: Leader
    counters: metrics.Recorder
    health: health_mod.Health
    application: Any

    def run_pass(self) -> reconciler_mod.PassReport:
        """A reconcile pass now, waiting for another replica's to end."""
        report = None
        while report is None:
            try:
                report = self.leader.run(self.reconciler.run_pass)
            except Exception as err:
                # Every worker's health says so (shared in the ledger).
                self.health.pass_failed(err)
                raise
            if report is None:
                threading.Event().wait(0.2)
        self.passed(report)
        return report

    def passed(self, report: reconciler_mod.PassReport) -> None:
        """Count a successful pass (metrics, health)."""
        self.health.pass_succeeded()
        self.counters.pass_done(report.started_at, report.duration_s)

    def warm_up(self, retry_s: float = 5.0) -> threading.Thread:
        """Read the pool view in the background, again every *retry_s*
        seconds until Cyborg answers, so that the requests of this
        process that only show it (``/v1/pools``, ``/metrics``) do not
        wait for Cyborg.
        """

        def read() -> None:
            while True:
                try:
                    self.service.view()
                    return
                except Exception as err:  # logged; retried
                    LOG.warning('Reading the pool view failed: %s', err)
                threading.Event().wait(retry_s)

        thread = threading.Thread(
            target=read, name='orionx-warm-up', daemon=True
        )
        thread.start()
        return thread

    def close(self) -> None:
        self.leader.stop()
        self.ledger.close()


def build(
    conf: cfg.ConfigOpts,
    cyborg: clients.CyborgClient | None = None,
    placement: clients.PlacementClient | None = None,
) -> Components:
    """Build the service from *conf* (its options registered and parsed).

    :raises ConfigurationError: a bad or missing option, named.
    :raises LedgerUnavailable: the ledger cannot be opened.
    """
    group = conf.orionx_attach
    settings = service_mod.ServiceSettings.from_conf(conf)
    ledger = open_ledger(conf)
    _check_schema(ledger)
    tracker = health_mod.DependencyTracker()
    if cyborg is None or placement is None:
        cyborg = clients.CyborgClient(
            adapter_mod.load_adapter(conf, auth_conf.CYBORG.name), tracker
        )
        placement = clients.PlacementClient(
            adapter_mod.load_adapter(conf, auth_conf.PLACEMENT.name), tracker
        )
    runtime = runtimes.load_set(conf, group.runtime, group.additional_runtimes)
    counters = metrics.Recorder()
    service = service_mod.LeaseService(
        settings,
        cyborg,
        placement,
        ledger,
        _signer(conf),
        runtime,
        timings=counters,
    )
    reconciler = reconciler_mod.LeaseReconciler(service)
    enforcer = load_policy(conf)
    health = health_mod.Health(
        ledger,
        tracker,
        reconcile_interval=group.reconcile_interval,
        missed_passes=group.health_missed_passes,
        stall_s=group.health_stall_seconds,
    )
    components = Components(
        conf=conf,
        ledger=ledger,
        service=service,
        reconciler=reconciler,
        leader=Leader(group.coordination_url, group.state_path),
        counters=counters,
        health=health,
        application=None,
    )
    application = api.create_app(
        service,
        reconciler,
        components.counters,
        run_pass=components.run_pass,
        enforcer=enforcer,
        service_users=context_mod.ServiceUsers.from_conf(conf),
        health=health,
    )
    components.application = RetryAfter(
        pipeline.build(
            conf,
            application,
            lambda inner: _authenticated(conf, inner),
            health,
        ),
        settings.retry_after,
    )
    return components


def load_policy(conf: cfg.ConfigOpts) -> policy_mod.Enforcer:
    """The policy enforcer, its file (if any) read and checked now.

    :raises ConfigurationError: the policy file cannot be read or names
        an unknown rule.
    """
    enforcer = policy_mod.Enforcer(conf)
    try:
        enforcer.load_rules()
        enforcer.check_rules()
    except Exception as err:
        raise exception.ConfigurationError(
            reason='the policy file ([oslo_policy] policy_file = %s) is '
            'invalid: %s; fix it or check it with "oslopolicy-checker" '
            '(see etc/orionx-cyborg/policy.yaml.sample)'
            % (conf.oslo_policy.policy_file, err)
        ) from err
    return enforcer


def _check_schema(ledger: ledger_mod.Ledger) -> None:
    from orionx_cyborg.attach.ledger import migration

    current = ledger.current_revision()
    head = migration.head_revision()
    if current != head:
        raise exception.ConfigurationError(
            reason='the lease ledger is at revision %s, the code needs %s: '
            'run "orionx-cyborg-attach-dbsync upgrade"'
            % (current or 'none (empty database)', head)
        )


def _signer(conf: cfg.ConfigOpts) -> leasetokens.TokenIssuer:
    group = conf.orionx_attach
    key = group.secret_key
    if not key:
        if group.auth_strategy != 'noauth':
            raise exception.InvalidOption(
                group='orionx_attach',
                option='secret_key',
                value='',
                reason='required: every replica and GPU server derives '
                'lease secrets from it',
                fix='Set it to a long random string, the same on every '
                'replica (e.g. "openssl rand -hex 32").',
            )
        LOG.warning(
            '[orionx_attach] secret_key is unset: using a random '
            'key for this process (sandbox only).'
        )
        key = stdlib_secrets.token_hex(32)
    return leasetokens.TokenIssuer(key, group.secret_ttl)


def _authenticated(conf: cfg.ConfigOpts, application: Any) -> Any:
    if conf.orionx_attach.auth_strategy == 'noauth':
        LOG.warning(
            'orionx-cyborg-attach runs WITHOUT authentication '
            '(auth_strategy = noauth): for the sandbox only.'
        )
        return context_mod.NoAuthMiddleware(application)
    from keystonemiddleware import auth_token

    return PublicPaths(
        application,
        auth_token.AuthProtocol(
            application,
            {
                'oslo_config_config': conf,
                'oslo_config_project': 'orionx-cyborg',
            },
        ),
    )


class RetryAfter:
    """Adds ``Retry-After`` to every 503 that lacks it.

    The API's own 503s carry it; this covers the middleware's
    (keystonemiddleware answers 503 while Keystone is unreachable).
    """

    def __init__(self, app: context_mod.WsgiApp, seconds: int) -> None:
        self.app = app
        self.seconds = str(seconds)

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Any:
        def start(
            status: str, headers: list[tuple[str, str]], *args: Any
        ) -> Any:
            if status.startswith('503') and not any(
                name.lower() == 'retry-after' for name, _ in headers
            ):
                headers = [*headers, ('Retry-After', self.seconds)]
            return start_response(status, headers, *args)

        return self.app(environ, start)


class PublicPaths:
    """Sends the public paths around authentication, without identity.

    Health, metrics and the version document: a load balancer and
    Prometheus have no token.
    """

    def __init__(
        self, public: context_mod.WsgiApp, protected: context_mod.WsgiApp
    ) -> None:
        self.public = public
        self.protected = protected

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Any:
        if environ.get('PATH_INFO', '') in context_mod.PUBLIC_PATHS:
            for key in [k for k in environ if k.startswith('HTTP_X_')]:
                del environ[key]
            return self.public(environ, start_response)
        return self.protected(environ, start_response)


class PeriodicPasses(threading.Thread):
    """Runs a reconcile pass every ``reconcile_interval`` seconds."""

    def __init__(self, components: Components) -> None:
        super().__init__(name='orionx-reconcile', daemon=True)
        self._components = components
        self._stop = threading.Event()

    def run(self) -> None:
        interval = self._components.conf.orionx_attach.reconcile_interval
        while True:
            self.run_once()
            if self._stop.wait(interval):
                return

    def run_once(self) -> None:
        """One pass if this replica leads; never raises."""
        counters = self._components.counters
        try:
            report = self._components.leader.run(
                self._components.reconciler.run_pass
            )
        except Exception as err:
            counters.add('reconcile_failures_total')
            self._components.health.pass_failed(err)
            LOG.error('Reconcile pass failed: %s', err, exc_info=err)
            return
        if report is not None:
            self._components.passed(report)
            counters.add('reconcile_passes_total')
            counters.add('leases_moved_total', report.moved)

    def stop(self) -> None:
        self._stop.set()
