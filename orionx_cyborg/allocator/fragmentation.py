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

"""Expected fragmentation of GPUs and hosts, in memory and compute.

This extends FGD (Weng et al., "Beware of Fragmentation", USENIX ATC'23)
from one dimension (a share of a GPU) to two (memory and compute) and to a
pool of remote GPUs. For a mix of task shapes ``s`` with weights ``p_s``:

- The free capacity of a GPU, in GPU-equivalents, is the mean of its free
  memory and free compute fractions (:func:`free_amount`), or the larger
  of the two (:func:`largest_free_fraction`, which weighs stranded
  capacity more: memory left on a GPU without compute counts whole). In
  one dimension both are FGD's idle milli-GPU divided by 1000. Two more
  measures: one GPU for a GPU with room in both dimensions, else its
  larger free fraction (:func:`usable_or_stranded`), and the free compute
  fraction alone (:func:`free_compute_fraction`, FGD's measure).
- A GPU's free capacity is a fragment for shape ``s`` when one slice of
  ``s`` does not fit in it (memory *or* compute too small). Its expected
  fragment is ``free * sum(p_s for s that do not fit)``.
- Shapes whose ``count`` slices must share a host add a host term: when a
  host has fewer than ``count`` GPUs that fit a slice, the free capacity
  of the GPUs that do fit is a fragment for ``s`` too (they cannot be used
  by ``s`` on this host). This is FGD's node-level rule for multi-GPU
  tasks.

The pool's fragmentation is the sum over hosts; a policy that places each
slice where it increases this sum least is FGD's gradient descent. For
single-slice shapes FGD's node sum splits exactly into per-GPU terms, so
the allocator can score equivalence classes of GPUs instead of hosts; only
the host term needs per-host facts, which the pool state keeps as a small
per-GPU *context* (see :meth:`FragmentationModel.host_context`).
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Sequence
from typing import NamedTuple

from orionx_cyborg.allocator import mix as mix_mod
from orionx_cyborg.allocator import models

#: Cached values are rounded so that equal situations compare equal
#: however the floating-point sums were ordered.
_DIGITS = 9
#: Added to :attr:`FragmentationModel.delta_bound`: far more than the
#: rounding to ``_DIGITS`` and floating-point sums can move a delta.
_BOUND_SLACK = 1e-6


class GpuLoad(NamedTuple):
    """Capacity and free room of one GPU, the input of the formulas."""

    memory_mib: int
    compute_pct: int
    free_memory_mib: int
    free_compute_pct: int


#: A GpuLoad's values as a plain tuple (equal to it, with the same hash).
_Load = tuple[int, int, int, int]
#: The slices of a model's shapes on GPUs of one memory capacity:
#: (MiB, compute, weight) per shape and (MiB, compute) per multi shape.
_Needs = tuple[tuple[tuple[int, int, float], ...], tuple[tuple[int, int], ...]]

#: One entry of a GPU's host context: the index of a multi-slice shape in
#: ``snapshot.multi_shapes``, how many GPUs of the host fit a slice of it
#: (capped at ``count + 1``: more makes no difference) and their free
#: capacity (only kept when the count is at most ``count``).
ContextEntry = tuple[int, int, float]
Context = tuple[ContextEntry, ...]


def free_amount(
    memory_mib: int, compute_pct: int, free_memory_mib: int, free_compute: int
) -> float:
    """Free capacity of a GPU in GPU-equivalents.

    :param memory_mib: memory capacity.
    :param compute_pct: compute capacity.
    :param free_memory_mib: free memory.
    :param free_compute: free compute.
    :returns: the mean of the free memory and free compute fractions.
    """
    return 0.5 * (free_memory_mib / memory_mib + free_compute / compute_pct)


def largest_free_fraction(
    memory_mib: int, compute_pct: int, free_memory_mib: int, free_compute: int
) -> float:
    """Free capacity of a GPU as its larger free fraction.

    :param memory_mib: memory capacity.
    :param compute_pct: compute capacity.
    :param free_memory_mib: free memory.
    :param free_compute: free compute.
    :returns: the larger of the free memory and free compute fractions.
    """
    return max(free_memory_mib / memory_mib, free_compute / compute_pct)


def usable_or_stranded(
    memory_mib: int, compute_pct: int, free_memory_mib: int, free_compute: int
) -> float:
    """Free capacity of a GPU as a usable GPU, or as what it strands.

    A GPU with room in both dimensions counts as one GPU whatever its free
    room, so that the fragment of a pool counts the GPUs that likely
    requests can no longer use rather than how much room they have left.
    A GPU full in one dimension strands the other, which counts at its
    free fraction.

    :param memory_mib: memory capacity.
    :param compute_pct: compute capacity.
    :param free_memory_mib: free memory.
    :param free_compute: free compute.
    :returns: 1 when both are free, else the larger free fraction.
    """
    if free_memory_mib > 0 and free_compute > 0:
        return 1.0
    return largest_free_fraction(
        memory_mib, compute_pct, free_memory_mib, free_compute
    )


def free_compute_fraction(
    memory_mib: int, compute_pct: int, free_memory_mib: int, free_compute: int
) -> float:
    """Free capacity of a GPU as its free compute, as FGD measures it.

    :param memory_mib: memory capacity (unused).
    :param compute_pct: compute capacity.
    :param free_memory_mib: free memory (unused).
    :param free_compute: free compute.
    :returns: the free compute fraction.
    """
    return free_compute / compute_pct


#: How a policy measures the free capacity of a GPU (capacities and free
#: room in, GPU-equivalents out, between 0 and 1 as every measure above).
AmountFn = Callable[[int, int, int, int], float]


class FragmentationModel:
    """The fragmentation formulas for one frozen request mix.

    Values of single GPUs are cached by their load, because a pool has far
    fewer distinct loads than GPUs.
    """

    def __init__(
        self, snapshot: mix_mod.MixSnapshot, amount: AmountFn = free_amount
    ) -> None:
        """Prepare the formulas for a mix.

        :param snapshot: the request mix fragmentation is relative to.
        :param amount: how the free capacity of a GPU is measured.
        """
        self.snapshot = snapshot
        self.amount = amount
        self._shapes = tuple(
            (s.memory_mib, s.memory_pct, s.compute_pct, w)
            for s, w in zip(snapshot.shapes, snapshot.weights, strict=True)
        )
        self.multi_shapes = snapshot.multi_shapes
        self._multi = tuple(
            (s.memory_mib, s.memory_pct, s.compute_pct, s.count, w)
            for s, w in zip(
                self.multi_shapes, snapshot.multi_weights, strict=True
            )
        )
        self._gpu_cache: dict[_Load, float] = {}
        self._needs_by_capacity: dict[int, _Needs] = {}
        #: No :meth:`placement_delta` exceeds this in absolute terms. A
        #: GPU's fragment is a free capacity of at most one times weights
        #: that sum to at most the mix's; a shape's host term changes by at
        #: most its weight times its count of GPUs; a little is added for
        #: the rounding of cached values.
        self.delta_bound = (
            sum(w for *_, w in self._shapes)
            + sum(count * w for *_, count, w in self._multi)
            + _BOUND_SLACK
        )

    def gpu_fragment(self, load: GpuLoad) -> float:
        """Expected fragment of one GPU, without the host term.

        :param load: the GPU's capacity and free room.
        :returns: free capacity times the weight of shapes that don't fit.
        """
        return self._fragment(load)

    def _fragment(self, load: _Load) -> float:
        # gpu_fragment for a GpuLoad or a plain tuple of the same values
        # (equal, with the same hash): the hot path of a placement delta
        # does without building a GpuLoad.
        cached = self._gpu_cache.get(load)
        if cached is not None:
            return cached
        cap_mem, cap_comp, free_mem, free_comp = load
        unfit = 0.0
        for need, compute_pct, weight in self._needs_on(cap_mem)[0]:
            if need > free_mem or compute_pct > free_comp:
                unfit += weight
        value = round(
            self.amount(cap_mem, cap_comp, free_mem, free_comp) * unfit,
            _DIGITS,
        )
        self._gpu_cache[load] = value
        return value

    def _needs_on(self, cap_mem: int) -> _Needs:
        # The slices of the shapes on a GPU of this memory capacity, worked
        # out once per capacity: (MiB, compute, weight) of every shape, in
        # the order of the shapes so that weights add up in the order they
        # always did, and (MiB, compute) of every multi shape.
        needs = self._needs_by_capacity.get(cap_mem)
        if needs is None:
            resolve = models.resolve_memory
            needs = (
                tuple(
                    (resolve(memory_mib, memory_pct, cap_mem), compute, w)
                    for memory_mib, memory_pct, compute, w in self._shapes
                ),
                tuple(
                    (resolve(memory_mib, memory_pct, cap_mem), compute)
                    for memory_mib, memory_pct, compute, _n, _w in self._multi
                ),
            )
            self._needs_by_capacity[cap_mem] = needs
        return needs

    def fits_multi(self, index: int, load: GpuLoad) -> bool:
        """Whether one slice of multi shape ``index`` fits in a GPU.

        :param index: index in :attr:`multi_shapes`.
        :param load: the GPU's capacity and free room.
        :returns: True when it fits.
        """
        memory_mib, memory_pct, compute_pct, _count, _w = self._multi[index]
        need = memory_mib or -(-load.memory_mib * memory_pct // 100)
        return need <= load.free_memory_mib and (
            compute_pct <= load.free_compute_pct
        )

    def host_context(self, loads: Sequence[GpuLoad]) -> list[Context]:
        """The host context of each GPU of one host.

        :param loads: the healthy GPUs of the host.
        :returns: one context per GPU, in the same order; GPUs that fit no
            multi-slice shape get an empty context.
        """
        contexts: list[list[ContextEntry]] = [[] for _ in loads]
        # Each GPU's MiB and compute of one slice of every multi shape,
        # worked out once per capacity: this runs on every placement.
        needs = [self._needs_on(load[0])[1] for load in loads]
        for index, (*_, count, _w) in enumerate(self._multi):
            fitting = [
                i
                for i, (_m, _c, free_mem, free_comp) in enumerate(loads)
                if needs[i][index][0] <= free_mem
                and needs[i][index][1] <= free_comp
            ]
            n_fit = len(fitting)
            free = 0.0
            if n_fit <= count:
                free = round(
                    sum(self.amount(*loads[i]) for i in fitting), _DIGITS
                )
            entry = (index, min(n_fit, count + 1), free)
            for i in fitting:
                contexts[i].append(entry)
        return [tuple(c) for c in contexts]

    def placement_delta(
        self, load: GpuLoad, context: Context, need_mem: int, need_comp: int
    ) -> float:
        """How much placing one slice on a GPU changes the fragmentation.

        :param load: the GPU's capacity and free room before.
        :param context: the GPU's host context.
        :param need_mem: MiB of the slice on this GPU.
        :param need_comp: compute of the slice.
        :returns: fragmentation after minus before (lower is better).
        """
        cap_mem, cap_comp, free_mem, free_comp = load
        after = (cap_mem, cap_comp, free_mem - need_mem, free_comp - need_comp)
        delta = self._fragment(after) - self._fragment(load)
        if context:
            delta += self._host_term_delta(load, GpuLoad(*after), context)
        return round(delta, _DIGITS)

    def _host_term_delta(
        self, before: GpuLoad, after: GpuLoad, context: Context
    ) -> float:
        # The GPU fits each shape in its context before the placement; the
        # host term of that shape changes only if the host is (or becomes)
        # unable to hold ``count`` slices.
        amount_before = self.amount(*before)
        amount_after = self.amount(*after)
        delta = 0.0
        for index, n_fit, free in context:
            count, weight = self._multi[index][3], self._multi[index][4]
            if n_fit > count:
                continue
            still_fits = self.fits_multi(index, after)
            n_after = n_fit - 1 + still_fits
            free_after = free - amount_before + amount_after * still_fits
            term_before = free if n_fit < count else 0.0
            term_after = free_after if n_after < count else 0.0
            delta += weight * (term_after - term_before)
        return delta

    def host_fragment(self, loads: Sequence[GpuLoad]) -> float:
        """Expected fragment of one host (per-GPU terms plus host term).

        :param loads: the healthy GPUs of the host.
        :returns: the host's expected fragment in GPU-equivalents.
        """
        total = sum(self.gpu_fragment(g) for g in loads)
        for index, (*_, count, weight) in enumerate(self._multi):
            fitting = [g for g in loads if self.fits_multi(index, g)]
            if len(fitting) < count:
                total += weight * sum(self.amount(*g) for g in fitting)
        return total

    def pool_fragment(self, gpus: Iterable[models.AllocatorGpu]) -> float:
        """Expected fragment of a pool: the sum over its hosts.

        :param gpus: the pool's GPUs; unhealthy ones are not capacity.
        :returns: the pool's expected fragment in GPU-equivalents.
        """
        by_host: dict[str, list[GpuLoad]] = {}
        for gpu in gpus:
            if gpu.healthy:
                by_host.setdefault(gpu.host, []).append(load_of(gpu))
        return sum(self.host_fragment(loads) for loads in by_host.values())


def load_of(gpu: models.AllocatorGpu) -> GpuLoad:
    """The load of a GPU record.

    :param gpu: the GPU.
    :returns: its capacity and free room.
    """
    return GpuLoad(
        gpu.memory_mib,
        gpu.compute_pct,
        gpu.free_memory_mib,
        gpu.free_compute_pct,
    )
