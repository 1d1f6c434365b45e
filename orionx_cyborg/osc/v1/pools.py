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

"""``openstack orionx pool list|show``."""

from __future__ import annotations

import argparse
from typing import Any

from osc_lib.command import command

from orionx_cyborg.clients import attach
from orionx_cyborg.osc import plugin
from orionx_cyborg.osc.v1 import columns

LIST_COLUMNS = (
    'Name',
    'GPUs',
    'Unhealthy',
    'Pending',
    'GPU Memory MiB',
    'Compute Pct',
    'Leases',
    'Fragmentation',
)


def _usage_text(usage: attach.Usage) -> str:
    return '%d/%d' % (usage.used, usage.capacity)


def _gpu_row(gpu: attach.PoolGpu) -> dict[str, Any]:
    return {
        'gpu_uuid': gpu.gpu_uuid,
        'host': gpu.host,
        'model': gpu.model,
        'healthy': gpu.healthy,
        'gmem_mib': gpu.gmem_mib.to_dict(),
        'compute_pct': gpu.compute_pct.to_dict(),
        'leases': gpu.leases,
    }


class GpusColumn(columns.RowsColumn):
    """One line per GPU of a pool."""

    def human_readable(self) -> str:
        return '\n'.join(
            '%s %s %s %s memory %s compute %s leases %d'
            % (
                row['gpu_uuid'],
                row['host'],
                row['model'],
                'healthy' if row['healthy'] else 'UNHEALTHY',
                _usage_text(attach.Usage(**row['gmem_mib'])),
                _usage_text(attach.Usage(**row['compute_pct'])),
                row['leases'],
            )
            for row in self._value
        )


class ListPool(command.Lister):
    """List the GPU pools: capacity, use, health and leases."""

    def take_action(
        self, parsed_args: argparse.Namespace
    ) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
        pools = plugin.clients(self.app).attach.pools()
        rows = [
            (
                pool.name,
                pool.gpus_total,
                pool.unhealthy,
                pool.pending,
                columns.UsageColumn(pool.gmem_mib),
                columns.UsageColumn(pool.compute_pct),
                columns.MappingColumn(
                    {k: v for k, v in pool.leases.items() if v}
                ),
                pool.fragmentation,
            )
            for pool in pools
        ]
        return LIST_COLUMNS, rows


class ShowPool(command.ShowOne):
    """Show a GPU pool with its GPUs."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        parser.add_argument('pool', metavar='<pool>', help='Pool name')
        return parser

    def take_action(
        self, parsed_args: argparse.Namespace
    ) -> tuple[tuple[str, ...], tuple[Any, ...]]:
        pool = plugin.clients(self.app).attach.pool(parsed_args.pool)
        fields = {
            'name': pool.name,
            'gpus_total': pool.gpus_total,
            'unhealthy': pool.unhealthy,
            'pending': pool.pending,
            'gmem_mib': columns.UsageColumn(pool.gmem_mib),
            'compute_pct': columns.UsageColumn(pool.compute_pct),
            'leases': columns.MappingColumn(pool.leases),
            'fragmentation': pool.fragmentation,
            'gpus': GpusColumn([_gpu_row(g) for g in pool.gpus or ()]),
        }
        return tuple(fields), tuple(fields.values())
