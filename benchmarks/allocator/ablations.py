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

"""Ablations: a policy with one of its choices changed, for diagnosis.

They explain results rather than compete: ``trials.py`` runs them
(``--candidates``), the committed matrix does not. The README's *The
two ten-seed losses, diagnosed* says what each one showed.

- ``fgd-2dfit-exact``: ``fgd-2dfit`` ranking hosts and GPUs by the
  growth of fragmentation itself instead of FGD's integer score
  ``int(100 * sigmoid(-delta))``. The integer score makes placements
  whose deltas differ by less than about 0.04 GPU tie, and ties go to
  the first host in the pool's order; without it that packing is gone.
- ``count-aware-tiered``: ``count-aware`` ranking candidates in its three
  tiers (close a used GPU, open an idle one, then the rest) whatever the
  whole-GPU share of the mix.
- ``count-aware-anticorrelated``: ``count-aware`` ranking in its tiers
  up to a whole-GPU share of 50% instead of 30% where the sharing
  slices' memory and compute are anti-correlated
  (:func:`.mix.memory_compute_correlation` below -0.5).
- ``count-aware-ungated``: ``count-aware`` ranking in its tiers however
  few GPUs are idle (the default before the idle reserve).
- ``count-aware-reserve-all``: ``count-aware`` whose idle reserve holds
  back every slice, lopsided slices of anti-correlated mixes too (the
  default before they passed it).
- ``count-aware-lopsided-only``: ``count-aware`` whose idle reserve lets
  only lopsided slices of anti-correlated mixes pass, in mixes of slices
  alone too (the default before the other slices of those mixes passed
  it while 5% of the pool is idle).
- ``count-aware-slices-reserve0`` and ``count-aware-slices-reserve10``:
  ``count-aware`` letting the other slices of anti-correlated mixes of
  slices alone pass while any GPU, or more than 10% of the pool, is idle
  instead of 5%.
- ``count-aware-counts-proportional``: ``count-aware`` counting usable
  GPUs in mixes of slices alone whose memory follows their compute too
  (the default before it measured as ``partner-aware`` there).
- ``partner-aware-undeferred``: ``partner-aware`` letting slices pass
  its idle reserve with a pairing hold in front too (run it behind the
  hold: ``partner-aware-undeferred+hold``).
- ``count-aware-untiered``: ``count-aware`` never ranking in tiers.
- ``count-aware-reserve10`` and ``count-aware-reserve30``:
  ``count-aware-reserve-all`` with an idle reserve of 10% and 30% of the
  pool instead of 20%.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from typing import ClassVar

import numpy as np

from benchmarks.allocator import baselines
from orionx_cyborg.allocator import mix as mix_mod
from orionx_cyborg.allocator import policies
from orionx_cyborg.allocator import state as state_mod


class Fgd2dFitExactBaseline(baselines.Fgd2dFitBaseline):
    """``fgd-2dfit`` scored by the exact growth of fragmentation."""

    name = 'fgd-2dfit-exact'

    def share_scores(self, delta: baselines.Floats) -> baselines.Floats:
        """Scores of placing a share on each GPU, higher is better.

        :param delta: the growth of fragmentation on each GPU's host.
        :returns: ``-delta`` (rounded to 1e-9 so that float noise does not
            break real ties).
        """
        scores: baselines.Floats = -np.round(delta, 9)
        return scores


class _FixedTiersCountAwarePolicy(policies.CountAwarePolicy):
    """``count-aware`` whose tiers do not depend on the mix."""

    #: Whether it ranks in tiers, whatever the whole-GPU share.
    tiers: ClassVar[bool]

    @classmethod
    def keeps_open(
        cls, snapshot: mix_mod.MixSnapshot, smallest_memory_mib: int = 0
    ) -> bool:
        """Tier, or not, whatever the mix.

        :param snapshot: the request mix (unused).
        :param smallest_memory_mib: the pool's smallest GPU (unused).
        :returns: ``tiers``.
        """
        return cls.tiers


class TieredCountAwarePolicy(_FixedTiersCountAwarePolicy):
    """``count-aware`` with its tiers whatever the whole-GPU share."""

    name = 'count-aware-tiered'
    tiers = True


class AnticorrelatedCountAwarePolicy(policies.CountAwarePolicy):
    """``count-aware`` tiering up to 50% whole GPUs in anti-correlated mixes."""

    name = 'count-aware-anticorrelated'

    #: The whole-GPU share from which idle GPUs are kept, anti-correlated.
    anticorrelated_cutoff: ClassVar[float] = 0.5

    @classmethod
    def cutoff(
        cls, snapshot: mix_mod.MixSnapshot, smallest_memory_mib: int
    ) -> float:
        """The whole-GPU share of demand from which idle GPUs are kept.

        :param snapshot: the request mix.
        :param smallest_memory_mib: the pool's smallest GPU memory.
        :returns: ``anticorrelated_cutoff`` where the mix's memory and
            compute are anti-correlated, else ``idle_cutoff``.
        """
        correlation = mix_mod.memory_compute_correlation(
            snapshot, smallest_memory_mib
        )
        if correlation < cls.anticorrelated_below:
            return cls.anticorrelated_cutoff
        return cls.idle_cutoff


class UngatedCountAwarePolicy(policies.CountAwarePolicy):
    """``count-aware`` with its tiers however few GPUs are idle."""

    name = 'count-aware-ungated'

    def observe_pool(self, idle_gpus: int, healthy_gpus: int) -> None:
        """Ignore the pool: the tiers depend on the mix alone.

        :param idle_gpus: idle GPUs of the pool (unused).
        :param healthy_gpus: healthy GPUs of the pool (unused).
        """


class UntieredCountAwarePolicy(_FixedTiersCountAwarePolicy):
    """``count-aware`` without its tiers whatever the mix."""

    name = 'count-aware-untiered'
    tiers = False


class ReserveAllCountAwarePolicy(policies.CountAwarePolicy):
    """``count-aware`` whose reserve holds back every slice."""

    name = 'count-aware-reserve-all'

    def passes_reserve(
        self, gpu: state_mod.GpuClass, need_mem: int, need_comp: int
    ) -> bool:
        """No slice ranks in tiers once idle GPUs run short.

        :param gpu: a class of GPUs (unused).
        :param need_mem: MiB of the slice (unused).
        :param need_comp: compute of the slice (unused).
        :returns: False.
        """
        return False


class LopsidedOnlyCountAwarePolicy(policies.CountAwarePolicy):
    """``count-aware`` passing only lopsided slices, mixes of slices too."""

    name = 'count-aware-lopsided-only'
    slices_only_below: ClassVar[float] = 0.0


class SlicesReserve0CountAwarePolicy(policies.CountAwarePolicy):
    """``count-aware`` passing slices of a slices-only mix while any GPU
    is idle.
    """

    name = 'count-aware-slices-reserve0'
    slices_reserve: ClassVar[float] = 0.0


class SlicesReserve10CountAwarePolicy(policies.CountAwarePolicy):
    """``count-aware`` passing slices of a slices-only mix while 10% of
    the pool is idle.
    """

    name = 'count-aware-slices-reserve10'
    slices_reserve: ClassVar[float] = 0.1


class CountsProportionalCountAwarePolicy(policies.CountAwarePolicy):
    """``count-aware`` counting usable GPUs for proportional slices too."""

    name = 'count-aware-counts-proportional'
    #: No correlation is above 1.
    proportional_above: ClassVar[float] = 1.0


class Reserve10CountAwarePolicy(ReserveAllCountAwarePolicy):
    """``count-aware`` keeping 10% of the pool's GPUs idle from every slice."""

    name = 'count-aware-reserve10'
    idle_reserve: ClassVar[float] = 0.1


class Reserve30CountAwarePolicy(ReserveAllCountAwarePolicy):
    """``count-aware`` keeping 30% of the pool's GPUs idle from every slice."""

    name = 'count-aware-reserve30'
    idle_reserve: ClassVar[float] = 0.3


class UndeferredPartnerAwarePolicy(policies.PartnerAwarePolicy):
    """``partner-aware`` passing slices with a hold in front too."""

    name = 'partner-aware-undeferred'

    def defer_to_hold(self) -> None:
        """Ignore the hold: slices still pass the reserve."""


#: Ablations of the FGD paper's baselines, by name.
BASELINES: Mapping[str, type[baselines.Baseline]] = {
    Fgd2dFitExactBaseline.name: Fgd2dFitExactBaseline,
}

#: Ablations of the runtime allocator's policies, by name.
RUNTIME_POLICIES: Mapping[str, Callable[[], policies.Policy]] = {
    TieredCountAwarePolicy.name: TieredCountAwarePolicy,
    AnticorrelatedCountAwarePolicy.name: AnticorrelatedCountAwarePolicy,
    UngatedCountAwarePolicy.name: UngatedCountAwarePolicy,
    UntieredCountAwarePolicy.name: UntieredCountAwarePolicy,
    Reserve10CountAwarePolicy.name: Reserve10CountAwarePolicy,
    Reserve30CountAwarePolicy.name: Reserve30CountAwarePolicy,
    ReserveAllCountAwarePolicy.name: ReserveAllCountAwarePolicy,
    LopsidedOnlyCountAwarePolicy.name: LopsidedOnlyCountAwarePolicy,
    SlicesReserve0CountAwarePolicy.name: SlicesReserve0CountAwarePolicy,
    SlicesReserve10CountAwarePolicy.name: SlicesReserve10CountAwarePolicy,
    CountsProportionalCountAwarePolicy.name: (
        CountsProportionalCountAwarePolicy
    ),
    UndeferredPartnerAwarePolicy.name: UndeferredPartnerAwarePolicy,
}
