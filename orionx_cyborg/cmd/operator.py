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

"""Operator commands that talk to the cloud.

``profiles sync`` makes Cyborg's device profiles and Nova's flavors match
a profiles file (:mod:`orionx_cyborg.profiles`). ``pool status`` and
``leases list|show`` are deprecated aliases of ``openstack orionx pool
list|show`` and ``openstack orionx lease list|show``
(:mod:`orionx_cyborg.osc`): they read orionx-cyborg-attach's API through
the same client (:mod:`orionx_cyborg.clients.attach`), print as they
did, and say which command replaces them. Tables are for people, ``-f
json`` for scripts. :func:`register` adds them to the ``orionx-cyborg``
command.

Exit status: 0 done (or nothing to do), 1 the file asks for something
that cannot be done or a step failed (see the messages), 2 bad usage,
configuration or an unreachable service.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import sys
from collections.abc import Callable
from collections.abc import Sequence
from typing import Any
from typing import TextIO

from orionx_cyborg.clients import attach as attach_client
from orionx_cyborg.cmd import connection
from orionx_cyborg.cmd import output
from orionx_cyborg.profiles import model
from orionx_cyborg.profiles import plan as plan_mod
from orionx_cyborg.profiles import state as state_mod
from orionx_cyborg.profiles import sync as sync_mod

CloudFactory = Callable[[argparse.Namespace], sync_mod.CloudApi]
AttachFactory = Callable[[argparse.Namespace], attach_client.AttachClient]
LEASE_STATES = attach_client.LEASE_STATES

EXIT_OK = 0
EXIT_PROBLEMS = 1


def default_cloud(args: argparse.Namespace) -> sync_mod.CloudApi:
    from orionx_cyborg.profiles import cloud

    return cloud.Cloud(connection.connect(args))


def default_attach(args: argparse.Namespace) -> attach_client.AttachClient:
    conn = connection.connect(args)
    return attach_client.AttachClient(
        connection.attach_adapter(conn, args.attach_url),
        timeout=getattr(args, 'os_api_timeout', connection.API_TIMEOUT),
    )


def register(
    commands: Any,
    clouds: CloudFactory = default_cloud,
    attach: AttachFactory = default_attach,
) -> None:
    """Add ``profiles``, ``pool`` and ``leases`` to argparse subparsers.

    Each command sets ``handler(args, out) -> int``; *clouds* and
    *attach* build the clients (tests pass their own).
    """
    _profiles_commands(commands, clouds)
    _pool_commands(commands, attach)
    _lease_commands(commands, attach)


def _format_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        '-f',
        '--format',
        choices=('table', 'json'),
        default='table',
        help='output format (default: table)',
    )


# profiles sync ---------------------------------------------------------


def _profiles_commands(commands: Any, clouds: CloudFactory) -> None:
    profiles = commands.add_parser(
        'profiles', help='Manage device profiles and their flavors.'
    )
    actions = profiles.add_subparsers(
        dest='profiles_command', metavar='ACTION'
    )
    actions.required = True
    sync = actions.add_parser(
        'sync',
        help='Create, update (and with --prune delete) device profiles '
        'and flavors to match a profiles file.',
        description='Make Cyborg\'s device profiles and Nova\'s flavors '
        'match the file; a second run changes nothing.',
    )
    sync.add_argument(
        '--file',
        required=True,
        metavar='PATH',
        help='profiles file (YAML; see etc/orionx-cyborg/profiles.yaml)',
    )
    sync.add_argument(
        '--dry-run',
        action='store_true',
        help='print the plan and change nothing',
    )
    sync.add_argument(
        '--prune',
        action='store_true',
        help='delete the managed profiles and flavors that '
        'the file no longer lists (profiles once '
        'unused)',
    )
    sync.add_argument(
        '--allow-unsatisfiable',
        action='store_true',
        help='create profiles that no reported GPU can '
        'serve yet (a warning instead of an error)',
    )
    _format_argument(sync)
    connection.add_cloud_arguments(sync)
    sync.set_defaults(
        handler=functools.partial(cmd_profiles_sync, clouds=clouds)
    )


def cmd_profiles_sync(
    args: argparse.Namespace, out: TextIO, clouds: CloudFactory = default_cloud
) -> int:
    desired = model.load(args.file)
    result = sync_mod.sync(
        clouds(args),
        desired,
        prune=args.prune,
        dry_run=args.dry_run,
        allow_unsatisfiable=args.allow_unsatisfiable,
    )
    if args.format == 'json':
        output.print_json(_sync_document(result), out)
    else:
        _print_sync(result, out)
    return EXIT_OK if result.ok else EXIT_PROBLEMS


def _sync_document(result: sync_mod.Result) -> dict[str, Any]:
    plan = result.plan

    def problems(items: list[plan_mod.Problem]) -> list[dict[str, str]]:
        return [{'subject': p.subject, 'message': p.message} for p in items]

    return {
        'dry_run': result.dry_run,
        'changed': bool(result.done),
        'actions': [_action_row(a) for a in _actions(plan)],
        'done': list(result.done),
        'failure': result.failure,
        'errors': problems(plan.errors),
        'warnings': problems(plan.warnings),
        'notes': problems(plan.notes),
        'up_to_date': {
            'device_profiles': plan.profiles_up_to_date,
            'flavors': plan.flavors_up_to_date,
        },
    }


def _actions(plan: plan_mod.Plan) -> list[Any]:
    keeper: list[Any] = [_KEEPER] if plan.keep_trait else []
    return [*keeper, *plan.profile_actions, *plan.flavor_actions]


_KEEPER = {
    'object': 'placement_provider',
    'action': 'create',
    'name': state_mod.TRAIT_KEEPER,
    'detail': 'keeps trait CUSTOM_ORIONX_UNHEALTHY known to Placement: '
    'the profiles forbid it, and Placement refuses queries '
    'naming an unknown trait',
}


def _action_row(action: Any) -> dict[str, str]:
    if isinstance(action, dict):
        return dict(action)
    is_profile = isinstance(action, plan_mod.ProfileAction)
    return {
        'object': 'device_profile' if is_profile else 'flavor',
        'action': action.op.value,
        'name': action.name,
        'detail': action.reason + _groups_text(action),
    }


def _groups_text(action: Any) -> str:
    if isinstance(action, plan_mod.ProfileAction) and action.groups:
        groups = [
            ', '.join('%s=%s' % i for i in sorted(g.items()))
            for g in action.groups
        ]
        unique = sorted(set(groups))
        return '; %s%s' % (
            '%d x ' % len(groups) if len(groups) > 1 else '',
            ' | '.join(unique),
        )
    if (
        isinstance(action, plan_mod.FlavorAction)
        and action.flavor
        and (action.op is not plan_mod.Op.UPDATE)
    ):
        flavor = action.flavor
        return '; %d vCPU, %d MiB RAM, %d GB disk, %s=%s' % (
            flavor.vcpus,
            flavor.ram,
            flavor.disk,
            'accel:device_profile',
            action.extra_specs.get('accel:device_profile'),
        )
    return ''


def _print_sync(result: sync_mod.Result, out: TextIO) -> None:
    plan = result.plan
    rows = [_action_row(a) for a in _actions(plan)]
    if rows:
        out.write(
            'Plan (dry run: nothing changed):\n'
            if result.dry_run
            else 'Changes:\n'
        )
        output.print_table(
            [
                (
                    r['object'].replace('_', ' '),
                    r['action'],
                    r['name'],
                    r['detail'],
                )
                for r in rows
            ],
            ('OBJECT', 'ACTION', 'NAME', 'DETAIL'),
            out,
        )
    for title, items in (
        ('Kept', plan.notes),
        ('Warnings', plan.warnings),
        ('Errors', plan.errors),
    ):
        if items:
            out.write('\n%s:\n' % title)
            for item in items:
                out.write('  - %s: %s\n' % (item.subject, item.message))
    if result.failure:
        out.write(
            '\nStopped after %d of %d changes: %s\nRun the sync '
            'again once the cause is fixed.\n'
            % (len(result.done), len(rows), result.failure)
        )
    out.write('\n%s\n' % _summary(result))


def _summary(result: sync_mod.Result) -> str:
    plan = result.plan
    current = '%d device profile(s) and %d flavor(s) up to date' % (
        plan.profiles_up_to_date,
        plan.flavors_up_to_date,
    )
    errors = ', %d error(s)' % len(plan.errors) if plan.errors else ''
    if not plan.changes:
        return 'Nothing to change: %s%s.' % (current, errors)
    if result.dry_run:
        return '%d change(s) planned, %s%s.' % (plan.changes, current, errors)
    return '%d change(s) made, %s%s.' % (len(result.done), current, errors)


# pool status (deprecated) -----------------------------------------------


def deprecated(old: str, new: str) -> None:
    """Say on stderr that ``orionx-cyborg OLD`` gives way to *new*."""
    sys.stderr.write(
        'orionx-cyborg %s is deprecated and will be removed: use "%s" '
        '(python-openstackclient with the orionx plugin).\n' % (old, new)
    )


def _pool_commands(commands: Any, attach: AttachFactory) -> None:
    pool = commands.add_parser(
        'pool', help='Show the GPU pools (deprecated: openstack orionx pool).'
    )
    actions = pool.add_subparsers(dest='pool_command', metavar='ACTION')
    actions.required = True
    status = actions.add_parser(
        'status',
        help='Deprecated alias of "openstack orionx pool list" and '
        '"openstack orionx pool show NAME".',
    )
    status.add_argument('name', nargs='?', help='a pool: show its GPUs too')
    _format_argument(status)
    connection.add_attach_arguments(status)
    status.set_defaults(
        handler=functools.partial(cmd_pool_status, attach=attach)
    )


def cmd_pool_status(
    args: argparse.Namespace,
    out: TextIO,
    attach: AttachFactory = default_attach,
) -> int:
    if args.name:
        deprecated('pool status', 'openstack orionx pool show NAME')
    else:
        deprecated('pool status', 'openstack orionx pool list')
    api = attach(args)
    if args.name:
        pool = api.pool(args.name)
        if args.format == 'json':
            output.print_json(_document(pool), out)
            return EXIT_OK
        _print_pools([pool], out)
        out.write('\n')
        _print_gpus(pool.gpus or (), out)
        return EXIT_OK
    pools = api.pools()
    if args.format == 'json':
        output.print_json({'pools': [_document(p) for p in pools]}, out)
    else:
        _print_pools(pools, out)
    return EXIT_OK


def _document(record: Any) -> dict[str, Any]:
    """The API's document of a record (without the fields it lacked)."""
    document: dict[str, Any] = dataclasses.asdict(record)
    for key in ('gpus', 'events'):
        if key in document and document[key] is None:
            del document[key]
    return document


def _used(usage: attach_client.Usage) -> str:
    return '%d/%d (%.0f%%)' % (usage.used, usage.capacity, usage.percent)


def _print_pools(pools: Sequence[attach_client.Pool], out: TextIO) -> None:
    rows = [
        (
            p.name,
            str(p.gpus_total),
            str(p.unhealthy),
            _used(p.gmem_mib),
            _used(p.compute_pct),
            ' '.join(
                '%s=%s' % (s, n) for s, n in sorted(p.leases.items()) if n
            )
            or '-',
            '%.1f%%' % (100 * p.fragmentation),
        )
        for p in pools
    ]
    output.print_table(
        rows,
        (
            'POOL',
            'GPUS',
            'UNHEALTHY',
            'GPU MEMORY MIB',
            'COMPUTE %',
            'LEASES',
            'FRAGMENTATION',
        ),
        out,
    )


def _print_gpus(gpus: Sequence[attach_client.PoolGpu], out: TextIO) -> None:
    rows = [
        (
            g.gpu_uuid,
            g.host,
            g.model,
            'healthy' if g.healthy else 'UNHEALTHY',
            _used(g.gmem_mib),
            _used(g.compute_pct),
            str(g.leases),
        )
        for g in gpus
    ]
    output.print_table(
        rows,
        (
            'GPU',
            'HOST',
            'MODEL',
            'HEALTH',
            'GPU MEMORY MIB',
            'COMPUTE %',
            'LEASES',
        ),
        out,
    )


# leases list / show (deprecated) ------------------------------------------


def _lease_commands(commands: Any, attach: AttachFactory) -> None:
    leases = commands.add_parser(
        'leases',
        help='Show the leases of pooled vGPUs (deprecated: openstack '
        'orionx lease).',
    )
    actions = leases.add_subparsers(dest='leases_command', metavar='ACTION')
    actions.required = True
    listing = actions.add_parser(
        'list',
        help='Deprecated alias of "openstack orionx lease list '
        '--all-projects".',
    )
    for name, text in (
        ('instance', 'of a server (UUID)'),
        ('project', 'of a project'),
        ('host', 'of servers on a host'),
        ('pool', 'in a pool'),
    ):
        listing.add_argument('--%s' % name, help='only leases %s' % text)
    listing.add_argument(
        '--state', choices=LEASE_STATES, help='only leases in this state'
    )
    listing.add_argument(
        '--limit',
        type=int,
        metavar='N',
        help='at most N leases (default: all)',
    )
    _format_argument(listing)
    connection.add_attach_arguments(listing)
    listing.set_defaults(
        handler=functools.partial(cmd_leases_list, attach=attach)
    )
    show = actions.add_parser(
        'show', help='Deprecated alias of "openstack orionx lease show".'
    )
    show.add_argument('lease', help='lease id')
    _format_argument(show)
    connection.add_attach_arguments(show)
    show.set_defaults(
        handler=functools.partial(cmd_leases_show, attach=attach)
    )


def cmd_leases_list(
    args: argparse.Namespace,
    out: TextIO,
    attach: AttachFactory = default_attach,
) -> int:
    deprecated('leases list', 'openstack orionx lease list --all-projects')
    # As before: every lease the caller may see (a project its own).
    leases = attach(args).leases(
        project=args.project,
        instance=args.instance,
        host=args.host,
        pool=args.pool,
        state=args.state,
        all_projects=True,
        limit=args.limit,
    )
    if args.format == 'json':
        output.print_json({'leases': [_document(x) for x in leases]}, out)
        return EXIT_OK
    rows = [
        (
            lease.id,
            lease.instance_uuid,
            lease.project_id,
            lease.state,
            lease.pool,
            '%s MiB/%s%%' % (lease.gmem_mib, lease.compute_pct),
            _gpu(lease),
            _endpoint(lease),
        )
        for lease in leases
    ]
    output.print_table(
        rows,
        (
            'ID',
            'INSTANCE',
            'PROJECT',
            'STATE',
            'POOL',
            'SIZE',
            'GPU',
            'ENDPOINT',
        ),
        out,
    )
    return EXIT_OK


def cmd_leases_show(
    args: argparse.Namespace,
    out: TextIO,
    attach: AttachFactory = default_attach,
) -> int:
    deprecated('leases show', 'openstack orionx lease show')
    lease = attach(args).lease(args.lease)
    if args.format == 'json':
        output.print_json(_document(lease), out)
        return EXIT_OK
    document = _document(lease)
    fields = [
        (key, _value(document.get(key)))
        for key in (
            'id',
            'state',
            'instance_uuid',
            'project_id',
            'vm_host',
            'arq_uuid',
            'pool',
            'gmem_mib',
            'compute_pct',
            'gpu_uuid',
            'gpu_host',
            'gpu_pci_address',
            'created_at',
            'placed_at',
        )
    ]
    fields.append(('endpoint', _endpoint(lease)))
    output.print_table(fields, ('FIELD', 'VALUE'), out)
    if lease.events:
        out.write('\n')
        output.print_table(
            [
                (
                    e.at,
                    e.event,
                    json.dumps(dict(e.detail), sort_keys=True),
                )
                for e in lease.events
            ],
            ('AT', 'EVENT', 'DETAIL'),
            out,
        )
    return EXIT_OK


def _gpu(lease: attach_client.Lease) -> str:
    if not lease.gpu_host:
        return '-'
    return '%s %s' % (lease.gpu_host, lease.gpu_pci_address or '')


def _endpoint(lease: attach_client.Lease) -> str:
    return str(lease.endpoint) if lease.endpoint else '-'


def _value(value: Any) -> str:
    return '-' if value is None else str(value)
