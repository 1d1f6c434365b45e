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

"""Is the attach service healthy, and if not, why: one verdict for all.

Unhealthy when a dependency is unreachable or no reconcile pass has
succeeded for ``health_missed_passes`` intervals; the reasons name which.
Nothing here calls Cyborg or Placement: their state is what the clients'
own calls saw (:class:`DependencyTracker`, fed by every request), so a
health check answers at once even while a dependency hangs; a call
waiting longer than ``health_stall_seconds`` counts as unreachable.

**Shared by every worker and replica.** Each gunicorn worker (and each
replica) sees only its own calls, and only the one holding the leader
lock runs a pass. So what each learns is recorded in the ledger, which
they all share (:meth:`Ledger.report_health`): a dependency's change of
state as soon as a worker sees it, the newer observations of a worker
when it is asked for its health, and every pass's outcome. The verdict
is read from there: whichever worker the load balancer asks gives the
same answer (the ledger itself unreachable is the one thing a worker
then judges alone, from what it saw).
"""

from __future__ import annotations

import dataclasses
import datetime
import itertools
import threading
import time
from collections.abc import Callable
from typing import Any

from oslo_log import log as logging
from oslo_middleware.healthcheck import pluginbase

from orionx_cyborg import clients
from orionx_cyborg.attach import ledger as ledger_mod

LOG = logging.getLogger(__name__)

#: The key of the middleware's configuration that carries the Health.
CONF_KEY = 'orionx_health'
#: The health report of the reconcile passes (the others: dependencies).
PASS_REPORT = 'reconcile-pass'  # noqa: S105

Listener = Callable[[str, 'Observation'], None]


@dataclasses.dataclass(frozen=True)
class Observation:
    """What a process last saw of a dependency, and when (epoch s)."""

    ok: bool
    reason: str | None
    at: float


class DependencyTracker:
    """What each service's calls saw: the newest answer, calls in flight.

    *listener*s hear of each change of a service's state (an answer after
    a failure, a failure after an answer), outside the tracker's lock.
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._ids = itertools.count()
        self._in_flight: dict[int, tuple[str, float]] = {}
        self._newest: dict[str, Observation] = {}
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

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
            failed = isinstance(error, clients.ServiceUnavailable)
            seen = Observation(
                ok=not failed,
                reason='unreachable: %s' % error if failed else None,
                at=self._clock(),
            )
            previous = self._newest.get(service)
            self._newest[service] = seen
            changed = (previous.ok if previous else True) != seen.ok
        if changed:
            for listener in self._listeners:
                listener(service, seen)

    def observations(self, stall_s: float) -> dict[str, Observation]:
        """Service -> the newest thing seen of it.

        A call waiting *stall_s* or longer is a failure seen now.
        """
        now = self._clock()
        with self._lock:
            found = dict(self._newest)
            for service, since in self._in_flight.values():
                if (
                    now - since >= stall_s
                    and found.get(service, Observation(True, None, 0.0)).ok
                ):
                    found[service] = Observation(
                        ok=False,
                        reason='a call has waited over %.0f s' % stall_s,
                        at=now,
                    )
        return found

    def problems(self, stall_s: float) -> dict[str, str]:
        """Service -> why it counts as unreachable now (this process)."""
        return {
            service: seen.reason or 'unreachable'
            for service, seen in self.observations(stall_s).items()
            if not seen.ok
        }


class Health:
    """The service's health, for the health check middleware.

    Reads and writes the shared reports of the ledger (see the module's
    documentation); what this process saw counts alone only while the
    ledger cannot be reached.
    """

    def __init__(
        self,
        ledger: ledger_mod.Ledger,
        tracker: DependencyTracker,
        reconcile_interval: int,
        missed_passes: int,
        stall_s: float,
        clock: Callable[[], float] = time.time,
        background: Callable[[Callable[[], None]], None] | None = None,
    ) -> None:
        """:param background: runs a ledger write off the request's
        thread (a daemon thread by default).
        """
        self._ledger = ledger
        self._background = background or _in_thread
        self.tracker = tracker
        self._interval = reconcile_interval
        self._missed = missed_passes
        self._stall_s = stall_s
        self._clock = clock
        self._lock = threading.Lock()
        # Until a pass is recorded anywhere, counted from this start.
        self._started = clock()
        self._last_success: float | None = None
        self._last_error: str | None = None
        tracker.subscribe(self._publish)

    def pass_succeeded(self) -> None:
        now = self._clock()
        with self._lock:
            self._last_success = now
            self._last_error = None
        self._report(PASS_REPORT, Observation(True, None, now), True)
        # The pass's calls answered: say so now, also where another
        # worker's failure is the newest word (this tracker saw no change).
        self._sync()

    def pass_failed(self, error: BaseException) -> None:
        now = self._clock()
        with self._lock:
            self._last_error = str(error)
        self._report(PASS_REPORT, Observation(False, str(error), now))
        self._sync()

    def _sync(self) -> None:
        try:
            self._shared()
        except Exception as err:  # any failure of the database is one
            LOG.warning('Could not record the health: %s', err)

    def _publish(self, service: str, seen: Observation) -> None:
        # Called by the request that saw the change: it must not wait for
        # the ledger (whose write lock may be held for seconds).
        self._background(lambda: self._report(service, seen))

    def _report(
        self, name: str, seen: Observation, succeeded: bool = False
    ) -> None:
        """Record *seen* in the ledger.

        A failure to is only logged: the ledger's own health says it.
        """
        try:
            self._ledger.report_health(
                name, seen.ok, seen.reason, _utc(seen.at), succeeded
            )
        except Exception as err:  # any failure of the database is one
            LOG.warning('Could not record the health of %s: %s', name, err)

    def _shared(self) -> dict[str, ledger_mod.HealthReport]:
        """The ledger's reports, after adding this process's newer ones.

        :raises LedgerUnavailable: (or any database error).
        """
        reports = self._ledger.health_reports()
        for service, seen in self.tracker.observations(self._stall_s).items():
            stored = reports.get(service)
            if stored is None:
                newer = not seen.ok
            else:
                newer = seen.at > stored.at.timestamp() and (
                    seen.ok,
                    seen.reason,
                ) != (stored.ok, stored.reason)
            if newer:
                self._ledger.report_health(
                    service, seen.ok, seen.reason, _utc(seen.at)
                )
                reports[service] = ledger_mod.HealthReport(
                    name=service,
                    ok=seen.ok,
                    reason=seen.reason,
                    at=_utc(seen.at),
                )
        return reports

    def check(self) -> tuple[bool, list[str], dict[str, Any]]:
        """(healthy, reasons, details), the same from every worker."""
        reasons: list[str] = []
        try:
            reports = self._shared()
            leases: int | None = sum(self._ledger.count_by_state().values())
            passes = reports.pop(PASS_REPORT, None)
            problems = {
                name: report.reason or 'unreachable'
                for name, report in reports.items()
                if not report.ok
            }
            last_success = (
                passes.succeeded_at.timestamp()
                if passes is not None and passes.succeeded_at
                else None
            )
            last_error = (
                passes.reason if passes is not None and not passes.ok else None
            )
        except Exception as err:  # any failure of the database is one
            reasons.append('ledger unreachable: %s' % err)
            leases = None
            problems = self.tracker.problems(self._stall_s)
            with self._lock:
                last_success = self._last_success
                last_error = self._last_error
        reasons[:0] = [
            '%s %s' % (service, problem)
            for service, problem in sorted(problems.items())
        ]
        since = self._clock() - (
            last_success if last_success is not None else self._started
        )
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
            if last_success is not None
            else None,
            'last_pass_error': last_error,
        }
        return not reasons, reasons, details


def _in_thread(work: Callable[[], None]) -> None:
    threading.Thread(target=work, name='orionx-health', daemon=True).start()


def _utc(epoch: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(epoch, tz=datetime.UTC)


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
