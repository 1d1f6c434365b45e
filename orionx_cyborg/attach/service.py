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

"""Leases of pooled vGPUs: create, place, release, move, deliver.

A lease exists for every ``Bound`` accelerator request (ARQ) on an
entitlement of a served pool. Its capacity is one Placement allocation
(consumer = the lease id, consumer type ``ORIONX_LEASE``) holding GPU
memory and compute on the two resource providers of **one** pool GPU,
written in one atomic request; Placement is the only capacity authority,
so replicas never double-book a GPU. The ledger keeps the metadata and
the state, and every step is written there before the Placement call it
announces, so that a crash at any point leaves a state the reconciler
finishes (see :mod:`orionx_cyborg.attach.reconciler`):

* ``claiming`` then ``active``: the GPU is chosen and recorded, then
  claimed;
* ``moving`` then ``active``: the target GPU is recorded, then the
  allocation is swapped atomically;
* ``releasing`` then deleted: the allocation is deleted, then the row.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from typing import Any
from typing import Protocol

from oslo_config import cfg
from oslo_log import log as logging

from orionx_cyborg import allocator
from orionx_cyborg import clients
from orionx_cyborg import constraints
from orionx_cyborg import exception
from orionx_cyborg import resources
from orionx_cyborg import sizing
from orionx_cyborg.attach import binding
from orionx_cyborg.attach import capacity as capacity_mod
from orionx_cyborg.attach import delivery as delivery_mod
from orionx_cyborg.attach import faults
from orionx_cyborg.attach import leasetokens
from orionx_cyborg.attach import ledger as ledger_mod
from orionx_cyborg.attach import tokencheck
from orionx_cyborg.attach.runtimes import base as runtime_base
from orionx_cyborg.clients import pools as pool_mod
from orionx_cyborg.clients import retry
from orionx_cyborg.i18n import _

LOG = logging.getLogger(__name__)

State = ledger_mod.LeaseState
Lease = ledger_mod.LeaseRecord

#: Cyborg states of an ARQ that strict admission may lease: the
#: conductor calls it while binding (BindStarted); a retried call may
#: come after the bind ended.
ADMISSIBLE_STATES = frozenset({'BindStarted', 'Bound'})

#: How long a device profile read from Cyborg is trusted (seconds).
PROFILE_TTL_S = 60.0
#: Waiting leases read from the ledger at a time when a new lease checks
#: the queue; most checks end at the first.
QUEUE_PAGE = 50


#: Asks that can never be served as they are.
_INVALID_ASKS = (
    sizing.InvalidSize,
    constraints.InvalidConstraint,
    runtime_base.UnknownRuntime,
)

#: Refusals that another process's release can lift.
_ROOM_REASONS = frozenset(
    {
        allocator.RejectionReason.INSUFFICIENT_MEMORY,
        allocator.RejectionReason.INSUFFICIENT_COMPUTE,
        allocator.RejectionReason.FRAGMENTED,
    }
)


class LeaseRefused(exception.OrionXException):
    msg_fmt = _('No pooled vGPU for ARQ %(arq)s now: %(reason)s')


InstanceNotFound = delivery_mod.InstanceNotFound


@dataclasses.dataclass(frozen=True)
class ServiceSettings:
    pools: tuple[str, ...]
    policy: str
    locality: allocator.Locality
    default_size: sizing.Size
    remote_transport: binding.Transport
    server_port: int
    server_addresses: Mapping[str, str]
    retry_after: int
    placement_retries: int
    user_id: str = 'orionx-cyborg-attach'
    clock_skew_s: float = leasetokens.DEFAULT_SKEW_S
    pool_view_max_age_s: float = capacity_mod.DEFAULT_VIEW_MAX_AGE_S
    #: The pairing hold's settings; None when it is off.
    hold: capacity_mod.HoldSettings | None = None

    @classmethod
    def from_conf(cls, conf: cfg.ConfigOpts) -> ServiceSettings:
        """:raises InvalidOption: for an unknown allocation policy."""
        group = conf.orionx_attach
        policy = group.allocation_policy or allocator.DEFAULT_POLICY
        if policy not in allocator.POLICIES:
            raise exception.InvalidOption(
                group='orionx_attach',
                option='allocation_policy',
                value=policy,
                reason='no such policy',
                fix='Use one of: %s.' % ', '.join(sorted(allocator.POLICIES)),
            )
        return cls(
            pools=tuple(group.pools),
            policy=policy,
            locality=allocator.Locality(group.locality),
            default_size=sizing.Size(
                group.default_gmem_mib, group.default_compute_pct
            ),
            remote_transport=binding.Transport(group.remote_transport),
            server_port=group.server_port,
            server_addresses=dict(group.server_addresses),
            retry_after=group.pending_retry_after,
            placement_retries=group.placement_retries,
            clock_skew_s=group.clock_skew_allowance,
            pool_view_max_age_s=group.pool_view_max_age,
            hold=_hold_settings(group),
        )


def _hold_settings(group: Any) -> capacity_mod.HoldSettings | None:
    if not group.pairing_hold:
        return None
    return capacity_mod.HoldSettings(
        reserve=group.pairing_hold_reserve,
        partner_share=group.pairing_hold_partner_share,
        max_wait_s=float(group.pairing_hold_max_wait),
    )


@dataclasses.dataclass(frozen=True)
class Rejected:
    """An ARQ whose vGPU can never be served as asked."""

    arq_uuid: str
    pool: str
    reason: str


Outcome = Lease | Rejected


class PlacementTimings(Protocol):
    """Where the service reports how long placing a lease took."""

    def placement_decided(self, duration_s: float) -> None:
        """Choosing a GPU for a new or pending lease took *duration_s*,
        whether it found room or not: the pool view (read from Cyborg
        once it has aged), the eligible GPUs, the queue of waiting
        leases, the allocator (rebuilt from the ledger after a race)
        and, when on, the pairing hold.
        """

    def lease_placed(self, duration_s: float) -> None:
        """A lease became active *duration_s* after its decision began:
        the decision, the ledger and the Placement claim (and the claim
        asked again after a lost race).
        """


@dataclasses.dataclass(frozen=True)
class _Eligible:
    """The members of a pool that a constraint and its runtime allow."""

    members: tuple[pool_mod.PoolGpu, ...]
    ids: frozenset[str]
    memory_totals: tuple[int, ...]
    """The members' distinct memory sizes (what a size must fit)."""
    compute_totals: tuple[int, ...]


class _ViewMemo:
    """What the service derives from one pool view, derived once.

    A view is never changed once read (a fresh one replaces it), so
    eligibility, member ids and allocator models hold as long as it
    does; without this, every decision would look at every GPU of the
    pool several times. Shared by threads without a lock: a value two
    threads derive at once is derived twice, alike.
    """

    def __init__(self, view: pool_mod.PoolView) -> None:
        self.view = view
        self._members: dict[str, tuple[pool_mod.PoolGpu, ...]] = {}
        self._ids: dict[str, frozenset[str]] = {}
        self._labels: dict[str, dict[str, str]] = {}
        self._eligible: dict[
            tuple[str, constraints.GpuConstraint, frozenset[str]], _Eligible
        ] = {}

    def members(self, pool: str) -> tuple[pool_mod.PoolGpu, ...]:
        found = self._members.get(pool)
        if found is None:
            found = self._members[pool] = tuple(self.view.members(pool))
        return found

    def member_ids(self, pool: str) -> frozenset[str]:
        found = self._ids.get(pool)
        if found is None:
            found = frozenset(m.gpu_uuid for m in self.members(pool))
            self._ids[pool] = found
        return found

    def models(self, pool: str) -> dict[str, str]:
        """The allocator's model of each member (see
        :func:`.capacity.allocator_models`).
        """
        found = self._labels.get(pool)
        if found is None:
            found = capacity_mod.allocator_models(self.members(pool))
            self._labels[pool] = found
        return found

    def eligible(
        self,
        pool: str,
        constraint: constraints.GpuConstraint,
        vendors: frozenset[str],
    ) -> _Eligible:
        """The members that *constraint* admits, of one of *vendors*."""
        key = (pool, constraint, vendors)
        found = self._eligible.get(key)
        if found is None:
            every = self.members(pool)
            members = tuple(
                m
                for m in every
                if m.vendor.lower() in vendors and constraint.admits(m.traits)
            )
            found = self._eligible[key] = _Eligible(
                members=members,
                ids=self.member_ids(pool)
                if len(members) == len(every)
                else frozenset(m.gpu_uuid for m in members),
                memory_totals=tuple(sorted({m.memory_mib for m in members})),
                compute_totals=tuple(sorted({m.compute_pct for m in members})),
            )
        return found


class _Untimed:
    def placement_decided(self, duration_s: float) -> None:
        pass

    def lease_placed(self, duration_s: float) -> None:
        pass


class LeaseService:
    """The lease operations; safe to call from several threads."""

    def __init__(
        self,
        settings: ServiceSettings,
        cyborg: clients.CyborgClient,
        placement: clients.PlacementClient,
        ledger: ledger_mod.Ledger,
        signer: leasetokens.TokenIssuer,
        runtime: runtime_base.Runtime | runtime_base.RuntimeSet,
        clock: ledger_mod.Clock = ledger_mod.utc_now,
        sleep: Callable[[float], None] = time.sleep,
        timings: PlacementTimings | None = None,
        timer: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.settings = settings
        self.cyborg = cyborg
        self.placement = placement
        self.ledger = ledger
        if isinstance(runtime, runtime_base.Runtime):
            runtime = runtime_base.RuntimeSet([runtime])
        self.runtimes = runtime
        self.runtime = runtime.default
        self._signer = signer
        self._clock = clock
        self.sleep = sleep
        self._timings = timings or _Untimed()
        self._timer = timer
        self.capacity = capacity_mod.PoolCapacity(
            settings.pools,
            settings.policy,
            settings.locality,
            cyborg,
            ledger,
            max_age_s=settings.pool_view_max_age_s,
        )
        # Guards the caches below, never a call.
        self._lock = threading.Lock()
        self._view_memo: _ViewMemo | None = None
        self._profiles: dict[str, tuple[float, clients.DeviceProfile | None]]
        self._profiles = {}
        self.rejections: dict[str, Rejected] = {}
        self.delivery = delivery_mod.Delivery(
            self, placement, ledger, signer, self.runtimes, clock
        )

    # The pool ------------------------------------------------------------

    def view(self, refresh: bool = False) -> pool_mod.PoolView:
        """Cyborg's view of the served pools (see :mod:`.capacity`).

        :raises ServiceUnavailable: Cyborg cannot be read.
        """
        return self.capacity.view(refresh)

    def forget_allocators(self) -> None:
        """Rebuild allocators from the ledger next time (after a race)."""
        self.capacity.forget_allocators()

    def eligible(
        self, pool: str, constraint: constraints.GpuConstraint
    ) -> list[pool_mod.PoolGpu]:
        """Members of *pool* that may serve a lease asking *constraint*.

        A member qualifies when a configured runtime (the one the
        constraint names, if any) serves its vendor and its providers'
        traits satisfy the constraint. Health is the allocator's concern.
        """
        return list(self._eligible(pool, constraint).members)

    def _memo(self) -> _ViewMemo:
        """What is derived from the current pool view."""
        view = self.view()
        with self._lock:
            if self._view_memo is None or self._view_memo.view is not view:
                self._view_memo = _ViewMemo(view)
            return self._view_memo

    def _eligible(
        self,
        pool: str,
        constraint: constraints.GpuConstraint,
        memo: _ViewMemo | None = None,
    ) -> _Eligible:
        """:param memo: of the view to use; the current one by default."""
        # The runtimes' vendors are read each time, so a change of the
        # option is seen at once.
        return (memo or self._memo()).eligible(
            pool, constraint, self._served_vendors(constraint.runtime)
        )

    def _served_vendors(self, runtime: str | None) -> frozenset[str]:
        """PCI vendors a lease naming *runtime* (or none) may be put on."""
        try:
            return self.runtimes.vendors(runtime)
        except runtime_base.UnknownRuntime:
            # A lease of a runtime no longer configured: no GPU serves it.
            return frozenset()

    def serving_runtime(
        self, gpu: pool_mod.PoolGpu, constraint: constraints.GpuConstraint
    ) -> str:
        """The runtime that serves a lease asking *constraint* on *gpu*."""
        runtime = self.runtimes.serving(gpu.vendor, constraint.runtime)
        return (runtime or self.runtimes.default).name

    def _models(self, pool: str, gpus: AbstractSet[str]) -> frozenset[str]:
        """The allocator's models of *gpus*; empty (any) for all members.

        :param gpus: members of *pool*; the memo's own set of them all is
            known without looking at each.
        """
        memo = self._memo()
        every = memo.member_ids(pool)
        if gpus is every or (len(gpus) >= len(every) and gpus >= every):
            return frozenset()
        labels = memo.models(pool)
        return frozenset(labels[g] for g in gpus if g in labels)

    def _queued_gpus(self, pool: str, wanted: AbstractSet[str]) -> set[str]:
        """The GPUs of *wanted* that leases waiting in *pool* could use.

        The queue is first come, first served among leases that compete
        for the same GPUs: a new lease may take only GPUs none of them
        could use.
        """
        queued: set[str] = set()
        eligible = self._eligibility(pool)
        for lease in self._waiting(pool):
            queued |= eligible(lease_constraint(lease)) & wanted
            if queued >= wanted:
                break
        return queued

    def _waiting(self, pool: str) -> Iterator[Lease]:
        """The pending leases of *pool*, first come first, a page at a time.

        Most queue checks end at the first lease (one without constraints
        wants every GPU), and a pass that places waiting leases ends once
        they hold every GPU, so a long queue is not read whole. A lease
        may come twice (after a restart from the head), and each was pending
        when its page was read.
        """
        marker = None
        while True:
            try:
                page = self.ledger.list(
                    pool=pool,
                    state=State.PENDING,
                    limit=QUEUE_PAGE,
                    marker=marker,
                )
            except ledger_mod.MarkerNotFound:
                # The last lease read was released meanwhile: from the
                # head again (a lease seen twice changes no union).
                marker = None
                continue
            yield from page
            if len(page) < QUEUE_PAGE:
                return
            marker = page[-1].id

    def _eligible_ids(
        self, pool: str, constraint: constraints.GpuConstraint
    ) -> frozenset[str]:
        return self._eligible(pool, constraint).ids

    def _eligibility(
        self, pool: str
    ) -> Callable[[constraints.GpuConstraint], frozenset[str]]:
        """:meth:`_eligible_ids` of *pool*, from one pool view.

        A pass over the queue sees one view throughout, whatever a
        background refresh reads meanwhile.
        """
        memo = self._memo()

        def eligible(constraint: constraints.GpuConstraint) -> frozenset[str]:
            return self._eligible(pool, constraint, memo).ids

        return eligible

    # Leases --------------------------------------------------------------

    def entitlement_arqs(
        self,
        arqs: Iterable[clients.Arq],
        states: frozenset[str] = frozenset({'Bound'}),
    ) -> list[tuple[clients.Arq, str]]:
        """ARQs on entitlements of served pools, with their pool.

        :param states: the ARQ states to keep (``Bound`` by default; the
            reconciler also keeps ``BindStarted`` ones, whose lease strict
            admission is claiming right now).
        """
        arqs = list(arqs)
        view = self.view()
        if any(
            arq.state in states
            and arq.device_rp_uuid
            and arq.device_rp_uuid not in view.entitlements
            and arq.attach_handle_type == resources.AH_REMOTE
            for arq in arqs
        ):
            # An entitlement reported since the view was read.
            view = self.view(refresh=True)
        return [
            (arq, view.entitlements[arq.device_rp_uuid].pool)
            for arq in arqs
            if arq.state in states
            and arq.instance_uuid
            and arq.device_rp_uuid in view.entitlements
        ]

    def ensure_leases(
        self, arqs: Iterable[tuple[clients.Arq, str]]
    ) -> dict[str, Outcome]:
        """A lease (or a rejection) for each ARQ, creating what is missing.

        :returns: by ARQ UUID.
        :raises ServiceUnavailable: Cyborg or Placement cannot be reached;
            what was done so far stays consistent for the reconciler.
        """
        outcomes: dict[str, Outcome] = {}
        for arq, pool in arqs:
            outcomes[arq.uuid] = self._ensure_lease(arq, pool)
        return outcomes

    def _ensure_lease(self, arq: clients.Arq, pool: str) -> Outcome:
        try:
            return self.ledger.get_by_arq(arq.uuid)
        except ledger_mod.LeaseNotFound:
            pass
        try:
            size, constraint = self._ask(arq, pool)
        except _INVALID_ASKS as err:
            return self._reject(arq, pool, str(err))
        with self._lock:
            self.rejections.pop(arq.uuid, None)
        return self._new_lease(arq, pool, size, constraint)

    def _ask(
        self, arq: clients.Arq, pool: str
    ) -> tuple[sizing.Size, constraints.GpuConstraint]:
        """The size and GPU constraint of *arq*'s vGPU, if servable.

        :raises InvalidSize: a bad size, or one no eligible GPU holds.
        :raises InvalidConstraint: a bad constraint, or one no member of
            the pool meets with a configured runtime.
        :raises UnknownRuntime: the profile names a runtime not
            configured.
        """
        profile = self.profile(arq.device_profile_name)
        group = None
        if profile is not None and (
            0 <= arq.device_profile_group_id < len(profile.groups)
        ):
            group = profile.groups[arq.device_profile_group_id]
        size = sizing.size_of_group(group, self.settings.default_size)
        constraint = constraints.of_group(group)
        if constraint.runtime is not None:
            self.runtimes.get(constraint.runtime)
        memo = self._memo()
        eligible = self._eligible(pool, constraint, memo)
        if not eligible.members and memo.members(pool):
            raise constraints.InvalidConstraint(
                'no GPU of pool %s meets %s with runtime %s (vendors %s)'
                % (
                    pool,
                    constraint.describe(),
                    constraint.runtime or ', '.join(self.runtimes.names),
                    ', '.join(
                        sorted(self.runtimes.vendors(constraint.runtime))
                    ),
                )
            )
        sizing.check_fits(
            size, list(eligible.memory_totals), list(eligible.compute_totals)
        )
        return size, constraint

    def profile(self, name: str) -> clients.DeviceProfile | None:
        """A device profile, read from Cyborg at most once a minute."""
        now = time.monotonic()
        with self._lock:
            cached = self._profiles.get(name)
        if cached is not None and cached[0] > now:
            return cached[1]
        profile = self.cyborg.device_profile(name)
        with self._lock:
            self._profiles[name] = (now + PROFILE_TTL_S, profile)
        return profile

    def _reject(self, arq: clients.Arq, pool: str, reason: str) -> Rejected:
        rejected = Rejected(arq.uuid, pool, reason)
        with self._lock:
            known = self.rejections.get(arq.uuid)
            self.rejections[arq.uuid] = rejected
        if known != rejected:
            LOG.warning(
                'Pooled vGPU of ARQ %s (instance %s) cannot be served: %s',
                arq.uuid,
                arq.instance_uuid,
                reason,
            )
            self.ledger.record_event(
                arq.uuid, 'rejected', {'arq': arq.uuid, 'reason': reason}
            )
        return rejected

    def _new_lease(
        self,
        arq: clients.Arq,
        pool: str,
        size: sizing.Size,
        constraint: constraints.GpuConstraint = constraints.NONE,
    ) -> Lease:
        return self._create_or_join(arq, pool, size, constraint)[0]

    def _create_or_join(
        self,
        arq: clients.Arq,
        pool: str,
        size: sizing.Size,
        constraint: constraints.GpuConstraint = constraints.NONE,
        may_hold: bool = True,
    ) -> tuple[Lease, bool]:
        """A new lease for *arq*, or the one another replica just made.

        :param may_hold: whether the pairing hold (when configured) may
            keep the lease back as ``awaiting-partner``.
        :returns: the lease, and whether this call created it.
        """
        new = ledger_mod.NewLease(
            arq_uuid=arq.uuid,
            instance_uuid=arq.instance_uuid or '',
            project_id=arq.project_id or '',
            vm_host=arq.hostname or '',
            pool=pool,
            gmem_mib=size.gmem_mib,
            compute_pct=size.compute_pct,
            gpu_constraint=constraint.to_json(),
        )
        started = self._timer()
        free = self._eligible_ids(pool, constraint)
        if free and self.ledger.pending(pool, limit=1):
            # First come, first served among leases that compete for the
            # same GPUs: no one takes a GPU an earlier lease waits for.
            free -= self._queued_gpus(pool, free)
        if not free:
            return self._create(
                new, 'pending', {'reason': 'queued behind earlier leases'}
            ), True
        request = self._request(size, arq.hostname, self._models(pool, free))
        hold = self.settings.hold if may_hold else None
        if hold is None:
            decision = self._allocate(pool, request)
            self._decided(started)
        else:
            admission = self._admit(pool, request, hold)
            self._decided(started)
            if admission.decision is None:
                return self._create(
                    dataclasses.replace(new, state=State.AWAITING_PARTNER),
                    'awaiting-partner',
                    {'max_wait_s': hold.max_wait_s},
                ), True
            if admission.partner is not None:
                self._claim_partner(pool, arq, *admission.partner)
            decision = admission.decision
        if isinstance(decision, allocator.Rejection):
            return self._create(
                new,
                'pending',
                {'reason': decision.reason.value, 'detail': decision.detail},
            ), True
        slice_ = decision.slices[0]
        gpu = self.view().gpus[slice_.gpu_id]
        try:
            lease = self._create(
                dataclasses.replace(
                    new,
                    state=State.CLAIMING,
                    **gpu_fields(gpu, self.serving_runtime(gpu, constraint)),
                ),
                'claimed',
                {'gpu': gpu.gpu_uuid, 'host': gpu.host},
            )
        except ledger_mod.LeaseExists as err:
            # Another replica created it first: it claims, not us.
            self.capacity.release(pool, [slice_])
            if err.existing is not None:
                return err.existing, False
            return self.ledger.get_by_arq(arq.uuid), False
        placed = self.claim(lease, gpu)
        if placed.state is State.PENDING:
            # Placement had no room on that GPU: another worker or
            # replica placed there since this process's allocator was
            # built. claim() rebuilt it from the ledger; ask it once more.
            placed = self._claim_again(placed, pool, size, arq.hostname)
        self._placed(started, placed)
        return placed, True

    def _decided(self, started: float) -> None:
        self._timings.placement_decided(self._timer() - started)

    def _placed(self, started: float, lease: Lease) -> None:
        if lease.state is State.ACTIVE:
            self._timings.lease_placed(self._timer() - started)

    # The pairing hold ----------------------------------------------------

    def _admit(
        self,
        pool: str,
        request: allocator.VgpuRequest,
        hold: capacity_mod.HoldSettings,
    ) -> allocator.Admission:
        """The pairing hold's admission, never refused on stale usage.

        As :meth:`_allocate`: a refusal for lack of room is asked again
        of an allocator rebuilt from the ledger.
        """
        held = self._held(pool)
        admission = self.capacity.admit(pool, request, held, hold)
        if (
            isinstance(admission.decision, allocator.Rejection)
            and admission.decision.reason in _ROOM_REASONS
        ):
            self.capacity.forget_allocators()
            admission = self.capacity.admit(pool, request, held, hold)
        return admission

    def _held(self, pool: str) -> list[allocator.Held]:
        """The leases the hold keeps back in *pool*, as requests."""
        eligible = self._eligibility(pool)
        return [
            allocator.Held(lease, self._lease_request(pool, lease, eligible))
            for lease in self.ledger.awaiting_partner(pool)
        ]

    def _lease_request(
        self,
        pool: str,
        lease: Lease,
        eligible: Callable[[constraints.GpuConstraint], AbstractSet[str]],
    ) -> allocator.VgpuRequest:
        return self._request(
            sizing.Size(lease.gmem_mib, lease.compute_pct),
            lease.vm_host,
            self._models(pool, eligible(lease_constraint(lease))),
        )

    def _claim_partner(
        self,
        pool: str,
        arq: clients.Arq,
        key: Any,
        grant: allocator.Grant,
    ) -> None:
        """Claim the held lease *key* on the GPU the hold paired it on.

        Another worker may have paired, queued or released it since it
        was read: then its slice is given back, and the arriving lease
        is placed where the hold put it all the same.
        """
        held: Lease = key
        gpu = self.view().gpus[grant.slices[0].gpu_id]
        try:
            claiming = self.ledger.transition(
                held.id,
                held.version,
                State.CLAIMING,
                event='paired',
                detail={'gpu': gpu.gpu_uuid, 'with_arq': arq.uuid},
                **gpu_fields(
                    gpu, self.serving_runtime(gpu, lease_constraint(held))
                ),
            )
        except (ledger_mod.StaleLease, ledger_mod.LeaseNotFound):
            self.capacity.release(pool, grant.slices)
            return
        LOG.info(
            'Lease %s of instance %s paired with ARQ %s on GPU %s',
            held.id,
            held.instance_uuid,
            arq.uuid,
            gpu.gpu_uuid,
        )
        self.claim(claiming, gpu)

    def queue_held(self, pool: str) -> list[Lease]:
        """Queue the held leases of *pool* whose wait is over.

        A lease the pairing hold keeps back joins the first-come queue
        (in its place by arrival) once the pool has idle GPUs above the
        reserve for it, once it has waited ``max_wait_s``, or at once
        when the hold is off (e.g. turned off since it was held).

        :returns: the leases queued.
        """
        held = self.ledger.awaiting_partner(pool)
        if not held:
            return []
        hold = self.settings.hold
        eligible = self._eligibility(pool)
        now = self._clock()
        opening: dict[frozenset[str], int] = {}
        queued = []
        for lease in held:
            request = self._lease_request(pool, lease, eligible)
            if hold is None:
                reason = 'the pairing hold is off'
            elif (now - lease.created_at).total_seconds() >= hold.max_wait_s:
                reason = 'waited %d s for a partner' % hold.max_wait_s
            elif self.capacity.may_open(
                pool, request, hold, taking=opening.get(request.models, 0) + 1
            ):
                reason = 'the pool has idle GPUs again'
            else:
                continue
            try:
                queued.append(
                    self.ledger.transition(
                        lease.id,
                        lease.version,
                        State.PENDING,
                        event='queued',
                        detail={'reason': reason},
                    )
                )
            except (ledger_mod.StaleLease, ledger_mod.LeaseNotFound):
                continue  # paired or released meanwhile
            opening[request.models] = opening.get(request.models, 0) + 1
            LOG.info(
                'Lease %s of instance %s queued: %s',
                lease.id,
                lease.instance_uuid,
                reason,
            )
        return queued

    def _claim_again(
        self, lease: Lease, pool: str, size: sizing.Size, host: str | None
    ) -> Lease:
        """One more claim of a lease that lost a race for its GPU."""
        decision = self._allocate(pool, self._request(size, host))
        if isinstance(decision, allocator.Rejection):
            return lease
        gpu = self.view().gpus[decision.slices[0].gpu_id]
        claiming = self.ledger.transition(
            lease.id,
            lease.version,
            State.CLAIMING,
            event='claimed',
            detail={'gpu': gpu.gpu_uuid},
            **gpu_fields(gpu),
        )
        return self.claim(claiming, gpu)

    def _create(
        self, new: ledger_mod.NewLease, event: str, detail: dict[str, Any]
    ) -> Lease:
        lease = self.ledger.create(new, event=event, detail=detail)
        LOG.info(
            'Lease %s for ARQ %s of instance %s: %s',
            lease.id,
            lease.arq_uuid,
            lease.instance_uuid,
            event,
        )
        return lease

    def _allocate(
        self, pool: str, request: allocator.VgpuRequest
    ) -> allocator.Decision:
        """The allocator's decision, never refused on stale usage.

        A process's allocator learns only the leases that process makes
        and releases. Another worker or replica may have released some
        since it was built, so a refusal for lack of room is asked again
        of an allocator rebuilt from the ledger before the lease queues.
        """
        decision = self.capacity.allocate(pool, request)
        if (
            isinstance(decision, allocator.Rejection)
            and decision.reason in _ROOM_REASONS
        ):
            self.capacity.forget_allocators()
            decision = self.capacity.allocate(pool, request)
        return decision

    def _request(
        self,
        size: sizing.Size,
        host: str | None,
        models: frozenset[str] = frozenset(),
    ) -> allocator.VgpuRequest:
        return allocator.VgpuRequest(
            compute_pct=size.compute_pct,
            memory_mib=size.gmem_mib,
            models=models,
            preferred_host=host or None,
        )

    def claim(self, lease: Lease, gpu: pool_mod.PoolGpu) -> Lease:
        """Write the allocation of a ``claiming`` lease; then it is active.

        When Placement has no room after all (another replica was first),
        the lease goes back to ``pending``.
        """
        allocations = _allocations(lease, gpu)

        def write() -> None:
            current = self.placement.allocations(lease.id)
            faults.crash_point(faults.CLAIM_BEFORE_PLACEMENT)
            self.placement.claim(
                lease.id,
                allocations,
                lease.project_id,
                lease.user_id or self.settings.user_id,
                current.generation,
            )

        try:
            retry.call(write, self.settings.placement_retries, self.sleep)
        except clients.GenerationConflict:
            return self._back_to_pending(lease, gpu, 'generation conflicts')
        except clients.NoRoom as err:
            return self._back_to_pending(lease, gpu, str(err))
        faults.crash_point(faults.CLAIM_AFTER_PLACEMENT)
        return self.ledger.transition(
            lease.id,
            lease.version,
            State.ACTIVE,
            event='placed',
            detail={
                'gpu': gpu.gpu_uuid,
                'host': gpu.host,
                'gmem_mib': lease.gmem_mib,
                'compute_pct': lease.compute_pct,
            },
        )

    def _back_to_pending(
        self, lease: Lease, gpu: pool_mod.PoolGpu, reason: str
    ) -> Lease:
        LOG.info(
            'Lease %s could not be placed on %s (%s): pending',
            lease.id,
            gpu.gpu_uuid,
            reason,
        )
        # Our picture of that GPU was wrong: rebuild it from the ledger.
        self.forget_allocators()
        return self.ledger.transition(
            lease.id,
            lease.version,
            State.PENDING,
            event='pending',
            detail={'reason': reason, 'gpu': gpu.gpu_uuid},
            gpu_host=None,
            gpu_uuid=None,
            gpu_pci_address=None,
            memory_rp_uuid=None,
            compute_rp_uuid=None,
        )

    def place_pending(self, pool: str) -> list[Lease]:
        """Place pending leases of *pool* in FIFO order while room lasts.

        The queue is strict among leases that compete for the same GPUs:
        a lease that still does not fit keeps every GPU it could use from
        the leases behind it, so a large request is not starved by small
        ones. A lease whose GPUs (by its constraint and runtime) are
        disjoint from those of the leases before it does not wait for
        them. Without constraints this is one strict queue per pool.
        """
        placed = []
        held: set[str] = set()
        eligible_ids = self._eligibility(pool)
        # Every GPU some runtime serves: once all are held, stop.
        everything = eligible_ids(constraints.NONE)
        # A page at a time: once every GPU is held, the rest is not read.
        for lease in self._waiting(pool):
            constraint = lease_constraint(lease)
            eligible = eligible_ids(constraint)
            free = eligible - held if held else eligible
            if not free:
                continue
            started = self._timer()
            decision = self.capacity.allocate(
                pool,
                self._request(
                    sizing.Size(lease.gmem_mib, lease.compute_pct),
                    lease.vm_host,
                    self._models(pool, free),
                ),
                observe=False,
            )
            self._decided(started)
            if isinstance(decision, allocator.Rejection):
                held |= eligible
                if held >= everything:
                    break
                continue
            gpu = self.view().gpus[decision.slices[0].gpu_id]
            claiming = self.ledger.transition(
                lease.id,
                lease.version,
                State.CLAIMING,
                event='claimed',
                detail={'gpu': gpu.gpu_uuid},
                **gpu_fields(gpu, self.serving_runtime(gpu, constraint)),
            )
            result = self.claim(claiming, gpu)
            self._placed(started, result)
            if result.state is not State.ACTIVE:
                held |= eligible
                if held >= everything:
                    break
                continue
            placed.append(result)
        return placed

    def release(self, lease: Lease, reason: str) -> None:
        """Release a lease: its allocation, then its row."""
        if lease.state is not State.RELEASING:
            lease = self.ledger.transition(
                lease.id,
                lease.version,
                State.RELEASING,
                event='releasing',
                detail={'reason': reason},
            )
        faults.crash_point(faults.RELEASE_BEFORE_PLACEMENT)
        self.placement.release(lease.id)
        faults.crash_point(faults.RELEASE_AFTER_PLACEMENT)
        self._give_back(lease)
        self.ledger.delete(
            lease.id,
            lease.version,
            event='released',
            detail={'reason': reason, 'gpu': lease.gpu_uuid},
        )
        LOG.info(
            'Lease %s of instance %s released (%s)',
            lease.id,
            lease.instance_uuid,
            reason,
        )

    def _give_back(self, lease: Lease) -> None:
        if not lease.gpu_uuid:
            return
        self.capacity.release(
            lease.pool,
            [
                allocator.SliceAssignment(
                    lease.gpu_uuid,
                    lease.gpu_host or '',
                    lease.gmem_mib,
                    lease.compute_pct,
                )
            ],
        )

    def move(self, lease: Lease, reason: str) -> Lease | None:
        """Move an active lease to another GPU; None if none has room."""
        view = self.view()
        source = view.gpus.get(lease.gpu_uuid or '')
        constraint = lease_constraint(lease)
        eligible = self._eligible_ids(lease.pool, constraint)
        decision: allocator.Decision = allocator.Rejection(
            allocator.RejectionReason.NO_GPU_OF_MODEL,
            'no GPU meets %s' % constraint.describe(),
        )
        if eligible:
            decision = self.capacity.allocate(
                lease.pool,
                self._request(
                    sizing.Size(lease.gmem_mib, lease.compute_pct),
                    lease.vm_host,
                    self._models(lease.pool, eligible),
                ),
                observe=False,
            )
        if isinstance(decision, allocator.Rejection):
            LOG.warning(
                'Lease %s stays on %s (%s): no other GPU has room (%s)',
                lease.id,
                lease.gpu_uuid,
                reason,
                decision.detail,
            )
            return None
        target = view.gpus[decision.slices[0].gpu_id]
        moving = self.ledger.transition(
            lease.id,
            lease.version,
            State.MOVING,
            event='moving',
            detail={
                'from': lease.gpu_uuid,
                'to': target.gpu_uuid,
                'reason': reason,
            },
            **gpu_fields(target, self.serving_runtime(target, constraint)),
        )
        faults.crash_point(faults.MOVE_BEFORE_PLACEMENT)
        try:
            self.reclaim(moving, target)
        except (clients.NoRoom, clients.GenerationConflict) as err:
            self.capacity.release(lease.pool, decision.slices)
            if source is None:
                raise
            return self.ledger.transition(
                moving.id,
                moving.version,
                State.ACTIVE,
                event='move-failed',
                detail={'reason': str(err)},
                **gpu_fields(source, lease.runtime),
            )
        faults.crash_point(faults.MOVE_AFTER_PLACEMENT)
        self._give_back(lease)
        moved = self.ledger.transition(
            moving.id,
            moving.version,
            State.ACTIVE,
            event='moved',
            detail={
                'from': lease.gpu_uuid,
                'to': target.gpu_uuid,
                'from_host': lease.gpu_host,
                'to_host': target.host,
                'reason': reason,
            },
        )
        LOG.warning(
            'Lease %s of instance %s moved from GPU %s (%s) to '
            'GPU %s (%s): %s',
            lease.id,
            lease.instance_uuid,
            lease.gpu_uuid,
            lease.gpu_host,
            target.gpu_uuid,
            target.host,
            reason,
        )
        return moved

    def reclaim(self, lease: Lease, target: pool_mod.PoolGpu) -> None:
        """Write the whole allocation of *lease* on *target*, atomically.

        :raises NoRoom: *target* lacks room.
        :raises GenerationConflict: conflicts outlasted the retries.
        """
        allocations = _allocations(lease, target)

        def write() -> None:
            current = self.placement.allocations(lease.id)
            self.placement.claim(
                lease.id,
                allocations,
                lease.project_id,
                lease.user_id or self.settings.user_id,
                current.generation,
            )

        retry.call(write, self.settings.placement_retries, self.sleep)

    def admit(self, claimed: clients.Arq) -> Lease:
        """Strict admission: a placed lease for an ARQ being bound, or no.

        Called from Cyborg's conductor while it binds the ARQ; refusing
        makes the bind fail, so Nova fails the boot instead of
        starting a VM whose vGPU would wait. The ARQ is read from Cyborg
        and must be being bound (or bound) with the instance, provider
        and host of *claimed*: a caller cannot lease made-up ARQs. A
        lease this call created but could only queue is dropped again; a
        lease that existed before (a pending one keeps its queue place)
        is never released here.

        :raises LeaseRefused: no such ARQ being bound, a mismatch, no
            room now, or a size no GPU has.
        :raises ServiceUnavailable: Cyborg cannot be reached.
        """
        arq = self._verified_arq(claimed)
        view = self.view()
        if arq.device_rp_uuid not in view.entitlements:
            view = self.view(refresh=True)
        entitlement = view.entitlements.get(arq.device_rp_uuid or '')
        if entitlement is None:
            raise LeaseRefused(
                arq=arq.uuid,
                reason='%s is no entitlement of a served pool'
                % arq.device_rp_uuid,
            )
        try:
            existing: Lease | None = self.ledger.get_by_arq(arq.uuid)
        except ledger_mod.LeaseNotFound:
            existing = None
        if existing is not None:
            return self._admit_existing(existing)
        try:
            size, constraint = self._ask(arq, entitlement.pool)
        except _INVALID_ASKS as err:
            self._reject(arq, entitlement.pool, str(err))
            raise LeaseRefused(arq=arq.uuid, reason=str(err)) from err
        # Strict admission answers now: it never holds a lease back.
        lease, created = self._create_or_join(
            arq, entitlement.pool, size, constraint, may_hold=False
        )
        if lease.state is State.ACTIVE:
            return lease
        if created:
            self.release(lease, 'refused at admission: no room')
        raise LeaseRefused(
            arq=arq.uuid,
            reason='pool %s has no room for %d MiB / %d%%'
            % (entitlement.pool, lease.gmem_mib, lease.compute_pct),
        )

    def _admit_existing(self, lease: Lease) -> Lease:
        """Re-admission: the lease as it is, never released."""
        if lease.state is State.ACTIVE:
            return lease
        raise LeaseRefused(
            arq=lease.arq_uuid,
            reason='its lease %s is %s (kept, with its place in the queue)'
            % (lease.id, lease.state.value),
        )

    def _verified_arq(self, claimed: clients.Arq) -> clients.Arq:
        """Cyborg's own copy of *claimed*, if it is being bound as said.

        :raises LeaseRefused: Cyborg has no such ARQ, it is not being
            bound, or its instance, provider, host or project differ.
        """
        arq = self.cyborg.arq(claimed.uuid)
        if arq is None:
            raise LeaseRefused(
                arq=claimed.uuid, reason='Cyborg has no such ARQ'
            )
        if arq.state not in ADMISSIBLE_STATES:
            raise LeaseRefused(
                arq=arq.uuid,
                reason='the ARQ is %s in Cyborg, not being bound' % arq.state,
            )
        for field in ('instance_uuid', 'device_rp_uuid', 'hostname'):
            ours, theirs = getattr(claimed, field), getattr(arq, field)
            if ours != theirs:
                raise LeaseRefused(
                    arq=arq.uuid,
                    reason='its %s is %s in Cyborg, not %s'
                    % (field, theirs, ours),
                )
        if arq.project_id and arq.project_id != claimed.project_id:
            raise LeaseRefused(
                arq=arq.uuid,
                reason='it belongs to another project in Cyborg',
            )
        if not arq.project_id:
            arq = dataclasses.replace(arq, project_id=claimed.project_id)
        return arq

    # Delivery (see :mod:`.delivery`) -----------------------------------

    def instance_binding(
        self, instance_uuid: str, project_id: str | None
    ) -> binding.InstanceBinding:
        return self.delivery.instance_binding(instance_uuid, project_id)

    def check_token(self, token: str) -> leasetokens.LeaseClaims:
        """The online check of a lease token a GPU server was shown.

        :raises TokenRefused: forged, expired, released, moved, resized.
        """
        return tokencheck.check(
            token,
            self._signer,
            self.ledger,
            now=self._clock().timestamp(),
            skew_s=self.settings.clock_skew_s,
        )

    def endpoint(self, lease: Lease) -> binding.Endpoint:
        return self.delivery.endpoint(lease)

    def document(
        self, instance_uuid: str, project_id: str | None
    ) -> dict[str, Any]:
        return self.delivery.document(instance_uuid, project_id)


def gpu_fields(
    gpu: pool_mod.PoolGpu, runtime: str | None = None
) -> ledger_mod.LeaseFields:
    """The ledger fields of a lease placed on pool member *gpu*.

    :param runtime: the runtime that serves the lease there.
    """
    return {
        'gpu_host': gpu.host,
        'gpu_uuid': gpu.gpu_uuid,
        'gpu_pci_address': gpu.pci_address,
        'memory_rp_uuid': gpu.memory_rp_uuid,
        'compute_rp_uuid': gpu.compute_rp_uuid,
        'runtime': runtime,
    }


def lease_constraint(lease: Lease) -> constraints.GpuConstraint:
    """What *lease* asks of its GPU (none for a lease without record).

    A constraint the ledger holds but that no longer parses (written by
    a newer release) is read as none, with a warning.
    """
    try:
        return constraints.GpuConstraint.from_json(lease.gpu_constraint)
    except (ValueError, TypeError, AttributeError) as err:
        LOG.warning(
            'Lease %s has an unreadable GPU constraint %r (%s): read as none',
            lease.id,
            lease.gpu_constraint,
            err,
        )
        return constraints.NONE


def _allocations(
    lease: Lease, gpu: pool_mod.PoolGpu
) -> dict[str, dict[str, int]]:
    return {
        gpu.memory_rp_uuid: {resources.RC_POOL_MEMORY: lease.gmem_mib},
        gpu.compute_rp_uuid: {resources.RC_POOL_COMPUTE: lease.compute_pct},
    }
