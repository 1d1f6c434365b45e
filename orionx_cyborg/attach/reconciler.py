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

"""The reconcile pass: Cyborg, Placement and the ledger brought to agree.

Cyborg emits no event when an accelerator request is bound or deleted,
so the attach service compares, periodically and on demand, the bound
entitlement ARQs with its leases and converges:

1. finish what a crash interrupted (``releasing``, ``claiming``,
   ``moving``);
2. release leases whose ARQ is gone or unbound (instance deleted,
   shelve-offloaded, evacuated away: evacuate and unshelve bring new ARQs,
   so the lease follows them);
3. create the missing leases;
4. place pending leases, first come first served;
5. move leases off GPUs Cyborg reports unhealthy (self-healing);
6. audit Placement per pool GPU: re-claim a lease whose allocation is
   missing, release allocations of our consumer type that no lease owns;
7. heal drift: write Cyborg's traits and totals of pool providers to
   Placement where a lease write made Cyborg's own update fail.

Every step is idempotent; after a crash anywhere, one pass restores:
every bound entitlement ARQ has exactly one lease, every lease exactly
one allocation, and no allocation lacks a lease.

A pass never releases a lease on evidence older than the lease: Cyborg's
ARQs are listed before the ledger, so a lease created in between (a
vendordata call, strict admission, another replica) looks unbound; its
ARQ is read again by UUID before the release. One failing lease, pool
or GPU does not stop the pass: the failure is logged, counted
(:attr:`Reconciler.failures_total`, :attr:`PassReport.errors`) and the
pass goes on. Only an unreachable Cyborg, Placement or ledger ends it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any

from oslo_log import log as logging

from orionx_cyborg import clients
from orionx_cyborg import resources
from orionx_cyborg.attach import faults
from orionx_cyborg.attach import ledger as ledger_mod
from orionx_cyborg.attach import service as service_mod
from orionx_cyborg.clients import pools as pool_mod
from orionx_cyborg.clients import retry

LOG = logging.getLogger(__name__)

State = ledger_mod.LeaseState
Lease = ledger_mod.LeaseRecord
BINDING_STATES = frozenset({'Bound', 'BindStarted'})
#: Failures that end a pass: a dependency is down, every step would fail.
ABORTING = (clients.ServiceUnavailable, ledger_mod.LedgerUnavailable)
#: Errors a report keeps (the count is exact, the list is cut).
MAX_REPORTED_ERRORS = 50


@dataclasses.dataclass
class PassReport:
    """What one pass did."""

    started_at: float = 0.0
    duration_s: float = 0.0
    arqs: int = 0
    leases: int = 0
    created: int = 0
    rejected: int = 0
    released: int = 0
    placed: int = 0
    queued_held: int = 0
    moved: int = 0
    repaired: int = 0
    orphans_released: int = 0
    drift_healed: int = 0
    kept_newer: int = 0
    failures: int = 0
    moves: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    errors: list[str] = dataclasses.field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class LeaseReconciler:
    """Runs reconcile passes over one service's pools."""

    def __init__(
        self,
        service: service_mod.LeaseService,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.service = service
        self._monotonic = monotonic
        self._wall = wall
        self.last_report: PassReport | None = None
        #: Leases, pools and GPUs whose step failed, since start (for
        #: health and metrics); each pass's are in its report.
        self.failures_total = 0

    @property
    def ledger(self) -> ledger_mod.Ledger:
        return self.service.ledger

    @property
    def placement(self) -> clients.PlacementClient:
        return self.service.placement

    def run_pass(self) -> PassReport:
        """One full pass.

        :raises ServiceUnavailable: Cyborg or Placement cannot be read;
            nothing is lost, the next pass continues.
        """
        report = PassReport(started_at=self._wall())
        start = self._monotonic()
        view = self.service.view(refresh=True)
        self.service.forget_allocators()
        arqs = self.service.cyborg.arqs()
        wanted = {
            arq.uuid: (arq, pool)
            for arq, pool in self.service.entitlement_arqs(arqs)
        }
        # Strict admission creates the lease while Cyborg still says
        # BindStarted: keep those leases, create none for such ARQs.
        kept = {
            arq.uuid: (arq, pool)
            for arq, pool in self.service.entitlement_arqs(
                arqs, BINDING_STATES
            )
        }
        report.arqs = len(wanted)
        self._settle_existing(kept, view, report)
        self._create_missing(wanted, report)
        for pool in self.service.settings.pools:
            # Strict FIFO within a pool: a failing head stops that pool.
            with self._isolated(report, 'placing pool %s' % pool):
                report.queued_held += len(self.service.queue_held(pool))
                report.placed += len(self.service.place_pending(pool))
        self._move_off_unhealthy(report)
        leases = self._all_leases()
        by_gpu: dict[str, list[Lease]] = {}
        for lease in leases:
            by_gpu.setdefault(lease.gpu_uuid or '', []).append(lease)
        known = {lease.id for lease in leases}
        for gpu in view.gpus.values():
            with self._isolated(report, 'auditing GPU %s' % gpu.gpu_uuid):
                self._audit_gpu(
                    gpu, by_gpu.get(gpu.gpu_uuid, []), known, report
                )
            with self._isolated(report, 'healing GPU %s' % gpu.gpu_uuid):
                self._heal_drift(gpu, report)
        self._forget_stale_rejections(wanted)
        report.leases = sum(self.ledger.count_by_state().values())
        report.duration_s = self._monotonic() - start
        self.last_report = report
        LOG.info(
            'Reconcile pass: %(arqs)d entitled ARQs, %(leases)d leases; '
            'created %(created)d, released %(released)d, placed '
            '%(placed)d (%(queued_held)d held leases queued), moved %(moved)d, '
            'repaired %(repaired)d, orphans '
            '%(orphans_released)d, drift %(drift_healed)d, kept newer '
            '%(kept_newer)d, failures %(failures)d in %(duration_s).3fs',
            report.to_dict(),
        )
        return report

    @contextlib.contextmanager
    def _isolated(self, report: PassReport, what: str) -> Iterator[None]:
        """One lease's, pool's or GPU's step: a failure is counted.

        The failure is logged and the pass goes on; an unreachable
        dependency ends the pass instead.
        """
        try:
            yield
        except ABORTING:
            raise
        except Exception as err:
            report.failures += 1
            self.failures_total += 1
            if len(report.errors) < MAX_REPORTED_ERRORS:
                report.errors.append('%s: %s' % (what, err))
            LOG.error(
                'Reconcile pass: %s failed, going on: %s',
                what,
                err,
                exc_info=err,
            )

    # Steps ---------------------------------------------------------------

    def _settle_existing(
        self,
        wanted: dict[str, tuple[clients.Arq, str]],
        view: pool_mod.PoolView,
        report: PassReport,
    ) -> None:
        for lease in self._all_leases():
            with self._isolated(report, 'lease %s' % lease.id):
                self._settle(lease, wanted.get(lease.arq_uuid), view, report)

    def _settle(
        self,
        lease: Lease,
        want: tuple[clients.Arq, str] | None,
        view: pool_mod.PoolView,
        report: PassReport,
    ) -> None:
        if lease.state is State.RELEASING:
            self.service.release(lease, 'finishing a release')
            report.released += 1
        elif want is None or want[0].instance_uuid != lease.instance_uuid:
            if self._still_bound(lease):
                # Made after this pass listed the ARQs: the listing is
                # older than the lease and proves nothing.
                report.kept_newer += 1
                return
            self.service.release(lease, 'its ARQ is gone or unbound')
            report.released += 1
        elif lease.state is State.CLAIMING:
            report.repaired += self._finish_claim(lease, view)
        elif lease.state is State.MOVING:
            report.repaired += self._finish_move(lease, view)

    def _still_bound(self, lease: Lease) -> bool:
        """Whether Cyborg, asked now, binds the lease's ARQ still."""
        arq = self.service.cyborg.arq(lease.arq_uuid)
        return (
            arq is not None
            and arq.instance_uuid == lease.instance_uuid
            and bool(self.service.entitlement_arqs([arq], BINDING_STATES))
        )

    def _finish_claim(self, lease: Lease, view: pool_mod.PoolView) -> int:
        current = self.placement.allocations(lease.id)
        if set(current.allocations) == {
            lease.memory_rp_uuid,
            lease.compute_rp_uuid,
        }:
            self.ledger.transition(
                lease.id,
                lease.version,
                State.ACTIVE,
                event='repaired',
                detail={'step': 'claim written before a crash'},
            )
            return 1
        gpu = view.gpus.get(lease.gpu_uuid or '')
        if gpu is None:
            self.ledger.transition(
                lease.id,
                lease.version,
                State.PENDING,
                event='pending',
                detail={'reason': 'its GPU left the pool'},
                gpu_host=None,
                gpu_uuid=None,
                gpu_pci_address=None,
                memory_rp_uuid=None,
                compute_rp_uuid=None,
            )
            return 1
        self.service.claim(lease, gpu)
        return 1

    def _finish_move(self, lease: Lease, view: pool_mod.PoolView) -> int:
        current = self.placement.allocations(lease.id)
        held = set(current.allocations)
        if held == {lease.memory_rp_uuid, lease.compute_rp_uuid}:
            self.ledger.transition(
                lease.id,
                lease.version,
                State.ACTIVE,
                event='repaired',
                detail={'step': 'move written before a crash'},
            )
            return 1
        by_rp = view.by_rp()
        gpus = {by_rp[rp].gpu_uuid: by_rp[rp] for rp in held if rp in by_rp}
        if len(gpus) == 1:
            # The swap never happened: the lease is where Placement says.
            (source,) = gpus.values()
            self.ledger.transition(
                lease.id,
                lease.version,
                State.ACTIVE,
                event='repaired',
                detail={'step': 'move undone', 'gpu': source.gpu_uuid},
                **service_mod.gpu_fields(
                    source,
                    self.service.serving_runtime(
                        source, service_mod.lease_constraint(lease)
                    ),
                ),
            )
            return 1
        target = view.gpus.get(lease.gpu_uuid or '')
        if target is not None:
            self.service.reclaim(lease, target)
            self.ledger.transition(
                lease.id,
                lease.version,
                State.ACTIVE,
                event='repaired',
                detail={'step': 'move finished'},
            )
            return 1
        return 0

    def _create_missing(
        self,
        wanted: dict[str, tuple[clients.Arq, str]],
        report: PassReport,
    ) -> None:
        have = {lease.arq_uuid for lease in self._all_leases()}
        missing = [item for uuid, item in wanted.items() if uuid not in have]
        for item in missing:
            with self._isolated(report, 'ARQ %s' % item[0].uuid):
                outcome = self.service.ensure_leases([item])[item[0].uuid]
                if isinstance(outcome, service_mod.Rejected):
                    report.rejected += 1
                else:
                    report.created += 1

    def _move_off_unhealthy(self, report: PassReport) -> None:
        view = self.service.view()
        for lease in self.ledger.list(state=State.ACTIVE):
            gpu = view.gpus.get(lease.gpu_uuid or '')
            if gpu is not None and gpu.healthy:
                continue
            reason = (
                'GPU %s is unhealthy' % lease.gpu_uuid
                if gpu
                else 'GPU %s left the pool' % lease.gpu_uuid
            )
            with self._isolated(report, 'moving lease %s' % lease.id):
                self._move(lease, reason, report)

    def _move(self, lease: Lease, reason: str, report: PassReport) -> None:
        moved = self.service.move(lease, reason)
        if moved is not None and moved.gpu_uuid != lease.gpu_uuid:
            report.moved += 1
            report.moves.append(
                {
                    'lease': lease.id,
                    'instance': lease.instance_uuid,
                    'from': lease.gpu_uuid,
                    'to': moved.gpu_uuid,
                    'reason': reason,
                }
            )

    def _audit_gpu(
        self,
        gpu: pool_mod.PoolGpu,
        leases: list[Lease],
        known: set[str],
        report: PassReport,
    ) -> None:
        memory = self.placement.provider_allocations(gpu.memory_rp_uuid)
        compute = self.placement.provider_allocations(gpu.compute_rp_uuid)
        for lease in leases:
            if lease.state is not State.ACTIVE:
                continue
            if lease.id in memory and lease.id in compute:
                continue
            LOG.warning(
                'Lease %s has no allocation on GPU %s: claiming it again',
                lease.id,
                gpu.gpu_uuid,
            )
            self.service.reclaim(lease, gpu)
            faults.crash_point(faults.RESTORE_AFTER_PLACEMENT)
            self.ledger.record_event(
                lease.id, 'repaired', {'step': 'allocation restored'}
            )
            report.repaired += 1
        for consumer in (set(memory) | set(compute)) - known:
            owner = self.placement.allocations(consumer)
            if owner.consumer_type != clients.CONSUMER_TYPE:
                continue
            if self._has_lease(consumer):
                # Placed since this pass read the ledger (a vendordata
                # call, another replica): its row is written before its
                # allocation, so it is no orphan.
                continue
            LOG.warning(
                'Releasing allocation %s on GPU %s: no lease owns it',
                consumer,
                gpu.gpu_uuid,
            )
            self.placement.release(consumer)
            faults.crash_point(faults.ORPHAN_AFTER_PLACEMENT)
            self.ledger.record_event(
                consumer, 'orphan-released', {'gpu': gpu.gpu_uuid}
            )
            report.orphans_released += 1

    def _has_lease(self, consumer: str) -> bool:
        try:
            self.ledger.get(consumer)
        except (ledger_mod.LeaseNotFound, ledger_mod.InvalidArgument):
            return False
        return True

    def _heal_drift(self, gpu: pool_mod.PoolGpu, report: PassReport) -> None:
        for rp, traits, rc, total in (
            (
                gpu.memory_rp_uuid,
                gpu.memory_traits,
                resources.RC_POOL_MEMORY,
                gpu.memory_mib,
            ),
            (
                gpu.compute_rp_uuid,
                gpu.compute_traits,
                resources.RC_POOL_COMPUTE,
                gpu.compute_pct,
            ),
        ):
            report.drift_healed += self._heal_provider(
                rp, set(traits), rc, total
            )

    def _heal_provider(
        self, rp: str, traits: set[str], rc: str, total: int
    ) -> int:
        healed = 0

        def heal() -> None:
            nonlocal healed
            generation, current = self.placement.provider_traits(rp)
            if current != traits:
                LOG.warning(
                    'Placement traits of %s differ from '
                    'Cyborg\'s (%s, expected %s): fixing',
                    rp,
                    sorted(current),
                    sorted(traits),
                )
                self.placement.set_provider_traits(rp, generation, traits)
                healed += 1
            generation, inventory = self.placement.provider_inventory(rp)
            if inventory.get(rc, {}).get('total') != total:
                LOG.warning(
                    'Placement total of %s %s is %s, Cyborg says %d: fixing',
                    rp,
                    rc,
                    inventory.get(rc, {}).get('total'),
                    total,
                )
                self.placement.set_provider_inventory(
                    rp,
                    generation,
                    {rc: {'total': total, 'max_unit': total}},
                )
                healed += 1

        try:
            retry.call(
                heal,
                self.service.settings.placement_retries,
                self.service.sleep,
            )
        except clients.GenerationConflict as err:
            LOG.warning('Drift of %s left for the next pass: %s', rp, err)
        return healed

    def _forget_stale_rejections(
        self, wanted: dict[str, tuple[clients.Arq, str]]
    ) -> None:
        for arq_uuid in list(self.service.rejections):
            if arq_uuid not in wanted:
                del self.service.rejections[arq_uuid]

    def _all_leases(self) -> list[Lease]:
        return self.ledger.list()
