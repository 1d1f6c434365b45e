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

"""Is this process of the attach service healthy, and if not, why.

Unhealthy when a dependency is unreachable or no reconcile pass has
succeeded for ``health_missed_passes`` intervals; the reasons name which.
Nothing here calls Cyborg or Placement: their state is what the clients'
own calls saw (:class:`DependencyTracker`, fed by every request), so a
health check answers at once even while a dependency hangs; a call
waiting longer than ``health_stall_seconds`` counts as unreachable. The
ledger is asked (one small query) on each check.

Each worker process of a server keeps its own state; every worker runs
reconcile passes in turn (the leader lock makes them take turns), so each
knows whether its passes succeed.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from typing import Any

from oslo_middleware.healthcheck import pluginbase

from orionx_cyborg import clients
from orionx_cyborg.attach import ledger as ledger_mod

#: The key of the middleware's configuration that carries the Health.
CONF_KEY = 'orionx_health'


class DependencyTracker:
    """What each service's calls saw: failures and calls in flight."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._ids = itertools.count()
        self._in_flight: dict[int, tuple[str, float]] = {}
        # service -> (when, reason) of the last call that failed, cleared
        # by the next call that gets an answer.
        self._failed: dict[str, tuple[float, str]] = {}

    def started(self, service: str) -> int:
        with self._lock:
            token = next(self._ids)
            self._in_flight[token] = (service, self._clock())
            return token

    def finished(self, token: int, error: BaseException | None) -> None:
        with self._lock:
            service, _ = self._in_flight.pop(token, ('', 0.0))
            if not service:
                return
            if isinstance(error, clients.ServiceUnavailable):
                self._failed[service] = (self._clock(), str(error))
            else:
                self._failed.pop(service, None)

    def problems(self, stall_s: float) -> dict[str, str]:
        """Service -> why it counts as unreachable now."""
        now = self._clock()
        with self._lock:
            found = {
                service: 'unreachable: %s' % reason
                for service, (_, reason) in self._failed.items()
            }
            for service, since in self._in_flight.values():
                waited = now - since
                if waited >= stall_s and service not in found:
                    found[service] = 'a call has waited %.0f s' % waited
        return found


class Health:
    """The health of this process, for the health check middleware."""

    def __init__(
        self,
        ledger: ledger_mod.Ledger,
        tracker: DependencyTracker,
        reconcile_interval: int,
        missed_passes: int,
        stall_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ledger = ledger
        self.tracker = tracker
        self._interval = reconcile_interval
        self._missed = missed_passes
        self._stall_s = stall_s
        self._clock = clock
        self._lock = threading.Lock()
        self._last_success = clock()  # counted from the start
        self._last_error: str | None = None
        self._had_pass = False

    def pass_succeeded(self) -> None:
        with self._lock:
            self._last_success = self._clock()
            self._last_error = None
            self._had_pass = True

    def pass_failed(self, error: BaseException) -> None:
        with self._lock:
            self._last_error = str(error)

    def check(self) -> tuple[bool, list[str], dict[str, Any]]:
        """(healthy, reasons, details)."""
        reasons = [
            '%s %s' % (service, problem)
            for service, problem in sorted(
                self.tracker.problems(self._stall_s).items()
            )
        ]
        try:
            leases = sum(self._ledger.count_by_state().values())
        except Exception as err:  # any failure of the database is one
            reasons.append('ledger unreachable: %s' % err)
            leases = None
        with self._lock:
            since = self._clock() - self._last_success
            last_error = self._last_error
            had_pass = self._had_pass
        if self._interval > 0 and since > self._missed * self._interval:
            reasons.append(
                'no reconcile pass succeeded for %.0f s (%d intervals of '
                '%d s)%s'
                % (
                    since,
                    self._missed,
                    self._interval,
                    ': %s' % last_error if last_error else '',
                )
            )
        details = {
            'leases': leases,
            'seconds_since_successful_pass': round(since, 1)
            if had_pass
            else None,
            'last_pass_error': last_error,
        }
        return not reasons, reasons, details


class HealthcheckPlugin(pluginbase.HealthcheckBaseExtension):
    """oslo.middleware healthcheck backend ``orionx_attach``."""

    def healthcheck(self, server_port: int) -> pluginbase.HealthcheckResult:
        health: Health = self.conf[CONF_KEY]
        healthy, reasons, details = health.check()
        return pluginbase.HealthcheckResult(
            available=healthy,
            reason='; '.join(reasons) if reasons else 'OK',
            details=str(details),
        )
