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
a profiles file (:mod:`orionx_cyborg.profiles`); ``pool status`` and
``leases list|show`` read orionx-cyborg-attach's API. Tables are for
people, ``-f json`` for scripts. :func:`register` adds them to the
``orionx-cyborg`` command.

Exit status: 0 done (or nothing to do), 1 the file asks for something
that cannot be done or a step failed (see the messages), 2 bad usage,
configuration or an unreachable service.
"""

from __future__ import annotations

import argparse
import functools
import json
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any
from typing import TextIO

from orionx_cyborg.cmd import attach_api
from orionx_cyborg.cmd import connection
from orionx_cyborg.cmd import output
from orionx_cyborg.profiles import model
from orionx_cyborg.profiles import plan as plan_mod
from orionx_cyborg.profiles import state as state_mod
from orionx_cyborg.profiles import sync as sync_mod

CloudFactory = Callable[[argparse.Namespace], sync_mod.CloudApi]
AttachFactory = Callable[[argparse.Namespace], attach_api.AttachApi]
# The ledger's lease states (attach.ledger.states, not imported: it
# pulls in SQLAlchemy).
LEASE_STATES = ('pending', 'claiming', 'active', 'moving', 'releasing')

EXIT_OK = 0
EXIT_PROBLEMS = 1


def default_cloud(args: argparse.Namespace) -> sync_mod.CloudApi:
    from orionx_cyborg.profiles import cloud

    return cloud.Cloud(connection.connect(args))


def default_attach(args: argparse.Namespace) -> attach_api.AttachApi:
    conn = connection.connect(args)
    return attach_api.AttachApi(
        connection.attach_adapter(conn, args.attach_url)
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


# pool status -----------------------------------------------------------


def _pool_commands(commands: Any, attach: AttachFactory) -> None:
    pool = commands.add_parser('pool', help='Show the GPU pools.')
    actions = pool.add_subparsers(dest='pool_command', metavar='ACTION')
    actions.required = True
    status = actions.add_parser(
        'status',
        help='Capacity, use, health and leases of the pools '
        '(of one pool with its GPUs).',
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
    api = attach(args)
    if args.name:
        pool = api.pool(args.name)
        if args.format == 'json':
            output.print_json(pool, out)
            return EXIT_OK
        _print_pools([pool], out)
        out.write('\n')
        _print_gpus(pool.get('gpus', []), out)
        return EXIT_OK
    pools = api.pools()
    if args.format == 'json':
        output.print_json({'pools': pools}, out)
    else:
        _print_pools(pools, out)
    return EXIT_OK


def _used(resource: Mapping[str, int]) -> str:
    capacity = resource.get('capacity', 0)
    used = resource.get('used', 0)
    share = (100.0 * used / capacity) if capacity else 0.0
    return '%d/%d (%.0f%%)' % (used, capacity, share)


def _print_pools(pools: Sequence[Mapping[str, Any]], out: TextIO) -> None:
    rows = [
        (
            str(p['name']),
            str(p['gpus_total']),
            str(p['unhealthy']),
            _used(p['gmem_mib']),
            _used(p['compute_pct']),
            ' '.join(
                '%s=%s' % (s, n) for s, n in sorted(p['leases'].items()) if n
            )
            or '-',
            '%.1f%%' % (100 * float(p['fragmentation'])),
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


def _print_gpus(gpus: Sequence[Mapping[str, Any]], out: TextIO) -> None:
    rows = [
        (
            str(g['gpu_uuid']),
            str(g['host']),
            str(g['model']),
            'healthy' if g['healthy'] else 'UNHEALTHY',
            _used(g['gmem_mib']),
            _used(g['compute_pct']),
            str(g['leases']),
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


# leases list / show ------------------------------------------------------


def _lease_commands(commands: Any, attach: AttachFactory) -> None:
    leases = commands.add_parser(
        'leases', help='Show the leases of pooled vGPUs.'
    )
    actions = leases.add_subparsers(dest='leases_command', metavar='ACTION')
    actions.required = True
    listing = actions.add_parser('list', help='List leases.')
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
    show = actions.add_parser('show', help='Show a lease and its events.')
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
    filters = {
        name: getattr(args, name)
        for name in ('instance', 'project', 'host', 'pool', 'state')
        if getattr(args, name)
    }
    leases = attach(args).leases(filters, limit=args.limit)
    if args.format == 'json':
        output.print_json({'leases': leases}, out)
        return EXIT_OK
    rows = [
        (
            str(lease['id']),
            str(lease['instance_uuid']),
            str(lease['project_id']),
            str(lease['state']),
            str(lease['pool']),
            _size(lease),
            _gpu(lease),
            _endpoint(lease.get('endpoint')),
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
    lease = attach(args).lease(args.lease)
    if args.format == 'json':
        output.print_json(lease, out)
        return EXIT_OK
    fields = [
        (key, _value(lease.get(key)))
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
    fields.append(('endpoint', _endpoint(lease.get('endpoint'))))
    output.print_table(fields, ('FIELD', 'VALUE'), out)
    events = lease.get('events') or []
    if events:
        out.write('\n')
        output.print_table(
            [
                (
                    str(e['at']),
                    str(e['event']),
                    json.dumps(e.get('detail') or {}, sort_keys=True),
                )
                for e in events
            ],
            ('AT', 'EVENT', 'DETAIL'),
            out,
        )
    return EXIT_OK


def _size(lease: Mapping[str, Any]) -> str:
    return '%s MiB/%s%%' % (lease['gmem_mib'], lease['compute_pct'])


def _gpu(lease: Mapping[str, Any]) -> str:
    if not lease.get('gpu_host'):
        return '-'
    return '%s %s' % (lease['gpu_host'], lease.get('gpu_pci_address') or '')


def _endpoint(endpoint: Mapping[str, Any] | None) -> str:
    if not endpoint:
        return '-'
    return '%s://%s:%s' % (
        endpoint['transport'],
        endpoint['address'],
        endpoint['port'],
    )


def _value(value: Any) -> str:
    return '-' if value is None else str(value)
