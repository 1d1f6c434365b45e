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

"""Prometheus metrics in the text exposition format."""

from __future__ import annotations

from collections.abc import Iterable

from orionx_cyborg.attach import ledger as ledger_mod
from orionx_cyborg.attach import reconciler as reconciler_mod
from orionx_cyborg.attach import service as service_mod
from orionx_cyborg.attach import status

Sample = tuple[dict[str, str], float]


def _family(
    name: str, kind: str, doc: str, samples: Iterable[Sample]
) -> list[str]:
    lines = ['# HELP %s %s' % (name, doc), '# TYPE %s %s' % (name, kind)]
    for labels, value in samples:
        text = ','.join(
            '%s="%s"' % (k, _escape(v)) for k, v in sorted(labels.items())
        )
        lines.append(
            '%s{%s} %s' % (name, text, _number(value))
            if text
            else '%s %s' % (name, _number(value))
        )
    return lines


def _escape(value: str) -> str:
    return value.replace('\\', '\\\\').replace('"', '\\"').replace('\n', '\\n')


def _number(value: float) -> str:
    return repr(float(value)) if isinstance(value, float) else str(value)


def render(
    service: service_mod.LeaseService,
    reconciler: reconciler_mod.LeaseReconciler | None,
    counters: dict[str, int],
) -> str:
    """The metrics page.

    :raises ServiceUnavailable: Cyborg cannot be read.
    """
    pools = [
        status.pool_status(service, name) for name in service.settings.pools
    ]
    lines: list[str] = []
    for dimension, unit in (('gmem_mib', 'MiB'), ('compute_pct', 'percent')):
        for what in ('capacity', 'used', 'free'):
            lines += _family(
                'orionx_pool_%s_%s' % (what, dimension),
                'gauge',
                'Pool GPU %s %s, in %s.'
                % (dimension.split('_')[0], what, unit),
                [
                    ({'pool': p.name}, p.totals()[dimension][what])
                    for p in pools
                ],
            )
    lines += _family(
        'orionx_gpu_used_gmem_mib',
        'gauge',
        'GPU memory held by leases, per pool GPU, in MiB.',
        [
            (
                {'pool': p.name, 'gpu': g.gpu_uuid, 'host': g.host},
                g.memory_used,
            )
            for p in pools
            for g in p.gpus
        ],
    )
    lines += _family(
        'orionx_gpu_used_compute_pct',
        'gauge',
        'Compute percent held by leases, per pool GPU.',
        [
            (
                {'pool': p.name, 'gpu': g.gpu_uuid, 'host': g.host},
                g.compute_used,
            )
            for p in pools
            for g in p.gpus
        ],
    )
    lines += _family(
        'orionx_leases',
        'gauge',
        'Leases by state.',
        [
            (
                {'pool': p.name, 'state': str(state)},
                p.leases_by_state.get(str(state), 0),
            )
            for p in pools
            for state in ledger_mod.LeaseState
        ],
    )
    lines += _family(
        'orionx_pending_leases',
        'gauge',
        'Leases waiting for room, per pool.',
        [({'pool': p.name}, p.pending) for p in pools],
    )
    lines += _family(
        'orionx_unhealthy_gpus',
        'gauge',
        'Pool GPUs Cyborg reports unhealthy.',
        [({'pool': p.name}, p.unhealthy) for p in pools],
    )
    lines += _family(
        'orionx_pool_fragmentation_ratio',
        'gauge',
        'Expected share of free pool capacity the recent request mix '
        'cannot use.',
        [({'pool': p.name}, p.fragmentation) for p in pools],
    )
    report = reconciler.last_report if reconciler else None
    lines += _family(
        'orionx_reconcile_duration_seconds',
        'gauge',
        'Duration of the last reconcile pass.',
        [({}, report.duration_s)] if report else [],
    )
    lines += _family(
        'orionx_reconcile_last_timestamp_seconds',
        'gauge',
        'When the last reconcile pass started (Unix time).',
        [({}, report.started_at)] if report else [],
    )
    for name, doc in (
        ('reconcile_passes_total', 'Reconcile passes run.'),
        ('reconcile_failures_total', 'Reconcile passes that failed.'),
        ('leases_moved_total', 'Leases moved off unhealthy GPUs.'),
        ('vendordata_requests_total', 'Vendordata documents served.'),
    ):
        lines += _family(
            'orionx_' + name, 'counter', doc, [({}, counters.get(name, 0))]
        )
    return '\n'.join(lines) + '\n'
