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

"""The capacity view of the served pools, shared by a process's threads.

Cyborg's report of the pools (:mod:`orionx_cyborg.clients.pools`) and,
per pool, an allocator holding Cyborg's capacity minus the ledger's use.
The lock guards only this in-memory state: Cyborg is read and the
ledger's use summed outside it, so a slow Cyborg delays only the
requests that have no view yet or ask for a fresh one, while everyone
else keeps the last one (an aged view is read again in the background). Two threads
that miss at once may both read Cyborg; the later result wins. Placement stays the capacity authority:
an allocator built from a usage read that a concurrent claim made stale
errs only in what it proposes, and Placement refuses what does not fit.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from collections.abc import Sequence

from oslo_log import log as logging

from orionx_cyborg import allocator
from orionx_cyborg import clients
from orionx_cyborg import resources
from orionx_cyborg.attach import ledger as ledger_mod
from orionx_cyborg.clients import pools as pool_mod

LOG = logging.getLogger(__name__)

#: Seconds a worker serves its pool view before reading Cyborg again
#: (``[orionx_attach] pool_view_max_age``).
DEFAULT_VIEW_MAX_AGE_S = 30.0


@dataclasses.dataclass(frozen=True)
class HoldSettings:
    """The pairing hold's settings (``[orionx_attach] pairing_hold_*``)."""

    reserve: float = 0.5
    partner_share: float = 0.1
    max_wait_s: float = 300.0


def _in_background(work: Callable[[], None]) -> None:
    threading.Thread(target=work, name='pool-view', daemon=True).start()


class PoolCapacity:
    """The pool view and one allocator per pool; thread-safe."""

    def __init__(
        self,
        pools: tuple[str, ...],
        policy: str,
        locality: allocator.Locality,
        cyborg: clients.CyborgClient,
        ledger: ledger_mod.Ledger,
        max_age_s: float = DEFAULT_VIEW_MAX_AGE_S,
        clock: Callable[[], float] = time.monotonic,
        spawn: Callable[[Callable[[], None]], None] = _in_background,
    ) -> None:
        self._pools = pools
        self._spawn = spawn
        self._max_age_s = max_age_s
        self._clock = clock
        # Held by the one thread that re-reads a stale view, never by a
        # reader: the others keep the stale view meanwhile.
        self._refreshing = threading.Lock()
        self._read_at = 0.0
        self._policy = policy
        self._locality = locality
        self._cyborg = cyborg
        self._ledger = ledger
        self._lock = threading.Lock()
        self._view: pool_mod.PoolView | None = None
        self._allocators: dict[str, allocator.Allocator] = {}
        # The request mix each pool's allocator learns: it outlives the
        # allocators, which are rebuilt from the ledger after every
        # race and reconcile pass. Touched only under the lock.
        self._mixes: dict[str, allocator.RequestMix] = {}
        # Bumped whenever the allocators are dropped, so an allocator
        # built from an older view or usage is not kept.
        self._epoch = 0

    def cached_view(self) -> pool_mod.PoolView | None:
        """The last view read, without asking Cyborg; None before one."""
        with self._lock:
            return self._view

    def view(self, refresh: bool = False) -> pool_mod.PoolView:
        """Cyborg's view of the served pools.

        A view younger than ``max_age_s`` is served from the cache. Every
        worker and replica keeps its own, and only the leader's reconcile
        passes refresh with ``refresh=True``: the age bound is what makes
        the others see GPUs that Cyborg reported after they started. An
        older view is still served at once while one background thread
        reads Cyborg again, so no request waits for a slow Cyborg unless
        there is no view yet or it asks for a fresh one.

        :raises ServiceUnavailable: Cyborg cannot be read and there is no
            view to fall back to (or ``refresh`` was asked for).
        """
        if refresh:
            return self._read()
        with self._lock:
            cached, read_at = self._view, self._read_at
        if cached is None:
            return self._read()
        if self._clock() - read_at >= self._max_age_s:
            if self._refreshing.acquire(blocking=False):
                self._spawn(self._refresh_stale)
        return cached

    def _refresh_stale(self) -> None:
        try:
            self._read()
        except clients.ServiceUnavailable as error:
            LOG.warning('Keeping the last pool view: %s', error)
        finally:
            self._refreshing.release()

    def _read(self) -> pool_mod.PoolView:
        fresh = pool_mod.build_view(
            self._cyborg.devices(), self._cyborg.deployables(), self._pools
        )
        with self._lock:
            self._view = fresh
            self._allocators.clear()
            self._epoch += 1
            self._read_at = self._clock()
        return fresh

    def allocate(
        self, pool: str, request: allocator.VgpuRequest, observe: bool = True
    ) -> allocator.Decision:
        """The allocator's decision for *request* in *pool*."""
        chosen = self._allocator(pool)
        with self._lock:
            return chosen.allocate(request, observe=observe)

    def admit(
        self,
        pool: str,
        request: allocator.VgpuRequest,
        held: Sequence[allocator.Held],
        settings: HoldSettings,
    ) -> allocator.Admission:
        """The pairing hold's admission of *request* in *pool*.

        :param held: the requests held now in *pool*, oldest first.
        """
        chosen = self._allocator(pool)
        with self._lock:
            return _hold(chosen, settings).admit(request, held)

    def may_open(
        self,
        pool: str,
        request: allocator.VgpuRequest,
        settings: HoldSettings,
        taking: int = 1,
    ) -> bool:
        """Whether a held *request* may open an idle GPU of *pool* now.

        :param taking: how many idle GPUs are taken, this one included.
        """
        chosen = self._allocator(pool)
        with self._lock:
            return _hold(chosen, settings).may_open(request, taking)

    def release(
        self, pool: str, slices: Sequence[allocator.SliceAssignment]
    ) -> None:
        """Give *slices* back to the pool's allocator, if it has one."""
        with self._lock:
            existing = self._allocators.get(pool)
            if existing is None:
                return
            try:
                existing.release(slices)
            except allocator.AllocatorError:
                # It no longer agrees with the ledger: rebuild it.
                self._drop_allocators()

    def snapshot(
        self, pool: str
    ) -> tuple[allocator.MixSnapshot, list[allocator.AllocatorGpu]]:
        """The pool's learned request mix and its GPUs, copied."""
        chosen = self._allocator(pool)
        with self._lock:
            return chosen.mix_snapshot, list(chosen.gpus())

    def forget_allocators(self) -> None:
        """Rebuild allocators from the ledger next time (after a race)."""
        with self._lock:
            self._drop_allocators()

    def _drop_allocators(self) -> None:
        self._allocators.clear()
        self._epoch += 1

    def _allocator(self, pool: str) -> allocator.Allocator:
        with self._lock:
            existing = self._allocators.get(pool)
            epoch = self._epoch
        if existing is not None:
            return existing
        view = self.view()
        usage = self._ledger.usage_by_gpu(pool)
        with self._lock:
            mix = self._mixes.setdefault(pool, allocator.RequestMix())
            built = _build_allocator(
                view, usage, pool, self._policy, self._locality, mix
            )
            if epoch != self._epoch:
                return built  # a newer view or a race: use once, not kept
            return self._allocators.setdefault(pool, built)


def allocator_models(members: Sequence[pool_mod.PoolGpu]) -> dict[str, str]:
    """The allocator's model of each member, by GPU UUID.

    The allocator narrows a request only by model
    (:attr:`allocator.VgpuRequest.models`), so the attach service turns a
    lease's constraint into a set of models. That is exact only if every
    GPU of a model is alike in what a constraint can look at (vendor and
    traits, health aside); a model whose members differ is split into
    one model per kind, named ``<model> [<n>]``.
    """
    kinds: dict[str, dict[tuple[str, frozenset[str]], int]] = {}
    for member in sorted(members, key=lambda m: m.gpu_uuid):
        per_model = kinds.setdefault(member.model, {})
        per_model.setdefault(_kind(member), len(per_model))
    labels = {}
    for member in members:
        per_model = kinds[member.model]
        if len(per_model) == 1:
            labels[member.gpu_uuid] = member.model
        else:
            labels[member.gpu_uuid] = '%s [%d]' % (
                member.model,
                per_model[_kind(member)],
            )
    return labels


def _kind(member: pool_mod.PoolGpu) -> tuple[str, frozenset[str]]:
    return member.vendor, member.traits - {resources.TRAIT_UNHEALTHY}


def _build_allocator(
    view: pool_mod.PoolView,
    usage: dict[str, ledger_mod.GpuUsage],
    pool: str,
    policy: str,
    locality: allocator.Locality,
    mix: allocator.RequestMix,
) -> allocator.Allocator:
    gpus = []
    members = view.members(pool)
    labels = allocator_models(members)
    for member in members:
        used = usage.get(member.gpu_uuid)
        gpus.append(
            allocator.AllocatorGpu(
                gpu_id=member.gpu_uuid,
                host=member.host,
                model=labels[member.gpu_uuid],
                memory_mib=member.memory_mib,
                free_memory_mib=_free(
                    member.memory_mib, used.gmem_mib if used else 0
                ),
                compute_pct=member.compute_pct,
                free_compute_pct=_free(
                    member.compute_pct, used.compute_pct if used else 0
                ),
                healthy=member.healthy,
            )
        )
    return allocator.Allocator(gpus, policy=policy, locality=locality, mix=mix)


def _hold(
    chosen: allocator.Allocator, settings: HoldSettings
) -> allocator.PairingHold:
    return allocator.PairingHold(
        chosen,
        reserve=settings.reserve,
        scarce_below=settings.partner_share,
    )


def _free(total: int, used: int) -> int:
    return min(total, max(0, total - used))
