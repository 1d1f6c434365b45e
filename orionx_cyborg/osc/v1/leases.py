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

"""``openstack orionx lease list|show``.

A project sees only its own leases; an operator sees its own project's
by default and every project's with ``--all-projects`` (the attach
service's policy decides, not this command).
"""

from __future__ import annotations

import argparse
import re
from typing import Any

from osc_lib.cli import identity as identity_common
from osc_lib.command import command

from orionx_cyborg.clients import attach
from orionx_cyborg.osc import plugin
from orionx_cyborg.osc.v1 import columns

LIST_COLUMNS = (
    'ID',
    'Instance',
    'Project',
    'State',
    'Pool',
    'GPU Memory MiB',
    'Compute Pct',
    'VM Host',
    'GPU Host',
    'Endpoint',
)
LONG_COLUMNS = ('GPU', 'GPU PCI Address', 'ARQ', 'Created At', 'Placed At')

_PROJECT_ID = re.compile(r'^[0-9a-f]{32}$|^[0-9a-f-]{36}$')


def _endpoint(lease: attach.Lease) -> str | None:
    return str(lease.endpoint) if lease.endpoint else None


class ListLease(command.Lister):
    """List leases of pooled vGPUs."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        parser.add_argument(
            '--all-projects',
            action='store_true',
            default=False,
            help='Leases of every project (admin only; a project sees '
            'only its own)',
        )
        identity_common.add_project_owner_option_to_parser(parser)
        parser.add_argument(
            '--instance',
            metavar='<server>',
            help='Only the leases of this server (UUID)',
        )
        parser.add_argument(
            '--host',
            metavar='<host>',
            help='Only the leases of servers on this compute host',
        )
        parser.add_argument(
            '--pool', metavar='<pool>', help='Only the leases of this pool'
        )
        parser.add_argument(
            '--state',
            metavar='<state>',
            choices=attach.LEASE_STATES,
            help='Only leases in this state (%s)'
            % ', '.join(attach.LEASE_STATES),
        )
        parser.add_argument(
            '--limit',
            metavar='<num-leases>',
            type=int,
            help='At most this many leases (default: all)',
        )
        parser.add_argument(
            '--long',
            action='store_true',
            default=False,
            help='List additional fields in output',
        )
        return parser

    def take_action(
        self, parsed_args: argparse.Namespace
    ) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
        project = None
        if parsed_args.project:
            project = self._project_id(
                parsed_args.project, parsed_args.project_domain
            )
        leases = plugin.clients(self.app).attach.leases(
            project=project,
            instance=parsed_args.instance,
            host=parsed_args.host,
            pool=parsed_args.pool,
            state=parsed_args.state,
            all_projects=parsed_args.all_projects,
            limit=parsed_args.limit,
        )
        headings = LIST_COLUMNS + (LONG_COLUMNS if parsed_args.long else ())
        rows = []
        for lease in leases:
            row: tuple[Any, ...] = (
                lease.id,
                lease.instance_uuid,
                lease.project_id,
                lease.state,
                lease.pool,
                lease.gmem_mib,
                lease.compute_pct,
                lease.vm_host,
                lease.gpu_host,
                _endpoint(lease),
            )
            if parsed_args.long:
                row += (
                    lease.gpu_uuid,
                    lease.gpu_pci_address,
                    lease.arq_uuid,
                    lease.created_at,
                    lease.placed_at,
                )
            rows.append(row)
        return headings, rows

    def _project_id(self, name_or_id: str, domain: str | None) -> str:
        if _PROJECT_ID.match(name_or_id) and not domain:
            return name_or_id
        project = identity_common.find_project(
            self.app.client_manager.sdk_connection, name_or_id, domain
        )
        return str(project.id)


class ShowLease(command.ShowOne):
    """Show a lease of a pooled vGPU and its latest events."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        parser.add_argument('lease', metavar='<lease>', help='Lease ID')
        return parser

    def take_action(
        self, parsed_args: argparse.Namespace
    ) -> tuple[tuple[str, ...], tuple[Any, ...]]:
        lease = plugin.clients(self.app).attach.lease(parsed_args.lease)
        fields = {
            'id': lease.id,
            'state': lease.state,
            'instance_uuid': lease.instance_uuid,
            'project_id': lease.project_id,
            'vm_host': lease.vm_host,
            'arq_uuid': lease.arq_uuid,
            'pool': lease.pool,
            'gmem_mib': lease.gmem_mib,
            'compute_pct': lease.compute_pct,
            'gpu_uuid': lease.gpu_uuid,
            'gpu_host': lease.gpu_host,
            'gpu_pci_address': lease.gpu_pci_address,
            'endpoint': _endpoint(lease),
            'created_at': lease.created_at,
            'placed_at': lease.placed_at,
            'events': columns.RowsColumn(
                [
                    {'at': e.at, 'event': e.event, 'detail': dict(e.detail)}
                    for e in lease.events or ()
                ]
            ),
        }
        return tuple(fields), tuple(fields.values())
