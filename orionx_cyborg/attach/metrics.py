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

"""Prometheus metrics, by prometheus_client.

Counters (passes, failures, moves, vendordata requests), the
vendordata and placement latency histograms and the last pass's gauges
are kept by :class:`Recorder`. Under a server with several
worker processes (gunicorn), ``$PROMETHEUS_MULTIPROC_DIR`` names a
directory, fresh for each run, in which each worker writes its values
and a scrape of any worker adds them all up (prometheus_client's
multiprocess mode; :mod:`orionx_cyborg.attach.gunicorn_conf` sets it
up). Pool gauges are computed at scrape time from the ledger (shared by
every worker) and the pool view the worker last read from Cyborg: a
scrape never waits for Cyborg, and a worker that has no view yet reports
no pool gauges.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable
from collections.abc import Iterator

import prometheus_client
from prometheus_client import core
from prometheus_client import multiprocess
from prometheus_client import values

from orionx_cyborg.attach import ledger as ledger_mod
from orionx_cyborg.attach import service as service_mod
from orionx_cyborg.attach import status

MULTIPROC_ENV = 'PROMETHEUS_MULTIPROC_DIR'
#: Buckets of the vendordata latency (seconds): Nova's metadata API
#: gives up after its DynamicJSON timeout (5 s by default).
VENDORDATA_BUCKETS = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)
#: Buckets of the placement latencies (seconds): an allocator decision
#: takes well under a millisecond, a Placement claim tens of them.
PLACEMENT_BUCKETS = (
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.02,
    0.03,
    0.04,
    0.05,
    0.075,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
)
CONTENT_TYPE = prometheus_client.CONTENT_TYPE_LATEST

_COUNTERS = {
    'reconcile_passes_total': 'Reconcile passes run.',
    'reconcile_failures_total': 'Reconcile passes that failed.',
    'leases_moved_total': 'Leases moved off unhealthy GPUs.',
    'vendordata_requests_total': 'Vendordata documents served.',
}


def multiprocess_mode() -> bool:
    return bool(os.environ.get(MULTIPROC_ENV))


class Recorder:
    """This process's counters, histograms and pass gauges; thread-safe.

    It is also the lease service's
    :class:`~orionx_cyborg.attach.service.PlacementTimings`.
    """

    def __init__(self) -> None:
        if multiprocess_mode():
            # prometheus_client picks the value class when it is first
            # imported; a process that imported it before
            # $PROMETHEUS_MULTIPROC_DIR was set would keep its counts
            # to itself.
            values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]
        prometheus_client.disable_created_metrics()  # type: ignore[no-untyped-call]
        self.registry = prometheus_client.CollectorRegistry()
        self._counters = {
            name: prometheus_client.Counter(
                'orionx_' + name, doc, registry=self.registry
            )
            for name, doc in _COUNTERS.items()
        }
        self._duration = prometheus_client.Gauge(
            'orionx_reconcile_duration_seconds',
            'Duration of the last reconcile pass.',
            registry=self.registry,
            multiprocess_mode='mostrecent',
        )
        self._last = prometheus_client.Gauge(
            'orionx_reconcile_last_timestamp_seconds',
            'When the last reconcile pass started (Unix time).',
            registry=self.registry,
            multiprocess_mode='max',
        )
        self._vendordata = prometheus_client.Histogram(
            'orionx_vendordata_duration_seconds',
            'Time to answer a vendordata request, in seconds.',
            registry=self.registry,
            buckets=VENDORDATA_BUCKETS,
        )
        self._decision = prometheus_client.Histogram(
            'orionx_placement_decision_seconds',
            'Time to choose a GPU for a new or pending lease (pool view, '
            'eligible GPUs, queue, allocator, pairing hold), in seconds.',
            registry=self.registry,
            buckets=PLACEMENT_BUCKETS,
        )
        self._placement = prometheus_client.Histogram(
            'orionx_placement_duration_seconds',
            'Time from the start of a lease\'s decision to the lease '
            'active (allocation claimed in Placement, ledger written), in '
            'seconds.',
            registry=self.registry,
            buckets=PLACEMENT_BUCKETS,
        )

    def add(self, name: str, amount: int = 1) -> None:
        """Add to the counter *name* (``reconcile_passes_total``...)."""
        if amount:
            self._counters[name].inc(amount)

    def vendordata_answered(self, duration_s: float) -> None:
        self._vendordata.observe(duration_s)

    def placement_decided(self, duration_s: float) -> None:
        self._decision.observe(duration_s)

    def lease_placed(self, duration_s: float) -> None:
        self._placement.observe(duration_s)

    def pass_done(self, started_at: float, duration_s: float) -> None:
        self._duration.set(duration_s)
        self._last.set(started_at)

    def render(self, service: service_mod.LeaseService) -> bytes:
        """The metrics page: every worker's counters and the pools."""
        pools = _PoolCollector(service)
        if multiprocess_mode():
            registry = prometheus_client.CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            registry.register(pools)
            return prometheus_client.generate_latest(registry)
        own = prometheus_client.generate_latest(self.registry)
        pool_registry = prometheus_client.CollectorRegistry()
        pool_registry.register(pools)
        return own + prometheus_client.generate_latest(pool_registry)


def _utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class _PoolCollector(prometheus_client.registry.Collector):
    def __init__(
        self,
        service: service_mod.LeaseService,
        now: Callable[[], datetime.datetime] = _utcnow,
    ) -> None:
        self._service = service
        self._now = now

    def collect(self) -> Iterator[core.Metric]:
        view = self._service.capacity.cached_view()
        if view is None:
            return
        pools = [
            status.pool_status(self._service, name, view)
            for name in self._service.settings.pools
        ]
        for dimension, unit in (
            ('gmem_mib', 'MiB'),
            ('compute_pct', 'percent'),
        ):
            for what in ('capacity', 'used', 'free'):
                family = core.GaugeMetricFamily(
                    'orionx_pool_%s_%s' % (what, dimension),
                    'Pool GPU %s %s, in %s.'
                    % (dimension.split('_')[0], what, unit),
                    labels=['pool'],
                )
                for p in pools:
                    family.add_metric([p.name], p.totals()[dimension][what])
                yield family
        for name, doc, attribute in (
            (
                'orionx_gpu_used_gmem_mib',
                'GPU memory held by leases, per pool GPU, in MiB.',
                'memory_used',
            ),
            (
                'orionx_gpu_used_compute_pct',
                'Compute percent held by leases, per pool GPU.',
                'compute_used',
            ),
        ):
            family = core.GaugeMetricFamily(
                name, doc, labels=['gpu', 'host', 'pool']
            )
            for p in pools:
                for g in p.gpus:
                    family.add_metric(
                        [g.gpu_uuid, g.host, p.name], getattr(g, attribute)
                    )
            yield family
        leases = core.GaugeMetricFamily(
            'orionx_leases', 'Leases by state.', labels=['pool', 'state']
        )
        for p in pools:
            for state in ledger_mod.LeaseState:
                leases.add_metric(
                    [p.name, str(state)],
                    p.leases_by_state.get(str(state), 0),
                )
        yield leases
        for name, doc, attribute in (
            (
                'orionx_pending_leases',
                'Leases waiting for room, per pool.',
                'pending',
            ),
            (
                'orionx_unhealthy_gpus',
                'Pool GPUs Cyborg reports unhealthy.',
                'unhealthy',
            ),
            (
                'orionx_pool_fragmentation_ratio',
                'Expected share of free pool capacity the recent request '
                'mix cannot use.',
                'fragmentation',
            ),
        ):
            family = core.GaugeMetricFamily(name, doc, labels=['pool'])
            for p in pools:
                family.add_metric([p.name], getattr(p, attribute))
            yield family
        yield self._pending_age(pools)

    def _pending_age(
        self, pools: list[status.PoolStatus]
    ) -> core.GaugeMetricFamily:
        """How long the oldest pending lease of each pool has waited."""
        family = core.GaugeMetricFamily(
            'orionx_pending_oldest_age_seconds',
            'Age of the oldest pending lease, per pool (0: none pending).',
            labels=['pool'],
        )
        now = self._now()
        for p in pools:
            age = 0.0
            if p.pending:
                oldest = self._service.ledger.pending(p.name, limit=1)
                if oldest:
                    age = max(
                        0.0, (now - oldest[0].created_at).total_seconds()
                    )
            family.add_metric([p.name], age)
        return family
