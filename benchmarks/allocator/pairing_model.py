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

"""A pairing model of inflation under M3, to see where the loss is.

Under M3 at most two sharing tasks fit one GPU, and only complementary
ones, so a pool is a set of GPUs that are idle, whole (one whole-GPU
task), paired or open (one sharing task). This model replays the
benchmark's arrivals (same sampler, same seeds) on a pool of identical
32 GiB GPUs, without hosts (a k-GPU task takes any k idle GPUs), and
asks three questions of a rule:

- which compatible partner a sharing task takes (``--partner``);
- whether it pairs at all, or opens an idle GPU unless the pair fills
  the GPU to ``--pair-above`` percent of compute;
- whether a sharing task without a partner is placed at all
  (``--hold-below``: tasks asking less than that share are held back, an
  admission rule the runtime allocator does not have).

It is a development aid, not a result of the benchmark::

    python -m benchmarks.allocator.pairing_model --seeds 42,43
"""

from __future__ import annotations

import argparse
import collections
import sys
from collections.abc import Callable
from collections.abc import Sequence
from typing import Any

from benchmarks.allocator import trace_stats
from benchmarks.allocator import workloads

#: One GPU of the model: 32 GiB, as most of B1 (G2, V100M32).
CAPACITY_MIB = 32 * 1024
GPUS = 6212
#: (compute %, memory %) of a sharing task.
Kind = tuple[int, int]
PartnerRule = Callable[[Kind, Kind, dict[Kind, float]], tuple[float, ...]]


def _memory(percent: int) -> int:
    return -(-CAPACITY_MIB * percent // 100)


def compatible(a: Kind, b: Kind) -> bool:
    """Whether two sharing tasks fit one GPU.

    :param a: one task.
    :param b: the other.
    :returns: True when their compute and their rounded memory fit.
    """
    return a[0] + b[0] <= 100 and _memory(a[1]) + _memory(b[1]) <= (
        CAPACITY_MIB
    )


PARTNERS: dict[str, PartnerRule] = {
    # The pair with the most compute.
    'best-fit': lambda k, x, fit: (-(k[0] + x[0]),),
    # The partner that the mix matches least often, then best fit.
    'hardest': lambda k, x, fit: (fit.get(k, 0.0), -(k[0] + x[0])),
    # The partner with the least compute plus memory (HAMi spread).
    'lowest-use': lambda k, x, fit: (float(k[0] + k[1]),),
}


def run(
    variant: str,
    seed: int,
    partner: str = 'hardest',
    pair_above: int = 0,
    hold_below: int = 0,
) -> tuple[float, int, int]:
    """Replay one variant's arrivals under M3.

    :param variant: the trace variant.
    :param seed: the seed (as the benchmark's).
    :param partner: a key of :data:`PARTNERS`.
    :param pair_above: pair only if the pair's compute reaches this
        percent while an idle GPU is left (0: pair whenever possible).
    :param hold_below: hold back sharing tasks below this share that
        find no partner (0: place every task that fits).
    :returns: GPU allocation %, pairs, GPUs with one sharing task.
    """
    sampler = workloads.TaskSampler(variant, 'M3', CAPACITY_MIB, seed)
    mix = {
        (t.compute_pct, t.memory_pct): p
        for t, p in sampler.distribution().items()
        if t.kind == 'sharing'
    }
    total = sum(mix.values()) or 1.0
    fit = {
        k: sum(p for other, p in mix.items() if compatible(k, other)) / total
        for k in mix
    }
    rule = PARTNERS[partner]
    idle, used, pairs = GPUS, 0, 0
    open_gpus: collections.Counter[Kind] = collections.Counter()
    for task in workloads.inflation(sampler, GPUS, 1.3):
        if task.kind != 'sharing':
            if idle >= task.count:
                idle -= task.count
                used += 100 * task.count
            continue
        kind = (task.compute_pct, task.memory_pct)
        candidates = [k for k in open_gpus if compatible(k, kind)]
        if candidates and idle and pair_above:
            best = max(k[0] for k in candidates) + kind[0]
            candidates = candidates if best >= pair_above else []
        if candidates:
            chosen = min(candidates, key=lambda k: rule(k, kind, fit))
            open_gpus[chosen] -= 1
            if not open_gpus[chosen]:
                del open_gpus[chosen]
            pairs += 1
            used += kind[0]
        elif idle and kind[0] >= hold_below:
            idle -= 1
            open_gpus[kind] += 1
            used += kind[0]
    return used / GPUS, pairs, sum(open_gpus.values())


def main(argv: Sequence[str] | None = None) -> int:
    """The command line: every rule on every variant, mean over seeds.

    :param argv: arguments (default: ``sys.argv[1:]``).
    :returns: the exit status.
    """
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--seeds', default='42,43')
    parser.add_argument('--variants', default=','.join(trace_stats.VARIANTS))
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(',')]
    rules: list[tuple[str, dict[str, Any]]] = [
        ('place all, ' + name, {'partner': name}) for name in PARTNERS
    ]
    rules += [
        ('pair only above %d%%' % p, {'pair_above': p}) for p in (95, 97)
    ]
    rules.append(('hold back unpaired below 80%', {'hold_below': 80}))
    for variant in args.variants.split(','):
        for label, kwargs in rules:
            runs = [run(variant, s, **kwargs) for s in seeds]
            print(
                '%-12s %-32s GPU %6.2f%%  pairs %5.0f  open %5.0f'
                % (
                    variant,
                    label,
                    sum(r[0] for r in runs) / len(runs),
                    sum(r[1] for r in runs) / len(runs),
                    sum(r[2] for r in runs) / len(runs),
                )
            )
    return 0


if __name__ == '__main__':
    sys.exit(main())
