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
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping

import numpy as np

from benchmarks.allocator import baselines
from orionx_cyborg.allocator import mix as mix_mod
from orionx_cyborg.allocator import policies


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


class TieredCountAwarePolicy(policies.CountAwarePolicy):
    """``count-aware`` with its tiers whatever the whole-GPU share."""

    name = 'count-aware-tiered'

    @classmethod
    def keeps_open(cls, snapshot: mix_mod.MixSnapshot) -> bool:
        """Always tier.

        :param snapshot: the request mix (unused).
        :returns: True.
        """
        return True


#: Ablations of the FGD paper's baselines, by name.
BASELINES: Mapping[str, type[baselines.Baseline]] = {
    Fgd2dFitExactBaseline.name: Fgd2dFitExactBaseline,
}

#: Ablations of the runtime allocator's policies, by name.
RUNTIME_POLICIES: Mapping[str, Callable[[], policies.Policy]] = {
    TieredCountAwarePolicy.name: TieredCountAwarePolicy,
}
