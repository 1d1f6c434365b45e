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

"""``openstack orionx gpu list|show``: every GPU, in any mode.

From Cyborg (which GPUs, where, which model, which mode, healthy or not)
and Placement (capacity and use of each of their resource providers):
see :mod:`orionx_cyborg.clients.fleet`. Cyborg lists devices to admins.
"""

from __future__ import annotations

import argparse
from typing import Any

from osc_lib import exceptions
from osc_lib.command import command

from orionx_cyborg.clients import fleet
from orionx_cyborg.osc import plugin
from orionx_cyborg.osc.v1 import columns

LIST_COLUMNS = (
    'ID',
    'Host',
    'PCI Address',
    'Model',
    'Mode',
    'Pool',
    'Health',
    'Capacity',
    'Used',
)
MODES = (
    fleet.MODE_PASSTHROUGH,
    fleet.MODE_VGPU,
    fleet.MODE_POOL,
    fleet.MODE_OFF,
    fleet.MODE_MIXED,
)


def _read(app: Any) -> list[fleet.FleetGpu]:
    clients = plugin.clients(app)
    return fleet.read(clients.cyborg, clients.placement)


class ListGpu(command.Lister):
    """List every GPU the driver reports: pooled, vGPU and passthrough."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        parser.add_argument(
            '--host', metavar='<host>', help='Only the GPUs of this host'
        )
        parser.add_argument(
            '--mode',
            metavar='<mode>',
            choices=MODES,
            help='Only GPUs in this mode (%s)' % ', '.join(MODES),
        )
        parser.add_argument(
            '--pool', metavar='<pool>', help='Only the GPUs of this pool'
        )
        return parser

    def take_action(
        self, parsed_args: argparse.Namespace
    ) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
        rows = [
            (
                gpu.gpu_uuid,
                gpu.host,
                gpu.pci_address,
                gpu.model,
                gpu.mode,
                gpu.pool,
                gpu.health,
                columns.MappingColumn(gpu.capacity),
                columns.MappingColumn(gpu.used),
            )
            for gpu in _read(self.app)
            if (not parsed_args.host or gpu.host == parsed_args.host)
            and (not parsed_args.mode or gpu.mode == parsed_args.mode)
            and (not parsed_args.pool or gpu.pool == parsed_args.pool)
        ]
        return LIST_COLUMNS, rows


class ShowGpu(command.ShowOne):
    """Show a GPU and its resource providers."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        parser.add_argument(
            'gpu',
            metavar='<gpu>',
            help='GPU UUID, Cyborg device UUID, or PCI address (with --host '
            'where several hosts have it)',
        )
        parser.add_argument(
            '--host', metavar='<host>', help='The host of a PCI address'
        )
        return parser

    def take_action(
        self, parsed_args: argparse.Namespace
    ) -> tuple[tuple[str, ...], tuple[Any, ...]]:
        wanted = parsed_args.gpu.lower()
        found = [
            gpu
            for gpu in _read(self.app)
            if wanted
            in (gpu.gpu_uuid.lower(), gpu.device_uuid, gpu.pci_address)
            and (not parsed_args.host or gpu.host == parsed_args.host)
        ]
        if not found:
            raise exceptions.CommandError('No GPU %s.' % parsed_args.gpu)
        if len(found) > 1:
            raise exceptions.CommandError(
                'More than one GPU is %s (on %s); name its host with '
                '--host.'
                % (parsed_args.gpu, ', '.join(sorted(g.host for g in found)))
            )
        gpu = found[0]
        fields = {
            'id': gpu.gpu_uuid,
            'device_uuid': gpu.device_uuid,
            'host': gpu.host,
            'vendor': gpu.vendor,
            'model': gpu.model,
            'pci_address': gpu.pci_address,
            'memory_mib': gpu.memory_mib,
            'mode': gpu.mode,
            'pool': gpu.pool,
            'health': gpu.health,
            'capacity': columns.MappingColumn(gpu.capacity),
            'used': columns.MappingColumn(gpu.used),
            'resource_providers': columns.RowsColumn(
                [
                    {
                        'name': p.name,
                        'uuid': p.rp_uuid,
                        'resource_class': p.resource_class,
                        'capacity': p.capacity,
                        'used': p.used,
                    }
                    for p in gpu.providers
                ]
            ),
        }
        return tuple(fields), tuple(fields.values())
